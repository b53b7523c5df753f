"""Where the money goes and why: Shapley attribution and the "why different" waterfall.

Two analyses built on paired runs under common random numbers (no Qt here)::

    att = attribute(scenario, by="benefit", replications=8, agents=4000)
    att.parts[0].npv            # Stat: the part's Shapley share of the scheme's NPV
    wf = explain(base, other, kpi="npv")
    wf.bars[0].value            # Stat: one group of changed inputs' share of other − base

**Attribution** splits the scheme's increment (incremental contribution,
incremental cost, incremental gross margin and NPV) across its parts: each
benefit (by name, over all tiers) plus the other switched-off levers, or lever
groups (tier benefits, points, service priority, campaigns, acquisition). The
value of a set of parts is the run with only those parts on; every set runs
with the same seed, replications and sample (:func:`simulator.runner.run`), so
replication *r* of every set meets the same customers and luck. Parts with an
engine switch (:data:`simulator.engine.SWITCHES`) are switched off exactly as
the scheme-off counterfactual switches them (the run's counterfactual arm);
a single benefit is switched off by removing it from every tier, paid
acquisition by setting its spend to zero. Shapley values are computed per
replication, so they add up to the whole increment exactly in each replication
(efficiency) and the parts' intervals come from their replication spread.
Exact over all 2^n sets for n <= :data:`EXACT_MAX` parts; above that from
sampled permutations (the sum stays exact, each part gets a stated sampling
standard error).

**Waterfall**: for scenario X against base B, one bar per group of changed
inputs (from :func:`simulator.compare.input_diff`), each bar the group's
Shapley share of KPI(X) − KPI(B) over all mixes "these groups from X, the rest
from B". Bars add up exactly to the paired difference, do not depend on the
order of the groups, and a bar whose 95 % interval contains zero is marked as
within noise.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from math import factorial
from typing import Any, Callable, Iterator

import numpy as np

from simulator import metrics
from simulator.compare import input_diff
from simulator.results import COST_TOL, RunResult, Stat
from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, from_dict, to_dict

EXACT_MAX = 8  # parts up to which every subset is run (2^8 = 256 sets)
PERMUTATIONS = 32  # sampled permutations above EXACT_MAX
QUANTITIES = ("incremental_contribution", "incremental_cost", "incremental_margin", "npv")
BY = ("benefit", "group")
# Group labels of the lever-group attribution (and the engine switch each uses).
LEVER_GROUPS = (("tier benefits", "benefits"), ("points", "points"),
                ("service priority", "priority_service"), ("campaigns", "promotions"),
                ("acquisition", None))
SWITCH_LABEL = {sw: label for label, sw in LEVER_GROUPS if sw}


# ------------------------------------------------------------------ Shapley core
def _weights(n: int) -> np.ndarray:
    """Shapley weight of a coalition of size k not containing the player: k!(n-k-1)!/n!."""
    return np.array([factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)])


def shapley_exact(v: dict[int, np.ndarray], n: int) -> np.ndarray:
    """Shapley values of n players from the values of all 2^n coalitions (bit masks).

    ``v[mask]`` is an array (e.g. [R, Q]); the result is [n, *shape].
    """
    w = _weights(n)
    shape = np.shape(v[0])
    phi = np.zeros((n, *shape))
    for i in range(n):
        bit = 1 << i
        for mask in range(1 << n):
            if mask & bit:
                continue
            phi[i] += w[bin(mask).count("1")] * (v[mask | bit] - v[mask])
    return phi


def permutation_marginals(value: Callable[[int], np.ndarray], n: int, perms: list[list[int]]
                          ) -> np.ndarray:
    """Marginal contributions along each permutation: [P, n, *shape] (a telescoping sum)."""
    out: list[np.ndarray] = []
    for order in perms:
        rows: list[Any] = [None] * n
        mask = 0
        prev = value(0)
        for i in order:
            mask |= 1 << i
            cur = value(mask)
            rows[i] = cur - prev
            prev = cur
        out.append(np.stack(rows))
    return np.stack(out)


def _masks_needed(n: int, perms: list[list[int]] | None) -> list[int]:
    if perms is None:
        return list(range(1 << n))
    seen = {0}
    for order in perms:
        m = 0
        for i in order:
            m |= 1 << i
            seen.add(m)
    return sorted(seen)


# ------------------------------------------------------------------ running sets
@dataclass(frozen=True)
class Sample:
    """The common sample every set runs with (common random numbers)."""

    seed: int
    replications: int
    agents: int
    horizon_months: int | None = None


def _sample(sc: Scenario, seed, replications, agents, horizon_months) -> Sample:
    return Sample(sc.run.seed if seed is None else seed,
                  sc.run.replications if replications is None else replications,
                  sc.run.agents if agents is None else agents, horizon_months)


BATCH = 32  # sets sent to the workers at once (their results are reduced batch by batch)


def _run_sets(sets: list[tuple[Scenario, Scenario | None]], smp: Sample, cancel,
              progress: Callable[[int], None] | None = None, deadweight: bool = True
              ) -> Iterator[RunResult]:
    """Each set's run, in order; the sets go to the workers in batches of :data:`BATCH`.

    Call inside a :func:`simulator.arms.sharing` block: an arm several sets share (a
    counterfactual, a scheme arm already run) is simulated once.
    ``progress(sets done)`` after each batch.
    """
    from simulator.runner import run_many

    for i in range(0, len(sets), BATCH):
        chunk = sets[i:i + BATCH]

        def reps_done(done: int, _total: int, i=i) -> None:
            if progress:  # runs whose replications are all in (runs finish about in turn)
                progress(i + done // smp.replications)

        yield from run_many([s for s, _ in chunk], bases=[b for _, b in chunk],
                            seed=smp.seed, replications=smp.replications, agents=smp.agents,
                            horizon_months=smp.horizon_months, cancel=cancel,
                            deadweight=deadweight, progress=reps_done)
        if progress:
            progress(i + len(chunk))


def _arm_values(res: RunResult, arm: str) -> np.ndarray:
    """Per replication [R, 4]: net contribution, total cost, gross margin, discounted net."""
    net = res.totals("net_contribution", arm)
    return np.stack([net.sum(axis=1), res.totals("total_cost", arm).sum(axis=1),
                     res.totals("gross_margin", arm).sum(axis=1),
                     (net * res.discount).sum(axis=1)], axis=1)


def _increments(a: np.ndarray) -> np.ndarray:
    """Arm differences [.., 4] -> the QUANTITIES (contribution, cost, margin, NPV)."""
    return a


# ------------------------------------------------------------------ attribution
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


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _check_sample(n: int, permutations: int | None) -> None:
    if permutations is not None and not 1 <= permutations <= 10_000:
        raise ValueError(f"permutations: {permutations} must be between 1 and 10000")


def _permutations(n: int, count: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng([seed, 0x5A4B])
    return [list(rng.permutation(n)) for _ in range(count)]


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


# ------------------------------------------------------------------ waterfall
# KPIs measured against each scenario's own counterfactual
RELATIVE_KPIS = ("npv", "incremental_contribution", "incremental_cost", "incremental_margin",
                 "roi", "payback_month", "ltv_uplift")
RUN_SAMPLE_KEYS = ("seed", "replications", "agents")  # common to every mix, not a group


def _group_of_path(path: str, bd: dict, xd: dict) -> str | None:
    """The group a changed input path belongs to (None: not a model input)."""
    import re

    if path in ("name", "description") or path.startswith("budget"):
        return None
    if path.startswith("run."):
        return None if path.split(".")[1] in RUN_SAMPLE_KEYS else "run settings"
    m = re.match(r"tiers\[(\d+)\]\.benefits\[(\d+)\]", path)
    if m:
        t, b = int(m.group(1)), int(m.group(2))
        for d in (xd, bd):
            try:
                return "benefit: " + d["tiers"][t]["benefits"][b]["name"]
            except (IndexError, KeyError):
                continue
    if path.startswith("tier_rules.points"):
        return "points"
    if path.startswith(("tiers", "tier_rules")):
        return "tiers"
    if path.startswith("service"):
        return "service staffing"
    m = re.match(r"promotions\[(\d+)\]", path)
    if m:
        i = int(m.group(1))
        for d in (xd, bd):
            try:
                return "campaign: " + d["promotions"][i]["name"]
            except (IndexError, KeyError):
                continue
    if path.startswith("promotions"):
        return "campaigns"
    if path.startswith("population.acquisition"):
        return "acquisition"
    return "segments & population"


def change_groups(base: Scenario, other: Scenario) -> dict[str, list[str]]:
    """Groups of changed inputs (from :func:`simulator.compare.input_diff`): group -> paths."""
    bd, xd = to_dict(base), to_dict(other)
    out: dict[str, list[str]] = {}
    for path in input_diff(base, other)["path"]:
        g = _group_of_path(path, bd, xd)
        if g is not None:
            out.setdefault(g, []).append(path)
    if "campaigns" in out:  # a list emptied or filled: every campaign by name
        names = [p["name"] for p in bd.get("promotions", []) + xd.get("promotions", [])]
        paths = out.pop("campaigns")
        for nm in dict.fromkeys(names):
            out.setdefault("campaign: " + nm, []).extend(paths)
    if "tiers" in out:  # benefit lists emptied/filled show as tiers[i].benefits
        for t in bd["tiers"] + xd["tiers"]:
            for b in t.get("benefits", []):
                key = "benefit: " + b["name"]
                if _benefit_map(bd, b["name"]) != _benefit_map(xd, b["name"]):
                    out.setdefault(key, [p for p in out["tiers"] if ".benefits" in p])
        out["tiers"] = [p for p in out["tiers"] if ".benefits" not in p]
        if not out["tiers"]:
            del out["tiers"]
    return out


def _valid(bd: dict, xd: dict, on: set[str]) -> bool:
    try:
        from_dict(_mix(bd, xd, on))
    except ScenarioError:
        return False
    return True


def coupled_groups(base: Scenario, other: Scenario) -> dict[str, tuple[list[str], list[str]]]:
    """Groups of changed inputs, those that cannot change alone merged: label -> (parts, paths).

    A group whose change alone (or whose removal alone) does not give a valid scenario
    (e.g. X's tiers name a service pool only X's staffing has) is merged with the
    group that makes it valid; the label joins both with " + ".
    """
    found = change_groups(base, other)
    bd, xd = to_dict(base), to_dict(other)
    groups: list[list[str]] = [[g] for g in found]
    changed = True
    while changed and len(groups) > 1:
        changed = False
        every = {g for grp in groups for g in grp}
        for i, grp in enumerate(groups):
            for test in (lambda on: set(on), lambda on: every - set(on)):
                if _valid(bd, xd, test(grp)):
                    continue
                for j, other_grp in enumerate(groups):
                    if j != i and _valid(bd, xd, test(grp + other_grp)):
                        groups[i] = grp + other_grp
                        del groups[j]
                        changed = True
                        break
                if changed:
                    break
            if changed:
                break
    return {" + ".join(g): (g, [p for x in g for p in found[x]]) for g in groups}


def _benefit_map(d: dict, name: str) -> dict[str, dict]:
    return {t["name"]: b for t in d["tiers"] for b in t.get("benefits", []) if b["name"] == name}


def _mix(bd: dict, xd: dict, on: set[str]) -> dict:
    """Scenario dict with the groups in ``on`` taken from X and the rest from B."""
    d = copy.deepcopy(bd)
    x = copy.deepcopy(xd)
    if "segments & population" in on:
        d["segments"] = x["segments"]
        acq = d["population"].get("acquisition")
        d["population"] = {k: v for k, v in x["population"].items() if k != "acquisition"}
        if acq is not None:
            d["population"]["acquisition"] = acq
    if "acquisition" in on:
        d["population"].pop("acquisition", None)
        if "acquisition" in x["population"]:
            d["population"]["acquisition"] = x["population"]["acquisition"]
    if "run settings" in on:
        keep = {k: d["run"][k] for k in RUN_SAMPLE_KEYS if k in d.get("run", {})}
        d["run"] = {**x.get("run", {}), **keep}
    if "service staffing" in on:
        d["service"] = x["service"]
    src_tiers = x if "tiers" in on else d
    rules = copy.deepcopy(src_tiers["tier_rules"]) if "tier_rules" in src_tiers else {}
    pts = (x if "points" in on else bd).get("tier_rules", {}).get("points")
    rules.pop("points", None)
    if pts is not None:
        rules["points"] = pts
    d["tier_rules"] = rules
    names = list(dict.fromkeys(b["name"] for dd in (bd, xd) for t in dd["tiers"]
                               for b in t.get("benefits", [])))
    tiers = []
    for t in src_tiers["tiers"]:
        nt = {k: v for k, v in t.items() if k != "benefits"}
        bl = []
        for nm in names:
            src = x if f"benefit: {nm}" in on else bd
            b = _benefit_map(src, nm).get(t["name"])
            if b is not None:
                bl.append(b)
        nt["benefits"] = bl
        tiers.append(nt)
    d["tiers"] = tiers
    pnames = list(dict.fromkeys(p["name"] for dd in (bd, xd) for p in dd.get("promotions", [])))
    promos = []
    for nm in pnames:
        src = x if f"campaign: {nm}" in on else bd
        promos += [p for p in src.get("promotions", []) if p["name"] == nm]
    d["promotions"] = promos
    return d


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

    with sharing():  # the mixes share arms (their counterfactuals, mostly)
        for mask, res in zip(masks, _run_sets(
                sets, smp, cancel, progress and (lambda k: progress(k, len(masks))))):
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
