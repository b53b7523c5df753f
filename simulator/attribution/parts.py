"""Attribution of a scheme's increment to its parts (benefits or lever groups)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from simulator import metrics
from simulator.attribution.sets import (
    Sample,
    _arm_values,
    _increments,
    _num,
    _run_sets,
    _sample,
    _start_workers,
)
from simulator.attribution.shapley import (
    EXACT_MAX,
    PERMUTATIONS,
    _check_sample,
    _masks_needed,
    _permutations,
    permutation_marginals,
    shapley_exact,
)
from simulator.results import COST_TOL, Stat
from simulator.scenario import Scenario
from simulator.scenario_io import from_dict, to_dict

QUANTITIES = ("incremental_contribution", "incremental_cost", "incremental_margin", "npv")
BY = ("benefit", "group")
# Group labels of the lever-group attribution (and the engine switch each uses).
LEVER_GROUPS = (("tier benefits", "benefits"), ("points", "points"),
                ("service priority", "priority_service"), ("campaigns", "promotions"),
                ("acquisition", None))
SWITCH_LABEL = {sw: label for label, sw in LEVER_GROUPS if sw}


@dataclass(frozen=True)
class Part:
    """One part of the scheme: a label and how it is switched off."""

    label: str
    switch: str | None = None  # an engine switch (simulator.engine.SWITCHES)
    benefit: str | None = None  # a benefit name, removed from every tier when off
    acquisition: bool = False  # paid acquisition spend set to zero when off


def parts_of(sc: Scenario, by: str = "benefit") -> list[Part]:
    """The parts a scenario's scheme is split into (only those present)."""
    if by not in BY:
        raise ValueError(f"--by: {by!r} must be one of {', '.join(BY)}")
    cf = sc.run.counterfactual
    switches = list(cf.switch_off) if cf.mode == "scheme_off" else \
        ["benefits", "points", "promotions", "priority_service"]
    has = {
        "benefits": any(t.benefits for t in sc.tiers),
        "points": sc.tier_rules.enabled and sc.tier_rules.points.enabled,
        "promotions": bool(sc.promotions),
        "priority_service": any(t.service_priority or t.pool for t in sc.tiers)
        or sc.service.escalation.complaints_to_escalate > 0,
    }
    out: list[Part] = []
    if by == "benefit":
        if "benefits" in switches:
            names: dict[str, None] = {}
            for t in sc.tiers:
                for b in t.benefits:
                    names.setdefault(b.name, None)
            out += [Part(n, benefit=n) for n in names]
        out += [Part(SWITCH_LABEL[s], switch=s) for s in ("points", "priority_service",
                                                          "promotions")
                if s in switches and has[s]]
        return out
    for label, sw in LEVER_GROUPS:
        if sw is None:
            if sc.population.acquisition.paid_spend_cny_per_month > 0:
                out.append(Part(label, acquisition=True))
        elif has[sw]:
            out.append(Part(label, switch=sw))
    return out


def _without(sc: Scenario, benefits: set[str], acquisition: bool) -> Scenario:
    """The scenario with some benefits removed (and paid acquisition off)."""
    if not benefits and not acquisition:
        return sc
    d = to_dict(sc)
    for t in d["tiers"]:
        t["benefits"] = [b for b in t.get("benefits", []) if b["name"] not in benefits]
    if acquisition:
        d["population"].setdefault("acquisition", {})["paid_spend_cny_per_month"] = 0.0
    return from_dict(d)


@dataclass
class PartResult:
    """One part's share of the scheme's increment."""

    label: str
    incremental_contribution: Stat
    incremental_cost: Stat
    incremental_margin: Stat
    npv: Stat
    roi: Stat
    npv_alone: Stat  # the part alone against nothing on
    npv_last: Stat  # leave-one-out: everything on against everything but this part
    sampling_se: dict[str, float] = field(default_factory=dict)  # sampled permutations only

    @property
    def interaction(self) -> float:
        """Leave-one-out minus alone (NPV): > 0 when the part pays more with the others."""
        return self.npv_last.mean - self.npv_alone.mean


@dataclass
class Attribution:
    """Shapley attribution of a scenario's scheme to its parts."""

    scenario: str
    by: str
    parts: list[PartResult]
    whole: dict[str, Stat]  # the increment of all parts on vs all off
    per_replication: np.ndarray  # [n, R, Q] Shapley values (Q = QUANTITIES)
    whole_per_replication: np.ndarray  # [R, Q]
    method: str  # "exact" or "sampled permutations"
    sets_run: int
    runs: int
    sample: Sample
    elapsed_seconds: float = 0.0

    def to_json(self) -> dict:
        """JSON-safe dict (NaN becomes null)."""
        return {
            "scenario": self.scenario, "by": self.by, "method": self.method,
            "sets_run": self.sets_run, "runs": self.runs,
            "seed": self.sample.seed, "replications": self.sample.replications,
            "agents": self.sample.agents, "elapsed_seconds": round(self.elapsed_seconds, 3),
            "whole": {k: s.to_json() for k, s in self.whole.items()},
            "parts": [{
                "part": p.label,
                **{q: getattr(p, q).to_json() for q in (*QUANTITIES, "roi", "npv_alone",
                                                         "npv_last")},
                "interaction_npv": _num(p.interaction),
                "sampling_se": {k: _num(v) for k, v in p.sampling_se.items()},
            } for p in self.parts],
        }




