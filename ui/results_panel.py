"""Results of the open scenario: live preview while editing, full runs on demand.

The panel subscribes to the document: each edit (re)starts a 150 ms debounce
timer (cut short when the gesture ends: slider released, value entered), then a
small preview run goes to a latest-only worker thread (stale
previews are cancelled and their results discarded). A full run uses the
scenario's own replications and sample in another worker thread, with progress
and Cancel. The KPI strip and charts say which of the two they show.

Every result carries the hash of the scenario it was run from. Figures whose hash
is not the document's are greyed out under a "results are for an earlier version"
banner; opening another scenario clears them. A preview runs a few replications
at the scenario's own horizon and shows, for each figure, the change from the
state before the edit under common random numbers (same seed, same customers,
paired by replication), with its 95 % interval.

This module builds the panel, tracks which scenario state the shown figures belong to
and shows them; the preview is :mod:`ui.preview_runs`, the full run :mod:`ui.full_runs`,
the engine task both send to their worker thread :mod:`ui.run_tasks`.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import simulator.runner  # noqa: F401 - import the engine once, up front, not in the first preview
from simulator.labels import wrap
from simulator.scenario_io import scenario_hash
from ui.accounting_view import AccountingView
from ui.attribution_view import AttributionView
from ui.charts import ResultCharts
from ui.document import ScenarioDocument
from ui.full_runs import FullRuns
from ui.kpis import KpiStrip
from ui.preview_runs import PreviewRuns, PreviewSize
from ui.workers import TaskRunner

__all__ = ["PreviewSize", "ResultsPanel"]


class ResultsPanel(PreviewRuns, FullRuns, QWidget):
    """KPI strip, run controls and charts of the open scenario."""

    preview_shown = Signal(float)  # seconds from the edit to the first figures (painted)
    preview_refined = Signal()  # the refined pass replaced the quick one
    full_finished = Signal(object)  # RunResult
    state_changed = Signal()

    CACHE = 24  # preview results kept (by scenario hash and pass): baselines, undo

    def __init__(self, doc: ScenarioDocument, preview: PreviewSize | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.preview_size = preview or PreviewSize()
        self.result = None  # what is shown
        self.result_hash: str | None = None  # hash of the scenario ``result`` was run from
        self.shown_kind = ""  # "preview" | "full" | ""
        self.full_result = None
        self.full_hash: str | None = None
        self.deltas: dict | None = None  # metric -> paired Stat of the last edit's change
        self._edit_time = time.perf_counter()
        self._preview_quick = False
        self.last_latency = float("nan")
        self._hash: str | None = None  # of the document (None: recompute)
        self._cache: OrderedDict = OrderedDict()  # (hash, quick) -> RunResult
        self._settled_hash: str | None = None  # state of the last finished preview
        self._baseline_hash: str | None = None  # changes are measured from this state
        self._edit_open = False
        self._warnings: list[str] = []  # service warnings of the shown result

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.btn_run = QPushButton("▶ Full run")
        self.btn_run.setToolTip(wrap("Run the scenario's replications and sample (Ctrl+R)"))
        self.btn_cancel = QPushButton("Cancel")
        self.btn_cancel.setToolTip(wrap("Stop the full run or the preview (Esc)"))
        self.btn_cancel.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setMinimumWidth(60)
        self.status = QLabel("")
        self.status.setObjectName("run_status")
        _wrapping(self.status)
        bar.addWidget(self.btn_run)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.btn_cancel)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        self.stale_banner = QLabel("")
        self.stale_banner.setObjectName("stale_banner")
        self.stale_banner.setStyleSheet("background: #fff4ce; color: #5c4400; padding: 3px;"
                                        "border: 1px solid #e0c060;")
        _wrapping(self.stale_banner)
        self.stale_banner.hide()
        lay.addWidget(self.stale_banner)
        # a queue that cannot keep up: its waits include the carried backlog (issue 20)
        self.service_banner = QLabel("")
        self.service_banner.setObjectName("service_warnings")
        self.service_banner.setTextFormat(Qt.TextFormat.PlainText)
        _wrapping(self.service_banner)
        _warning_style(self.service_banner)
        self.service_banner.hide()
        lay.addWidget(self.service_banner)
        self.kpis = KpiStrip()
        _wrapping(self.kpis.caption)
        lay.addWidget(self.kpis)
        self.charts = ResultCharts()
        self.chart_scroll = QScrollArea()
        self.chart_scroll.setWidgetResizable(True)
        self.chart_scroll.setWidget(self.charts)
        # a translucent veil over the charts while they belong to an earlier version
        # (an opacity effect on pyqtgraph views paints ghost copies of the plots)
        self.veil = QLabel("Earlier version — run again", self.chart_scroll)
        self.veil.setObjectName("stale_veil")
        self.veil.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.veil.setStyleSheet("background: rgba(255, 255, 255, 185); color: #5c4400;"
                                "font-size: 15pt; font-weight: bold;")
        self.veil.hide()
        self.chart_scroll.installEventFilter(self)
        # the charts, and the attribution of the scheme to its parts (its own runs)
        self.views = QTabWidget()
        self.views.setObjectName("result_views")
        self.views.addTab(self.chart_scroll, "Charts")
        self.attribution = AttributionView(doc)
        self.views.addTab(self.attribution, "Attribution")
        self.accounting = AccountingView()  # points liability, deadweight of the shown result
        self.views.addTab(self.accounting, "Points && deadweight")
        lay.addWidget(self.views, 1)

        self.preview_runner = TaskRunner("preview", latest_only=True, parent=self)
        self.preview_runner.finished.connect(self._preview_done)
        self.preview_runner.failed.connect(self._preview_failed)
        self.preview_runner.progress.connect(self._preview_progress)
        self.preview_runner.cancelled.connect(self._preview_cancelled)
        self.preview_runner.busy_changed.connect(self._busy_changed)
        self.full_runner = TaskRunner("full-run", parent=self)
        self.full_runner.progress.connect(self._full_progress)
        self.full_runner.finished.connect(self._full_done)
        self.full_runner.failed.connect(self._full_failed)
        self.full_runner.cancelled.connect(self._full_cancelled)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self.preview_size.debounce_ms)
        self.timer.timeout.connect(self.start_preview)
        self.btn_run.clicked.connect(self.start_full_run)
        self.btn_cancel.clicked.connect(self.cancel)
        doc.replaced.connect(self._on_replaced)
        doc.edited.connect(self.schedule_preview)
        doc.settled.connect(self.flush_preview)
        self.schedule_preview()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        """Keep the veil the size of the chart area."""
        if obj is self.chart_scroll and event.type() == QEvent.Type.Resize:
            self.veil.setGeometry(self.chart_scroll.rect())
        return False

    # -- provenance --------------------------------------------------------------------
    def doc_hash(self) -> str:
        """Hash of the scenario on screen (what a result must have been run from)."""
        if self._hash is None:
            self._hash = scenario_hash(self.doc.scenario)
        return self._hash

    def is_current(self, which: str = "shown") -> bool:
        """True if the shown (or the full-run) result was run from the scenario on screen."""
        h = self.full_hash if which == "full" else self.result_hash
        res = self.full_result if which == "full" else self.result
        return res is not None and h == self.doc_hash()

    def current_full_result(self):
        """The full run of the scenario on screen, or None (none yet, or it is outdated)."""
        return self.full_result if self.is_current("full") else None

    def _mark_stale(self, why: str = "") -> None:
        """Grey out figures that no longer belong to the scenario on screen."""
        stale = self.result is not None and not self.is_current()
        self.kpis.set_stale(stale)
        self.veil.setGeometry(self.chart_scroll.rect())
        self.veil.setVisible(stale)
        self.veil.raise_()
        if stale:
            what = "full run" if self.shown_kind == "full" else "preview"
            self.stale_banner.setText(
                f"⚠ These figures ({what}) are for an earlier version of the scenario — "
                f"run again{why or ': the preview follows, or press Ctrl+R for a full run.'}")
        self.stale_banner.setVisible(stale)

    def _on_replaced(self) -> None:
        """Another scenario was opened: nothing of the previous one stays on screen."""
        self.timer.stop()
        self.preview_runner.cancel()
        self.full_runner.cancel()
        self.result = self.full_result = None
        self.result_hash = self.full_hash = None
        self.deltas = None
        self.shown_kind = ""
        self._settled_hash = self._baseline_hash = None
        self._edit_open = False
        self._hash = None
        self.kpis.clear("No results yet: the preview is on its way.")
        self.charts.clear()
        self.accounting.clear()
        self._show_warnings(None)
        self.status.setText("")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self._mark_stale()
        self.state_changed.emit()

    # -- display -----------------------------------------------------------------------
    def _show(self, res, h: str | None, kind: str, caption: str) -> None:
        self.result = res
        self.result_hash = h
        self.shown_kind = kind
        self.kpis.show_summary(res.summary, caption,
                               deltas=self.deltas if kind == "preview" else None)
        self.charts.show_result(res, sla_hours=self.doc.scenario.service.sla_hours)
        self.accounting.set_result(res, self.doc.scenario)
        self._show_warnings(res)
        self._mark_stale()
        self.state_changed.emit()

    def service_warnings(self) -> list[str]:
        """The service warnings shown above the KPIs (empty when none apply)."""
        return list(self._warnings)

    def _show_warnings(self, res) -> None:
        """Show the result's overloaded-queue warnings above the KPIs, or hide the banner."""
        self._warnings = res.service_warnings() if res is not None else []
        self.service_banner.setText("\n".join("⚠ " + w for w in self._warnings))
        self.service_banner.setVisible(bool(self._warnings))

    def shutdown(self) -> None:
        """Stop both worker threads (window closing)."""
        self.timer.stop()
        self.preview_runner.shutdown()
        self.full_runner.shutdown()
        self.attribution.shutdown()



def _warning_style(label: QLabel) -> None:
    """A warning banner in the palette's warning colours (readable in both).

    Amber on the light palette, a dark amber with light text on a dark one.
    """
    dark = label.palette().color(QPalette.ColorRole.Window).lightness() < 128
    bg, fg, border = ("#4a3b00", "#ffe08a", "#a08000") if dark else \
        ("#fff4ce", "#5c4400", "#e0c060")
    label.setStyleSheet(f"background: {bg}; color: {fg}; padding: 3px; "
                        f"border: 1px solid {border};")


def _wrapping(label: QLabel) -> None:
    """Long text wraps inside the panel instead of widening the window."""
    label.setWordWrap(True)
    sp = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    sp.setHeightForWidth(True)
    label.setSizePolicy(sp)
