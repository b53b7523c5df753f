"""Per-task cost on the local pool vs Dask workers, measured inside each task (issue 17 item 1).

Runs the same replications (bench_sweep's scenarios) on three back ends, one after
the other, ``--rounds`` times with fresh seeds:

* ``pool``: the local process pool (2 processes);
* ``dask-defaults``: a 2-worker LocalCluster with Dask's default settings (what
  ``local:2`` was before its worker settings, docs/CLUSTER.md), sharing windows
  through the scheduler as a remote cluster does;
* ``local:2``: the cluster ``--cluster local:2`` gives a user.

For each, per task: the task thread's CPU and wall time, the worker processes' CPU
outside the task thread (Dask's own threads), the CPU of this process (which holds a
LocalCluster's scheduler and nannies), minor page faults, the queue-window asks to
the scheduler and the time blocked in them, and the idle time between a worker's
tasks. The CPU figures compare the back ends on a machine others load.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_dask_tasks.py [--scenarios 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import tempfile
import time


def _asks() -> dict:
    """On a worker: its asks to the scheduler's window store so far (count, seconds).

    Kept on the worker's class, not in this module: Dask ships this script's
    functions by value, each task with its own copy of the module's globals.
    """
    from simulator.execution import cluster

    return cluster._SchedulerWindows.__dict__.get("_asks", {"n": 0, "seconds": 0.0})


def _count_asks() -> None:
    """On a worker: time every get/put of the scheduler's window store."""
    from simulator.execution import cluster

    if "_asks" in cluster._SchedulerWindows.__dict__:
        return
    asks = {"n": 0, "seconds": 0.0}

    def timed(fn):
        def call(*args):
            t = time.perf_counter()
            try:
                return fn(*args)
            finally:
                asks["n"] += 1
                asks["seconds"] += time.perf_counter() - t
        return call

    cluster._SchedulerWindows.get = timed(cluster._SchedulerWindows.get)  # type: ignore
    cluster._SchedulerWindows.put = timed(cluster._SchedulerWindows.put)  # type: ignore
    cluster._SchedulerWindows._asks = asks  # type: ignore


def _measured(run) -> dict:
    asks0 = dict(_asks())
    f0 = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    start, w0, c0 = time.time(), time.perf_counter(), time.thread_time()
    run()
    return {"pid": os.getpid(), "start": start, "wall": time.perf_counter() - w0,
            "cpu": time.thread_time() - c0,
            "faults": resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - f0,
            "asks": _asks()["n"] - asks0["n"], "ask_s": _asks()["seconds"] - asks0["seconds"]}


def on_pool(task) -> dict:
    """A task on a pool process, measured."""
    from simulator.execution import local_pool

    return _measured(lambda: local_pool._pool_task(task, 2))


def on_dask(task, run_id: str, local: bool) -> dict:
    """A task on a Dask worker, measured."""
    from simulator.execution import cluster

    _count_asks()
    return _measured(lambda: cluster._dask_task(task, run_id, local))


def _gaps(recs: list[dict]) -> float:
    """Idle seconds between consecutive tasks of the same worker, summed."""
    by = collections.defaultdict(list)
    for r in recs:
        by[r["pid"]].append((r["start"], r["start"] + r["wall"]))
    total = 0.0
    for spans in by.values():
        spans.sort()
        total += sum(b[0] - a[1] for a, b in zip(spans, spans[1:]))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=8)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--agents", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    os.environ["BENEFIT_SIM_POOL_SIZE"] = "2"
    os.environ["BENEFIT_SIM_HOME"] = tempfile.mkdtemp(prefix="bench-dask-tasks-")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    import distributed
    import psutil
    from bench_sweep import scenarios

    from simulator import execution, runner

    scs = scenarios(a.scenarios)

    def tasks(seed: int) -> list:
        out = []
        for i, sc in enumerate(scs):
            j = runner._prepare(sc, a.reps, a.agents, seed, None, None, None, None)
            out += j.tasks(i, range(j.R))
        return out

    def pool_cpu() -> float:
        total = 0.0
        for pid in execution.pool_pids():
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        return total

    def cluster(kind: str):
        """A started 2-worker cluster (client, closer), warm."""
        if kind == "local:2":
            execution.configure("local:2")
            client = execution.dask_client()
            close = lambda: execution.configure(None)  # noqa: E731
        else:
            env = dict(os.environ)  # the nannies write Dask's variables into ours
            cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                          dashboard_address=None, host="127.0.0.1",
                                          scheduler_port=0, silence_logs=40)
            os.environ.clear()
            os.environ.update(env)
            client = distributed.Client(cl)

            def close() -> None:
                client.close()
                cl.close()
        client.wait_for_workers(2)
        client.gather([client.submit(on_dask, t, "warm", kind == "local:2", pure=False)
                       for t in tasks(7)[:2]])
        return client, close

    ex = execution.pool()
    [f.result() for f in [ex.submit(on_pool, t) for t in tasks(7)[:2]]]  # warm
    print(f"{a.scenarios} scenarios x {a.reps} replications at {a.agents} agents; dask "
          f"{distributed.__version__}; uptime: {os.popen('uptime').read().strip()}")
    sums: dict = collections.defaultdict(lambda: collections.defaultdict(float))
    seed = 3000
    for _ in range(a.rounds):
        for kind in ("pool", "dask-defaults", "local:2"):
            seed += 1
            ts = tasks(seed)
            client, close = (None, None) if kind == "pool" else cluster(kind)
            w0 = pool_cpu() if client is None else sum(client.run(time.process_time).values())
            p0, t0 = time.process_time(), time.perf_counter()
            if client is None:
                recs = [f.result() for f in [ex.submit(on_pool, t) for t in ts]]
            else:
                recs = client.gather([client.submit(on_dask, t, f"b{seed}", kind == "local:2",
                                                    pure=False) for t in ts])
            wall = time.perf_counter() - t0
            here = time.process_time() - p0
            workers = (pool_cpu() if client is None
                       else sum(client.run(time.process_time).values())) - w0
            if close is not None:
                close()
            s = sums[kind]
            s["n"] += len(recs)
            s["wall"] += wall
            s["here"] += here
            s["workers"] += workers
            s["gaps"] += _gaps(recs)
            for k in ("cpu", "faults", "asks", "ask_s"):
                s[k] += sum(r[k] for r in recs)
            cpu = sum(r["cpu"] for r in recs)
            print(f"  {kind:13s} wall {wall:6.1f} s, task CPU {cpu:5.1f} s, "
                  f"workers' CPU {workers:5.1f} s, this process {here:4.1f} s; load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    print("\nper task (all rounds) | task CPU | workers' CPU outside it | this process "
          "(scheduler, nannies) | total CPU | minor faults | window asks (blocked) | "
          "idle between tasks")
    for kind, s in sums.items():
        n = s["n"]
        outside = s["workers"] - s["cpu"]
        print(f"{kind:13s} | {1000 * s['cpu'] / n:4.0f} ms | {1000 * outside / n:4.0f} ms"
              f" | {1000 * s['here'] / n:4.0f} ms | {1000 * (s['workers'] + s['here']) / n:4.0f} ms"
              f" | {s['faults'] / n:6.0f} | {s['asks'] / n:4.1f} ({1000 * s['ask_s'] / n:3.0f} ms)"
              f" | {1000 * s['gaps'] / n:3.0f} ms")


if __name__ == "__main__":
    main()
