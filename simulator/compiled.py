"""The compiled scenario: every number the month loop needs, read once from the Scenario.

:func:`compile_scenario` turns a validated :class:`~simulator.scenario.Scenario`
(for one arm: a horizon and the engine switches turned off) into a frozen
:class:`CompiledScenario` of numpy arrays by segment, tier and benefit kind,
campaign tables, service routing, acquisition, points and discount factors. The
engine (:mod:`simulator.engine`, :mod:`simulator.population`,
:mod:`simulator.accounting`) and the kernel read only this object; nothing in the
month loop reads the scenario. Arrays are read-only.

Naming: ``n_segments`` (S), ``n_tiers`` (T), ``horizon`` (months, H),
``steps_per_month`` (K), ``window_months`` (the rolling qualification window, W);
groups are (tier, segment) pairs in tier-major order, ``g = t * n_segments + s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simulator import draws, kernel
from simulator.outputs import PROMO_CHANNELS
from simulator.promotions import CompiledPromotion, compile_promotions
from simulator.scenario import MONTH_NAMES, Scenario
from simulator.service import PoolSpec
from simulator.theory import (
    churn_beta,
    discount_factors,
    monthly_hazard,
    points_redemption_rate,
)
from simulator.tiers import CostTable, EffectTable, compile_benefits, review_months

# Parts of the scheme a counterfactual arm can switch off.
SWITCHES = ("benefits", "points", "promotions", "priority_service")

SAT_RELAX = 0.3  # share of the gap to the satisfaction target closed each month


def _ro(a: np.ndarray) -> np.ndarray:
    """The array, contiguous and read-only."""
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class CampaignTable:
    """One campaign's month-independent figures (its reach is set per month)."""

    index: int  # position in the scenario's calendar (its draw purposes follow it)
    schedule: CompiledPromotion  # when it runs (``runs_in``), its target and redemption
    row: np.ndarray  # [kernel.N_PROMO] with PR_REACH left 0 (set by the month's reach)
    channel: int  # index into outputs.PROMO_CHANNELS when priced, else 0
    reach_share: float  # share of targeted customers contacted
    budget_cny: float | None  # cap on the month's channel cost
    cost_per_contact: float  # CNY per reached customer (0 when the channel is free)


@dataclass(frozen=True)
class ServiceRouting:
    """Service classes (pool, priority), pools in use, and the service parameters."""

    classes: tuple[tuple[str, int], ...]  # service classes, sorted
    class_of_tier: np.ndarray  # [T] class index of each tier's contacts
    class_pool: np.ndarray  # [classes] pool index of each class
    escalate_after: int  # complaints in the window that escalate a customer (0: never)
    escalation_class: int  # class of escalated customers
    pool_names: tuple[str, ...]  # pools in use, in the scenario's order
    pools: tuple[PoolSpec, ...]  # their queue specifications
    cost_per_agent_hour: np.ndarray  # [pools] CNY
    handle_hours: np.ndarray  # [pools]
    followup_hours: np.ndarray  # [pools]
    resolution_hours: np.ndarray  # [classes] handling + follow-up of the class's pool
    deflect: float  # share of questions the bot answers
    bot_cost: float  # CNY per contact the bot sees (0 without a bot)
    sla_hours: float
    window_contacts: int
    wait_sat_per_hour: float
    slow_hours: float
    slow_penalty: float
    churn_per_sat_point: float


