"""The agent model: customers as numpy arrays, the calendar driven by SimPy.

One :class:`Simulation` runs one arm (the scenario or its counterfactual) of one
replication. Customers' state lives in arrays (about 80 bytes per customer);
SimPy drives the month clock, campaign starts and ends, and tier reviews; the
service queue is a real-scale SimPy model in :mod:`simulator.service`.

Timing convention (per month m = 1..H):

1. campaigns that start in month m switch on; new customers join (they can
   buy in their first month);
2. customers alive at the start of the month buy (Poisson orders, lognormal
   order value), contact service, wait in the queue, update satisfaction;
3. at the end of the month some churn (they bought during the month, they are
   not counted as active next month); costs and revenue of month m are booked
   at its end and discounted by (1 + i)^-m;
4. tier upgrades (if immediate) and reviews (at the cadence) happen at the end
   of the month and apply from month m+1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy
from scipy.special import gammaincinv

from simulator import streams as st
from simulator.promotions import CHANNELS, compile_promotions
from simulator.scenario import Scenario
from simulator.service import DAYS_PER_MONTH, VARIANTS, PoolSpec, ServiceStage
from simulator.theory import monthly_hazard, monthly_rate
from simulator.tiers import BENEFIT_KINDS, compile_benefits, qualified_tier, review_months

SWITCHES = ("benefits", "points", "promotions", "priority_service")

# Monthly table: metric columns, in order.
PROMO_CHANNELS = CHANNELS[:-1]
METRICS = (
    ["active_customers", "new_customers", "churned_customers", "orders", "gross_revenue",
     "price_concessions", "net_revenue", "gross_margin", "benefit_cost"]
    + [f"benefit_cost_{k}" for k in BENEFIT_KINDS]
    + ["promotion_discount_cost", "promotion_channel_cost"]
    + [f"promotion_cost_{c}" for c in PROMO_CHANNELS]
    + ["promotion_cost", "service_cost", "acquisition_cost", "total_cost", "net_contribution",
       "contacts", "complaints", "wait_hours_sum", "waited_customers", "satisfaction_sum",
       "members_end"]
)
MI = {m: i for i, m in enumerate(METRICS)}
SERVICE_METRICS = ("contacts", "wait_mean_hours", "wait_p90_hours", "sla_attainment",
                   "utilisation", "staff_cost", "resolution_mean_hours")
SAT_RELAX = 0.3  # share of the gap to the satisfaction target closed each month


@dataclass
class ArmOutput:
    """Everything one arm of one replication produces (plain arrays)."""

    monthly: np.ndarray  # [H, S, T, len(METRICS)], real customers and CNY
    service: np.ndarray  # [H, P, len(SERVICE_METRICS)]
    pool_names: list[str]
    ltv_sum: np.ndarray  # [S, T] discounted contribution, CNY (tier = tier at start)
    ltv_n: np.ndarray  # [S, T] customers
    cohort_alive: np.ndarray  # [H+1, H] customers alive at start of month by join cohort
    cohort_size: np.ndarray  # [H+1]
    migration: np.ndarray  # [T, T+1] start tier -> end tier (last column: churned)
    y1: dict[str, np.ndarray] = field(default_factory=dict)  # year-1 statistics [S, T]
    windows: int = 0


class Simulation:
    """One arm of one replication."""

    def __init__(self, sc: Scenario, root: np.random.SeedSequence, replication: int,
                 agents: int, horizon: int, switch_off: tuple[str, ...] = (),
                 cancel=None):
        self.sc = sc
        self.H = horizon
        self.S = len(sc.segments)
        self.T = len(sc.tiers)
        self.K = max(1, sc.run.steps_per_month)
        self.rs = st.Streams(root, replication)
        self.cancel = cancel
        off = set(switch_off)
        self.weight = sc.population.customers / agents  # real customers per agent
        self.n0 = agents
        self._compile(off)
        pools = {
            p.name: PoolSpec(p.name, tuple((x.start_hour, x.end_hour, x.staff) for x in p.shifts),
                             p.handle_minutes / 60.0, p.handle_distribution, p.handle_cv)
            for p in sc.service.pools if p.name in self.pool_names
        }
        self.stage = ServiceStage(pools, int(root.entropy) % (2**63), sc.service.window_contacts,
                                  variant=replication % VARIANTS)
        self._init_population()

    # ------------------------------------------------------------------ setup
    def _compile(self, off: set[str]) -> None:
        sc = self.sc
        segs = sc.segments
        self.base_rate = np.array([s.orders_per_month for s in segs])
        cv = np.array([max(s.order_rate_cv, 1e-6) for s in segs])
        self.gamma_shape = 1.0 / cv**2
        scv = np.array([s.spend_cv for s in segs])
        self.spend_sigma = np.sqrt(np.log1p(scv**2))
        self.spend_mu = np.log([s.spend_per_order_cny for s in segs]) - self.spend_sigma**2 / 2
        self.margin = np.array([s.gross_margin for s in segs])
        self.hazard = np.array([monthly_hazard(s.churn_annual) for s in segs])
        self.cpo = np.array([s.contacts_per_order for s in segs])
        self.cmp = np.array([s.complaints_per_order for s in segs])
        self.tol = np.array([s.wait_tolerance_hours for s in segs])
        self.sat0 = np.array([s.satisfaction_start for s in segs])
        self.sens_service = np.array([s.sensitivity.service for s in segs])
        self.shares = np.array([s.share for s in segs])
        mix = sc.population.acquisition.mix
        self.new_mix = (np.array([mix.get(s.name, 0.0) for s in segs]) if mix else self.shares)

        self.benefits_on = "benefits" not in off
        self.eff, self.cost = compile_benefits(sc, self.benefits_on)
        pts = sc.tier_rules.points
        self.points_on = pts.enabled and "points" not in off and sc.tier_rules.enabled
        if self.points_on:
            # Points apply to all members; valued by the benefits sensitivity.
            for s, seg in enumerate(segs):
                w = seg.sensitivity.benefits
                for t in range(self.T):
                    self.eff.apply(t, s, pts.effect, w)
            half_life = max(pts.expiry_months / 2.0, 1.0)
            self.points_redeem_rate = 1.0 - (1.0 - pts.redemption_share) ** (1.0 / half_life)
        self.promos = compile_promotions(sc, "promotions" not in off)
        self.tiers_on = sc.tier_rules.enabled
        self.thresholds = np.array([t.threshold_cny for t in sc.tiers])
        self.min_orders = np.array([t.min_orders for t in sc.tiers])
        self.review_at = set(review_months(sc.tier_rules.review, self.H)) if self.tiers_on else set()

        # Service routing: (pool, priority) classes.
        svc = sc.service
        priority_on = "priority_service" not in off
        default_pool = svc.default_pool or svc.pools[0].name
        pool_of_tier = [(t.pool if (priority_on and t.pool) else default_pool) for t in sc.tiers]
        prio_of_tier = [(t.service_priority if priority_on else 0) for t in sc.tiers]
        esc = svc.escalation
        self.esc_n = esc.complaints_to_escalate if priority_on else 0
        classes = sorted(set(zip(pool_of_tier, prio_of_tier)))
        if self.esc_n > 0:
            esc_cls = (esc.to_pool or default_pool, esc.priority)
            classes = sorted(set(classes) | {esc_cls})
            self.esc_class = classes.index(esc_cls)
        self.classes = classes
        self.class_of_tier = np.array([classes.index(c) for c in zip(pool_of_tier, prio_of_tier)])
        used = {default_pool} | {p for p, _ in classes}
        self.pool_names = [p.name for p in svc.pools if p.name in used]
        self.pool_objs = [p for p in svc.pools if p.name in used]
        self.class_pool = np.array([self.pool_names.index(p) for p, _ in classes])
        self.deflect = (svc.bot.simple_share * svc.bot.deflect_share) if svc.bot.enabled else 0.0
        self.bot_cost = svc.bot.cost_per_contact_cny if svc.bot.enabled else 0.0

        acq = sc.population.acquisition
        paid = acq.paid_spend_cny_per_month
        self.paid_new = paid / acq.cac_cny / (1.0 + paid / acq.saturation_cny_per_month)
        self.new_per_month = acq.organic_per_month + self.paid_new
        self.acq_spend = paid
        self.disc = (1.0 + monthly_rate(sc.run.discount_rate_annual)) ** -np.arange(1, self.H + 1)

    def _static(self, cap: int) -> None:
        """Per-customer draws that never change (prefix-stable in ``cap``)."""
        u_seg = self.rs.uniform(cap, st.STATIC_SEGMENT)
        seg = np.empty(cap, dtype=np.int8)
        n0 = min(self.n0, cap)
        seg[:n0] = np.searchsorted(np.cumsum(self.shares), u_seg[:n0], side="right").clip(
            0, self.S - 1)
        seg[n0:] = np.searchsorted(np.cumsum(self.new_mix), u_seg[n0:], side="right").clip(
            0, self.S - 1)
        u_f = np.clip(self.rs.uniform(cap, st.STATIC_FRAILTY), 1e-12, 1 - 1e-12)
        shape = self.gamma_shape[seg]
        self.s_seg = seg
        self.s_frailty = (gammaincinv(shape, u_f) / shape).astype(np.float32)
        self.s_anniv = (self.rs.uniform(cap, st.STATIC_ANNIVERSARY) * 12).astype(np.int8)

    def _init_population(self) -> None:
        cap = int(self.n0 + self.new_per_month / self.weight * self.H * 1.25 + 64)
        self._static(cap)
        self.cap = cap
        self.n = self.n0
        n = cap
        W = self.sc.tier_rules.window_months
        self.W = W
        self.alive = np.zeros(n, dtype=bool)
        self.alive[: self.n0] = True
        self.tier = np.zeros(n, dtype=np.int8)
        self.sat = np.zeros(n, dtype=np.float32)
        self.spend_hist = np.zeros((W, n), dtype=np.float32)
        self.track_orders = bool(self.min_orders.any())
        self.order_hist = np.zeros((W, n), dtype=np.int16) if self.track_orders else None
        self.complaints_window = np.zeros(n, dtype=np.int16)
        self.below = np.zeros(n, dtype=np.int8)
        self.points = np.zeros(n, dtype=np.float32) if self.points_on else None
        self.join = np.zeros(n, dtype=np.int16)
        self.debt = np.zeros(n, dtype=np.float32)
        self.y1_orders = np.zeros(n, dtype=np.int16)
        self.tier_start = np.zeros(n, dtype=np.int8)
        n0 = self.n0
        seg = self.s_seg[:n0]
        self.sat[:n0] = self.sat0[seg]
        # Warm start: W months of baseline buying give the rolling spend and tiers.
        lam = self.base_rate[seg] * self.s_frailty[:n0]
        for k in range(W):
            u = self.rs.uniform(n0, st.HISTORY_ORDERS, k)
            z = self.rs.normal(n0, st.HISTORY_SPEND, k)
            o = st.poisson_inverse(u, lam)
            v = np.exp(self.spend_mu[seg] + self.spend_sigma[seg] * z)
            self.spend_hist[k, :n0] = o * v
            if self.track_orders:
                self.order_hist[k, :n0] = o
        if self.tiers_on:
            self.tier[:n0] = self._qualified(slice(0, n0))
        self.tier_start[:n0] = self.tier[:n0]
        self.hist_pos = 0

    def _qualified(self, sl) -> np.ndarray:
        spend = self.spend_hist[:, sl].sum(0)
        orders = self.order_hist[:, sl].sum(0) if self.track_orders else None
        return qualified_tier(spend, orders, self.thresholds, self.min_orders)

    def _grow(self, need: int) -> None:
        new_cap = int(max(need, self.cap * 1.5))
        old = self.cap
        self._static(new_cap)

        def ext(a, axis=-1):
            pad = [(0, 0)] * a.ndim
            pad[axis] = (0, new_cap - old)
            return np.pad(a, pad)

        for name in ("alive", "tier", "sat", "complaints_window", "below", "join", "debt",
                     "y1_orders", "tier_start"):
            setattr(self, name, ext(getattr(self, name)))
        self.spend_hist = ext(self.spend_hist)
        if self.order_hist is not None:
            self.order_hist = ext(self.order_hist)
        if self.points is not None:
            self.points = ext(self.points)
        self.cap = new_cap

    # --------------------------------------------------------------- the run
    def run(self) -> ArmOutput:
        """Run the SimPy calendar to the horizon and return the arm's arrays."""
        H, S, T = self.H, self.S, self.T
        P = len(self.pool_names)
        self.out = ArmOutput(
            monthly=np.zeros((H, S, T, len(METRICS))),
            service=np.zeros((H, P, len(SERVICE_METRICS))),
            pool_names=list(self.pool_names),
            ltv_sum=np.zeros((S, T)), ltv_n=np.zeros((S, T)),
            cohort_alive=np.zeros((H + 1, H)), cohort_size=np.zeros(H + 1),
            migration=np.zeros((T, T + 1)),
        )
        seg0 = self.s_seg[: self.n0]
        np.add.at(self.out.ltv_n, (seg0, self.tier_start[: self.n0]), self.weight)
        self.out.cohort_size[0] = self.n0 * self.weight
        self.active_promos: dict[int, float] = {}
        env = simpy.Environment()
        for cp in self.promos:
            env.process(self._campaign(env, cp))
        env.process(self._clock(env))
        if self.review_at:
            env.process(self._reviews(env))
        env.run(until=H)
        self._finish()
        self.out.windows = self.stage.simulated_windows
        return self.out

    # SimPy processes. Time is in months; within month m (at t = m-1):
    # campaigns switch at +0.0, customers act at +0.5, reviews happen at +0.9.
    def _campaign(self, env, cp):
        for m in range(1, self.H + 1):
            if cp.runs_in(m):
                yield env.timeout(max(0.0, (m - 1) - env.now))
                self.active_promos[cp.index] = cp.active_share
                yield env.timeout(0.95)
                self.active_promos.pop(cp.index, None)

    def _clock(self, env):
        for m in range(1, self.H + 1):
            yield env.timeout((m - 1) + 0.5 - env.now)
            if self.cancel is not None and self.cancel.is_set():
                from simulator.runner import Cancelled

                raise Cancelled()
            self._month(m)

    def _reviews(self, env):
        for m in sorted(self.review_at):
            yield env.timeout((m - 1) + 0.9 - env.now)
            self._review(m)

    # ------------------------------------------------------------- the month
    def _acquire(self, m: int) -> None:
        x = self.new_per_month / self.weight
        u = self.rs.uniform(1, st.ACQUISITION, m)[0]
        k = int(math.floor(x)) + (1 if u < x - math.floor(x) else 0)
        if k <= 0:
            self.new_idx = np.zeros(0, dtype=np.int64)
            return
        if self.n + k > self.cap:
            self._grow(self.n + k)
        idx = np.arange(self.n, self.n + k)
        self.n += k
        self.alive[idx] = True
        self.sat[idx] = self.sat0[self.s_seg[idx]]
        self.join[idx] = m
        self.new_idx = idx
        self.out.cohort_size[m] = k * self.weight
        np.add.at(self.out.ltv_n, (self.s_seg[idx], 0), self.weight)

    def _month(self, m: int) -> None:
        self._acquire(m)
        n = self.n
        w = self.weight
        seg = self.s_seg[:n]
        tier = self.tier[:n]
        alive = self.alive[:n]
        S, T = self.S, self.T
        g = tier.astype(np.int64) * S + seg  # group id in [T, S] order
        G = S * T
        acc = np.zeros((len(METRICS), G))

        def add(metric: str, values, weight_real: bool = True) -> None:
            acc[MI[metric]] += np.bincount(g, weights=values, minlength=G) * (w if weight_real else 1)

        self.out.cohort_alive[:, m - 1] = np.bincount(self.join[:n][alive], minlength=self.H + 1)[
            : self.H + 1] * w
        add("active_customers", alive.astype(np.float64))
        if self.new_idx.size:
            acc[MI["new_customers"]] += np.bincount(
                g[self.new_idx], minlength=G) * w

        # Multipliers from tier benefits (and points) for each customer.
        ts = tier.astype(np.int64) * S + seg
        order_mult = self.eff.order.ravel()[ts]
        spend_mult = self.eff.spend.ravel()[ts]
        churn_mult = self.eff.churn.ravel()[ts]
        compl_mult = self.eff.complaints.ravel()[ts]
        sat_target = self.sat0[seg] + self.eff.sat_shift.ravel()[ts]
        margin = self.margin[seg].copy()

        # Keep-your-tier task: members below their tier's threshold near a review work for it.
        rules = self.sc.tier_rules
        if self.tiers_on and rules.downgrade == "keep_task" and self.benefits_on:
            nxt = [r for r in self.review_at if r >= m]
            if nxt and nxt[0] - m < 3:
                at_risk = alive & (self._qualified(slice(0, n)) < tier)
                takes = at_risk & (self.rs.uniform(n, st.TASK, nxt[0]) < rules.keep_task_completion)
                spend_mult = np.where(takes, spend_mult * (1 + rules.keep_task_spend_uplift),
                                      spend_mult)

        # Promotions active this month.
        promo_disc_share = np.zeros(n)  # share of order value given away
        promo_margin = np.zeros(n)
        extra_rate = np.zeros(n)
        chan_cost = np.zeros((len(PROMO_CHANNELS), G))
        chan_cost_agent = np.zeros(n)
        base_lam = self.base_rate[seg] * self.s_frailty[:n] * order_mult
        for cp in self.promos:
            f = self.active_promos.get(cp.index)
            if f is None:
                continue
            p = cp.promo
            targeted = alive & cp.target.ravel()[ts]
            n_t = int(targeted.sum())
            if n_t == 0:
                continue
            reach = p.reach_share
            if p.budget_cny is not None:
                if p.cost_per_contact_cny > 0:
                    reach = min(reach, p.budget_cny / (p.cost_per_contact_cny * n_t * w))
                elif p.budget_cny <= 0:
                    reach = 0.0
            u_reach = self.rs.uniform(n, st.PROMO_REACH + 2 * cp.index, m)
            reached = targeted & (u_reach < reach)
            u_red = self.rs.uniform(n, st.PROMO_REDEEM + 2 * cp.index, m)
            redeem = reached & (u_red < cp.redeem_prob[seg])
            if cp.channel < len(PROMO_CHANNELS):
                c = reached * p.cost_per_contact_cny
                chan_cost[cp.channel] += np.bincount(g, weights=c, minlength=G) * w
                chan_cost_agent += c
            u_o = p.effect.order_rate * f
            extra_rate += np.where(redeem, base_lam * u_o, 0.0)
            spend_mult = np.where(redeem, spend_mult * (1 + p.effect.spend_per_order * f),
                                  spend_mult)
            churn_mult = np.where(redeem, churn_mult * max(0.0, 1 + p.effect.churn), churn_mult)
            in_promo = f * (1 + p.effect.order_rate) / (1 + f * p.effect.order_rate)
            promo_disc_share += np.where(redeem, in_promo * p.discount_share *
                                         cp.above_threshold[seg], 0.0)
            promo_margin += np.where(redeem, in_promo * p.margin_change, 0.0)
            sat_target = np.where(redeem, sat_target + p.effect.satisfaction, sat_target)
        margin = margin + promo_margin

        lam_month = np.where(alive, np.maximum(0.0, base_lam + extra_rate - self.debt[:n]), 0.0)
        self.debt[:n] = 0.0
        if self.promos and extra_rate.any():
            pf = np.zeros(n)
            for cp in self.promos:
                if cp.index in self.active_promos:
                    pf = np.maximum(pf, cp.promo.pull_forward_share)
            self.debt[:n] = (extra_rate * pf).astype(np.float32)

        # Service: expected queued contacts per customer -> real arrival rates per class.
        cls = self.class_of_tier[tier]
        if self.esc_n > 0:
            escalated = self.complaints_window[:n] >= self.esc_n - 1
            cls = np.where(escalated, self.esc_class, cls)
        q_rate = lam_month * (self.cpo[seg] * (1 - self.deflect) + self.cmp[seg] * compl_mult)
        days = DAYS_PER_MONTH
        class_rate = np.bincount(cls, weights=q_rate, minlength=len(self.classes)) * w / (days * 24)
        windows = {}
        svc_out = self.out.service[m - 1]
        total_staff_cost = 0.0
        for pi, pool in enumerate(self.pool_objs):
            rates = {self.classes[c][1]: class_rate[c] for c in range(len(self.classes))
                     if self.class_pool[c] == pi}
            win = self.stage.window(pool.name, rates)
            windows[pi] = win
            staff_cost = self.stage.pools[pool.name].agent_hours_per_day * days * \
                pool.cost_per_agent_hour_cny
            total_staff_cost += staff_cost
            allw = np.concatenate([win.waits[p] for p in win.waits]) if win.waits else np.zeros(1)
            contacts = sum(rates.values()) * days * 24
            mean_w = float(allw.mean())
            svc_out[pi] = (contacts, mean_w, float(np.quantile(allw, 0.9)),
                           float((allw <= self.sc.service.sla_hours).mean()), win.utilisation,
                           staff_cost, mean_w + pool.handle_minutes / 60 + pool.followup_hours)
        q_total = q_rate.sum()
        bot_cost_agent = lam_month * self.cpo[seg] * self.deflect * self.bot_cost
        if q_total > 0:
            service_agent = q_rate * (total_staff_cost / (q_total * w)) + bot_cost_agent
        else:
            service_agent = np.where(alive, total_staff_cost / max(alive.sum() * w, 1e-9), 0.0) \
                + bot_cost_agent

        # Behaviour steps within the month.
        K = self.K
        orders = np.zeros(n, dtype=np.int32)
        gross = np.zeros(n)
        complaints_m = np.zeros(n, dtype=np.int32)
        queued_m = np.zeros(n, dtype=np.int32)
        wait_sum = np.zeros(n)
        churned = np.zeros(n, dtype=bool)
        h_step = 1.0 - (1.0 - self.hazard[seg]) ** (1.0 / K)
        for k in range(K):
            live = alive & ~churned
            lam = np.where(live, lam_month / K, 0.0)
            o = st.poisson_inverse(self.rs.uniform(n, st.ORDERS, m, k), lam)
            z = self.rs.normal(n, st.SPEND, m, k)
            value = np.exp(self.spend_mu[seg] + self.spend_sigma[seg] * z) * spend_mult
            gross += o * value
            orders += o
            qn = st.poisson_inverse(self.rs.uniform(n, st.QUESTIONS, m, k), o * self.cpo[seg])
            cn = st.poisson_inverse(self.rs.uniform(n, st.COMPLAINTS, m, k),
                                    o * self.cmp[seg] * compl_mult)
            q_queued = (qn > 0) & (self.rs.uniform(n, st.BOT, m, k) >= self.deflect)
            has_q = q_queued | (cn > 0)
            waits = np.zeros(n)
            if has_q.any():
                u_w = self.rs.uniform(n, st.WAIT, m, k)
                for c in range(len(self.classes)):
                    sel = has_q & (cls == c)
                    if not sel.any():
                        continue
                    sample = windows[self.class_pool[c]].waits.get(self.classes[c][1])
                    if sample is None or sample.size == 0:
                        continue
                    waits[sel] = sample[(u_w[sel] * sample.size).astype(np.int64)]
            wait_sum += waits
            complaints_m += cn
            queued_m += np.where(q_queued, qn, 0) + cn
            # Satisfaction: relax toward target, minus penalties for slow service.
            pen = np.where(has_q, np.maximum(0.0, waits - self.tol[seg]), 0.0) * \
                self.sc.service.wait_satisfaction_per_hour
            if cn.any():
                pools = self.class_pool[cls]
                follow = np.array([p.followup_hours + p.handle_minutes / 60
                                   for p in self.pool_objs])[pools]
                slow = (cn > 0) & (waits + follow > self.sc.service.slow_resolution_hours)
                pen = pen + slow * self.sc.service.slow_resolution_penalty
            sat = self.sat[:n].astype(np.float64)
            sat = sat + (SAT_RELAX / K) * (sat_target - sat) - pen * self.sens_service[seg]
            sat = np.clip(sat, 0.0, 1.0)
            self.sat[:n] = np.where(live, sat, self.sat[:n])
            # Churn at the end of the step.
            hz = h_step * churn_mult * np.exp(
                self.sc.service.churn_per_satisfaction_point * (self.sat0[seg] - sat))
            churned |= live & (self.rs.uniform(n, st.CHURN, m, k) < np.minimum(hz, 1.0))

        # Costs of benefits (per customer total and by kind via group sums).
        share_t, order_t, month_t, year_t = self.cost.totals()
        anniv = alive & (self.s_anniv[:n] == (m - 1) % 12)
        ti = tier
        benefit_agent = (share_t[ti] * gross + order_t[ti] * orders + month_t[ti] * alive
                         + year_t[ti] * anniv)
        price_agent = (self.cost.price_share[ti] * gross + self.cost.price_per_order[ti] * orders
                       + self.cost.price_per_year[ti] * anniv)
        points_cost = np.zeros(n)
        if self.points_on:
            pts = self.sc.tier_rules.points
            bal = self.points[:n] + (gross * pts.points_per_cny).astype(np.float32)
            red = bal * self.points_redeem_rate
            points_cost = red * pts.point_value_cny
            bal = bal - red
            if m % pts.expiry_months == 0:
                bal[:] = 0.0
            self.points[:n] = np.where(alive, bal, 0.0)
        g_gross = np.bincount(g, weights=gross, minlength=G)
        g_orders = np.bincount(g, weights=orders, minlength=G)
        g_members = np.bincount(g, weights=alive, minlength=G)
        g_anniv = np.bincount(g, weights=anniv, minlength=G)
        t_of_g = np.repeat(np.arange(T), S)
        for kidx, kind in enumerate(BENEFIT_KINDS):
            c = (self.cost.share[kidx][t_of_g] * g_gross + self.cost.per_order[kidx][t_of_g]
                 * g_orders + self.cost.per_month[kidx][t_of_g] * g_members
                 + self.cost.per_year[kidx][t_of_g] * g_anniv) * w
            if kind == "points":
                c = c + np.bincount(g, weights=points_cost, minlength=G) * w
            acc[MI[f"benefit_cost_{kind}"]] += c
        benefit_agent = benefit_agent + points_cost
        promo_disc = promo_disc_share * gross
        contrib = gross * margin - benefit_agent - promo_disc - chan_cost_agent - service_agent

        add("orders", orders)
        add("gross_revenue", gross)
        add("price_concessions", price_agent + promo_disc)
        add("gross_margin", gross * margin)
        add("benefit_cost", benefit_agent)
        add("promotion_discount_cost", promo_disc)
        for ci, ch in enumerate(PROMO_CHANNELS):
            acc[MI[f"promotion_cost_{ch}"]] += chan_cost[ci]
        acc[MI["promotion_channel_cost"]] += chan_cost.sum(0)
        add("service_cost", service_agent)
        add("contacts", queued_m)
        add("complaints", complaints_m)
        add("wait_hours_sum", wait_sum)
        add("waited_customers", (queued_m > 0).astype(np.float64))
        add("satisfaction_sum", np.where(alive, self.sat[:n], 0.0))
        add("churned_customers", churned)
        if self.acq_spend > 0:
            acc[MI["acquisition_cost"], :S] += self.acq_spend * self.new_mix  # entry tier
        acc[MI["net_revenue"]] = acc[MI["gross_revenue"]] - acc[MI["price_concessions"]]
        acc[MI["promotion_cost"]] = acc[MI["promotion_discount_cost"]] + acc[
            MI["promotion_channel_cost"]]
        acc[MI["total_cost"]] = (acc[MI["benefit_cost"]] + acc[MI["promotion_cost"]]
                                 + acc[MI["service_cost"]] + acc[MI["acquisition_cost"]])
        acc[MI["net_contribution"]] = acc[MI["gross_margin"]] - acc[MI["total_cost"]]

        # LTV by (segment, tier at start), discounted to today.
        ltv = np.bincount(self.tier_start[:n].astype(np.int64) * S + seg, weights=contrib,
                          minlength=G) * w * self.disc[m - 1]
        self.out.ltv_sum += ltv.reshape(T, S).T

        # Year-1 statistics and state updates.
        if m <= 12:
            self.y1_orders[:n] += np.minimum(orders, 1000).astype(np.int16)
            if m == 1:
                self.y1_gross = np.zeros(self.n0)
            self.y1_gross += gross[: self.n0]
        self.hist_pos = (self.hist_pos + 1) % self.W
        self.spend_hist[self.hist_pos, :n] = gross
        if self.track_orders:
            self.order_hist[self.hist_pos, :n] = np.minimum(orders, 30000)
        cw = self.complaints_window[:n] + np.minimum(complaints_m, 1000).astype(np.int16)
        self.complaints_window[:n] = 0 if m % 12 == 0 else cw
        self.alive[:n] = alive & ~churned
        if m == 12:
            self._year1()
        # Immediate upgrades at the end of the month.
        if self.tiers_on and self.sc.tier_rules.upgrade == "immediate":
            q = self._qualified(slice(0, n))
            self.tier[:n] = np.where(self.alive[:n], np.maximum(self.tier[:n], q), self.tier[:n])
        acc[MI["members_end"]] = 0
        acc[MI["members_end"]] += np.bincount(
            self.tier[:n].astype(np.int64) * S + seg, weights=self.alive[:n], minlength=G) * w
        self._pending_members = m
        # acc is [metric, T*S] in tier-major order -> monthly [S, T, metric]
        self.out.monthly[m - 1] = acc.reshape(len(METRICS), T, S).transpose(2, 1, 0)

    def _review(self, m: int) -> None:
        n = self.n
        rules = self.sc.tier_rules
        alive = self.alive[:n]
        cur = self.tier[:n]
        q = self._qualified(slice(0, n))
        if rules.downgrade == "immediate":
            new = q
        elif rules.downgrade == "never":
            new = np.maximum(cur, q)
        elif rules.downgrade == "grace":
            below = q < cur
            self.below[:n] = np.where(below, self.below[:n] + 1, 0)
            drop = below & (self.below[:n] > rules.grace_reviews)
            new = np.where(drop, q, np.maximum(cur, q))
            self.below[:n] = np.where(drop, 0, self.below[:n])
        else:  # keep_task
            at_risk = q < cur
            done = at_risk & (self.rs.uniform(n, st.TASK, m) < rules.keep_task_completion)
            new = np.where(done, cur, q) if self.benefits_on else q
        self.tier[:n] = np.where(alive, new, cur).astype(np.int8)
        # Members at the end of this month reflect the review.
        if getattr(self, "_pending_members", None) == m:
            S, T = self.S, self.T
            seg = self.s_seg[:n]
            mem = np.bincount(self.tier[:n].astype(np.int64) * S + seg, weights=alive,
                              minlength=S * T) * self.weight
            self.out.monthly[m - 1, :, :, MI["members_end"]] = mem.reshape(T, S).T

    def _year1(self) -> None:
        """Retention, repurchase and high-frequency share among today's customers."""
        S, T = self.S, self.T
        n0 = self.n0
        seg = self.s_seg[:n0].astype(np.int64)
        t0 = self.tier_start[:n0].astype(np.int64)
        key = t0 * S + seg
        G = S * T

        def by(x):
            return (np.bincount(key, weights=x, minlength=G) * self.weight).reshape(T, S).T

        o = self.y1_orders[:n0]
        hf = o >= 36  # >= 3 orders a month (study B's high-frequency buyers)
        self.out.y1 = {
            "customers": by(np.ones(n0)),
            "retained": by(self.alive[:n0].astype(np.float64)),
            "repurchasers": by((o >= 2).astype(np.float64)),
            "buyers": by((o >= 1).astype(np.float64)),
            "gross": by(self.y1_gross),
            "gross_high_freq": by(np.where(hf, self.y1_gross, 0.0)),
            "high_freq_customers": by(hf.astype(np.float64)),
        }

    def _finish(self) -> None:
        n = self.n
        T = self.T
        alive = self.alive[:n]
        ts = self.tier_start[:n].astype(np.int64)
        end = np.where(alive, self.tier[:n].astype(np.int64), T)
        mig = np.bincount(ts * (T + 1) + end, minlength=T * (T + 1)).reshape(T, T + 1)
        # Only today's customers enter the migration matrix.
        mig0 = np.bincount(ts[: self.n0] * (T + 1) + end[: self.n0],
                           minlength=T * (T + 1)).reshape(T, T + 1)
        del mig
        self.out.migration = mig0 * self.weight
        if not self.out.y1:
            self._year1()
