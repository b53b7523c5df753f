"""The Dask back end: a ``local:N`` LocalCluster or a running scheduler (docs/CLUSTER.md).

The client side connects (:func:`dask_client`), submits a call's tasks and cancels them
(:func:`_execute_dask`); the worker side runs them (:func:`_dask_task`), stops them at
their next month once their call is cancelled (:class:`_RunFlag`) and shares queue
windows through the scheduler (:class:`_SchedulerWindows`).
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import uuid
from typing import Any, Sequence

from simulator import customer_base
from simulator.execution.backend import current, parse_spec
from simulator.execution.tasks import POLL_SECONDS, Task, run_task
from simulator.outputs import Cancelled
from simulator.threads import configure_threads

CONNECT_SECONDS = 10  # how long to wait for a cluster's scheduler
log = logging.getLogger(__name__)


# Dask settings of a ``local:N`` cluster, so that its workers compute as fast as the
# local pool's processes (docs/CLUSTER.md, "Worker settings"; measured in the commit that
# set them):
# - Dask's nanny puts MALLOC_TRIM_THRESHOLD_=65536 and OMP/MKL/OPENBLAS_NUM_THREADS=1
#   into the environment of the workers it starts — and, as a LocalCluster's nannies
#   live in this process, into ours, so a local pool started after the cluster inherits
#   them. A fixed trim threshold turns off glibc's adaptive mmap threshold: every array
#   over 128 KiB is mapped afresh and its pages faulted in (5.5x the page faults, +8 %
#   CPU a replication at 20k agents). The workers inherit this process's environment
#   instead, as the pool's do; their kernel threads are set by simulator.threads.
# - The statistical profiler samples every thread's stack each 10 ms, taking the GIL
#   from the task (which runs the SimPy calendar in Python).
# - Every Dask server (scheduler, nannies, workers) wakes its event loop every 20 ms to
#   measure its own latency (the "tick") and reads its machine's CPU, memory, network
#   and disk counters every 0.5 s (the system monitor: dashboard figures, which a
#   local:N cluster does not serve). 1 s and 5 s cut the workers' CPU outside their
#   tasks from 28 to 10 ms a task and the scheduler's and nannies' from 29 to 11 ms.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    **{f"distributed.nanny.pre-spawn-environ.{name}": None
       for name in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS")},
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing-interval": "1s",
}

_DASK_LOCK = threading.RLock()
_DASK_STATE: dict[str, Any] = {}  # spec, client, cluster (a LocalCluster we started)
_CANCELLED_RUNS: set[str] = set()  # on a worker: ids of calls whose tasks must stop
_RUN_IDS = itertools.count()


class _RunFlag:
    """On a worker: is_set() once the client cancelled the call (a set lookup)."""

    def __init__(self, run_id: str):
        self.run_id = run_id

    def is_set(self) -> bool:
        _FLAG_CHECKS[0] += 1  # a heartbeat: running tasks look once a month
        return self.run_id in _CANCELLED_RUNS


_FLAG_CHECKS = [0]  # on a worker: how often running tasks looked at their flag


WINDOWS_METADATA = "benefit-sim-windows"  # the scheduler's key for the shared queue windows


class _SchedulerWindows:
    """Queue windows shared by every worker of a cluster, kept by its scheduler.

    A window is a pure function of its key (:mod:`simulator.window_cache`), so a
    window one worker simulated serves every other, on any machine: each is
    simulated once per cluster (two workers missing the same key at the same
    moment both simulate it, with the same result). Stored as the checksummed
    bytes of a cache file in the scheduler's metadata; a failure only costs time.
    """

    def _name(self, key: tuple) -> list[str]:
        from simulator.window_cache import _disk_name

        return [WINDOWS_METADATA, _disk_name(key)]

    def get(self, key: tuple):
        from distributed import get_client

        from simulator.window_cache import from_bytes

        try:
            data = get_client().get_metadata(self._name(key), default=None)
            return None if data is None else from_bytes(key, data)
        except Exception as exc:  # noqa: BLE001 - never fatal: the window is simulated
            log.warning("shared queue windows: %s: %s", type(exc).__name__, exc)
            return None

    def put(self, key: tuple, res) -> None:
        from distributed import get_client

        from simulator.window_cache import to_bytes

        try:
            get_client().set_metadata(self._name(key), to_bytes(key, res))
        except Exception as exc:  # noqa: BLE001 - never fatal: only others' time
            log.warning("shared queue windows: %s: %s", type(exc).__name__, exc)


def _dask_task(task: Task, run_id: str, local: bool = False):
    """A task on a Dask worker; it stops at its next month once its call is cancelled.

    ``local``: the cluster is a ``local:N`` one, whose workers share this computer's
    disk cache of queue windows (as the pool's workers do), so they ask the
    scheduler's store only when that cache is off (:func:`_shares_through_scheduler`).
    """
    from simulator import window_cache

    if run_id in _CANCELLED_RUNS:
        raise Cancelled()
    if _shares_through_scheduler(local):
        if not isinstance(window_cache._SHARED[0], _SchedulerWindows):
            window_cache.share_through(_SchedulerWindows())
    elif isinstance(window_cache._SHARED[0], _SchedulerWindows):
        window_cache.share_through(None)
    if not _SLOTS:
        _SLOTS.append(_host_slots())  # once per worker process
    configure_threads(_SLOTS[0])  # numba's count is per thread: each task sets its own
    return run_task(task, _RunFlag(run_id))


_SLOTS: list[int] = []


def _shares_through_scheduler(local: bool) -> bool:
    """Whether this worker reads and writes queue windows through the scheduler's store.

    Machines of a cluster need not share a disk, so a remote cluster's workers
    share windows through the scheduler. A ``local:N`` cluster's workers all read
    and write this computer's disk cache: there the store would only add two
    round trips to the scheduler for every window simulated (the disk already
    answered; measured 134 asks, none answered, in a 16-task sweep) — unless the
    disk cache is off (``BENEFIT_SIM_WINDOW_CACHE=0``).
    """
    from simulator import window_cache

    return not local or window_cache._disk_dir() is None


def _host_slots() -> int:
    """Tasks the cluster can run at once on this worker's machine (its workers' threads).

    Each gets ``cores // slots`` kernel threads (:func:`simulator.threads.configure_threads`),
    so the workers of one machine do not oversubscribe it; counted when the worker
    runs its first task (workers that join this machine later are not counted).
    """
    from distributed import get_client, get_worker

    try:
        me = get_worker()
        host = me.address.rsplit(":", 1)[0]
        workers = get_client().scheduler_info(n_workers=-1)["workers"]
        slots = sum(int(w.get("nthreads", 1)) for a, w in workers.items()
                    if a.rsplit(":", 1)[0] == host)
        return max(1, slots, int(me.state.nthreads))
    except Exception:  # noqa: BLE001 - unknown: one thread per task cannot oversubscribe
        return 1 << 16


async def _cancel_on_worker(run_id: str) -> None:
    """Run on every worker's event loop by the client: the call's running tasks stop."""
    _CANCELLED_RUNS.add(run_id)
    if len(_CANCELLED_RUNS) > 10_000:  # ids are unique: old ones can go
        _CANCELLED_RUNS.clear()
        _CANCELLED_RUNS.add(run_id)


def _executing_here(dask_worker) -> int:
    return int(dask_worker.state.executing_count)


def cluster_executing(spec: str | None = None) -> dict[str, int]:
    """Tasks each worker of the cluster is running right now (diagnostics, tests)."""
    return dict(dask_client(spec).run(_executing_here))


def _checks_here() -> int:
    return _FLAG_CHECKS[0]


def cluster_heartbeats(spec: str | None = None) -> dict[str, int]:
    """How often each worker's tasks have looked at their cancel flag (once a month)."""
    return dict(dask_client(spec).run(_checks_here))