@dataclass(frozen=True)
class CompiledScenario:
    """The frozen parameters of one arm: what the engine and the kernel read."""

    name: str
    horizon: int
    n_segments: int
    n_tiers: int
    steps_per_month: int
    window_months: int
    customers: float  # real customers today
    # Segments [S]
    base_rate: np.ndarray  # orders per month
    gamma_shape: np.ndarray  # of the customers' rate frailty
    spend_mu: np.ndarray  # lognormal order value
    spend_sigma: np.ndarray
    margin: np.ndarray
    hazard: np.ndarray  # monthly churn hazard
    churn_beta: tuple[tuple[float, float] | None, ...]  # [S] beta of customers' monthly churn
    contacts_per_order: np.ndarray
    complaints_per_order: np.ndarray
    wait_tolerance: np.ndarray
    sat_start: np.ndarray
    service_sensitivity: np.ndarray
    shares: np.ndarray  # of today's customers
    new_mix: np.ndarray  # of new customers
    segment_table: np.ndarray  # [kernel.N_SEG, S] the kernel's per-segment rows
    # Tiers and benefits
    benefits_on: bool
    effects: EffectTable  # [T, S] multipliers (points' effect folded in)
    costs: CostTable  # [kind, T] coefficients
    group_table: np.ndarray  # [kernel.N_GRP, T*S] the kernel's per-group rows
    tiers_on: bool
    thresholds: np.ndarray  # [T] CNY in the window
    min_orders: np.ndarray  # [T]
    track_orders: bool  # any tier needs a number of orders
    review_months: tuple[int, ...]  # months at whose end tiers are reviewed
    upgrade_immediate: bool
    downgrade: str  # "immediate" | "grace" | "keep_task" | "never"
    grace_reviews: int
    task_completion: float
    task_spend_uplift: float
    # Points
    points_on: bool
    points_per_cny: float
    points_redeem_rate: float  # share of the balance redeemed per month
    point_value: float  # CNY
    points_expiry_months: int
    # Campaigns, service, acquisition, money
    campaigns: tuple[CampaignTable, ...]
    service: ServiceRouting
    new_per_month: float  # real new customers per month (organic + paid)
    acquisition_spend: float  # CNY per month
    discount: np.ndarray  # [H] discount factor of each month's end
    # Lifecycle (dormancy, recall, word of mouth; all off by default)
    lifecycle: np.ndarray  # [kernel.N_LC, S] the kernel's per-segment lifecycle rows
    wom_share: float  # share of slowly resolved complainants spreading negative word of mouth
    lost_per_wom: float  # real new customers lost next month per spreader
    paid_new_per_month: float  # the paid part of new_per_month (before word of mouth)
    # Seasonal order-rate factor of run month m at [(m - 1) % 12] (population.seasonality,
    # from the run's first calendar month); None: no seasonality.
    season: np.ndarray | None = None
    # A new customer's extra order rate (population.new_customer_boost) and the months it
    # fades over (e-folding); None: no extra rate.
    new_boost: tuple[float, float] | None = None

    @property
    def lifecycle_on(self) -> bool:
        """Whether any lifecycle mechanism acts (dormancy, recall, referrals, word of mouth)."""
        return bool(self.lifecycle[kernel.LC_AFTER].any() or self.lifecycle[kernel.LC_REFER].any()
                    or (self.wom_share > 0 and self.lost_per_wom > 0)
                    or any(c.row[kernel.PR_LIFE] != kernel.LIFE_ALL for c in self.campaigns))

    def kernel_tables(self) -> kernel.Tables:
        """The kernel's constant tables of this arm (:class:`simulator.kernel.Tables`)."""
        svc = self.service
        return kernel.Tables(
            self.segment_table, self.group_table, self.thresholds, self.min_orders,
            self.track_orders, svc.class_of_tier, svc.escalate_after, svc.escalation_class,
            svc.deflect, svc.wait_sat_per_hour, svc.slow_hours, svc.slow_penalty,
            svc.churn_per_sat_point, SAT_RELAX, self.lifecycle, self.wom_share,
            self.value_table)

    @cached_property
    def value_table(self) -> np.ndarray:
        """Order values at the lognormal's quantiles per segment (draws.value_table).

        Derived from ``spend_mu`` and ``spend_sigma`` (so not a field: the arm's hash
        already covers it).
        """
        return draws.value_table(self.spend_mu, self.spend_sigma)

    def task_month(self, m: int) -> int | None:
        """The review a keep-your-tier task taken up in month m aims at (None: no task)."""
        if not (self.tiers_on and self.downgrade == "keep_task" and self.benefits_on):
            return None
        nxt = [r for r in self.review_months if r >= m]
        return nxt[0] if nxt and nxt[0] - m < 3 else None

    def points_expire(self, m: int) -> bool:
        """Whether balances expire at the end of month m."""
        return self.points_on and m % self.points_expiry_months == 0


