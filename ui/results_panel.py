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
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

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
from simulator.compare import paired_delta
from simulator.labels import wrap
from simulator.metrics import counted
from simulator.scenario import Scenario
from simulator.scenario_io import scenario_hash
from ui.accounting_view import AccountingView
from ui.attribution_view import AttributionView
from ui.charts import ResultCharts
from ui.document import ScenarioDocument
from ui.kpis import KpiStrip
from ui.workers import TaskRunner


@dataclass
class PreviewSize:
    """The small samples used for the live preview.

    A quick first pass (fewer agents, short service-queue windows) shows figures within
    a fraction of a second of the edit; unless another edit comes first, a refined pass
    (more agents, longer queue windows: less noisy waits) then replaces it. The refined
    pass runs several replications so that the change an edit makes has an interval
    (paired replications under the same seed); both run the scenario's own horizon
    unless ``horizon_months`` caps it.
    """

    # Each replication has a fixed cost (~0.15 s under load on 2 cores, whatever its size),
    # so the quick pass is one replication (the change without interval) and the refined
    # pass four (the change with its paired 95 % interval).
    replications: int = 4
    agents: int = 2000
    horizon_months: int | None = None  # None: the scenario's own horizon
    workers: int = 1
    debounce_ms: int = 150
    window_contacts: int | None = 1000  # refined pass: shorter windows are faster but noisier
    quick_agents: int = 2000
    quick_replications: int = 1
    quick_window_contacts: int = 300
    refine: bool = True  # False: only one pass, with replications / agents / window_contacts


def base_for(sc: Scenario, path=None) -> Scenario | None:
    """The base scenario of ``counterfactual.mode = 'base_scenario'`` (None otherwise).

    Resolved by the one loader (:func:`simulator.loader.base_of`): relative to ``path``
    (the scenario's file) when given, else in the shipped and user folders.
    """
    from simulator.loader import base_of

    return base_of(sc, path)


def run_task(sc: Scenario, path=None, **kwargs):
    """A TaskRunner task running the engine on ``sc`` (a private copy).

    ``path`` is the scenario's file, against which a base scenario's name is resolved.
    """
    def task(progress, cancel):
        from simulator.loader import loaded_from
        from simulator.runner import run

        # The one loader: the base scenario and the customer file, relative to ``path``.
        ld = loaded_from(sc, path)
        return run(ld.scenario, progress=progress, cancel=cancel, base=ld.base_scenario,
                   **kwargs)
    return task


