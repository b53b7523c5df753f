"""The full run: the scenario's own replications and sample, with progress and Cancel.

:class:`FullRuns` is a mixin of :class:`ui.results_panel.ResultsPanel` (it uses the
panel's document, runners, buttons, progress bar and status line). A full run stops the
preview; a run that finishes after the scenario was edited is kept (undo may bring its
state back) but not presented as the figures of the scenario on screen.
"""

from __future__ import annotations

import time

from simulator.metrics import counted
from simulator.scenario_io import scenario_hash
from ui.run_tasks import error_text, run_task
from ui.workers import show_progress


class FullRuns:
    """Start, follow, show and cancel the full run of the scenario on screen."""

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
        show_progress(self.progress, done, total, "replications")

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
        self.status.setText("Full run failed: " + error_text(message))

    def _full_cancelled(self) -> None:
        self._full_end()
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self.status.setText("Full run cancelled.")
        self.schedule_preview()
