"""How many threads the numba kernel uses, and a threading layer safe for it.

One policy, in one place: a process that runs ``workers`` replications at once
(a pool worker among ``workers``) gives each of them ``cores // workers``
threads, at least one, so W workers never oversubscribe the machine; a single
preview or a single large replication (``workers=1``) uses every core. Results
do not depend on the thread count (:data:`simulator.kernel.BLOCK`).

The threading layer is chosen before the first parallel call: TBB or OpenMP
(both allow parallel kernels to be launched from several Python threads at once,
as the app does with a preview and a run), else numba's ``workqueue``, which
does not: then :data:`KERNEL_LOCK` serialises kernel calls in this process.

Where compiled code is kept (:data:`CACHE_DIR`): numba's ``cache=True`` checks only
the timestamp of a function's own file, but the machine code of a function also holds
what it calls in other modules (the kernel and the warm start inline
:mod:`simulator.draws`), so after a change to ``draws.py`` alone it would load a stale
kernel. Every module that compiles imports this one first, and the cache folder is
named by a digest of the source of every module that uses numba: changing any of them
starts a new folder (and old folders are removed after a day).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import shutil
import threading
import time
from pathlib import Path

import numba

_LAYERS = (("tbb", "numba.np.ufunc.tbbpool"), ("omp", "numba.np.ufunc.omppool"))


# OpenMP threads sleep between kernel calls instead of spinning: the engine's Python
# work between the two passes (queue windows, accounting) then keeps its core, and
# a loaded machine does not stall the parallel step on descheduled spinners. Set
# before the OpenMP library is loaded (it reads the variable once).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def compiled_sources_digest(package: Path) -> str:
    """Digest of the source of every module under ``package`` that uses numba."""
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        text = path.read_bytes()
        if b"numba" in text:
            h.update(path.relative_to(package).as_posix().encode() + b"\0" + text + b"\0")
    return h.hexdigest()[:16]


STALE_CACHE_SECONDS = 86400.0  # a folder of an older source older than this is removed


def _cache_dir() -> str:
    """The folder for this source's compiled code; older sources' folders pruned."""
    package = Path(__file__).resolve().parent
    name = "numba-" + compiled_sources_digest(package)
    root = Path(os.environ["NUMBA_CACHE_DIR"]) / "benefit-sim" if os.environ.get(
        "NUMBA_CACHE_DIR") else package / "__pycache__"
    here = root / name
    try:
        for old in root.glob("numba-*"):
            if old.name != name and time.time() - old.stat().st_mtime > STALE_CACHE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:  # a read-only or missing folder: numba falls back to its own places
        pass
    return str(here)


CACHE_DIR = _cache_dir()
numba.config.CACHE_DIR = CACHE_DIR


def _pick_layer() -> str:
    for name, module in _LAYERS:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a missing library: try the next layer
            continue
        return name
    return "workqueue"


LAYER = _pick_layer()
numba.config.THREADING_LAYER = LAYER
# Kernel calls from several threads of one process: only workqueue needs them in turn.
KERNEL_LOCK: contextlib.AbstractContextManager = (
    threading.Lock() if LAYER == "workqueue" else contextlib.nullcontext())


def cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def threads_for(workers: int) -> int:
    """Kernel threads for each of ``workers`` concurrent replications: cores // workers, >= 1."""
    return max(1, min(cores(), numba.config.NUMBA_NUM_THREADS) // max(1, int(workers)))


def configure_threads(workers: int = 1) -> int:
    """Set this thread's numba thread count for ``workers`` concurrent replications.

    Call it in each worker (or before a run in this process) with the number of
    replications that run at once on this machine; returns the thread count set.
    """
    n = threads_for(workers)
    numba.set_num_threads(n)
    return n