def attribute(sc: Scenario, *, by: str = "benefit", seed: int | None = None,
              replications: int | None = None, agents: int | None = None,
              horizon_months: int | None = None, permutations: int | None = None,
              progress: Callable[[int, int], None] | None = None, cancel=None) -> Attribution:
    """Shapley attribution of the scheme's increment to its parts (see the module text).

    ``progress(done, total)`` is called after each set's run; ``cancel`` (an Event)
    stops within a replication (:class:`simulator.runner.Cancelled`).
    """
    import time

    t0 = time.perf_counter()
    parts = parts_of(sc, by)
    n = len(parts)
    if n == 0:
        raise ValueError(f"scenario {sc.name!r} has no scheme parts to attribute (no benefits, "
                         "points, campaigns, service priority or paid acquisition)")
    _check_sample(n, permutations)
    smp = _sample(sc, seed, replications, agents, horizon_months)
    sw_bits = [i for i, p in enumerate(parts) if p.switch]
    all_sw = sum(1 << i for i in sw_bits)
    perms = None
    if n > EXACT_MAX:
        perms = _permutations(n, permutations or PERMUTATIONS, smp.seed)
    masks = _masks_needed(n, perms)
    _start_workers(sc, smp, len(masks))
    cache: dict[int, np.ndarray] = {}
    # A set with switched-off parts runs as the counterfactual arm of its scenario; that
    # run's scenario arm is the same set with every switch on, kept for free.
    todo = sorted(masks, key=lambda m: (m & all_sw) == all_sw)
    total = len(todo)
    planned: set[int] = set()
    sets: list[tuple[int, bool, Scenario]] = []  # (mask, with switches off, scenario)
    for mask in todo:
        if mask in planned:
            continue
        off = [p for i, p in enumerate(parts) if not mask >> i & 1]
        s = _without(sc, {p.benefit for p in off if p.benefit},
                     any(p.acquisition for p in off))
        off_sw = [p.switch for p in off if p.switch]
        cfd = {"mode": "scheme_off", "switch_off": off_sw} if off_sw else {"mode": "none"}
        s = s.model_copy(update={"run": s.run.model_copy(update={
            "counterfactual": type(s.run.counterfactual).model_validate(cfd),
            "convergence": s.run.convergence.model_copy(update={"enabled": False})})})
        planned.add(mask | all_sw)
        if off_sw:
            planned.add(mask)
        sets.append((mask, bool(off_sw), s))

    covered = [0]  # sets known after the first k runs
    seen: set[int] = set()
    for mask, has_cf, _ in sets:
        seen |= {mask | all_sw, mask} if has_cf else {mask | all_sw}
        covered.append(len(seen & set(masks)))

    def sets_done(k: int) -> None:
        if progress:
            progress(min(covered[k], total), total)

    # Only totals are needed (no deadweight): the sets' scheme arms with every switch on
    # are the same arm whatever their counterfactual, each simulated once.
    from simulator.arms import sharing

    with sharing():
        for (mask, has_cf, _), res in zip(sets, _run_sets([(x, None) for _, _, x in sets],
                                                          smp, cancel, sets_done,
                                                          deadweight=False)):
            cache[mask | all_sw] = _arm_values(res, "scenario")
            if has_cf:
                cache[mask] = _arm_values(res, "counterfactual")
    runs = len(sets)
    v = {m: _increments(cache[m] - cache[0]) for m in cache}
    full = (1 << n) - 1
    if perms is None:
        phi = shapley_exact(v, n)  # [n, R, Q]
        se: list[dict[str, float]] = [{} for _ in range(n)]
        method = "exact"
    else:
        marg = permutation_marginals(lambda m: v[m], n, perms)  # [P, n, R, Q]
        phi = marg.mean(axis=0)
        per_perm = marg.mean(axis=2)  # [P, n, Q]: replication means per permutation
        sd = per_perm.std(axis=0, ddof=1) / math.sqrt(len(perms)) if len(perms) > 1 else \
            np.full(per_perm.shape[1:], math.nan)
        se = [{q: float(sd[i, j]) for j, q in enumerate(QUANTITIES)} for i in range(n)]
        method = f"sampled permutations ({len(perms)})"
    whole = v[full]
    scale = np.max(np.abs(cache[full][:, [1, 2]]), axis=1)
    out = []
    for i, p in enumerate(parts):
        f = phi[i]
        cost = f[:, 1]
        ok = cost > COST_TOL * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            roi = np.where(ok, f[:, 0] / np.where(ok, cost, 1.0), np.nan)
        alone = v.get(1 << i)
        last = v.get(full & ~(1 << i))
        contribution, cost_stat, margin, npv = (Stat.of(f[:, j], metrics.metric(q).unit)
                                                 for j, q in enumerate(QUANTITIES))
        out.append(PartResult(
            p.label, contribution, cost_stat, margin, npv,
            Stat.of(roi, "ratio", None if ok.any() else "no incremental cost"),
            Stat.of(alone[:, 3] if alone is not None else [math.nan], "CNY", "not run"),
            Stat.of(whole[:, 3] - last[:, 3] if last is not None else [math.nan], "CNY",
                    "not run"),
            se[i]))
    return Attribution(sc.name, by, out,
                       {q: Stat.of(whole[:, j], metrics.metric(q).unit)
                        for j, q in enumerate(QUANTITIES)},
                       phi, whole, method, len(cache), runs, smp, time.perf_counter() - t0)
