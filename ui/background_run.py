"""What the analysis panels share about running in the background.

The attribution view, the risk panel and the "why different" waterfall each
own a :class:`ui.workers.TaskRunner`, a progress bar, Run and Cancel buttons and
a status line. :class:`BackgroundRunMixin` holds the behaviour they share:
progress in the panel's own unit, cancel, and what done, failed and cancelled
look like. A panel sets ``NOUN`` and ``UNIT`` and implements
:meth:`_show_result`.
"""

from __future__ import annotations

from typing import Any


class BackgroundRunMixin:
    """Progress, cancel and the end states of a panel's background run."""

    NOUN = "Analysis"  # "Attribution failed: …", "Attribution cancelled."
    UNIT = "runs"  # "3/16 runs"

    # provided by the panel
    runner: Any
    progress: Any
    btn_run: Any
    btn_cancel: Any
    status: Any
    finished: Any

    @property
    def busy(self) -> bool:
        """True while the panel's run is in progress."""
        return bool(self.runner.busy)

    def _show_result(self, payload: Any) -> Any:
        """Show a finished run's payload; the object the ``finished`` signal carries."""
        raise NotImplementedError

    def _can_run(self) -> bool:
        """Whether Run is enabled when no run is in progress."""
        return True

    def _connect_runner(self) -> None:
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)

    def _starting(self, text: str, task) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat("starting…")
        self.btn_run.setEnabled(False)
        self.btn_cancel.setEnabled(True)
        self.status.setText(text)
        self.runner.submit(task)

    def cancel(self) -> None:
        """Stop the run (the engine stops within a month of a replication)."""
        if self.busy:
            self.progress.setFormat("cancelling…")
            self.runner.cancel()

    def _progress(self, done, total) -> None:
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))
        self.progress.setFormat(f"{int(done)}/{int(total)} {self.UNIT}")

    def _end(self, value: int, text: str) -> None:
        self.btn_run.setEnabled(self._can_run())
        self.btn_cancel.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(value)
        self.progress.setFormat(text)

    def _done(self, payload, seconds: float) -> None:
        self._end(1, f"done in {seconds:.1f} s")
        self.finished.emit(self._show_result(payload))

    def _failed(self, message: str) -> None:
        self._end(0, "failed")
        self.status.setText(f"{self.NOUN} failed: " + message.split("\n\n")[0])

    def _cancelled(self) -> None:
        self._end(0, "cancelled")
        self.status.setText(f"{self.NOUN} cancelled.")

    def shutdown(self) -> None:
        """Stop the worker thread."""
        self.runner.shutdown()