class ResultsPanel(QWidget):
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

    # -- preview ---------------------------------------------------------------------
    def schedule_preview(self) -> None:
        """An edit happened: figures are stale; preview again after the debounce."""
        self._edit_time = time.perf_counter()
        self._hash = None
        if not self._edit_open:
            # changes are measured from what was on screen before this edit
            self._baseline_hash = self._settled_hash
            self._edit_open = True
        self._mark_stale()
        self.timer.start()

    def flush_preview(self) -> None:
        """The edit gesture ended (slider released, Enter): start a pending preview now.

        The debounce only exists to skip the values a drag passes through; once the
        slider is released the value is final, so waiting out the timer is pure delay.
        """
        if self.timer.isActive():
            self.timer.stop()
            self.start_preview()

    def start_preview(self) -> bool:
        """Send a preview run of the current scenario to the worker thread."""
        issues = self.doc.issues()
        if issues:
            self.preview_runner.cancel()
            self._mark_stale(": fix the problems listed under the editor first.")
            self.kpis.set_caption(f"Preview paused: {len(issues)} problem(s) in the scenario "
                                  "(listed under the editor) must be fixed first.")
            self.state_changed.emit()
            return False
        h = self.doc_hash()
        if self.full_result is not None and self.full_hash == h and \
                not self.full_runner.busy:
            # back to the state of the full run (e.g. undo): show it, no preview needed
            self.preview_runner.cancel()
            self._show_full(self.full_result, self.full_result.meta.get("elapsed_seconds")
                            or 0.0)
            self._settle(h)
            return True
        cached = self._cache.get((h, False))
        if cached is not None and not self.full_runner.busy:
            self.preview_runner.cancel()
            self._preview_quick = False
            self._preview_done((cached, h, False), 0.0)
            return True
        self._submit_preview(quick=self.preview_size.refine)
        return True

    def _preview_args(self, sc: Scenario, quick: bool) -> dict:
        p = self.preview_size
        reps, agents, wc = (p.quick_replications, p.quick_agents, p.quick_window_contacts) \
            if quick else (p.replications, p.agents, p.window_contacts)
        horizon = sc.run.horizon_months if p.horizon_months is None else \
            min(p.horizon_months, sc.run.horizon_months)
        extra = {"window_contacts": wc} if wc else {}
        return dict(replications=reps, agents=agents, horizon_months=horizon,
                    workers=p.workers, seed=sc.run.seed, **extra)

    def _submit_preview(self, quick: bool) -> None:
        sc = self.doc.snapshot()
        h = scenario_hash(sc)
        task = run_task(sc, self.doc.path, **self._preview_args(sc, quick))

        def stamped(progress, cancel):
            return task(progress, cancel), h, quick

        self._preview_quick = quick
        if not self.full_runner.busy:
            self.progress.setRange(0, 0)  # busy until the first replication reports
            self.progress.setFormat(f"preview{' (quick pass)' if quick else ''}: running…")
        self.preview_runner.submit(stamped)
        self._busy_changed()
        self.state_changed.emit()

    def _preview_progress(self, done, total) -> None:
        if self.full_runner.busy:
            return
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))
        self.progress.setFormat(f"preview: {int(done)}/{int(total)} replications")

    def _deltas(self, res, quick: bool) -> dict | None:
        """The change from the baseline state, paired by replication (same seed, customers)."""
        base = self._cache.get((self._baseline_hash, quick))
        if base is None or base is res or base.replications != res.replications:
            return None
        a, b = base.kpis, res.kpis
        return {m: paired_delta(a[m].to_numpy(), b[m].to_numpy())
                for m in self.kpis.boxes if m in a.columns and m in b.columns}

    def _preview_done(self, payload, seconds: float) -> None:
        res, h, quick = payload
        self._cache[(h, quick)] = res
        self._cache.move_to_end((h, quick))
        while len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)
        if self.full_runner.busy:
            return  # a full run is on its way; do not flash previews meanwhile
        if h != self.doc_hash():
            return  # the scenario changed meanwhile: its own preview follows
        self.deltas = self._deltas(res, quick)
        noise = ""
        if self.deltas is not None:
            noise = (" Δ lines: change from before your last edit, same seed and customers, "
                     "95 % interval over the paired replications.")
        reps = res.replications
        self._show(res, h, "preview",
                   f"Live preview{' (quick pass, refining…)' if quick else ''}: "
                   f"{reps} replication{'s' if reps != 1 else ''} × "
                   f"{res.meta.get('agents', 0):,} simulated customers, "
                   f"{res.horizon} months ({seconds:.2f} s) — indicative; "
                   f"Ctrl+R runs the full "
                   f"{counted(self.doc.scenario.run.replications, 'replication')}."
                   + noise)
        if not self.preview_runner.busy:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setFormat(f"preview shown ({seconds:.2f} s)")
        # Paint the new figures now (synchronously), so preview_shown means "visible" and the
        # refined pass does not start until they are: run in the worker thread, it would
        # compete for the GIL with the paint the user is waiting for.
        self.repaint()
        if quick:
            self.last_latency = time.perf_counter() - self._edit_time
            self.preview_shown.emit(self.last_latency)
            self._submit_preview(quick=False)  # a newer edit cancels it (latest only)
        else:
            self._settle(h)
            if not self.preview_size.refine:
                self.last_latency = time.perf_counter() - self._edit_time
                self.preview_shown.emit(self.last_latency)
            self.preview_refined.emit()

    def _settle(self, h: str) -> None:
        """The figures of state ``h`` are final: the next edit is measured from it."""
        self._settled_hash = h
        if not self.timer.isActive():
            self._edit_open = False

    def _preview_failed(self, message: str) -> None:
        first = _error_text(message)
        # nothing on screen may pretend to belong to a scenario whose run fails
        self.result = None
        self.result_hash = None
        self.deltas = None
        self.kpis.clear("Preview failed: no figures for this scenario (the reason is above).")
        self.charts.clear()
        self.accounting.clear()
        self._show_warnings(None)
        self._mark_stale()
        self.status.setText(first)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("preview failed")
        self.state_changed.emit()

    def _preview_cancelled(self) -> None:
        if self.full_runner.busy:
            return
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("preview cancelled")
        self._busy_changed()

    def cancel_preview(self) -> None:
        """Stop the preview now; the figures stay greyed out until the next run."""
        self.timer.stop()
        if not self.preview_runner.busy:
            return
        self.preview_runner.cancel()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("preview cancelled")
        self._mark_stale(": the preview was cancelled (F5 previews again).")
        self.status.setText("Preview cancelled.")
        self.state_changed.emit()

    def _busy_changed(self) -> None:
        self.btn_cancel.setEnabled(self.full_runner.busy or self.preview_runner.busy)
        self.state_changed.emit()

    # -- full run ----------------------------------------------------------------------
    def start_full_run(self) -> bool:
        """Run the scenario's own replications/sample off the GUI thread."""
        if self.full_runner.busy:
            return False
        issues = self.doc.issues()
        if issues:
            self.status.setText(f"Cannot run: {len(issues)} problem(s) in the scenario.")
            return False
        sc = self.doc.snapshot()
        h = scenario_hash(sc)
        task = run_task(sc, self.doc.path)
        self.timer.stop()
        self.preview_runner.cancel()
        self.progress.setRange(0, max(sc.run.replications, 1))
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.btn_cancel.setEnabled(True)
        self.btn_run.setEnabled(False)
        self.status.setText(f"Full run: {counted(sc.run.replications, 'replication')} × "
                            f"{sc.run.agents:,} customers, {sc.run.horizon_months} months…")
        self._full_started = time.perf_counter()
        self.full_runner.submit(lambda progress, cancel: (task(progress, cancel), h))
        self.state_changed.emit()
        return True

    def cancel(self) -> None:
        """Cancel button / Esc: stop the full run if one is going, else the preview."""
        if self.full_runner.busy:
            self.cancel_full_run()
        else:
            self.cancel_preview()

    def cancel_full_run(self) -> None:
        """Stop the full run (the engine stops between replications)."""
        if self.full_runner.busy:
            self.progress.setFormat("cancelling…")
            self.full_runner.cancel()

    def _full_progress(self, done, total) -> None:
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))
        self.progress.setFormat(f"{int(done)}/{int(total)} replications")

    def _full_end(self) -> None:
        self.btn_cancel.setEnabled(self.preview_runner.busy)
        self.btn_run.setEnabled(True)
        self.state_changed.emit()

    def _full_done(self, payload, seconds: float) -> None:
        res, h = payload
        self._full_end()
        self.full_result, self.full_hash = res, h
        self.progress.setFormat(f"done in {seconds:.1f} s")
        if h != self.doc_hash():
            # the scenario was edited while it ran: keep it (undo may bring it back),
            # but do not present it as the scenario's figures
            self.status.setText("Full run finished, but the scenario changed meanwhile: "
                                "run again (Ctrl+R) for figures of the scenario on screen.")
            self.schedule_preview()
            return
        self._show_full(res, seconds)
        self.status.setText("Full run finished.")
        self.full_finished.emit(res)

    def _show_full(self, res, seconds: float) -> None:
        m = res.meta
        self.deltas = None
        self._show(res, self.full_hash, "full",
                   f"Full run: {counted(res.replications, 'replication')} × "
                   f"{m.get('agents', 0):,} simulated customers, {res.horizon} months, "
                   f"seed {m.get('seed', '?')} ({seconds:.1f} s). "
                   f"Counterfactual: {m.get('counterfactual', 'scheme switched off')}.")

    def _full_failed(self, message: str) -> None:
        self._full_end()
        self.progress.setFormat("failed")
        self.status.setText("Full run failed: " + _error_text(message))

    def _full_cancelled(self) -> None:
        self._full_end()
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self.status.setText("Full run cancelled.")
        self.schedule_preview()

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


def _error_text(message: str) -> str:
    """The failure as a planner reads it.

    The message with every problem listed, without the exception's class name and the
    traceback that follows it.
    """
    text = message.split("\n\n")[0].strip()
    head, sep, rest = text.partition(": ")
    if sep and head.isidentifier() and (head.endswith("Error") or head.endswith("Exception")):
        text = rest
    return text


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