def _service(sc: Scenario, priority_on: bool) -> ServiceRouting:
    svc = sc.service
    default_pool = svc.default_pool or svc.pools[0].name
    pool_of_tier = [(t.pool if (priority_on and t.pool) else default_pool) for t in sc.tiers]
    prio_of_tier = [(t.service_priority if priority_on else 0) for t in sc.tiers]
    esc = svc.escalation
    escalate_after = esc.complaints_to_escalate if priority_on else 0
    classes = sorted(set(zip(pool_of_tier, prio_of_tier)))
    escalation_class = 0
    if escalate_after > 0:
        esc_cls = (esc.to_pool or default_pool, esc.priority)
        classes = sorted(set(classes) | {esc_cls})
        escalation_class = classes.index(esc_cls)
    used = {default_pool} | {p for p, _ in classes}
    pools = [p for p in svc.pools if p.name in used]
    names = [p.name for p in pools]
    class_pool = np.array([names.index(p) for p, _ in classes])
    specs = tuple(PoolSpec(p.name, tuple((x.start_hour, x.end_hour, x.staff) for x in p.shifts),
                           p.handle_minutes / 60.0, p.handle_distribution, p.handle_cv)
                  for p in pools)
    follow = np.array([p.followup_hours for p in pools], dtype=np.float64)
    handle = np.array([p.handle_minutes / 60 for p in pools], dtype=np.float64)
    resolution = np.array([pools[class_pool[c]].followup_hours
                           + pools[class_pool[c]].handle_minutes / 60
                           for c in range(len(classes))])
    return ServiceRouting(
        classes=tuple(classes),
        class_of_tier=_ro(np.array([classes.index(c) for c in zip(pool_of_tier, prio_of_tier)],
                                   dtype=np.int64)),
        class_pool=_ro(class_pool), escalate_after=int(escalate_after),
        escalation_class=escalation_class, pool_names=tuple(names), pools=specs,
        cost_per_agent_hour=_ro(np.array([p.cost_per_agent_hour_cny for p in pools],
                                         dtype=np.float64)),
        handle_hours=_ro(handle), followup_hours=_ro(follow), resolution_hours=_ro(resolution),
        deflect=float(svc.bot.simple_share * svc.bot.deflect_share) if svc.bot.enabled else 0.0,
        bot_cost=float(svc.bot.cost_per_contact_cny) if svc.bot.enabled else 0.0,
        sla_hours=float(svc.sla_hours), window_contacts=int(svc.window_contacts),
        wait_sat_per_hour=float(svc.wait_satisfaction_per_hour),
        slow_hours=float(svc.slow_resolution_hours),
        slow_penalty=float(svc.slow_resolution_penalty),
        churn_per_sat_point=float(svc.churn_per_satisfaction_point),
    )


def _campaigns(sc: Scenario, enabled: bool) -> tuple[CampaignTable, ...]:
    out = []
    for cp in compile_promotions(sc, enabled):
        p = cp.promo
        f = cp.active_share
        in_promo = f * (1 + p.effect.order_rate) / (1 + f * p.effect.order_rate)
        priced = cp.channel < len(PROMO_CHANNELS) and p.cost_per_contact_cny > 0
        row = np.zeros(kernel.N_PROMO)
        life = ("all", "dormant", "at_risk").index(p.target_lifecycle)
        row[:] = (0.0, f, p.effect.order_rate, p.effect.spend_per_order,
                  max(0.0, 1 + p.effect.churn), in_promo * p.discount_share,
                  in_promo * p.margin_change, p.effect.satisfaction,
                  p.pull_forward_share, p.cost_per_contact_cny if priced else 0.0,
                  float(life), p.cost_per_reactivation_cny if life else 0.0)
        out.append(CampaignTable(cp.index, cp, _ro(row), cp.channel if priced else 0,
                                 float(p.reach_share),
                                 None if p.budget_cny is None else float(p.budget_cny),
                                 float(p.cost_per_contact_cny)))
    return tuple(out)


def season_by_run_month(sc: Scenario) -> np.ndarray | None:
    """The seasonal order-rate factor of run months 1..12 (index m - 1), None without one."""
    pop = sc.population
    if not pop.seasonality or pop.first_month is None:
        return None
    first = MONTH_NAMES.index(pop.first_month)
    by_month = [float(pop.seasonality.get(MONTH_NAMES[(first + k) % 12], 1.0)) for k in range(12)]
    if all(f == 1.0 for f in by_month):
        return None
    return _ro(np.array(by_month, dtype=np.float64))


