"""Results of the open scenario: live preview while editing, full runs on demand.

The panel subscribes to the document: each edit (re)starts a 150 ms debounce
timer (cut short when the gesture ends: slider released, value entered), then a
small preview run goes to a latest-only worker thread (stale
previews are cancelled and their results discarded). A full run uses the
scenario's own replications and sample in another worker thread, with progress
and Cancel. The KPI strip and charts say which of the two they show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import scenarios
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
import simulator.runner  # noqa: F401 - import the engine once, up front, not in the first preview
from simulator.scenario import Scenario

from ui.charts import ResultCharts
from ui.document import ScenarioDocument
from ui.kpis import KpiStrip
from ui.workers import TaskRunner


@dataclass
class PreviewSize:
    """The small samples used for the live preview.

    A quick first pass (fewer agents, short service-queue windows) shows figures within
    a fraction of a second of the edit; unless another edit comes first, a refined pass
    (more agents, longer queue windows: less noisy waits) then replaces it.
    """

    replications: int = 1
    agents: int = 4000
    horizon_months: int = 24
    workers: int = 1
    debounce_ms: int = 150
    window_contacts: int | None = 1000  # refined pass: shorter windows are faster but noisier
    quick_agents: int = 2000
    quick_window_contacts: int = 300
    refine: bool = True  # False: only one pass, with agents / window_contacts


def base_for(sc: Scenario, path=None) -> Scenario | None:
    """The base scenario of ``counterfactual.mode = 'base_scenario'`` (None otherwise).

    Resolved by the one loader (:func:`simulator.loader.base_of`): relative to ``path``
    (the scenario's file) when given, else in the shipped and user folders.
    """
    from simulator.loader import base_of

    return base_of(sc, path)


def run_task(sc: Scenario, **kwargs):
    """A TaskRunner task running the engine on ``sc`` (a private copy)."""
    def task(progress, cancel):
        from simulator.runner import run

        return run(sc, progress=progress, cancel=cancel, base=base_for(sc), **kwargs)
    return task


class ResultsPanel(QWidget):
    """KPI strip, run controls and charts of the open scenario."""

    preview_shown = Signal(float)  # seconds from the edit to the first figures (painted)
    preview_refined = Signal()  # the refined pass replaced the quick one
    full_finished = Signal(object)  # RunResult
    state_changed = Signal()

    def __init__(self, doc: ScenarioDocument, preview: PreviewSize | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.preview_size = preview or PreviewSize()
        self.result = None  # what is shown
        self.shown_kind = ""  # "preview" | "full" | ""
        self.full_result = None
        self._edit_time = time.perf_counter()
        self._preview_quick = False
        self.last_latency = float("nan")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.btn_run = QPushButton("▶ Full run")
        self.btn_run.setToolTip("Run the scenario's replications and sample (Ctrl+R)")
        self.btn_cancel = QPushButton("Cancel")
        self.btn_cancel.setToolTip("Stop the full run (Esc)")
        self.btn_cancel.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.status = QLabel("")
        self.status.setObjectName("run_status")
        bar.addWidget(self.btn_run)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.btn_cancel)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        self.kpis = KpiStrip()
        lay.addWidget(self.kpis)
        self.charts = ResultCharts()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.charts)
        lay.addWidget(scroll, 1)

        self.preview_runner = TaskRunner("preview", latest_only=True, parent=self)
        self.preview_runner.finished.connect(self._preview_done)
        self.preview_runner.failed.connect(self._preview_failed)
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
        self.btn_cancel.clicked.connect(self.cancel_full_run)
        doc.edited.connect(self.schedule_preview)
        doc.settled.connect(self.flush_preview)
        self.schedule_preview()

    # -- preview ---------------------------------------------------------------------
    def schedule_preview(self) -> None:
        """An edit happened: figures are stale; preview again after the debounce."""
        self._edit_time = time.perf_counter()
        if self.shown_kind == "full":
            self.kpis.set_caption(self.kpis.caption.text().split(" — ")[0] +
                                  " — outdated: the scenario changed, preview follows")
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
            self.kpis.set_caption(f"Preview paused: {len(issues)} problem(s) in the scenario "
                                  "(listed under the editor) must be fixed first.")
            self.state_changed.emit()
            return False
        self._submit_preview(quick=self.preview_size.refine)
        return True

    def _submit_preview(self, quick: bool) -> None:
        sc = self.doc.snapshot()
        p = self.preview_size
        agents, wc = (p.quick_agents, p.quick_window_contacts) if quick else \
            (p.agents, p.window_contacts)
        extra = {"window_contacts": wc} if wc else {}
        task = run_task(sc, replications=p.replications, agents=agents,
                        horizon_months=min(p.horizon_months, sc.run.horizon_months),
                        workers=p.workers, seed=sc.run.seed, **extra)
        self._preview_quick = quick
        self.preview_runner.submit(task)
        self.state_changed.emit()

    def _preview_done(self, res, seconds: float) -> None:
        if self.full_runner.busy:
            return  # a full run is on its way; do not flash previews meanwhile
        quick = self._preview_quick
        self._show(res, "preview",
                   f"Live preview{' (quick pass, refining…)' if quick else ''}: "
                   f"{res.replications} replication, "
                   f"{res.meta.get('agents', 0):,} simulated customers, "
                   f"{res.horizon} months ({seconds:.2f} s) — indicative; "
                   f"Ctrl+R runs the full {self.doc.scenario.run.replications} replications.")
        # Paint the new figures now (synchronously), so preview_shown means "visible" and the
        # refined pass does not start until they are: run in the worker thread, it would
        # compete for the GIL with the paint the user is waiting for.
        self.repaint()
        if quick:
            self.last_latency = time.perf_counter() - self._edit_time
            self.preview_shown.emit(self.last_latency)
            self._submit_preview(quick=False)  # a newer edit cancels it (latest only)
        else:
            if not self.preview_size.refine:
                self.last_latency = time.perf_counter() - self._edit_time
                self.preview_shown.emit(self.last_latency)
            self.preview_refined.emit()

    def _preview_failed(self, message: str) -> None:
        self.kpis.set_caption("Preview failed: " + message.splitlines()[0])
        self.status.setText(message.splitlines()[0])
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
        self.timer.stop()
        self.preview_runner.cancel()
        self.progress.setRange(0, max(sc.run.replications, 1))
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.btn_cancel.setEnabled(True)
        self.btn_run.setEnabled(False)
        self.status.setText(f"Full run: {sc.run.replications} replications × "
                            f"{sc.run.agents:,} customers, {sc.run.horizon_months} months…")
        self._full_started = time.perf_counter()
        self.full_runner.submit(run_task(sc))
        self.state_changed.emit()
        return True

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
        self.btn_cancel.setEnabled(False)
        self.btn_run.setEnabled(True)
        self.state_changed.emit()

    def _full_done(self, res, seconds: float) -> None:
        self._full_end()
        self.full_result = res
        self.progress.setFormat(f"done in {seconds:.1f} s")
        m = res.meta
        self._show(res, "full",
                   f"Full run: {res.replications} replications × "
                   f"{m.get('agents', 0):,} simulated customers, {res.horizon} months, "
                   f"seed {m.get('seed', '?')} ({seconds:.1f} s). "
                   f"Counterfactual: {m.get('counterfactual', 'scheme switched off')}.")
        self.status.setText("Full run finished.")
        self.full_finished.emit(res)

    def _full_failed(self, message: str) -> None:
        self._full_end()
        self.progress.setFormat("failed")
        self.status.setText("Full run failed: " + message.splitlines()[0])

    def _full_cancelled(self) -> None:
        self._full_end()
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self.status.setText("Full run cancelled.")
        self.schedule_preview()

    # -- display -----------------------------------------------------------------------
    def _show(self, res, kind: str, caption: str) -> None:
        self.result = res
        self.shown_kind = kind
        self.kpis.show_summary(res.summary, caption)
        self.charts.show_result(res, sla_hours=self.doc.scenario.service.sla_hours)
        self.state_changed.emit()

    def shutdown(self) -> None:
        """Stop both worker threads (window closing)."""
        self.timer.stop()
        self.preview_runner.shutdown()
        self.full_runner.shutdown()

