"""Benchmark: a 10-lever budget optimisation at 100k agents on this machine (target < 2 min).

Study B's shop at 1.25 M customers (a tenth of B's 12.5 M; tests/test_optimiser.py: three
segment campaigns on email / SMS / social ads, a push campaign, three tiers with benefits, a
general and a VIP service pool, paid acquisition). Settings: 3 spend levels per
lever, 2 replications per point under common random numbers, a simulated local
check (one probe per lever), verification with 4 paired replications, both
cores through the runner's process pool. The real-scale service queue is
simulated with 1,000 contacts per window (the scenario default is 4,000): at
B's full 12.5 M customers (625 agents on shift) one queue window takes ~16 s
in SimPy, which alone would exceed the limit — see the final report.

    .venv/bin/python benchmarks/bench_optimiser.py [--agents 100000] [--replications 2]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root


def main() -> int:
    from simulator.optimiser import optimise
    from tests.support.studies import study_b_scenario

    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=100_000)
    ap.add_argument("--replications", type=int, default=2)
    ap.add_argument("--levels", type=int, default=3)
    ap.add_argument("--verify", type=int, default=4)
    ap.add_argument("--customers", type=int, default=1_250_000)
    ap.add_argument("--window-contacts", type=int, default=1000)
    ap.add_argument("--limit", type=float, default=120.0, help="seconds allowed")
    a = ap.parse_args()

    sc = study_b_scenario(a.customers, extra_levers=True)
    sc.service.window_contacts = a.window_contacts
    last = [0.0]

    def progress(done, total):
        now = time.perf_counter()
        if now - last[0] > 10:
            last[0] = now
            print(f"  {done}/{total} replications", flush=True)

    t0 = time.perf_counter()
    alloc = optimise(sc, agents=a.agents, replications=a.replications, levels=a.levels,
                     verify_replications=a.verify, workers=2, progress=progress)
    dt = time.perf_counter() - t0
    m = alloc.meta
    cols = ["lever", "current_cny", "recommended_cny", "binding", "marginal_return_current",
            "marginal_return_recommended", "curve"]
    print(alloc.levers[cols].to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    fr = alloc.frontier[["budget_share", "budget_cny", "objective_mean", "ci_low", "ci_high"]]
    print(fr.to_string(index=False, formatters={"budget_share": lambda v: f"{100 * v:.0f} %"},
                       float_format=lambda v: f"{v:,.0f}"))
    print(alloc.verification.verdict)
    print(f"levers: {len(alloc.levers)} ({m['free_levers']} free), agents {m['agents']:,}, "
          f"horizon {m['horizon_months']} months, customers {a.customers:,}")
    print(f"simulations: {m['simulations']} runs, {m['replication_runs']} replications "
          f"(levels {m['levels']}, replications {m['replications']}, verify "
          f"{m['verify_replications']}, workers {m['workers']})")
    print(f"time: {dt:.1f} s (limit {a.limit:.0f} s) -> {'OK' if dt < a.limit else 'TOO SLOW'}")
    return 0 if dt < a.limit and len(alloc.levers) == 10 else 1


if __name__ == "__main__":
    sys.exit(main())
