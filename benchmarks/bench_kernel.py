"""The kernel's two passes per customer-month, and A/B comparisons of checkouts.

One arm of the all-features scenario (``tests/support/scenarios.all_features_scenario``,
or a shipped scenario with ``--scenario KEY``)
on one kernel thread; the CPU time of ``kernel.month_step``'s pass 1 (the contact load),
its pass 2 (the month booked) and the rest of the arm (queue windows, the months'
Python), in nanoseconds a customer-month, with the arm's check sum (equal sums: the same
numbers). Each measurement runs in its own process (best of ``--repeats`` runs after a
warm-up); with several checkouts given, they are measured in turn, round after round,
so a change of the machine's speed touches them alike (this 2-core machine's run-to-run
noise is about ±4 % in these figures).

    .venv/bin/python benchmarks/bench_kernel.py                      # this checkout
    .venv/bin/python benchmarks/bench_kernel.py --rounds 4 . ../other  # A/B, interleaved

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(root: str, agents: int, months: int, repeats: int, scenario: str = "") -> dict:
    """One process's figures for the checkout at ``root`` (run in a child process)."""
    sys.path.insert(0, root)
    os.environ["BENEFIT_SIM_HOME"] = tempfile.mkdtemp(prefix="bsim-kernel-")
    import numba
    import numpy as np

    numba.set_num_threads(1)
    from simulator import kernel
    from simulator.engine import Simulation
    from tests.support.scenarios import all_features_scenario

    spent = {True: 0.0, False: 0.0}
    month_step = kernel.month_step

    def timed(load_only, *args, **kwargs):
        t = time.process_time()
        try:
            return month_step(load_only, *args, **kwargs)
        finally:
            spent[load_only] += time.process_time() - t

    kernel.month_step = timed
    if scenario:
        from simulator.loader import load_scenario
        sc = load_scenario(scenario).scenario
    else:
        sc = all_features_scenario()
    Simulation(sc, np.random.SeedSequence(1), 0, agents, months).run()  # compile, windows
    best = None
    check = 0.0
    for _ in range(repeats):
        spent[True] = spent[False] = 0.0
        t = time.process_time()
        out = Simulation(sc, np.random.SeedSequence(1), 0, agents, months).run()
        arm = time.process_time() - t
        if best is None or arm < best[0]:
            best = (arm, spent[True], spent[False])
        check = float(out.monthly.sum())
    assert best is not None
    per = 1e9 / (agents * months)
    arm, load, book = best
    return {"root": root, "arm": arm * per, "load": load * per, "book": book * per,
            "rest": (arm - load - book) * per, "check": repr(check)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="*", default=[str(ROOT)],
                    help="checkouts to measure (default: this one)")
    ap.add_argument("--agents", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--repeats", type=int, default=3, help="runs a process (best taken)")
    ap.add_argument("--rounds", type=int, default=1, help="times each checkout is measured")
    ap.add_argument("--scenario", default="",
                    help="a shipped scenario's key instead of the all-features scenario "
                         "(e.g. xinghe_yinhe_6tier, attribution's; its own counterfactual "
                         "arm is not run)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.roots[0], a.agents, a.months, a.repeats, a.scenario)))
        return
    roots = [str(Path(r).resolve()) for r in a.roots]
    what = a.scenario or "all features"
    print(f"kernel passes, {what}, {a.agents:,} agents x {a.months} months, one arm, "
          f"1 thread, CPU ns a customer-month (best of {a.repeats} a process); "
          f"load average {os.getloadavg()[0]:.1f}")
    got: dict[str, list[dict]] = {r: [] for r in roots}
    for rnd in range(a.rounds):
        for r in roots:
            res = subprocess.run(
                [sys.executable, __file__, "--child", r, "--agents", str(a.agents),
                 "--months", str(a.months), "--repeats", str(a.repeats),
                 "--scenario", a.scenario],
                capture_output=True, text=True, env={**os.environ, "NUMBA_NUM_THREADS": "1"})
            if res.returncode != 0:
                print(f"{r}: failed\n{res.stderr[-2000:]}")
                continue
            m = json.loads(res.stdout.strip().splitlines()[-1])
            got[r].append(m)
            print(f"round {rnd + 1} {r}: arm {m['arm']:.1f} (pass 1 {m['load']:.1f}, "
                  f"pass 2 {m['book']:.1f}, rest {m['rest']:.1f}); check {m['check']}")
    if a.rounds > 1 or len(roots) > 1:
        for r, ms in got.items():
            if not ms:
                continue
            def f(key: str) -> str:
                v = [m[key] for m in ms]
                return f"{min(v):.1f} / {statistics.median(v):.1f}"
            checks = sorted({m["check"] for m in ms})
            print(f"{r}: min / median  arm {f('arm')}  pass 1 {f('load')}  "
                  f"pass 2 {f('book')}  rest {f('rest')}; check sums {', '.join(checks)}")
        sums = {m["check"] for ms in got.values() for m in ms}
        print("same numbers in every checkout:", "yes" if len(sums) == 1 else "NO")


if __name__ == "__main__":
    main()
