"""Issue 14 timings: a tornado over 20 inputs and a 200-draw Latin hypercube run.

Prints figures (and the machine's load); asserts nothing.
``python benchmarks/bench_risk.py [--tornado] [--lhs] [--agents N] [--draws D]``

- tornado: the default scenario (xinghe_today) at its standard sample (20,000 agents,
  36 months), its first 20 inputs written as ranges, the tornado's own replications
  (min(file, 4): paired differences) unless ``--replications``; target <= 60 s.
- lhs: a sampled run of D draws (1 replication each) at 100,000 agents x 36 months;
  target <= 90 s for 200 draws. The queue windows it simulates stay in the user's window
  cache, so a second run reads them: for a first run's figure give it a fresh cache
  (``BENEFIT_SIM_HOME=$(mktemp -d)``); the same home run again gives the figure with the
  windows on disk.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sweep import _pool_cpu  # noqa: E402

from simulator import arms  # noqa: E402
from simulator.loader import load_scenario  # noqa: E402
from simulator.runner import run  # noqa: E402
from simulator.sensitivity import tornado, uncertain_inputs  # noqa: E402


def load() -> str:
    return os.getloadavg() and "load %.1f %.1f %.1f" % os.getloadavg()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tornado", action="store_true")
    ap.add_argument("--lhs", action="store_true")
    ap.add_argument("--inputs", type=int, default=20)
    ap.add_argument("--replications", "-r", type=int)
    ap.add_argument("--agents", "-n", type=int)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--no-reuse", action="store_true",
                    help="simulate every run's two arms (no arm reuse), for comparison")
    a = ap.parse_args()
    arms.set_reuse(not a.no_reuse)
    ld = load_scenario("xinghe_today")
    sc = ld.scenario
    print(f"cores {os.cpu_count()}, {load()}")
    if a.tornado or not a.lhs:
        names = list(uncertain_inputs(sc))[:a.inputs]
        kw = {k: v for k, v in (("replications", a.replications), ("agents", a.agents))
              if v is not None}
        t0 = time.perf_counter()
        c0 = arms.counts()["simulated"]
        t = tornado(sc, "npv", names, **kw)
        dt = time.perf_counter() - t0
        n_arms = arms.counts()["simulated"] - c0
        m = t.meta
        print(f"tornado: {len(names)} inputs, {m['runs']} runs x {m['replications']} "
              f"replications x {m['agents']:,} agents x {m['horizon_months']} months: "
              f"{dt:.1f} s ({dt / max(m['runs'], 1):.2f} s a run); arms simulated {n_arms} "
              f"(without reuse {2 * m['runs'] * m['replications']}, "
              f"{dt / max(n_arms, 1):.2f} s an arm); reuse {'off' if a.no_reuse else 'on'}; "
              f"{load()}")
        b = t.bars[0]
        print(f"  largest bar {b.label}: {b.swing.mean:,.0f} "
              f"({b.swing.ci95_low:,.0f} to {b.swing.ci95_high:,.0f})")
    if a.lhs:
        sc2 = sc.model_copy(deep=True)
        sc2.run.uncertainty.replications_per_draw = 1
        n = a.agents or 100_000
        t0, c0 = time.perf_counter(), time.process_time() + _pool_cpu()
        res = run(sc2, replications=a.draws, agents=n, horizon_months=36,
                  assumptions="sample")
        dt, cpu = time.perf_counter() - t0, time.process_time() + _pool_cpu() - c0
        print(f"LHS: {a.draws} draws x 1 replication x {n:,} agents x 36 months: {dt:.1f} s "
              f"({dt / a.draws:.2f} s a draw, workers {res.meta['workers']}); CPU of all "
              f"processes {cpu:.1f} s ({cpu / a.draws:.2f} s a draw); {load()}")


if __name__ == "__main__":
    main()
