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

from simulator import kernel
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
CHUNK = 16384  # customers per chunk: keeps the working set in cache


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


def _pool_wait_stats(waits: dict, rates: dict, sla_hours: float) -> tuple[float, float, float]:
    """Mean, P90 and SLA attainment of a pool's waits, classes weighted by arrivals."""
    total = sum(r for p, r in rates.items() if p in waits and r > 0)
    if total <= 0:
        return 0.0, 0.0, 1.0
    vals, wts = [], []
    for p, r in rates.items():
        if r > 0 and p in waits and waits[p].size:
            vals.append(waits[p])
            wts.append(np.full(waits[p].size, r / total / waits[p].size))
    v = np.concatenate(vals)
    w = np.concatenate(wts)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cw = np.cumsum(w)
    p90 = float(v[min(np.searchsorted(cw, 0.9 * cw[-1]), v.size - 1)])
    return float((v * w).sum() / cw[-1]), p90, float(w[v <= sla_hours].sum() / cw[-1])


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
        self.y1_gross = np.zeros(self.n0)
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
        self.rolling = self.spend_hist.sum(0, dtype=np.float64)  # rolling spend, CNY
        self.rolling_orders = (self.order_hist.sum(0, dtype=np.int32) if self.track_orders
                               else None)
        if self.tiers_on:
            self.tier[:n0] = self._qualified(slice(0, n0))
        self.tier_start[:n0] = self.tier[:n0]
        self.hist_pos = W - 1  # row of the latest month; the next month overwrites row 0

    def _qualified(self, sl) -> np.ndarray:
        spend = self.rolling[sl]
        orders = self.rolling_orders[sl] if self.track_orders else None
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
        self.rolling = ext(self.rolling)
        if self.order_hist is not None:
            self.order_hist = ext(self.order_hist)
            self.rolling_orders = ext(self.rolling_orders)
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
    def _gens(self, m: int) -> dict:
        """Fresh generators for the month's draws; chunks draw from them in order."""
        K = self.K
        g = {}
        for k in range(K):
            for p in (st.ORDERS, st.SPEND, st.QUESTIONS, st.COMPLAINTS, st.BOT, st.WAIT,
                      st.CHURN):
                g[(p, k)] = self.rs.gen(p, m, k)
        for cp in self.promos:
            if cp.index in self.active_promos:
                g[(st.PROMO_REACH + 2 * cp.index,)] = self.rs.gen(st.PROMO_REACH + 2 * cp.index, m)
                g[(st.PROMO_REDEEM + 2 * cp.index,)] = self.rs.gen(st.PROMO_REDEEM + 2 * cp.index, m)
        nxt = [r for r in sorted(self.review_at) if r >= m]
        self._task_review = None
        rules = self.sc.tier_rules
        if (self.tiers_on and rules.downgrade == "keep_task" and self.benefits_on and nxt
                and nxt[0] - m < 3):
            self._task_review = nxt[0]
            g[(st.TASK,)] = self.rs.gen(st.TASK, nxt[0])
        return g

    def _inputs(self, a: int, b: int, gens: dict, promo_reach: dict) -> dict:
        """Per-customer rates and multipliers for customers a..b-1 this month."""
        S = self.S
        si = self.s_seg[a:b].astype(np.intp)
        tier = self.tier[a:b]
        alive = self.alive[a:b]
        g = tier.astype(np.intp) * S + si  # group id, [T, S] order
        order_mult = np.take(self.eff.order, g)
        spend_mult = np.take(self.eff.spend, g)
        churn_mult = np.take(self.eff.churn, g)
        compl_mult = np.take(self.eff.complaints, g)
        sat_target = np.take(self.sat0, si) + np.take(self.eff.sat_shift, g)
        margin = np.take(self.margin, si)
        nn = b - a
        if self._task_review is not None:
            rules = self.sc.tier_rules
            u = gens[(st.TASK,)].random(nn)
            at_risk = alive & (self._qualified(slice(a, b)) < tier)
            takes = at_risk & (u < rules.keep_task_completion)
            spend_mult = np.where(takes, spend_mult * (1 + rules.keep_task_spend_uplift),
                                  spend_mult)
        base_lam = np.take(self.base_rate, si) * self.s_frailty[a:b] * order_mult
        extra = np.zeros(nn)
        disc_share = np.zeros(nn)
        reached_cost = np.zeros(nn)
        chan = []  # (channel index, cost per customer array)
        pull = np.zeros(nn)
        for cp in self.promos:
            f = self.active_promos.get(cp.index)
            if f is None:
                continue
            p = cp.promo
            u_reach = gens[(st.PROMO_REACH + 2 * cp.index,)].random(nn)
            u_red = gens[(st.PROMO_REDEEM + 2 * cp.index,)].random(nn)
            reach = promo_reach.get(cp.index, 0.0)
            if reach <= 0:
                continue
            targeted = alive & np.take(cp.target, g)
            reached = targeted & (u_reach < reach)
            redeem = reached & (u_red < np.take(cp.redeem_prob, si))
            if cp.channel < len(PROMO_CHANNELS) and p.cost_per_contact_cny > 0:
                c = reached * p.cost_per_contact_cny
                chan.append((cp.channel, c))
                reached_cost += c
            extra += np.where(redeem, base_lam * (p.effect.order_rate * f), 0.0)
            spend_mult = np.where(redeem, spend_mult * (1 + p.effect.spend_per_order * f),
                                  spend_mult)
            churn_mult = np.where(redeem, churn_mult * max(0.0, 1 + p.effect.churn), churn_mult)
            in_promo = f * (1 + p.effect.order_rate) / (1 + f * p.effect.order_rate)
            disc_share += np.where(redeem, in_promo * p.discount_share *
                                   np.take(cp.above_threshold, si), 0.0)
            margin = margin + np.where(redeem, in_promo * p.margin_change, 0.0)
            sat_target = np.where(redeem, sat_target + p.effect.satisfaction, sat_target)
            pull = np.where(redeem, np.maximum(pull, p.pull_forward_share), pull)
        lam = np.where(alive, np.maximum(0.0, base_lam + extra - self.debt[a:b]), 0.0)
        cls = np.take(self.class_of_tier, tier.astype(np.intp))
        if self.esc_n > 0:
            cls = np.where(self.complaints_window[a:b] >= self.esc_n - 1, self.esc_class, cls)
        q_rate = lam * (np.take(self.cpo, si) * (1 - self.deflect)
                        + np.take(self.cmp, si) * compl_mult)
        return dict(si=si, g=g, alive=alive, spend_mult=spend_mult, churn_mult=churn_mult,
                    compl_mult=compl_mult, sat_target=sat_target, margin=margin, lam=lam,
                    extra=extra, pull=pull, disc_share=disc_share, chan=chan,
                    reached_cost=reached_cost, cls=cls, q_rate=q_rate)

    def _promo_reach(self, m: int) -> dict[int, float]:
        """Share of each active campaign's targets it reaches (budget caps included)."""
        out = {}
        n = self.n
        if not self.active_promos:
            return out
        seg = self.s_seg[:n].astype(np.intp)
        g = self.tier[:n].astype(np.intp) * self.S + seg
        alive = self.alive[:n]
        for cp in self.promos:
            if cp.index not in self.active_promos:
                continue
            p = cp.promo
            reach = p.reach_share
            if p.budget_cny is not None:
                n_t = float(np.count_nonzero(alive & np.take(cp.target, g))) * self.weight
                if p.cost_per_contact_cny > 0 and n_t > 0:
                    reach = min(reach, p.budget_cny / (p.cost_per_contact_cny * n_t))
                elif p.budget_cny <= 0:
                    reach = 0.0
            out[cp.index] = reach
        return out

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
        n, w, S, T, K = self.n, self.weight, self.S, self.T, self.K
        G = S * T
        chunks = [(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
        reach = self._promo_reach(m)

        # Pass 1: the real shop's expected contact load per service class.
        gens = self._gens(m)
        class_q = np.zeros(len(self.classes))
        inputs = []
        for a, b in chunks:
            x = self._inputs(a, b, gens, reach)
            inputs.append(x)
            class_q += np.bincount(x["cls"], weights=x["q_rate"], minlength=len(self.classes))
        days = DAYS_PER_MONTH
        class_rate = class_q * w / (days * 24)
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
            contacts = sum(rates.values()) * days * 24
            mean_w, p90, sla = _pool_wait_stats(win.waits, rates, self.sc.service.sla_hours)
            svc_out[pi] = (contacts, mean_w, p90, sla, win.utilisation, staff_cost,
                           mean_w + pool.handle_minutes / 60 + pool.followup_hours)
        q_total = class_q.sum()
        n_alive = float(np.count_nonzero(self.alive[:n]))
        cost_per_q = total_staff_cost / (q_total * w) if q_total > 0 else 0.0
        cost_per_member = 0.0 if q_total > 0 else total_staff_cost / max(n_alive * w, 1e-9)
        samples = [windows[self.class_pool[c]].waits.get(self.classes[c][1])
                   for c in range(len(self.classes))]
        follow_cls = np.array([self.pool_objs[self.class_pool[c]].followup_hours
                               + self.pool_objs[self.class_pool[c]].handle_minutes / 60
                               for c in range(len(self.classes))])
        svc = self.sc.service
        share_t, order_t, month_t, year_t = self.cost.totals()

        # Pass 2: behaviour, costs and the month's tables, chunk by chunk (fused kernel).
        acc = np.zeros((len(METRICS), G))
        kacc = np.zeros((kernel.N_ACC, G))
        ltv = np.zeros(G)
        chan_cost = np.zeros((len(PROMO_CHANNELS), G))
        alive_start = self.alive[:n].copy()
        C = len(self.classes)
        sample_size = np.array([0 if x is None else x.size for x in samples], dtype=np.int64)
        sample_start = np.concatenate([[0], np.cumsum(sample_size)[:-1]]).astype(np.int64)
        flat = np.concatenate([x for x in samples if x is not None and x.size] or
                              [np.zeros(1)])
        h_step = self.hazard if K == 1 else 1.0 - (1.0 - self.hazard) ** (1.0 / K)
        pts = self.sc.tier_rules.points
        points_arr = self.points if self.points_on else np.zeros(0, dtype=np.float32)
        draw_purposes = (st.ORDERS, st.SPEND, st.QUESTIONS, st.COMPLAINTS, st.BOT, st.WAIT,
                         st.CHURN)
        for (a, b), x in zip(chunks, inputs):
            nn = b - a
            draws = []
            for p in draw_purposes:
                arr = np.empty((K, nn), dtype=np.float32)
                for k in range(K):
                    gen = gens[(p, k)]
                    if p == st.SPEND:
                        gen.standard_normal(nn, dtype=np.float32, out=arr[k])
                    else:
                        gen.random(nn, dtype=np.float32, out=arr[k])
                draws.append(arr)
            self.debt[a:b] = (x["extra"] * x["pull"]).astype(np.float32)
            orders = np.empty(nn, dtype=np.int64)
            gross = np.empty(nn)
            complaints_m = np.empty(nn, dtype=np.int64)
            churned = np.empty(nn, dtype=np.bool_)
            kernel.month_chunk(
                x["si"], x["g"], alive_start[a:b], self.tier[a:b].astype(np.intp),
                self.tier_start[a:b].astype(np.intp), self.s_anniv[a:b], x["spend_mult"],
                x["churn_mult"], x["compl_mult"], x["sat_target"], x["margin"], x["lam"],
                x["disc_share"], x["reached_cost"], x["cls"].astype(np.intp), x["q_rate"],
                self.sat[a:b], points_arr[a:b] if self.points_on else points_arr,
                *draws,
                self.spend_mu, self.spend_sigma, self.cpo, self.cmp, self.tol,
                self.sens_service, self.sat0, h_step,
                flat, sample_start, sample_size, follow_cls,
                float(self.deflect), svc.wait_satisfaction_per_hour, svc.slow_resolution_hours,
                svc.slow_resolution_penalty, svc.churn_per_satisfaction_point, SAT_RELAX,
                float(cost_per_q), float(self.deflect * self.bot_cost), float(cost_per_member),
                share_t, order_t, month_t, year_t, self.cost.price_share,
                self.cost.price_per_order, self.cost.price_per_year,
                bool(self.points_on), float(pts.points_per_cny),
                float(getattr(self, "points_redeem_rate", 0.0)), float(pts.point_value_cny),
                bool(self.points_on and m % pts.expiry_months == 0), (m - 1) % 12,
                kacc, ltv, S, orders, gross, complaints_m, churned)
            for ch, c in x["chan"]:
                chan_cost[ch] += np.bincount(x["g"], weights=c, minlength=G)
            alive = alive_start[a:b]
            # State carried to next month.
            if m <= 12:
                self.y1_orders[a:b] += np.minimum(orders, 1000).astype(np.int16)
                if a < self.n0:
                    hi = min(b, self.n0)
                    self.y1_gross[a:hi] += gross[: hi - a]
            slot = (self.hist_pos + 1) % self.W  # the oldest month, overwritten now
            self.rolling[a:b] += gross - self.spend_hist[slot, a:b]
            self.spend_hist[slot, a:b] = gross
            if self.track_orders:
                o16 = np.minimum(orders, 30000).astype(np.int16)
                self.rolling_orders[a:b] += o16 - self.order_hist[slot, a:b]
                self.order_hist[slot, a:b] = o16
            cw = self.complaints_window[a:b] + np.minimum(complaints_m, 1000).astype(np.int16)
            self.complaints_window[a:b] = 0 if m % 12 == 0 else cw
            self.alive[a:b] = alive & ~churned

        self.hist_pos = (self.hist_pos + 1) % self.W
        # Group sums -> the month's table (real customers and CNY).
        g_gross, g_orders = kacc[kernel.A_GROSS], kacc[kernel.A_ORDERS]
        g_members, g_anniv, g_points = (kacc[kernel.A_MEMBERS], kacc[kernel.A_ANNIV],
                                        kacc[kernel.A_POINTS])
        for metric, col in (("price_concessions", kernel.A_PRICE),
                            ("gross_margin", kernel.A_MARGIN),
                            ("promotion_discount_cost", kernel.A_PROMO_DISC),
                            ("service_cost", kernel.A_SERVICE), ("contacts", kernel.A_CONTACTS),
                            ("complaints", kernel.A_COMPLAINTS),
                            ("wait_hours_sum", kernel.A_WAIT),
                            ("waited_customers", kernel.A_WAITED),
                            ("satisfaction_sum", kernel.A_SAT),
                            ("churned_customers", kernel.A_CHURNED)):
            acc[MI[metric]] = kacc[col]
        t_of_g = np.repeat(np.arange(T), S)
        for kidx, kind in enumerate(BENEFIT_KINDS):
            c = (self.cost.share[kidx][t_of_g] * g_gross + self.cost.per_order[kidx][t_of_g]
                 * g_orders + self.cost.per_month[kidx][t_of_g] * g_members
                 + self.cost.per_year[kidx][t_of_g] * g_anniv)
            if kind == "points":
                c = c + g_points
            acc[MI[f"benefit_cost_{kind}"]] = c
        acc[MI["active_customers"]] = g_members
        acc[MI["orders"]] = g_orders
        acc[MI["gross_revenue"]] = g_gross
        acc[MI["benefit_cost"]] = acc[[MI[f"benefit_cost_{k}"] for k in BENEFIT_KINDS]].sum(0)
        for ci, ch in enumerate(PROMO_CHANNELS):
            acc[MI[f"promotion_cost_{ch}"]] = chan_cost[ci]
        acc[MI["promotion_channel_cost"]] = chan_cost.sum(0)
        if self.new_idx.size:
            seg_new = self.s_seg[self.new_idx].astype(np.intp)  # new customers enter tier 0
            acc[MI["new_customers"], :S] = np.bincount(seg_new, minlength=S)
        acc *= w
        if self.acq_spend > 0:
            acc[MI["acquisition_cost"], :S] += self.acq_spend * self.new_mix  # entry tier
        acc[MI["net_revenue"]] = acc[MI["gross_revenue"]] - acc[MI["price_concessions"]]
        acc[MI["promotion_cost"]] = acc[MI["promotion_discount_cost"]] + acc[
            MI["promotion_channel_cost"]]
        acc[MI["total_cost"]] = (acc[MI["benefit_cost"]] + acc[MI["promotion_cost"]]
                                 + acc[MI["service_cost"]] + acc[MI["acquisition_cost"]])
        acc[MI["net_contribution"]] = acc[MI["gross_margin"]] - acc[MI["total_cost"]]
        self.out.ltv_sum += (ltv * w * self.disc[m - 1]).reshape(T, S).T
        self.out.cohort_alive[:, m - 1] = np.bincount(
            self.join[:n][alive_start], minlength=self.H + 1)[: self.H + 1] * w

        if m == 12:
            self._year1()
        if self.tiers_on and self.sc.tier_rules.upgrade == "immediate":
            q = self._qualified(slice(0, n))
            self.tier[:n] = np.where(self.alive[:n], np.maximum(self.tier[:n], q), self.tier[:n])
        self._acc = acc
        self._store_members(m)

    def _store_members(self, m: int) -> None:
        """Members per tier at the end of month m (after churn, upgrades and reviews)."""
        n, S, T = self.n, self.S, self.T
        acc = self._acc
        acc[MI["members_end"]] = np.bincount(
            self.tier[:n].astype(np.intp) * S + self.s_seg[:n], weights=self.alive[:n],
            minlength=S * T) * self.weight
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
        self._store_members(m)  # members at the end of this month reflect the review

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
