"""Budget levers: what a scenario spends per month on each lever, and how to move it.

A **lever** is one place the membership budget can go, identified by a
stable id that :class:`simulator.scenario.LeverBound` refers to:

=====================  ===========================================================
id                     what moves when its monthly spend changes
=====================  ===========================================================
``benefits:<tier>``    every benefit of the tier, by the spend ratio, in its own
                       terms: a share-of-value benefit (a discount) gets a new depth
                       ``cost_share`` (10 % off × 0.5 -> 5 % off; the effect follows
                       the depth rule of :mod:`simulator.tiers`, so when
                       ``effect_at_share`` is unset it is set to today's depth, where
                       the effect was stated); other benefits get a new funding level
                       ``intensity`` (cost linear, effect with diminishing returns;
                       capped at 10). A depth is capped at 100 %.
``service:<pool>``     staff on every shift of the pool, by the spend ratio,
                       rounded to whole agents (spend = agent-hours per day × 30.44
                       days × cost per agent-hour)
``promotion:<name>``   the campaign's channel budget (``budget_cny`` per run, with
                       ``reach_share`` opened to 1 so the budget is what limits
                       reach); spend per month = budget per run × runs in the
                       horizon / horizon months. The most it can take is every
                       targeted customer contacted.
                       A recall campaign (``target_lifecycle`` dormant or at
                       risk) targets its dormant customers and its budget pays the
                       contacts and the reactivations.
``acquisition``        ``population.acquisition.paid_spend_cny_per_month``
=====================  ===========================================================

Spend is CNY per month, averaged over the horizon. Benefit and promotion spend
depend on how many customers are in a tier or targeted, so
:func:`extract_levers` reads them from a baseline run of today's scenario
(the realised benefit cost per tier; targeted customers per campaign run,
scaled to the engine's channel cost); service and acquisition spend are exact.

Default bounds (when ``budget.bounds`` does not name the lever): min 0 (service:
25 % of today's staff — an unstaffed queue is not a plan), max 3 × today's
spend, further capped by what the lever can physically take (intensity 10;
every targeted customer reached). A lever spending nothing today has no
default room (say ``max_cny`` in a bound to open it). Pinned levers stay at
today's spend.

Public API::

    levers = extract_levers(sc, baseline)            # list[Lever] (baseline: RunResult of sc)
    new_sc = apply_allocation(sc, levers, {"service:General": 250_000.0, ...})
    spend = spend_after(lever, new_sc)               # exact spend where it is deterministic
    lever_ids(sc)                                    # ids without simulating
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from simulator.promotions import CHANNELS
from simulator.queue_window import DAYS_PER_MONTH
from simulator.scenario import Scenario

MAX_INTENSITY = 10.0
DEFAULT_MAX_FACTOR = 3.0
DEFAULT_SERVICE_MIN_FACTOR = 0.25
USD_CNY = 7.2  # assumption used when the studies quote dollars (study B)


@dataclass(frozen=True)
class Lever:
    """One budget lever with today's monthly spend and its bounds (CNY per month)."""

    id: str
    kind: str
    label: str
    current_cny: float
    min_cny: float
    max_cny: float
    pinned: bool = False
    segment: str = "all"
    channel: str = ""
    note: str = ""
    runs: int = 0  # promotion: runs within the horizon
    horizon_months: int = 0

    @property
    def free(self) -> bool:
        """Whether the optimiser can move it."""
        return not self.pinned and self.max_cny - self.min_cny > 1e-9 * max(1.0, self.max_cny)


def lever_ids(sc: Scenario) -> list[str]:
    """Ids of the levers a scenario has (no simulation needed)."""
    ids = [f"benefits:{t.name}" for t in sc.tiers if t.benefits]
    ids += [f"service:{p.name}" for p in sc.service.pools]
    ids += [f"promotion:{p.name}" for p in sc.promotions if p.channel != "none"]
    ids.append("acquisition")
    return ids


def service_spend_cny(pool) -> float:
    """Monthly staff cost of a pool (paid agent-hours × cost per hour)."""
    hours = sum((s.end_hour - s.start_hour) * s.staff for s in pool.shifts)
    return hours * DAYS_PER_MONTH * pool.cost_per_agent_hour_cny


def _runs_in_horizon(p, horizon: int) -> list[int]:
    if p.start_month > horizon:
        return []
    if p.repeat_every_months == 0:
        return [p.start_month]
    return list(range(p.start_month, horizon + 1, p.repeat_every_months))


