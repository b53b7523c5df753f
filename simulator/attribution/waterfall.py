"""The "why different" waterfall: Shapley over the groups of changed inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from simulator import metrics
from simulator.attribution.groups import _mix, coupled_groups
from simulator.attribution.sets import Sample, _run_sets, _sample, _start_workers
from simulator.attribution.shapley import (
    EXACT_MAX,
    PERMUTATIONS,
    _check_sample,
    _masks_needed,
    _permutations,
    permutation_marginals,
    shapley_exact,
)
from simulator.results import Stat
from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, from_dict, to_dict

# KPIs measured against each scenario's own counterfactual
# KPIs measured against each scenario's own counterfactual
RELATIVE_KPIS = ("npv", "incremental_contribution", "incremental_cost", "incremental_margin",
                 "roi", "payback_month", "ltv_uplift")


@dataclass
class Bar:
    """One group of changed inputs: its share of KPI(X) − KPI(B)."""

    group: str
    value: Stat
    within_noise: bool  # the 95 % interval contains zero
    paths: list[str]
    sampling_se: float | None = None


@dataclass
class Waterfall:
    """From the base's KPI to the other scenario's, one bar per group of changed inputs."""

    base: str
    other: str
    kpi: str
    start: Stat
    end: Stat
    delta: Stat  # paired KPI(X) − KPI(B)
    bars: list[Bar]
    per_replication: np.ndarray  # [groups, R]
    method: str
    sets_run: int
    sample: Sample
    elapsed_seconds: float = 0.0

    def to_json(self) -> dict:
        """JSON-safe dict (NaN becomes null)."""
        return {
            "base": self.base, "other": self.other, "kpi": self.kpi,
            "label": metrics.label_of(self.kpi), "method": self.method,
            "sets_run": self.sets_run, "seed": self.sample.seed,
            "replications": self.sample.replications, "agents": self.sample.agents,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "start": self.start.to_json(), "end": self.end.to_json(),
            "delta": self.delta.to_json(),
            "bars": [{"group": b.group, **b.value.to_json(), "within_noise": b.within_noise,
                      "sampling_se": b.sampling_se, "inputs": b.paths} for b in self.bars],
        }


def explain(base: Scenario, other: Scenario, *, kpi: str = "npv",
            base_of_base: Scenario | None = None, base_of_other: Scenario | None = None,
            groups: list[str] | None = None, seed: int | None = None,
            replications: int | None = None, agents: int | None = None,
            horizon_months: int | None = None, permutations: int | None = None,
            progress: Callable[[int, int], None] | None = None, cancel=None) -> Waterfall:
    """Waterfall from KPI(base) to KPI(other), Shapley over the groups of changed inputs.

    ``groups`` orders (and must name exactly) the groups of :func:`change_groups`;
    the bars do not depend on it. ``base_of_*`` are the scenarios' own base
    scenarios when their counterfactual mode is ``base_scenario``.
    """
    import time

    t0 = time.perf_counter()
    if kpi not in metrics.METRICS:
        raise ValueError(f"--kpi: {kpi!r} is not a metric; allowed: "
                         f"{', '.join(sorted(metrics.METRICS))}")
    found = coupled_groups(base, other)
    if groups is None:
        groups = list(found)
    elif sorted(groups) != sorted(found):
        raise ValueError(f"groups: {groups} must be the changed groups {list(found)}")
    n = len(groups)
    smp = _sample(base, seed, replications, agents, horizon_months)
    _check_sample(n, permutations)
    bd, xd = to_dict(base), to_dict(other)
    perms = _permutations(n, permutations or PERMUTATIONS, smp.seed) if n > EXACT_MAX else None
    masks = _masks_needed(n, perms)
    _start_workers(base, smp, len(masks))
    full = (1 << n) - 1
    cache: dict[int, np.ndarray] = {}
    sets: list[tuple[Scenario, Scenario | None]] = []
    for mask in masks:
        on = {x for i, g in enumerate(groups) if mask >> i & 1 for x in found[g][0]}
        if mask == 0:
            s, b = base, base_of_base
        elif mask == full:
            s, b = other, base_of_other
        else:
            try:
                s = from_dict(_mix(bd, xd, on))
            except ScenarioError as exc:
                raise ValueError(
                    f"the changes {sorted(on)} of {other.name!r} cannot be applied to "
                    f"{base.name!r} without the others: {exc}") from None
            b = base_of_other if "run settings" in on else base_of_base
            if s.run.counterfactual.mode != "base_scenario":
                b = None
        sets.append((s, b))
    from simulator.arms import sharing

    # The KPIs need no deadweight: the arms run unpaired (no orders recorded and read
    # customer by customer; every KPI the same), and the mixes share arms (their
    # counterfactuals, mostly).
    with sharing():
        for mask, res in zip(masks, _run_sets(
                sets, smp, cancel, progress and (lambda k: progress(k, len(masks))),
                deadweight=False)):
            kp = res.kpis
            if kpi not in kp.columns:
                raise ValueError(f"--kpi: {kpi!r} must be one of {', '.join(kp.columns)}")
            cache[mask] = kp[kpi].to_numpy(dtype=float)
    v = {m: cache[m] - cache[0] for m in cache}
    unit = metrics.metric(kpi).unit
    if n == 0:
        phi = np.zeros((0, len(cache[0])))
        ses: list[float | None] = []
        method = "exact"
    elif perms is None:
        phi = shapley_exact(v, n)
        ses = [None] * n
        method = "exact"
    else:
        marg = permutation_marginals(lambda m: v[m], n, perms)  # [P, n, R]
        phi = marg.mean(axis=0)
        pm = marg.mean(axis=2)
        ses = [float(x) for x in pm.std(axis=0, ddof=1) / math.sqrt(len(perms))]
        method = f"sampled permutations ({len(perms)})"
    bars = []
    for i, g in enumerate(groups):
        st = Stat.of(phi[i], unit)
        noise = not (math.isfinite(st.ci95_low) and (st.ci95_low > 0 or st.ci95_high < 0))
        bars.append(Bar(g, st, noise, found[g][1], ses[i]))
    return Waterfall(base.name, other.name, kpi, Stat.of(cache[0], unit),
                     Stat.of(cache[full], unit), Stat.of(cache[full] - cache[0], unit), bars,
                     phi, method, len(cache), smp, time.perf_counter() - t0)
