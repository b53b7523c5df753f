"""A sweep on the local process pool vs a 2-worker Dask LocalCluster (issue 17 item 1).

64 scenarios (the default scenario with every segment's order rate scaled from
0.85 to 1.15) × 4 replications (+ counterfactual) at 20,000 agents, run as one
batch (``runner.run_many``) on each back end, alternating, each with a fresh seed
so neither finds the other's queue windows cached. Prints the wall times, the
Dask overhead, whether the numbers are identical, and the wall time the same
sweep would take on N machines, from the measured task times:

    wall(N machines × c workers) ≈ serial + makespan(tasks on N·c workers)

``makespan`` is greedy list scheduling of the measured task compute times in
submission order (what the scheduler does with equal-priority tasks); ``serial``
is what the 2-worker Dask run spent outside the tasks' compute (submission,
transfer, assembling 64 results: measured wall − measured makespan), kept
constant. Windows are assumed shared cluster-wide (they are: the scheduler's
window store, docs/CLUSTER.md), so task times do not grow with N.

The back ends alternate (pool first in odd trials, Dask first in even ones), and
each is also timed in CPU seconds: its worker processes plus this process (which
holds a LocalCluster's scheduler and nannies) — on a machine others load, the
CPU figures compare the back ends where the wall times cannot. The cluster is
the one ``--cluster local:2`` gives a user (``execution.dask_client``).

    .venv/bin/python benchmarks/bench_sweep.py [--scenarios 64] [--reps 4] [--agents 20000]
"""

from __future__ import annotations

import argparse
import heapq
import os
import statistics
import tempfile
import time


def scenarios(n: int):
    from simulator.loader import load_scenario

    sc = load_scenario("xinghe_today").scenario
    out = []
    for i in range(n):
        f = 0.85 + 0.30 * i / max(1, n - 1)
        s = sc.model_copy(deep=True)
        s.name = f"sweep {i:02d} (order rate x{f:.3f})"
        for seg in s.segments:
            seg.orders_per_month = seg.orders_per_month * f
        out.append(s)
    return out


def makespan(times: list[float], workers: int) -> float:
    free = [0.0] * workers
    heapq.heapify(free)
    end = 0.0
    for t in times:
        start = heapq.heappop(free)
        end = max(end, start + t)
        heapq.heappush(free, start + t)
    return end