def _recall_estimate(p, mon, reps: int, runs: list[int]) -> tuple[float, float, list[int]]:
    """Spend and most spend of a recall campaign over its runs (CNY), from a baseline run.

    Targeted: dormant customers in the campaign's segments and tiers (at risk: its
    contacts / reach); each reached one costs the contact plus the reactivation cost
    times the redemption share.
    """
    sel = mon[mon["month"].isin(runs)]
    if p.target_segments:
        sel = sel[sel["segment"].isin(p.target_segments)]
    if p.target_tiers:
        sel = sel[sel["tier"].isin(p.target_tiers)]
    if p.target_lifecycle == "dormant":
        targeted = float(sel["dormant_customers"].sum()) / reps
    else:
        targeted = float(sel["recall_contacts"].sum()) / reps / max(p.reach_share, 1e-9)
    per = p.cost_per_contact_cny + p.cost_per_reactivation_cny * p.redemption_share
    full = targeted * per
    spend = p.reach_share * full
    if p.budget_cny is not None:
        spend = min(spend, p.budget_cny * len(runs))
    return spend, full, runs


def extract_levers(sc: Scenario, baseline) -> list[Lever]:
    """Levers of ``sc`` with today's spend, read from ``baseline`` (a RunResult of ``sc``).

    Raises ``ValueError`` naming the bound when ``budget.bounds`` names a lever
    the scenario does not have.
    """
    horizon = int(baseline.meta.get("horizon_months") or sc.run.horizon_months)
    mon = baseline.monthly
    mon = mon[mon["arm"] == "scenario"]
    reps = max(1, mon["replication"].nunique())
    levers: list[Lever] = []

    # Benefits per tier: realised benefit cost of members in that tier.
    by_tier = mon.groupby("tier")["benefit_cost"].sum() / (reps * horizon)
    for t in sc.tiers:
        if not t.benefits:
            continue
        cur = float(by_tier.get(t.name, 0.0))
        cap = min(_scale_cap(b) for b in t.benefits)
        phys = cur * cap if math.isfinite(cap) else cur * DEFAULT_MAX_FACTOR
        note = "" if cur > 0 else "no spend today (no members or zero intensity): not movable"
        levers.append(Lever(f"benefits:{t.name}", "benefits", f"{t.name} tier benefits", cur,
                            0.0, phys, note=note))

    for pool in sc.service.pools:
        cur = service_spend_cny(pool)
        levers.append(Lever(f"service:{pool.name}", "service",
                            f"Service staff, {pool.name} pool", cur,
                            DEFAULT_SERVICE_MIN_FACTOR * cur, math.inf,
                            note="" if cur > 0 else "no staff today: not movable"))

    # Promotions: targeted real customers in the months a campaign runs.
    # A recall (dormant / at-risk) campaign targets the dormant customers (at risk: those
    # its contacts show) and pays per contact plus the expected reactivations.
    act = mon.groupby(["month", "segment", "tier"])["active_customers"].sum() / reps
    est: dict[int, tuple[float, float, list[int]]] = {}
    for i, p in enumerate(sc.promotions):
        if p.channel == "none":
            continue
        runs = _runs_in_horizon(p, horizon)
        full = 0.0
        spend = 0.0
        if p.target_lifecycle != "all":
            est[i] = _recall_estimate(p, mon, reps, runs)
            continue
        for m in runs:
            sel = act.xs(m, level="month") if m in act.index.get_level_values(0) else None
            if sel is None:
                continue
            n_t = float(sum(v for (s, t), v in sel.items()
                            if (not p.target_segments or s in p.target_segments)
                            and (not p.target_tiers or t in p.target_tiers)))
            full_run = n_t * p.cost_per_contact_cny
            run_spend = p.reach_share * full_run
            if p.budget_cny is not None:
                run_spend = min(run_spend, p.budget_cny)
            full += full_run
            spend += run_spend
        est[i] = (spend, full, runs)
    # Scale the estimates to the engine's channel cost (same channel, same factor).
    for ch in CHANNELS[:-1]:
        col = f"promotion_cost_{ch}"
        idx = [i for i in est if sc.promotions[i].channel == ch
               and sc.promotions[i].target_lifecycle == "all"]
        if not idx or col not in mon.columns:
            continue
        observed = float(mon[col].sum()) / reps
        estimated = sum(est[i][0] for i in idx)
        if observed > 0 and estimated > 0:
            k = observed / estimated
            for i in idx:
                s, f, r = est[i]
                est[i] = (s * k, f * k, r)
    for i, (spend, full, runs) in est.items():
        p = sc.promotions[i]
        seg = ", ".join(p.target_segments) if p.target_segments else "all"
        note = "" if runs else "does not run within the horizon: not movable"
        levers.append(Lever(f"promotion:{p.name}", "promotion",
                            f"Promotion {p.name} ({p.channel}, {seg})", spend / horizon, 0.0,
                            full / horizon,
                            segment=seg, channel=p.channel, note=note, runs=len(runs),
                            horizon_months=horizon))

    acq = sc.population.acquisition
    levers.append(Lever("acquisition", "acquisition", "Paid acquisition",
                        acq.paid_spend_cny_per_month, 0.0, math.inf))

    # Bounds from the scenario, then defaults and physical caps.
    bounds = {b.lever: b for b in sc.budget.bounds}
    known = {lv.id for lv in levers}
    for k in bounds:
        if k not in known:
            raise ValueError(f"budget.bounds: lever {k!r} must be one of {sorted(known)}")
    out = []
    for lv in levers:
        phys = lv.max_cny
        b = bounds.get(lv.id)
        lo = lv.min_cny if b is None else b.min_cny
        hi = DEFAULT_MAX_FACTOR * lv.current_cny if (b is None or b.max_cny is None) \
            else b.max_cny
        note = lv.note
        if hi > phys:
            hi = phys
            if b is not None and b.max_cny is not None:
                note = (note + "; " if note else "") + "max capped at what the lever can take"
        if lv.current_cny <= 0 and lv.kind in ("benefits", "service"):
            lo = hi = 0.0  # nothing to scale
        pinned = bool(b.pinned) if b is not None else False
        if pinned:
            lo = hi = lv.current_cny
        lo = min(lo, hi)
        out.append(replace(lv, min_cny=float(lo), max_cny=float(hi), pinned=pinned, note=note))
    return out


