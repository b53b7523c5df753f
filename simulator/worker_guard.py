"""Worker processes end with their parent (kept light: imported first in every worker).

The pool's workers unpickle their initializer before anything else, so this
module must not import the engine (numba compilation takes seconds): the guard
is then active from the first moments of a worker's life.
"""

from __future__ import annotations

import os
import threading
import time


def _watch_parent(parent: int) -> None:
    """Exit as soon as the parent process is gone (killed, SIGTERM, crash)."""
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            os._exit(0)


def worker_init(parent: int, preload: tuple[str, ...] = ()) -> None:
    """Make this worker end with its parent, even one killed by SIGTERM or SIGKILL.

    ``preload``: modules imported once the guard is on (the engine: the pool's workers
    import it while the parent still plans its first batch, not on the first task).

    On Linux the kernel kills the worker when the thread that started it ends
    (``PR_SET_PDEATHSIG``; the pool's workers are all started by one long-lived
    owner thread, see :func:`simulator.execution.local_pool._new_pool`), even while it runs
    compiled code holding the GIL. A thread polling the parent backs this up
    (and is the mechanism elsewhere).
    """
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before we got here
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="parent-watch").start()
    import importlib

    for name in preload:
        importlib.import_module(name)
