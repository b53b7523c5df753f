"""Rules that span fields of a scenario: names that must exist, shares that must sum to one.

Pydantic checks each field on its own (:mod:`simulator.scenario`); these rules need
several at once, and include whether a run fits the machine
(:func:`simulator.sizing.size_problems`). :func:`simulator.scenario_io.check` turns
their breaches into issues in the planner's words.
"""

from __future__ import annotations

from simulator.scenario import Scenario
from simulator.sizing import size_problems


def cross_check(s: Scenario) -> list[tuple[str, object, str]]:
    """Rules that span fields. Returns (path, value, what is allowed) for each breach.

    Values are in the file's units (shares as fractions); messages speak the form's units.
    """
    errs: list[tuple[str, object, str]] = []
    seg_names = [x.name for x in s.segments]
    tier_names = [t.name for t in s.tiers]
    pool_names = [p.name for p in s.service.pools]

    def one_of(names: list[str]) -> str:
        shown = ", ".join(repr(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
        return f"must be one of {shown}" if names else "must name an existing item"

    def unique(kind: str, what: str, names: list[str]) -> None:
        seen: set[str] = set()
        for i, n in enumerate(names):
            if n in seen:
                errs.append((f"{kind}[{i}].name", n, f"is used twice: each {what} needs its "
                             "own name"))
            seen.add(n)

    unique("segments", "segment", seg_names)
    unique("tiers", "tier", tier_names)
    unique("service.pools", "pool", pool_names)
    unique("promotions", "promotion", [p.name for p in s.promotions])

    total = sum(x.share for x in s.segments)
    if abs(total - 1.0) > 1e-6:
        errs.append(("segments[*].share", round(total, 6), "the shares must add up to 100 %"))
    for k, v in s.population.acquisition.mix.items():
        if k not in seg_names:
            errs.append((f"population.acquisition.mix.{k}", k, one_of(seg_names)))
    mix = s.population.acquisition.mix
    if mix and abs(sum(mix.values()) - 1.0) > 1e-6:
        errs.append(("population.acquisition.mix", round(sum(mix.values()), 6),
                     "the mix must add up to 100 %"))

    if s.population.seasonality and s.population.first_month is None:
        errs.append(("population.first_month", None, "must name the calendar month of the "
                     "run's month 1 (e.g. Oct) when a seasonal order rate is given"))

    if s.population.new_customer_boost and s.population.new_customer_boost_months is None:
        errs.append(("population.new_customer_boost_months", None, "must give the months "
                     "over which the new customer's extra order rate fades (e.g. 1.5) when "
                     "that extra rate is given"))

    if s.tiers[0].threshold_cny != 0 or s.tiers[0].min_orders != 0:
        errs.append(("tiers[0].threshold_cny", s.tiers[0].threshold_cny,
                     "the first tier is the entry tier: its threshold and minimum orders "
                     "must be 0"))
    for i in range(1, len(s.tiers)):
        if s.tiers[i].threshold_cny < s.tiers[i - 1].threshold_cny:
            errs.append((f"tiers[{i}].threshold_cny", s.tiers[i].threshold_cny,
                         f"must be at least the threshold of the tier below "
                         f"({s.tiers[i - 1].name!r}: ¥{s.tiers[i - 1].threshold_cny:,.0f})"))
    for i, t in enumerate(s.tiers):
        if t.pool is not None and t.pool not in pool_names:
            errs.append((f"tiers[{i}].pool", t.pool, one_of(pool_names)))
        for j, b in enumerate(t.benefits):
            for k in b.segment_value:
                if k not in seg_names:
                    errs.append((f"tiers[{i}].benefits[{j}].segment_value.{k}", k,
                                 one_of(seg_names)))
    if s.service.default_pool is not None and s.service.default_pool not in pool_names:
        errs.append(("service.default_pool", s.service.default_pool, one_of(pool_names)))
    esc = s.service.escalation
    if esc.to_pool is not None and esc.to_pool not in pool_names:
        errs.append(("service.escalation.to_pool", esc.to_pool, one_of(pool_names)))
    for i, p in enumerate(s.service.pools):
        if not p.shifts:
            errs.append((f"service.pools[{i}].shifts", [], "needs at least one shift"))
        for j, sh in enumerate(p.shifts):
            if sh.end_hour <= sh.start_hour:
                errs.append((f"service.pools[{i}].shifts[{j}].end_hour", sh.end_hour,
                             f"must be later than the start hour ({sh.start_hour:g} h)"))
    for i, t in enumerate(s.tiers):
        for j, b in enumerate(t.benefits):
            if b.kind == "referral_reward" and b.cost_model != "per_use":
                errs.append((f"tiers[{i}].benefits[{j}].cost_model", b.cost_model,
                             "a referral reward is paid per referred customer: the cost model "
                             "must be 'per use' (one use = one referred customer)"))
    for i, pr in enumerate(s.promotions):
        if pr.target_lifecycle != "all":
            segs = [x for x in s.segments
                    if not pr.target_segments or x.name in pr.target_segments]
            if not any(x.dormant_after_months > 0 for x in segs):
                errs.append((f"promotions[{i}].target_lifecycle", pr.target_lifecycle,
                             "addresses dormant or at-risk customers: at least one target "
                             "segment needs 'dormant after' above 0 months"))
        for k in pr.target_segments:
            if k not in seg_names:
                errs.append((f"promotions[{i}].target_segments", k, one_of(seg_names)))
        for k in pr.target_tiers:
            if k not in tier_names:
                errs.append((f"promotions[{i}].target_tiers", k, one_of(tier_names)))
    cf = s.run.counterfactual
    if cf.mode == "base_scenario" and not cf.base_scenario:
        errs.append(("run.counterfactual.base_scenario", None,
                     "a scenario file is required when the mode is 'base_scenario'"))
    errs += size_problems(s)
    return errs