def _pool_cpu() -> float:
    """CPU seconds the local pool's worker processes have used so far."""
    import psutil

    from simulator import execution

    total = 0.0
    for pid in execution.pool_pids():
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=64)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--agents", type=int, default=20_000)
    ap.add_argument("--trials", type=int, default=3)
    a = ap.parse_args()
    os.environ["BENEFIT_SIM_POOL_SIZE"] = "2"

    from distributed import get_task_stream

    from simulator import execution, runner

    scs = scenarios(a.scenarios)
    kw = dict(replications=a.reps, agents=a.agents, workers=2)
    print(f"sweep: {len(scs)} scenarios x {a.reps} replications (+ counterfactual) at "
          f"{a.agents} agents, {scs[0].run.horizon_months} months; uptime: "
          f"{os.popen('uptime').read().strip()}")

    # Warm both back ends (worker start-up and numba loading are not the sweep's cost).
    # Each gets its own window-cache folder (its workers share it, as in real use), so
    # neither reads windows the other computed; workers take the folder at start-up.
    def use(spec: str) -> None:
        # switch without configure(), which would close the warm LocalCluster
        execution.backend._CHOSEN = spec

    os.environ["BENEFIT_SIM_HOME"] = tempfile.mkdtemp(prefix="bench-sweep-pool-")
    use("local")
    runner.run_many(scs[:2], replications=2, agents=500, horizon_months=2, workers=2)
    os.environ["BENEFIT_SIM_HOME"] = tempfile.mkdtemp(prefix="bench-sweep-dask-")
    use("local:2")
    execution.dask_client().wait_for_workers(2)
    runner.run_many(scs[:2], replications=2, agents=500, horizon_months=2, workers=2)

    walls: dict[str, list[float]] = {"local pool": [], "dask local:2": []}
    cpus: dict[str, list[float]] = {"local pool": [], "dask local:2": []}
    task_times: list[float] = []
    identical = True

    def on_pool(seed: int):
        use("local")
        c0, p0, t = _pool_cpu(), time.process_time(), time.perf_counter()
        res = runner.run_many(scs, seed=seed, **kw)
        walls["local pool"].append(time.perf_counter() - t)
        cpus["local pool"].append(_pool_cpu() - c0 + time.process_time() - p0)
        return res

    def on_dask(seed: int):
        nonlocal task_times
        use("local:2")
        client = execution.dask_client()
        w0 = client.run(time.process_time)
        p0 = time.process_time()
        with get_task_stream(client) as ts:
            t = time.perf_counter()
            res = runner.run_many(scs, seed=seed, **kw)
            walls["dask local:2"].append(time.perf_counter() - t)
        w1 = client.run(time.process_time)
        cpus["dask local:2"].append(sum(w1[w] - w0.get(w, 0.0) for w in w1)
                                    + time.process_time() - p0)
        recs = [r for r in ts.data if str(r.get("key", "")).startswith("bsim-")]
        task_times = [sum(s["stop"] - s["start"] for s in r["startstops"]
                          if s["action"] == "compute") for r in recs]
        return res

    for trial in range(a.trials):
        seed = 1000 + trial  # fresh queue windows for both back ends
        if trial % 2 == 0:
            loc = on_pool(seed)
            das = on_dask(seed)
        else:
            das = on_dask(seed)
            loc = on_pool(seed)
        identical &= all(x.kpis.equals(y.kpis) and x.monthly.equals(y.monthly)
                         for x, y in zip(loc, das))
        print(f"trial {trial + 1}: local pool {walls['local pool'][-1]:.1f} s "
              f"({cpus['local pool'][-1]:.1f} s CPU), dask {walls['dask local:2'][-1]:.1f} s "
              f"({cpus['dask local:2'][-1]:.1f} s CPU); uptime: "
              f"{os.popen('uptime').read().strip()}", flush=True)
    execution.configure(None)

    lp, dk = min(walls["local pool"]), min(walls["dask local:2"])
    print(f"\nwall time (best of {a.trials}): local pool {lp:.1f} s, Dask LocalCluster(2) "
          f"{dk:.1f} s: Dask {100 * (dk / lp - 1):+.1f} % (target within 15 %)")
    mw = [d / p for p, d in zip(walls["local pool"], walls["dask local:2"])]
    mc = [d / p for p, d in zip(cpus["local pool"], cpus["dask local:2"])]
    print(f"per trial, Dask / pool: wall {' '.join(f'{100 * (r - 1):+.1f} %' for r in mw)} "
          f"(median {100 * (statistics.median(mw) - 1):+.1f} %); CPU "
          f"{' '.join(f'{100 * (r - 1):+.1f} %' for r in mc)} "
          f"(median {100 * (statistics.median(mc) - 1):+.1f} %)")
    print(f"identical numbers on both back ends: {'yes' if identical else 'NO'}")
    n = len(task_times)
    tot = sum(task_times)
    ms2 = makespan(task_times, 2)
    serial = max(0.0, dk - ms2)
    print(f"tasks: {n}, compute {tot:.1f} s in all, mean {tot / n:.3f} s, "
          f"max {max(task_times):.3f} s; makespan on 2 workers {ms2:.1f} s, "
          f"serial part {serial:.1f} s")
    print("\nmachines (2 workers each) | predicted wall | speed-up vs 1 machine")
    base = serial + ms2
    for m in (1, 2, 4, 8, 16, 32):
        w = serial + makespan(task_times, 2 * m)
        print(f"{m:>25d} | {w:>12.1f} s | {base / w:>6.2f}x")


if __name__ == "__main__":
    main()
