"""Attribution and waterfall timings (issue 15): 8 parts = 256 sets, a 6-group waterfall.

The waterfall runs xinghe_today against :func:`six_changes` unless ``--other KEY``.

Prints figures; asserts nothing. ``python benchmarks/bench_attribution.py
[--replications R] [--agents N] [--waterfall]``; without options the scenario's
standard sample (slow: every one of the 256 sets is a full run). Besides wall time it
prints the CPU seconds of all processes (this one and the pool's workers): the figure
to compare A/B on a loaded machine.
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
from simulator.attribution import attribute, explain, parts_of  # noqa: E402
from simulator.loader import load_scenario  # noqa: E402
from simulator.runner import run  # noqa: E402
from simulator.scenario import Scenario  # noqa: E402
from simulator.scenario_io import from_dict, to_dict  # noqa: E402


def _load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def _cpu() -> float:
    """CPU seconds used so far by this process and the pool's workers (0 before they start)."""
    return time.process_time() + _pool_cpu()


def six_changes(base: Scenario) -> Scenario:
    """The base with six independent groups changed (the issue's 6-group waterfall).

    Three benefits (10 % off's cost share, the gifts' cost, free shipping's intensity),
    service staffing, paid acquisition and the Double 11 campaign's reach.
    """
    d = to_dict(base)
    d["name"] = base.name + ", six changes"
    for t in d["tiers"]:
        for b in t["benefits"]:
            if b["name"] == "10 % off":
                b["cost_share"] = 0.12
            elif b["name"] == "Occasional gifts":
                b["cost_cny"] *= 1.5
            elif b["name"] == "Free shipping":
                b["intensity"] = 0.8
    d["service"]["pools"][0]["shifts"][0]["staff"] += 4
    d["population"]["acquisition"]["paid_spend_cny_per_month"] = 250_000.0
    d["promotions"][0]["reach_share"] = 0.6
    return from_dict(d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", "-r", type=int)
    ap.add_argument("--agents", "-n", type=int)
    ap.add_argument("--waterfall", action="store_true")
    ap.add_argument("--other", default="six_changes",
                    help="waterfall: scenario key, or six_changes (xinghe_today with six "
                         "independent groups changed); xinghe_yinhe_6tier is one group")
    ap.add_argument("--no-reuse", action="store_true",
                    help="simulate every run's two arms (no arm reuse), for comparison")
    ap.add_argument("--skip-single", action="store_true", help="attribution: no paired run first")
    a = ap.parse_args()
    arms.set_reuse(not a.no_reuse)
    std_R = load_scenario("xinghe_yinhe_6tier").scenario.run.replications
    ld = load_scenario("xinghe_yinhe_6tier")
    sc = ld.scenario
    kw = dict(replications=a.replications, agents=a.agents)
    R = a.replications or sc.run.replications
    N = a.agents or sc.run.agents
    if a.waterfall:
        base = load_scenario("xinghe_today").scenario
        if a.other == "six_changes":
            sc, base_of_other = six_changes(base), None
        else:
            lo = load_scenario(a.other)
            sc, base_of_other = lo.scenario, lo.base_scenario
        R, N = a.replications or base.run.replications, a.agents or base.run.agents
        std_R = base.run.replications
        t, cpu = time.perf_counter(), _cpu()
        c0 = arms.counts()["simulated"]
        wf = explain(base, sc, base_of_other=base_of_other, **kw)
        el, cpu = time.perf_counter() - t, _cpu() - cpu
        n_arms = arms.counts()["simulated"] - c0
        print(f"waterfall xinghe_today -> {sc.name}: {len(wf.bars)} groups, {wf.sets_run} sets, "
              f"{R} x {N:,}: {el:.1f} s; arms simulated {n_arms} (without reuse "
              f"{2 * wf.sets_run * R}), {el / max(n_arms, 1):.3f} s an arm; CPU of all "
              f"processes {cpu:.1f} s ({1000 * cpu / max(n_arms, 1):.0f} ms an arm); projected "
              f"at {std_R} replications: {el * std_R / R:.0f} s; {_load()}")
        for b in wf.bars:
            print(f"  {b.group:28} {b.value.mean:16,.0f} +- {b.value.half_width:14,.0f}"
                  f"{'  (within noise)' if b.within_noise else ''}")
        return
    parts = parts_of(sc)
    one = float("nan")
    if not a.skip_single:
        t = time.perf_counter()
        run(sc, base=ld.base_scenario, **kw)
        one = time.perf_counter() - t
    t, cpu = time.perf_counter(), _cpu()
    c0 = arms.counts()["simulated"]
    att = attribute(sc, **kw)
    el, cpu = time.perf_counter() - t, _cpu() - cpu
    n_arms = arms.counts()["simulated"] - c0
    print(f"{sc.name}: {len(parts)} parts, {att.sets_run} sets in {att.runs} runs, "
          f"{R} replications x {N:,} agents x {sc.run.horizon_months} months: {el:.1f} s "
          f"(one paired run {one:.1f} s); arms simulated {n_arms} (without reuse "
          f"{2 * att.runs * R}), {el / max(n_arms, 1):.3f} s an arm; CPU of all processes "
          f"{cpu:.1f} s ({1000 * cpu / max(n_arms, 1):.0f} ms an arm); projected at "
          f"{std_R} replications: {el * std_R / R:.0f} s; {_load()}")
    for p in att.parts:
        print(f"  {p.label:30} NPV {p.npv.mean:16,.0f} +- {p.npv.half_width:14,.0f}  "
              f"alone {p.npv_alone.mean:16,.0f}  leave-one-out {p.npv_last.mean:16,.0f}")
    print(f"  {'whole':30} NPV {att.whole['npv'].mean:16,.0f}")


if __name__ == "__main__":
    main()