def _scales_depth(b) -> bool:
    """Tell if the lever moves this benefit's depth (a share-of-value benefit with one)."""
    return b.cost_model == "share_of_order_value" and b.cost_share > 0


def _scale_cap(b) -> float:
    """Return the largest factor a benefit's spend can take (depth 100 %, intensity 10)."""
    if _scales_depth(b):
        return 1.0 / b.cost_share
    return MAX_INTENSITY / b.intensity if b.intensity > 0 else math.inf


def scale_benefit(b, f: float) -> None:
    """Scale one benefit's spend by ``f`` in the planner's terms (in place; see module doc)."""
    if _scales_depth(b):
        if b.effect_at_share <= 0:
            b.effect_at_share = b.cost_share  # the effect was stated at today's depth
        old = b.cost_share
        b.cost_share = min(1.0, old * f)
        b.name = _renamed(b.name, old, b.cost_share)
    else:
        b.intensity = min(MAX_INTENSITY, b.intensity * f)


def _pct(v: float) -> str:
    p = 100 * v
    return f"{p:.0f}" if abs(p - round(p)) < 1e-9 else f"{p:.1f}"


def _renamed(name: str, old: float, new: float) -> str:
    """'10 % off' -> '5 % off' when the name states today's depth; other names unchanged."""
    import re

    pat = re.compile(r"(?<![\d.])" + re.escape(_pct(old)) + r"(\s?%)")
    if len(pat.findall(name)) != 1:
        return name
    out = pat.sub(lambda m: _pct(new) + m.group(1), name)
    return out if len(out) <= 80 else name