def _close_dask() -> None:
    with _DASK_LOCK:
        client = _DASK_STATE.pop("client", None)
        cluster = _DASK_STATE.pop("cluster", None)
        _DASK_STATE.pop("spec", None)
    for thing in (client, cluster):
        if thing is not None:
            try:
                thing.close()
            except Exception:  # noqa: BLE001 - closing a cluster that is already gone
                pass


def dask_client(spec: str | None = None):
    """The ``distributed.Client`` of the back end in force (started at first use)."""
    spec = current() if spec is None else parse_spec(spec)
    if spec == "local":
        raise ValueError("cluster: the local process pool has no Dask client")
    with _DASK_LOCK:
        if _DASK_STATE.get("spec") == spec and _DASK_STATE["client"].status == "running":
            return _DASK_STATE["client"]
    _close_dask()
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("cluster: Dask is not installed (pip install 'dask[distributed]')") \
            from None
    cluster = None
    try:
        if spec.startswith("local:"):
            import dask

            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                cluster = LocalCluster(n_workers=int(spec.split(":")[1]),
                                       threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1",
                                       scheduler_port=0, silence_logs=logging.ERROR)
            client = Client(cluster, timeout=CONNECT_SECONDS)
        else:
            client = Client(spec, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ValueError(f"cluster: could not reach the Dask scheduler at {spec} "
                         f"({type(exc).__name__}: {exc}); start it with 'dask scheduler' "
                         "(docs/CLUSTER.md)") from None
    with _DASK_LOCK:
        _DASK_STATE.update(spec=spec, client=client, cluster=cluster)
    return client


def _execute_dask(spec: str, tasks: Sequence[Task], on_result, cancel) -> dict:
    client = dask_client(spec)
    # Customer files: once to every worker (kept there by hash), not pickled with each task.
    for sha, data in customer_base.files_of(tasks).items():
        client.run(customer_base.keep, sha, data)
    run_id = f"{os.getpid()}-{next(_RUN_IDS)}-{uuid.uuid4().hex[:8]}"
    local = spec.startswith("local:")
    futs = {client.submit(_dask_task, t, run_id, local, key=f"bsim-{run_id}-{i}",
                          pure=False): t for i, t in enumerate(tasks)}
    out: dict = {}
    # Each future reports itself once when it finishes (a callback on the client's
    # thread); this thread takes them as they come and looks at the cancel flag between.
    # (distributed.wait on the pending set, called at each result and each poll, made
    # the client wait on every pending future afresh: ~16 ms of this process's CPU a
    # task in a 256-task sweep, on a 2-core machine taken from the workers.)
    finished: queue.SimpleQueue = queue.SimpleQueue()
    try:
        for f in futs:
            f.add_done_callback(finished.put)
        remaining = len(futs)
        while remaining:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            try:
                f = finished.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            remaining -= 1
            t = futs[f]
            out[t.key] = f.result()
            if on_result:
                on_result(t, out[t.key])
    except BaseException:
        left = [f for f in futs if not f.done()]
        if left:
            client.cancel(left, force=True)
            try:  # running tasks stop at their next month
                client.run(_cancel_on_worker, run_id, wait=False)
            except Exception:  # noqa: BLE001 - a cluster that is gone has nothing running
                pass
        raise
    finally:
        for f in futs:
            f.release()
    return out
