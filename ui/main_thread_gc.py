"""Python's cyclic garbage collector runs on the GUI thread only.

Qt objects must be destroyed in the thread that owns them. With automatic
collection, a collection can start in whichever thread happens to allocate:
a preview's worker thread then finalises a closed window's widgets (a
``QObject`` destructor in the wrong thread) while the GUI thread deletes
their children. Each waits for a lock the other holds — the GUI thread for
Qt's object mutex, the worker for the interpreter lock — and the app hangs
(seen in the test suite: a worker in ``gc_collect_main`` → ``~QObject`` →
``GilState::acquire``, the GUI thread in ``~QAction`` → ``QBasicMutex``).

So automatic collection is switched off and a timer on the GUI thread runs
the same generational collection (with the interpreter's own thresholds)
when the allocation counts call for it. Reference counting still frees
everything that is not in a cycle at once, in any thread; only cycles wait
for the next tick.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from shiboken6 import isValid

INTERVAL_MS = 250

_installed: MainThreadCollector | None = None


class MainThreadCollector(QObject):
    """Runs :func:`gc.collect` from a GUI-thread timer instead of automatically."""

    def __init__(self, app: QCoreApplication, interval_ms: int = INTERVAL_MS):
        super().__init__(app)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> int:
        """Collect the generation the allocation counts call for; the objects found."""
        counts = gc.get_count()
        generation = -1
        for g in range(3):
            if counts[g] > self.thresholds[g]:
                generation = g
            else:
                break
        return gc.collect(generation) if generation >= 0 else 0


def install(app: QCoreApplication | None = None) -> MainThreadCollector:
    """Install the collector for the running application (idempotent)."""
    global _installed
    app = app or QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before installing the collector")
    if _installed is not None and isValid(_installed) and _installed.parent() is app:
        return _installed
    _installed = MainThreadCollector(app)
    return _installed