def apply_allocation(sc: Scenario, levers: list[Lever], alloc: Mapping[str, float]) -> Scenario:
    """A new scenario with the given monthly spend on the named levers (others unchanged).

    The scenario's counterfactual settings and budget block are kept. Levers
    whose spend equals today's are left exactly as they are.
    """
    by_id = {lv.id: lv for lv in levers}
    new = sc.model_copy(deep=True)
    for lid, x in alloc.items():
        if lid not in by_id:
            raise ValueError(f"alloc: lever {lid!r} must be one of {sorted(by_id)}")
        lv = by_id[lid]
        x = float(x)
        if not math.isfinite(x) or x < 0:
            raise ValueError(f"alloc[{lid!r}]: {x} must be a finite amount >= 0")
        if abs(x - lv.current_cny) <= 1e-9 * max(1.0, lv.current_cny):
            continue
        name = lid.split(":", 1)[1] if ":" in lid else ""
        if lv.kind == "benefits":
            if lv.current_cny <= 0:
                continue
            f = x / lv.current_cny
            tier = new.tiers[new.tier_index(name)]
            for b in tier.benefits:
                scale_benefit(b, f)
        elif lv.kind == "service":
            pool = next(p for p in new.service.pools if p.name == name)
            if lv.current_cny <= 0:
                continue
            f = x / lv.current_cny
            staff = [max(0, int(round(s.staff * f))) for s in pool.shifts]
            if x > 0 and sum(staff) == 0:
                staff[int(np.argmax([s.end_hour - s.start_hour for s in pool.shifts]))] = 1
            for s, k in zip(pool.shifts, staff):
                s.staff = k
        elif lv.kind == "promotion":
            p = next(q for q in new.promotions if q.name == name)
            if lv.runs == 0:
                continue
            p.reach_share = 1.0
            p.budget_cny = x * lv.horizon_months / lv.runs
        elif lv.kind == "acquisition":
            new.population.acquisition.paid_spend_cny_per_month = x
    return new


_PER = {"per_order": "per order", "per_member_month": "per member-month", "per_use": "per use",
        "per_year": "per member-year"}


def _hours(a: float, b: float) -> str:
    return f"{int(a):02d}:{int(round(a % 1 * 60)):02d}–{int(b):02d}:{int(round(b % 1 * 60)):02d}"


def describe_changes(old: Scenario, new: Scenario) -> list[str]:
    """List what a split changes, a line per field, in the planner's terms (as in the editor).

    ``new`` is ``old`` after :func:`apply_allocation`; both have the same tiers,
    pools and promotions.
    """
    out: list[str] = []
    for t0, t1 in zip(old.tiers, new.tiers):
        for b0, b1 in zip(t0.benefits, t1.benefits):
            what = f"{t0.name} tier, benefit “{b0.name}”"
            if b1.name != b0.name:
                what += f" (now “{b1.name}”)"
            if b1.cost_share != b0.cost_share:
                out.append(f"{what}: depth {100 * b0.cost_share:.2f} % → "
                           f"{100 * b1.cost_share:.2f} % of order value")
            if b1.intensity != b0.intensity:
                per = _PER.get(b0.cost_model, "")
                cost = (f" (cost ¥{b0.cost_cny * b0.intensity:,.2f} → "
                        f"¥{b1.cost_cny * b1.intensity:,.2f} {per})"
                        if b0.cost_model in _PER and b0.cost_cny > 0 else "")
                out.append(f"{what}: funding level (intensity) ×{b0.intensity:.2f} → "
                           f"×{b1.intensity:.2f}{cost}")
    for p0, p1 in zip(old.service.pools, new.service.pools):
        for s0, s1 in zip(p0.shifts, p1.shifts):
            if s1.staff != s0.staff:
                out.append(f"Service pool {p0.name}, shift {_hours(s0.start_hour, s0.end_hour)}: "
                           f"{s0.staff} → {s1.staff} agents")
    for q0, q1 in zip(old.promotions, new.promotions):
        if q1.budget_cny != q0.budget_cny or q1.reach_share != q0.reach_share:
            was = "no budget cap" if q0.budget_cny is None else f"¥{q0.budget_cny:,.0f}"
            reach = (f"; reach opened from {100 * q0.reach_share:.0f} % to "
                     f"{100 * q1.reach_share:.0f} % (the budget limits it)"
                     if q1.reach_share != q0.reach_share else "")
            out.append(f"Promotion “{q0.name}”: channel budget per run {was} → "
                       f"¥{(q1.budget_cny or 0.0):,.0f}{reach}")
    a0, a1 = old.population.acquisition, new.population.acquisition
    if a1.paid_spend_cny_per_month != a0.paid_spend_cny_per_month:
        out.append(f"Paid acquisition: ¥{a0.paid_spend_cny_per_month:,.0f} → "
                   f"¥{a1.paid_spend_cny_per_month:,.0f} a month")
    return out


def spend_after(lever: Lever, sc: Scenario, requested: float) -> float:
    """Spend the lever will have in ``sc`` (exact for service staff after rounding)."""
    if lever.kind == "service":
        name = lever.id.split(":", 1)[1]
        return service_spend_cny(next(p for p in sc.service.pools if p.name == name))
    return float(requested)
