"""Where replications run: in this process, the local process pool, or a Dask cluster.

Every simulation the product runs (a run, compare, the optimiser, the sensitivity
and attribution sweeps) is cut into :class:`Task` s, one per (scenario, seed,
replication); :func:`execute` runs a list of them on the chosen back end and
streams the results back as they finish. A task is a pure function of its
fields (the random streams are addressed by seed and replication, see
:mod:`simulator.streams`), so the numbers do not depend on the back end, the
number of workers, the order of completion, or a worker lost and its task run
again elsewhere.

Back ends, chosen by :func:`configure` (the CLI's ``--cluster``, the app's Run
settings) or else by ``$BENEFIT_SIM_CLUSTER``:

* ``local`` (default, no set-up): one process pool of a fixed size shared by the
  whole process (:func:`pool`); a run asking for W workers keeps at most W of
  its tasks in flight on it, W = 1 runs in this process.
* ``local:N``: a ``dask.distributed`` ``LocalCluster`` of N worker processes on
  this computer (no dashboard, no network beyond the loopback).
* ``tcp://HOST:PORT``: the scheduler of a running Dask cluster (docs/CLUSTER.md).

Tasks carry the pydantic :class:`~simulator.scenario.Scenario` itself: it is
pickled from this process to our own workers, never read from a file. Scenario
files stay data (:mod:`simulator.scenario_io`).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import multiprocessing as mp
import os
import re
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Hashable, Sequence

import numpy as np

from simulator import __version__
from simulator.engine import ArmOutput, Simulation
from simulator.outputs import Cancelled
from simulator.scenario import (
    SLOT_BYTES,
    SLOT_BYTES_PER_WINDOW_MONTH,
    Scenario,
    memory_budget,
    simulated_slots,
)
from simulator.threads import configure_threads
from simulator.worker_guard import worker_init

if TYPE_CHECKING:
    from simulator.uncertainty import Plan

CLUSTER_ENV = "BENEFIT_SIM_CLUSTER"
POOL_SIZE_ENV = "BENEFIT_SIM_POOL_SIZE"
POLL_SECONDS = 0.1  # how often a waiting caller looks at its cancel flag
CONNECT_SECONDS = 10  # how long to wait for a cluster's scheduler
log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class Task:
    """One replication of one run: both arms, everything a worker needs."""

    key: Hashable  # the caller's name for the result, e.g. (run index, replication)
    scenario: Scenario
    counterfactual: Scenario | None
    switch_off: tuple[str, ...]
    seed: int
    replication: int
    agents: int
    horizon: int
    plan: Plan | None = None  # the run's draws of its uncertain inputs (simulator.uncertainty)
    version: str = __version__  # a worker running other code refuses the task


def pairing_fits(sc: Scenario, agents: int, horizon: int) -> bool:
    """Whether the counterfactual's orders log (1 byte per customer and month) fits too.

    The log is what lets the scenario arm report deadweight; a run at the limit of
    :func:`simulator.scenario.size_problems` (about 12 M simulated customers) runs
    without it, and reports deadweight as not available.
    """
    slots = simulated_slots(sc, agents, horizon)
    need = slots * (SLOT_BYTES + SLOT_BYTES_PER_WINDOW_MONTH * sc.tier_rules.window_months
                    + horizon)
    return need <= memory_budget()


def run_replication(sc: Scenario, cf_sc: Scenario | None, switch_off: tuple[str, ...],
                    seed: int, rep: int, agents: int, horizon: int,
                    cancel=None, plan: Plan | None = None
                    ) -> tuple[ArmOutput, ArmOutput | None]:
    """Both arms of one replication, on the same random streams.

    ``plan``: the run's draws of its uncertain inputs (simulator.uncertainty); the
    replication's scenario and counterfactual take their values from (plan, rep).
    """
    if plan is not None:
        sc, cf_sc = plan.arms(sc, cf_sc, rep)
    root = np.random.SeedSequence(seed)
    if cf_sc is not None and switch_off and pairing_fits(sc, agents, horizon):
        # The scheme switched off: the same customers in both arms, index by index. The
        # counterfactual runs first and keeps each customer's orders per month, so the
        # scenario arm can tell purchases that happen anyway from incremental ones.
        rec = Simulation(cf_sc, root, rep, agents, horizon, switch_off, cancel=cancel,
                         pairing="record")
        cf_out = rec.run()
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        sim = Simulation(sc, root, rep, agents, horizon, (), cancel=cancel, pairing="paired")
        sim.cf_log = rec.orders_log
        del rec
        return sim.run(), cf_out
    a = Simulation(sc, root, rep, agents, horizon, (), cancel=cancel).run()
    b = None
    if cf_sc is not None:
        if cancel is not None and cancel.is_set():  # before the second arm's set-up
            raise Cancelled()
        b = Simulation(cf_sc, root, rep, agents, horizon, switch_off, cancel=cancel).run()
    return a, b


def run_task(task: Task, cancel=None) -> tuple[ArmOutput, ArmOutput | None]:
    """A task's result (runs in whichever process the back end chose)."""
    if task.version != __version__:
        raise RuntimeError(f"this worker runs benefit-sim {__version__}, the task comes from "
                           f"{task.version}: install the same version on every machine")
    return run_replication(task.scenario, task.counterfactual, task.switch_off, task.seed,
                           task.replication, task.agents, task.horizon, cancel, task.plan)


