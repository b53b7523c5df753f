"""Run engine work off the GUI thread, with progress, cancel and stale-result discarding.

A :class:`TaskRunner` owns one ``QThread`` and one worker object living in it.
``submit(fn)`` runs ``fn(progress, cancel)`` there; ``progress(done, total)``
becomes a signal and ``cancel`` is a :class:`threading.Event` the engine polls
(``run(..., cancel=event)`` raises ``Cancelled``). With ``latest_only=True``
(live preview) a new submission cancels the one running and replaces any
queued one, and results of superseded tasks are never delivered.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ui.main_thread_gc import install as collect_on_gui_thread

Task = Callable[[Callable[[int, int], None], threading.Event], Any]


def show_progress(bar, done, total, unit: str) -> None:
    """Show a background task's progress on a QProgressBar: "done/total unit"."""
    bar.setRange(0, max(int(total), 1))
    bar.setValue(int(done))
    bar.setFormat(f"{int(done)}/{int(total)} {unit}")


def _is_cancel(exc: BaseException) -> bool:
    try:
        from simulator.runner import Cancelled
    except ImportError:  # engine not installed: nothing else raises it
        return False
    return isinstance(exc, Cancelled)


class _Worker(QObject):
    """Lives in the worker thread; runs one task at a time."""

    progress = Signal(object, object, object)  # generation, done, total
    done = Signal(object, object, float)  # generation, result, seconds
    failed = Signal(object, str)  # generation, message
    cancelled = Signal(object)  # generation

    @Slot(object, object, object)
    def execute(self, generation: int, fn: Task, cancel: threading.Event) -> None:
        """Run ``fn`` and report; exceptions become ``failed`` (the GUI never crashes)."""
        if cancel.is_set():
            self.cancelled.emit(generation)
            return
        t0 = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.progress.emit(generation, done, total)

        try:
            result = fn(progress, cancel)
        except BaseException as exc:  # noqa: BLE001 - report everything, crash nothing
            if _is_cancel(exc) or cancel.is_set():
                self.cancelled.emit(generation)
            else:
                msg = f"{type(exc).__name__}: {exc}"
                tb = traceback.format_exc(limit=6)
                self.failed.emit(generation, msg + "\n\n" + tb)
            return
        self.done.emit(generation, result, time.perf_counter() - t0)


class TaskRunner(QObject):
    """Submit engine tasks to a private worker thread; signals arrive in the GUI thread."""

    started = Signal()
    progress = Signal(object, object)  # done, total (object: counts may exceed 2**31)
    finished = Signal(object, float)  # result, seconds
    failed = Signal(str)
    cancelled = Signal()
    busy_changed = Signal()  # read .busy (no bool argument: see ui.document)
    _execute = Signal(object, object, object)

    def __init__(self, name: str, latest_only: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        # Before any worker thread exists: cycles are collected on the GUI thread only,
        # so no worker ever finalises a Qt object (ui.main_thread_gc explains the hang).
        collect_on_gui_thread()
        self.latest_only = latest_only
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._execute.connect(self._worker.execute)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()
        self._generation = 0
        self._running: int | None = None  # generation running in the thread
        self._cancel: threading.Event | None = None
        self._queued: tuple[int, Task, threading.Event] | None = None
        self.last_seconds = 0.0

    # -- API ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a task runs or waits."""
        return self._running is not None or self._queued is not None

    def submit(self, fn: Task) -> bool:
        """Run ``fn(progress, cancel)`` in the worker thread. Returns False if refused (busy)."""
        if self.busy and not self.latest_only:
            return False
        self._generation += 1
        gen = self._generation
        cancel = threading.Event()
        if self._running is not None:
            # latest_only: stop the stale task; start this one when it has returned
            if self._cancel is not None:
                self._cancel.set()
            self._queued = (gen, fn, cancel)
            return True
        self._start(gen, fn, cancel)
        return True

    def cancel(self) -> None:
        """Ask the running task to stop (the engine polls the event) and drop queued ones."""
        self._queued = None
        if self._cancel is not None:
            self._cancel.set()

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Cancel, stop the thread and wait for it (call before the window closes)."""
        self.cancel()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    # -- internals ---------------------------------------------------------------
    def _start(self, gen: int, fn: Task, cancel: threading.Event) -> None:
        was_busy = self.busy
        self._running = gen
        self._cancel = cancel
        self.started.emit()
        if not was_busy:
            self.busy_changed.emit()
        self._execute.emit(gen, fn, cancel)

    def _current(self, gen: int) -> bool:
        return gen == self._generation

    def _next(self) -> None:
        self._running = None
        self._cancel = None
        if self._queued is not None:
            gen, fn, cancel = self._queued
            self._queued = None
            self._start(gen, fn, cancel)
        else:
            self.busy_changed.emit()

    def _on_progress(self, gen, done, total) -> None:
        if self._current(gen):
            self.progress.emit(done, total)

    def _on_done(self, gen, result, seconds) -> None:
        current = self._current(gen)
        self._next()
        if current:  # results of superseded tasks are discarded
            self.last_seconds = seconds
            self.finished.emit(result, seconds)

    def _on_failed(self, gen, message) -> None:
        current = self._current(gen)
        self._next()
        if current:
            self.failed.emit(message)

    def _on_cancelled(self, gen) -> None:
        current = self._current(gen)
        self._next()
        if current:
            self.cancelled.emit()
