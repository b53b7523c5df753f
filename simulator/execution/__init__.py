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

The package, top to bottom (``lint-imports`` enforces the order): ``dispatch``
(:func:`execute`, :func:`configure`) > ``local_pool`` (the shared process pool:
:func:`pool`, :func:`kill_pool`, :func:`shutdown`) > ``cluster`` (the Dask client,
its tasks on the workers, the queue windows shared through the scheduler) >
``backend`` (:func:`parse_spec`, :func:`current`, :func:`describe`) | ``tasks``
(:class:`Task`, :func:`run_replication`, :func:`run_task`). Import from here; the
back end chosen lives in ``backend``, the connect time-out in ``cluster``.
"""

from simulator.execution.backend import (
    CLUSTER_ENV,
    POOL_SIZE_ENV,
    SPEC_HELP,
    current,
    describe,
    parse_spec,
    pool_size,
)
from simulator.execution.cluster import (
    WINDOWS_METADATA,
    cluster_executing,
    cluster_heartbeats,
    dask_client,
)
from simulator.execution.dispatch import configure, execute, prepare
from simulator.execution.local_pool import (
    kill_pool,
    pool,
    pool_pids,
    run_local,
    shutdown,
    start_pool,
)
from simulator.execution.tasks import (
    POLL_SECONDS,
    Task,
    pairing_fits,
    run_replication,
    run_task,
)

__all__ = [
    "CLUSTER_ENV", "POLL_SECONDS", "POOL_SIZE_ENV", "SPEC_HELP", "WINDOWS_METADATA", "Task",
    "cluster_executing", "cluster_heartbeats", "configure", "current", "dask_client",
    "describe", "execute", "kill_pool", "pairing_fits", "parse_spec", "pool", "pool_pids",
    "pool_size", "prepare", "run_local", "run_replication", "run_task", "shutdown", "start_pool",
]