def _pool_task(task: Task, in_flight: int = 1):
    # A pool worker among ``in_flight`` busy ones: cores // in_flight kernel threads.
    configure_threads(in_flight)
    return run_task(task)


# ---------------------------------------------------------------- the pool
# One process pool of a fixed size for the whole process, shared by concurrent runs
# (GUI preview, full run, compare, optimiser). It is never resized: a run asking for W
# workers keeps at most W of its replications in flight on it. Results are keyed by
# task, so the numbers do not depend on W or on other runs sharing the pool.
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def pool_size() -> int:
    """Worker processes of the shared pool: ``$BENEFIT_SIM_POOL_SIZE`` or the core count."""
    env = os.environ.get(POOL_SIZE_ENV, "").strip()
    if env.isdigit() and int(env) >= 1:
        return min(int(env), 64)
    return max(1, os.cpu_count() or 1)


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
                                     initializer=worker_init, initargs=(os.getpid(),))
            # all workers now, from this thread (none later); a private method of CPython's
            ex._launch_processes()  # type: ignore[attr-defined]
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


# ------------------------------------------------------------ choosing one
_LOCAL_N = re.compile(r"local:(\d{1,3})")
_ADDRESS = re.compile(r"(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")
SPEC_HELP = ("'local' (this computer's process pool), 'local:N' (a Dask cluster of N worker "
             "processes on this computer) or tcp://HOST:PORT (a running Dask scheduler)")


def parse_spec(text: str | None) -> str:
    """A back-end choice, normalised (``local``, ``local:N`` or an address), or ValueError."""
    s = (text or "").strip()
    if s.lower() in ("", "local", "pool"):
        return "local"
    m = _LOCAL_N.fullmatch(s.lower())
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 64:
            raise ValueError(f"cluster: {s!r} must have between 1 and 64 workers (local:N)")
        return f"local:{n}"
    if _ADDRESS.fullmatch(s):
        return s
    raise ValueError(f"cluster: {s!r} must be {SPEC_HELP}")


_CHOSEN: str | None = None  # set by configure(); None: the environment decides


def configure(spec: str | None) -> str:
    """Choose the back end for this process (None: back to ``$BENEFIT_SIM_CLUSTER``).

    Returns the normalised choice. Connecting happens at the first run; a
    different choice closes the cluster this process started before.
    """
    global _CHOSEN
    new = None if spec is None else parse_spec(spec)
    with _DASK_LOCK:
        _CHOSEN = new
    if current() != _DASK_STATE.get("spec"):
        _close_dask()
    return current()


def current() -> str:
    """The back end in force: the configured choice, else ``$BENEFIT_SIM_CLUSTER``, else local."""
    if _CHOSEN is not None:
        return _CHOSEN
    env = os.environ.get(CLUSTER_ENV, "")
    try:
        return parse_spec(env)
    except ValueError as exc:
        raise ValueError(f"{CLUSTER_ENV}: {exc}") from None


def describe(spec: str | None = None) -> str:
    """The back end in words (for the app's status and the CLI)."""
    s = current() if spec is None else parse_spec(spec)
    if s == "local":
        return f"this computer ({pool_size()} worker processes)"
    if s.startswith("local:"):
        return f"Dask cluster on this computer ({s.split(':')[1]} worker processes)"
    return f"Dask cluster at {s}"


# --------------------------------------------------------------- executing
def execute(tasks: Sequence[Task], *, workers: int = 1,
            on_result: Callable[[Task, Any], None] | None = None,
            cancel=None) -> dict[Hashable, tuple[ArmOutput, ArmOutput | None]]:
    """Run ``tasks`` on the back end in force; results keyed by ``task.key``.

    ``on_result(task, result)`` is called (in the caller's thread) as each
    result arrives, in completion order. ``cancel.is_set()`` is looked at at
    least every POLL_SECONDS; it raises :class:`Cancelled` after stopping the
    tasks (a cluster's running tasks stop at their next month). ``workers``
    caps this call's tasks in flight on the local pool (1: in this process); a
    cluster runs as many at once as it has worker threads.
    """
    spec = current()
    if spec != "local":
        return _execute_dask(spec, tasks, on_result, cancel)
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


# ------------------------------------------------------------------- Dask
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


def _dask_task(task: Task, run_id: str):
    """A task on a Dask worker; it stops at its next month once its call is cancelled."""
    from simulator import window_cache

    if run_id in _CANCELLED_RUNS:
        raise Cancelled()
    if not isinstance(window_cache._SHARED[0], _SchedulerWindows):
        window_cache.share_through(_SchedulerWindows())
    if not _SLOTS:
        _SLOTS.append(_host_slots())  # once per worker process
    configure_threads(_SLOTS[0])  # numba's count is per thread: each task sets its own
    return run_task(task, _RunFlag(run_id))


_SLOTS: list[int] = []


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
            cluster = LocalCluster(n_workers=int(spec.split(":")[1]), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   host="127.0.0.1", scheduler_port=0,
                                   silence_logs=logging.ERROR)
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
    from distributed import wait as dwait

    client = dask_client(spec)
    run_id = f"{os.getpid()}-{next(_RUN_IDS)}-{uuid.uuid4().hex[:8]}"
    futs = {client.submit(_dask_task, t, run_id, key=f"bsim-{run_id}-{i}",
                          pure=False): t for i, t in enumerate(tasks)}
    out: dict = {}
    pending = set(futs)
    try:
        while pending:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            try:
                done, pending = dwait(pending, timeout=POLL_SECONDS,
                                      return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for f in done:
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
