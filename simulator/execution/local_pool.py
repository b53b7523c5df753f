"""The local back end: one process pool of a fixed size, shared by the whole process.

A run asking for W workers keeps at most W of its tasks in flight on it, and W = 1
runs in this process (:func:`run_local`). :func:`kill_pool` and the exit hook
:func:`shutdown` also close a ``local:N`` Dask cluster this process started.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Hashable, Sequence

from simulator.engine import ArmOutput
from simulator.execution.backend import pool_size
from simulator.execution.cluster import _close_dask
from simulator.execution.tasks import POLL_SECONDS, Task, run_task
from simulator.outputs import Cancelled
from simulator.threads import configure_threads
from simulator.worker_guard import worker_init


def _pool_task(task: Task, in_flight: int = 1):
    # A pool worker among ``in_flight`` busy ones: cores // in_flight kernel threads.
    configure_threads(in_flight)
    return run_task(task)


# One process pool of a fixed size for the whole process, shared by concurrent runs
# (GUI preview, full run, compare, optimiser). It is never resized: a run asking for W
# workers keeps at most W of its replications in flight on it. Results are keyed by
# task, so the numbers do not depend on W or on other runs sharing the pool.
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _new_pool() -> ProcessPoolExecutor:
    """Create the pool and start all its workers from one owner thread that never ends.

    Linux ties a worker's parent-death signal to the *thread* that started it, so
    workers must not be started by a caller's thread (a GUI worker thread ends
    after its run and would take the workers with it).
    """
    box: list = []
    ready = threading.Event()

    def owner() -> None:
        try:
            ex = ProcessPoolExecutor(max_workers=pool_size(), mp_context=mp.get_context("spawn"),
                                     initializer=worker_init,
                                     initargs=(os.getpid(), (__name__,)))
            # all workers now, from this thread (none later); a private method of CPython's
            ex._launch_processes()  # type: ignore[attr-defined]
            # and the thread that hands them work and, at exit, stops them (as the first
            # submit would start it): a pool started ahead of its first task
            # (start_pool) and never used must not keep the process from exiting
            # (private too: where an interpreter lacks it, the first submit starts it)
            start_manager = getattr(ex, "_start_executor_manager_thread", None)
            if start_manager is not None:
                start_manager()
            box.append(ex)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box.append(exc)
        ready.set()
        threading.Event().wait()  # live as long as the process

    threading.Thread(target=owner, daemon=True, name="benefit-sim-pool-owner").start()
    ready.wait()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def pool() -> ProcessPoolExecutor:
    """The shared process pool (spawned, so it is safe beside Qt threads); thread-safe."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or getattr(_POOL, "_broken", False):
            _POOL = _new_pool()
        return _POOL


def start_pool() -> None:
    """Start the shared pool's workers now, without waiting for them (a no-op once started).

    A batch's caller plans its tasks meanwhile: the workers' start-up (the interpreter,
    the engine's imports, ~1 s each) overlaps the planning instead of following it.
    """
    with _POOL_LOCK:
        if _POOL is not None and not getattr(_POOL, "_broken", False):
            return

    def start() -> None:
        try:
            pool()
        except BaseException:  # noqa: BLE001 - the run's own pool() call reports it
            pass

    threading.Thread(target=start, daemon=True, name="benefit-sim-pool-start").start()


def pool_pids() -> list[int]:
    """Process ids of the pool's live workers (for tests and diagnostics)."""
    with _POOL_LOCK:
        procs = getattr(_POOL, "_processes", None) or {}
        return [p.pid for p in list(procs.values()) if p.is_alive()]


def kill_pool() -> None:
    """Terminate the local workers now (on SIGTERM): running replications are abandoned.

    A ``local:N`` Dask cluster this process started is closed too.
    """
    global _POOL
    with _POOL_LOCK:
        p, _POOL = _POOL, None
    _close_dask()
    if p is None:
        return
    for proc in list((getattr(p, "_processes", None) or {}).values()):
        try:
            proc.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass
    p.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown() -> None:
    """Stop the worker processes and leave the cluster (called at exit)."""
    global _POOL
    with _POOL_LOCK:
        p, _POOL = _POOL, None
    if p is not None:
        p.shutdown(cancel_futures=True)
    _close_dask()


def run_local(tasks: Sequence[Task], workers: int,
              on_result: Callable[[Task, Any], None] | None,
              cancel) -> dict[Hashable, tuple[ArmOutput, ArmOutput | None]]:
    """``tasks`` on this computer: in this process (``workers`` <= 1) or on the shared pool.

    At most ``workers`` of this call's tasks are in flight on the pool; see
    :func:`simulator.execution.execute` for ``on_result`` and ``cancel``.
    """
    out: dict = {}
    if workers <= 1:
        configure_threads(1)  # one replication at a time in this process: every core
        for t in tasks:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            out[t.key] = run_task(t, cancel)
            if on_result:
                on_result(t, out[t.key])
        return out
    ex = pool()
    todo = list(tasks)
    futs: dict = {}
    try:
        pending: set = set()
        while todo or pending:
            while todo and len(pending) < workers:  # at most W of this call's tasks in flight
                t = todo.pop(0)
                f = ex.submit(_pool_task, t, min(workers, len(tasks)))
                futs[f] = t
                pending.add(f)
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for f in done:
                t = futs[f]
                out[t.key] = f.result()
                if on_result:
                    on_result(t, out[t.key])
            if cancel is not None and cancel.is_set():
                raise Cancelled()
    except BaseException:
        for f in futs:
            f.cancel()
        raise
    return out
