"""Engine benchmarks: throughput, naive per-customer SimPy ratio, memory, preview, full run.

Prints figures; it asserts nothing (targets are in the README). Run with
``./run bench`` or ``.venv/bin/python benchmarks/bench_engine.py [--quick]``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# A private home: the queue-window disk cache starts empty, so "cold" figures are cold.
os.environ["BENEFIT_SIM_HOME"] = tempfile.mkdtemp(prefix="bsim-bench-")

import scenarios  # noqa: E402
from simulator import streams as st  # noqa: E402
from simulator.engine import Simulation  # noqa: E402
from simulator.runner import run  # noqa: E402
from simulator.threads import LAYER, configure_threads  # noqa: E402
from simulator.window_cache import clear_cache  # noqa: E402
from tests.support.scenarios import all_features_scenario as all_features  # noqa: E402


def throughput(sc, agents: int, months: int = 36, threads: int = 1) -> tuple[float, float]:
    """Customer-months per second of one arm (window cache warm), wall and per CPU-second.

    ``threads``: the kernel's numba threads. The CPU figure (process CPU time) is less
    sensitive to other load on the machine than the wall figure.
    """
    numba.set_num_threads(threads)
    root = np.random.SeedSequence(1)
    reps = range(2 if agents <= 100_000 else 1)
    for rep in reps:
        Simulation(sc, root, rep, agents, months).run()  # compile, warm the queue windows
    best, best_cpu = math.inf, math.inf
    for rep in reps:
        sim = Simulation(sc, root, rep, agents, months)
        t, c = time.perf_counter(), time.process_time()
        sim.run()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    configure_threads(1)
    return agents * months / best, agents * months / best_cpu


def thread_identity(sc, agents: int = 50_000, months: int = 12) -> bool:
    """Whether one arm gives identical arrays on 1 and on 2 kernel threads."""
    outs = []
    for n in (1, 2):
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        outs.append(Simulation(sc, np.random.SeedSequence(5), 0, agents, months).run())
    configure_threads(1)
    a, b = outs
    return all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("monthly", "service", "ltv_sum", "cohort_alive", "migration"))


def study_b_full(customers: int = 12_500_000, months: int = 24) -> dict:
    """Study B's whole population as agents: one replication + counterfactual, fresh process."""
    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from tests.support.studies import study_b_scenario
