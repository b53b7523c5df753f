"""What the analysis panels share about running in the background.

The attribution view, the risk panel and the "why different" waterfall each
own a :class:`ui.workers.TaskRunner`, a progress bar, Run and Cancel buttons and
a status line. :class:`BackgroundRunMixin` builds those controls and holds the
behaviour they share: progress in the panel's own unit, cancel, and what done,
failed and cancelled look like. A panel sets ``NOUN`` and ``UNIT`` and hands
:meth:`_make_runner` the function that shows a finished run's payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox

from ui.workers import TaskRunner, show_progress


class BackgroundRunMixin:
    """Progress, cancel and the end states of a panel's background run."""

    NOUN = "Analysis"  # "Attribution failed: …", "Attribution cancelled."
    UNIT = "runs"  # "3/16 runs"

    # made by the builders below; ``finished`` is the panel's own signal
    runner: TaskRunner
    progress: QProgressBar
    btn_run: QPushButton
    btn_cancel: QPushButton
    status: QLabel
    finished: Any

    @property
    def busy(self) -> bool:
        """True while the panel's run is in progress."""
        return bool(self.runner.busy)

    def _can_run(self) -> bool:
        """Whether Run is enabled when no run is in progress."""
        return True

    # -- building ----------------------------------------------------------------------
    def _sample_boxes(self, row: QHBoxLayout, replications: int) -> None:
        """The replications and agents spin boxes (``self.reps``, ``self.agents``)."""
        self.reps = QSpinBox()
        self.reps.setRange(2, 500)
        self.reps.setValue(replications)
        self.reps.setSuffix(" replications")
        row.addWidget(self.reps)
        self.agents = QSpinBox()
        self.agents.setRange(200, 5_000_000)
        self.agents.setSingleStep(1000)
        self.agents.setGroupSeparatorShown(True)
        self.agents.setValue(2000)
        self.agents.setSuffix(" agents")
        row.addWidget(self.agents)

    def _run_controls(self, row: QHBoxLayout, run_text: str, progress_width: int = 120) -> None:
        """Run and Cancel buttons and the progress bar, added to ``row``."""
        self.btn_run = QPushButton(run_text)
        self.btn_cancel = QPushButton("Cancel")
        self.btn_cancel.setEnabled(False)
        row.addWidget(self.btn_run)
        row.addWidget(self.btn_cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setMinimumWidth(progress_width)
        row.addWidget(self.progress, 1)

    def _status_label(self, name: str, text: str = "") -> QLabel:
        """The wrapping status line (``self.status``)."""
        self.status = QLabel(text)
        self.status.setObjectName(name)
        self.status.setWordWrap(True)
        return self.status

    def _make_runner(self, name: str, show: Callable[[Any], Any]) -> None:
        """The worker thread; ``show(payload)`` shows a result and returns the signal's value."""
        self._show_result = show
        self.runner = TaskRunner(name, parent=self)
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
        show_progress(self.progress, done, total, self.UNIT)

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