def compile_scenario(sc: Scenario, horizon: int,
                     switch_off: tuple[str, ...] = ()) -> CompiledScenario:
    """The frozen parameters of one arm of ``sc`` over ``horizon`` months."""
    off = set(switch_off)
    segs = sc.segments
    n_seg, n_tiers = len(segs), len(sc.tiers)
    steps = max(1, sc.run.steps_per_month)
    f64 = lambda xs: np.array(list(xs), dtype=np.float64)  # noqa: E731
    base_rate = f64(s.orders_per_month for s in segs)
    cv = f64(max(s.order_rate_cv, 1e-6) for s in segs)
    scv = f64(s.spend_cv for s in segs)
    spend_sigma = np.sqrt(np.log1p(scv**2))
    spend_mu = np.log([s.spend_per_order_cny for s in segs]) - spend_sigma**2 / 2
    margin = f64(s.gross_margin for s in segs)
    hazard = f64(monthly_hazard(s.churn_annual) for s in segs)
    cpo = f64(s.contacts_per_order for s in segs)
    cmp = f64(s.complaints_per_order for s in segs)
    tol = f64(s.wait_tolerance_hours for s in segs)
    sat0 = f64(s.satisfaction_start for s in segs)
    sens = f64(s.sensitivity.service for s in segs)
    shares = f64(s.share for s in segs)
    mix = sc.population.acquisition.mix
    new_mix = f64(mix.get(s.name, 0.0) for s in segs) if mix else shares

    benefits_on = "benefits" not in off
    eff, cost = compile_benefits(sc, benefits_on)
    rules = sc.tier_rules
    pts = rules.points
    points_on = bool(pts.enabled and "points" not in off and rules.enabled)
    redeem_rate = 0.0
    if points_on:
        # Points apply to all members; valued by the benefits sensitivity.
        for s, seg in enumerate(segs):
            for t in range(n_tiers):
                eff.apply(t, s, pts.effect, seg.sensitivity.benefits)
        # The monthly share of a balance redeemed at which the stated share of points is
        # redeemed before expiry (theory.points_redemption_rate).
        redeem_rate = points_redemption_rate(pts.redemption_share, pts.expiry_months)
    for a in (eff.order, eff.spend, eff.churn, eff.sat_shift, eff.complaints, cost.share,
              cost.per_order, cost.per_month, cost.per_year, cost.price_share,
              cost.price_per_order, cost.price_per_year, cost.per_referral):
        a.setflags(write=False)

    h_step = hazard if steps == 1 else 1.0 - (1.0 - hazard) ** (1.0 / steps)
    segment_table = np.stack([base_rate, sat0, margin, cpo, cmp, spend_mu, spend_sigma, tol,
                              sens, h_step]).astype(np.float64)
    group_table = np.stack([np.asarray(x, dtype=np.float64).reshape(-1)
                            for x in (eff.order, eff.spend, eff.churn, eff.complaints,
                                      eff.sat_shift)])
    assert segment_table.shape[0] == kernel.N_SEG and group_table.shape[0] == kernel.N_GRP

    lifecycle = np.stack([f64(s.dormant_after_months for s in segs),
                          f64(s.dormant_order_factor for s in segs),
                          f64(s.dormant_churn_factor for s in segs),
                          f64(s.referrals_per_month for s in segs)])
    assert lifecycle.shape[0] == kernel.N_LC

    tiers_on = rules.enabled
    min_orders = np.array([t.min_orders for t in sc.tiers], dtype=np.int64)
    acq = sc.population.acquisition
    paid = acq.paid_spend_cny_per_month
    paid_new = paid / acq.cac_cny / (1.0 + paid / acq.saturation_cny_per_month)
    return CompiledScenario(
        name=sc.name, horizon=horizon, n_segments=n_seg, n_tiers=n_tiers,
        steps_per_month=steps, window_months=rules.window_months,
        customers=float(sc.population.customers),
        base_rate=_ro(base_rate), gamma_shape=_ro(1.0 / cv**2), spend_mu=_ro(spend_mu),
        spend_sigma=_ro(spend_sigma), margin=_ro(margin), hazard=_ro(hazard),
        churn_beta=tuple(churn_beta(s.churn_annual, s.churn_heterogeneity) for s in segs),
        contacts_per_order=_ro(cpo), complaints_per_order=_ro(cmp), wait_tolerance=_ro(tol),
        sat_start=_ro(sat0), service_sensitivity=_ro(sens), shares=_ro(shares),
        new_mix=_ro(new_mix), segment_table=_ro(segment_table),
        benefits_on=benefits_on, effects=eff, costs=cost, group_table=_ro(group_table),
        tiers_on=tiers_on,
        thresholds=_ro(np.array([t.threshold_cny for t in sc.tiers], dtype=np.float64)),
        min_orders=_ro(min_orders), track_orders=bool(min_orders.any()),
        review_months=tuple(review_months(rules.review, horizon)) if tiers_on else (),
        upgrade_immediate=bool(tiers_on and rules.upgrade == "immediate"),
        downgrade=rules.downgrade, grace_reviews=int(rules.grace_reviews),
        task_completion=float(rules.keep_task_completion),
        task_spend_uplift=float(rules.keep_task_spend_uplift),
        points_on=points_on, points_per_cny=float(pts.points_per_cny),
        points_redeem_rate=float(redeem_rate), point_value=float(pts.point_value_cny),
        points_expiry_months=int(pts.expiry_months),
        campaigns=_campaigns(sc, "promotions" not in off),
        service=_service(sc, "priority_service" not in off),
        new_per_month=float(acq.organic_per_month + paid_new), acquisition_spend=float(paid),
        discount=_ro(discount_factors(sc.run.discount_rate_annual, horizon)),
        lifecycle=_ro(lifecycle), wom_share=float(sc.service.negative_wom_share),
        lost_per_wom=float(acq.lost_per_negative_wom), paid_new_per_month=float(paid_new),
        season=season_by_run_month(sc),
        new_boost=(float(sc.population.new_customer_boost),
                   float(sc.population.new_customer_boost_months or 1.0))
        if sc.population.new_customer_boost else None,
    )