from simulator.execution import run_replication
from simulator.runner import counterfactual_of
from simulator.threads import configure_threads
sc = study_b_scenario({customers})
cf, off, _ = counterfactual_of(sc, None)
threads = configure_threads(1)
run_replication(sc, cf, off, 1, 0, 20_000, {months})  # compile (cached), warm nothing else
t = time.perf_counter()
run_replication(sc, cf, off, 1, 0, {customers}, {months})
print(json.dumps({{"seconds": time.perf_counter() - t, "threads": threads,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive(sc, agents: int, months: int = 36) -> float:
    """The same monthly rules, one SimPy process per customer (the slow way)."""
    import simpy

    sim = Simulation(sc, np.random.SeedSequence(1), 0, agents, months)  # compiled tables
    cs, pop = sim.cs, sim.population
    rng = np.random.default_rng(1)
    env = simpy.Environment()
    n_seg = cs.n_segments
    window = {}
    share_t, order_t, month_t, year_t = cs.costs.totals()

    def customer(env, i):
        s = int(pop.segment[i])
        tier = int(pop.tier[i])
        sat = float(cs.sat_start[s])
        hist = list(pop.spend_hist[:, i])
        for m in range(1, months + 1):
            yield env.timeout(1)
            g = tier * n_seg + s
            lam = cs.base_rate[s] * pop.frailty[i] * cs.effects.order.flat[g]
            o = rng.poisson(lam)
            gross = sum(rng.lognormal(cs.spend_mu[s], cs.spend_sigma[s]) for _ in range(o)) \
                * cs.effects.spend.flat[g]
            c = rng.poisson(o * (cs.contacts_per_order[s] + cs.complaints_per_order[s]))
            if c:
                key = m
                if key not in window:
                    window[key] = sim.stage.window(cs.service.pool_names[0], {0: 10.0}).waits[0]
                w = window[key][rng.integers(window[key].size)]
                sat -= max(0.0, w - cs.wait_tolerance[s]) * 0.01
            sat += 0.3 * (cs.sat_start[s] - sat)
            _cost = share_t[tier] * gross + order_t[tier] * o + month_t[tier]
            hist = hist[1:] + [gross]
            if m % 3 == 0:
                tier = int(np.searchsorted(cs.thresholds, sum(hist), side="right") - 1)
            h = cs.hazard[s] * cs.effects.churn.flat[g] * math.exp(3 * (cs.sat_start[s] - sat))
            if rng.random() < h:
                return

    for i in range(agents):
        env.process(customer(env, i))
    t = time.perf_counter()
    env.run(until=months + 1)
    return agents * months / (time.perf_counter() - t)


def memory(agents: int) -> dict:
    """Peak RSS and state bytes per agent, measured in a fresh process."""
    code = f"""
import json, resource, sys, numpy as np
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / 'benchmarks')!r})
from tests.support.scenarios import all_features_scenario as all_features
from simulator.engine import Simulation
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sim = Simulation(all_features(), np.random.SeedSequence(1), 0, {agents}, 36)
sim.run()
pop = sim.population
state = sum(getattr(pop, a).nbytes for a in ('alive', 'tier', 'satisfaction', 'spend_hist',
    'complaints_window', 'grace_count', 'join_month', 'pull_forward_debt', 'y1_orders',
    'tier_start', 'segment', 'rolling_spend', 'frailty', 'anniversary_month', 'y1_gross'))
state += pop.points.nbytes if pop.points is not None else 0
state += pop.order_hist.nbytes if pop.order_hist is not None else 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"state_bytes_per_agent": state / pop.capacity, "capacity": pop.capacity,
                  "peak_rss_mb": peak / 1024, "baseline_rss_mb": before / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick: bool = False) -> None:
    sc = all_features()
    print("benefit-sim engine benchmarks (all features on: 4 tiers, points, quarterly review "
          "with keep-your-tier task, bot, escalation, dedicated VIP pool, 2 campaigns)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
          f"(other work slows the wall figures), kernel threading layer {LAYER}")
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rates = {}
    for n in sizes:
        for k in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            wall, cpu = throughput(sc, n, threads=k)
            if k == 1:
                rates[n] = wall
            print(f"throughput  {n:>9,} agents x 36 months, {k} thread(s): {wall:.3g} "
                  f"customer-months/s ({cpu:.3g} per CPU-second; one arm, load "
                  f"{os.getloadavg()[0]:.1f})")
    print(f"1 vs 2 kernel threads give identical results: {thread_identity(sc)}")
    # The machine's throughput: replications (scenario + counterfactual) on both cores.
    reps = 8
    run(sc, replications=reps, agents=100_000, horizon_months=36, workers=2)  # warm the pool
    t = time.perf_counter()
    run(sc, replications=reps, agents=100_000, horizon_months=36, workers=2)
    el = time.perf_counter() - t
    both = 2 * reps * 100_000 * 36 / el
    print(f"throughput    100,000 agents x 36 months: {both:.3g} customer-months/s on 2 cores "
          f"({reps} replications x 2 arms in {el:.2f} s, process pool, all overheads)")
    nv = naive(sc, 2_000)
    print(f"naive SimPy process per customer (2,000 agents): {nv:.3g} customer-months/s; "
          f"vectorised engine at 100k is {rates[100_000] / nv:.0f}x faster")
    for n in ([100_000] if quick else [100_000, 1_000_000]):
        m = memory(n)
        print(f"memory      {n:>9,} agents: state {m['state_bytes_per_agent']:.0f} bytes/agent "
              f"(capacity {m['capacity']:,}), peak RSS {m['peak_rss_mb']:.0f} MB")

    base = scenarios.load_default()
    run(base, replications=1, agents=10_000, horizon_months=24, workers=1)  # warm caches
    t = time.perf_counter()
    run(base, replications=1, agents=10_000, horizon_months=24, workers=1, seed=base.run.seed)
    warm = time.perf_counter() - t
    clear_cache(disk=True)
    t = time.perf_counter()
    run(base, replications=1, agents=10_000, horizon_months=24, workers=1, seed=12345)
    cold = time.perf_counter() - t
    print(f"preview     10,000 agents x 24 months, 1 replication + counterfactual: "
          f"{warm:.3f} s (queue windows cached), {cold:.3f} s (cold: new seed, no windows)")
    if not quick:
        t = time.perf_counter()
        res = run(base, replications=30, agents=100_000, horizon_months=36, workers=2)
        full = time.perf_counter() - t
        t = time.perf_counter()
        run(base, replications=30, agents=100_000, horizon_months=36, workers=1)
        single = time.perf_counter() - t
        print(f"full run    100,000 agents x 36 months x 30 replications + counterfactual: "
              f"{full:.1f} s on 2 processes ({single:.1f} s on 1), NPV "
              f"¥{res.summary['npv'].mean / 1e6:,.1f} M "
              f"± {res.summary['npv'].half_width / 1e6:,.1f} M")
        b = study_b_full()
        print(f"study B     12,500,000 agents x 24 months, 1 replication + counterfactual: "
              f"{b['seconds']:.1f} s on {b['threads']} threads, peak RSS "
              f"{b['peak_rss_gb']:.2f} GB (load {os.getloadavg()[0]:.1f})")
    _ = st  # streams imported for completeness of the engine surface


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
