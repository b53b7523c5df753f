"""The agent model: customers as numpy arrays, the calendar driven by SimPy.

One :class:`Simulation` runs one arm (the scenario or its counterfactual) of one
replication. Customers' state lives in arrays (about 90 bytes per customer);
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
from typing import cast

import numpy as np
import simpy
from scipy.special import gammaincinv

from simulator import kernel
from simulator import streams as st
from simulator.outputs import METRICS, MI, PROMO_CHANNELS, SERVICE_METRICS, ArmOutput, Cancelled
from simulator.promotions import compile_promotions
from simulator.scenario import Scenario
from simulator.service import DAYS_PER_MONTH, PoolSpec, ServiceStage
from simulator.theory import discount_factors, monthly_hazard
from simulator.tiers import BENEFIT_KINDS, compile_benefits, review_months

SWITCHES = ("benefits", "points", "promotions", "priority_service")

SAT_RELAX = 0.3  # share of the gap to the satisfaction target closed each month
# Static customer draws of recent arms (read-only arrays).
_STATIC_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


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
        entropy = int(cast(int, root.entropy))  # an int: the scenario's seed
        self.stage = ServiceStage(pools, entropy % (2**63), sc.service.window_contacts,
                                  variant=replication)  # independent queue noise per replication
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
        self.thresholds = np.array([t.threshold_cny for t in sc.tiers], dtype=np.float64)
        self.min_orders = np.array([t.min_orders for t in sc.tiers], dtype=np.int64)
        self.review_at = (set(review_months(sc.tier_rules.review, self.H)) if self.tiers_on
                          else set())

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
        self.class_of_tier = np.array([classes.index(c) for c in zip(pool_of_tier, prio_of_tier)],
                                      dtype=np.int64)
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
        self.disc = discount_factors(sc.run.discount_rate_annual, self.H)

    def _static(self, cap: int) -> None:
        """Per-customer draws that never change (prefix-stable in ``cap``).

        Both arms of a replication draw the same static customers, so the last
        few results are kept (read-only) and the second arm reuses them.
        """
        key = (self.rs.entropy, self.rs.replication, cap, self.n0, self.shares.tobytes(),
               self.new_mix.tobytes(), self.gamma_shape.tobytes())
        hit = _STATIC_CACHE.get(key)
        if hit is None:
            hit = self._draw_static(cap)
            for a in hit:
                a.setflags(write=False)
            if len(_STATIC_CACHE) >= 4:
                _STATIC_CACHE.pop(next(iter(_STATIC_CACHE)))
            _STATIC_CACHE[key] = hit
        self.s_seg, self.s_frailty, self.s_anniv = hit

    def _draw_static(self, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u_seg = self.rs.uniform(cap, st.STATIC_SEGMENT)
        seg = np.empty(cap, dtype=np.int8)
        n0 = min(self.n0, cap)
        seg[:n0] = np.searchsorted(np.cumsum(self.shares), u_seg[:n0], side="right").clip(
            0, self.S - 1)
        seg[n0:] = np.searchsorted(np.cumsum(self.new_mix), u_seg[n0:], side="right").clip(
            0, self.S - 1)
        u_f = np.clip(self.rs.uniform(cap, st.STATIC_FRAILTY), 1e-12, 1 - 1e-12)
        shape = self.gamma_shape[seg]
        frailty = (gammaincinv(shape, u_f) / shape).astype(np.float32)
        anniv = (self.rs.uniform(cap, st.STATIC_ANNIVERSARY) * 12).astype(np.int8)
        return seg, frailty, anniv

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
        self._no_orders = np.zeros(1, dtype=np.int32)  # stand-ins for arrays not kept
        self._no_order_hist = np.zeros((1, 1), dtype=np.int16)
        self._no_points = np.zeros(1, dtype=np.float32)
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
            o = st.poisson_inverse(u, lam)
            # One value per order, as in the months (kernel.compound_value).
            self.spend_hist[k, :n0] = kernel.compound_values(
                self.rs.key(st.HISTORY_SPEND, k), o, self.spend_mu[seg], self.spend_sigma[seg])
            if self.order_hist is not None:  # kept when self.track_orders
                self.order_hist[k, :n0] = o
        self.rolling = self.spend_hist.sum(0, dtype=np.float64)  # rolling spend, CNY
        self.rolling_orders = (self.order_hist.sum(0, dtype=np.int32)
                               if self.order_hist is not None else None)
        if self.tiers_on:
            self.tier[:n0] = self._qualified(slice(0, n0))
        self.tier_start[:n0] = self.tier[:n0]
        self.hist_pos = W - 1  # row of the latest month; the next month overwrites row 0

    def _qualified(self, sl) -> np.ndarray:
        spend = self.rolling[sl]
        orders = self.rolling_orders[sl] if self.rolling_orders is not None else None
        if orders is None:
            orders = self._no_orders
        return kernel.qualified(np.ascontiguousarray(spend), np.ascontiguousarray(orders),
                                self.thresholds, self.min_orders, self.track_orders)

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
        h_step = self.hazard if self.K == 1 else 1.0 - (1.0 - self.hazard) ** (1.0 / self.K)
        self.seg_f = np.ascontiguousarray(np.stack([
            self.base_rate, self.sat0, self.margin, self.cpo, self.cmp, self.spend_mu,
            self.spend_sigma, self.tol, self.sens_service, h_step]), dtype=np.float64)
        self.grp_f = np.ascontiguousarray(np.stack([
            np.asarray(x, dtype=np.float64).reshape(-1)
            for x in (self.eff.order, self.eff.spend, self.eff.churn, self.eff.complaints,
                      self.eff.sat_shift)]))
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

                raise Cancelled()
            self._month(m)

    def _reviews(self, env):
        for m in sorted(self.review_at):
            yield env.timeout((m - 1) + 0.9 - env.now)
            self._review(m)

    # ------------------------------------------------------------- the month
    def _month_tables(self, m: int, reach: dict[int, float]) -> tuple[np.ndarray, tuple]:
        """The month's draw keys, and the kernel arguments both passes share.

        The arguments are the customer tables, the keep-your-tier task and the campaigns
        running this month.
        """
        K = self.K
        rs = self.rs
        purposes = (st.ORDERS, st.SPEND, st.QUESTIONS, st.COMPLAINTS, st.BOT, st.WAIT,
                    st.CHURN)
        keys = np.array([[rs.key(p, m, k) for p in purposes] for k in range(K)],
                        dtype=np.uint64)
        live = [cp for cp in self.promos
                if cp.index in self.active_promos and reach.get(cp.index, 0.0) > 0]
        P, S, G = len(live), self.S, self.S * self.T
        promo_f = np.zeros((kernel.N_PROMO, P))
        promo_chan = np.zeros(P, dtype=np.int64)
        promo_target = np.zeros((P, G), dtype=np.bool_)
        promo_redeem = np.zeros((P, S))
        promo_above = np.zeros((P, S))
        promo_keys = np.zeros((P, 2), dtype=np.uint64)
        for j, cp in enumerate(live):
            p = cp.promo
            f = self.active_promos[cp.index]
            in_promo = f * (1 + p.effect.order_rate) / (1 + f * p.effect.order_rate)
            priced = cp.channel < len(PROMO_CHANNELS) and p.cost_per_contact_cny > 0
            promo_f[:, j] = (reach[cp.index], f, p.effect.order_rate, p.effect.spend_per_order,
                             max(0.0, 1 + p.effect.churn), in_promo * p.discount_share,
                             in_promo * p.margin_change, p.effect.satisfaction,
                             p.pull_forward_share, p.cost_per_contact_cny if priced else 0.0)
            promo_chan[j] = cp.channel if priced else 0
            promo_target[j] = cp.target.reshape(-1)
            promo_redeem[j] = cp.redeem_prob
            promo_above[j] = cp.above_threshold
            promo_keys[j] = (rs.key(st.PROMO_REACH + 2 * cp.index, m),
                             rs.key(st.PROMO_REDEEM + 2 * cp.index, m))
        nxt = [r for r in sorted(self.review_at) if r >= m]
        rules = self.sc.tier_rules
        task_on = bool(self.tiers_on and rules.downgrade == "keep_task" and self.benefits_on
                       and nxt and nxt[0] - m < 3)
        # The customers who take up the task are those who complete it at the review.
        task_key = rs.key(st.TASK, nxt[0]) if task_on else np.uint64(0)
        shared = (self.seg_f, self.grp_f, self.class_of_tier, int(self.esc_n),
                  int(getattr(self, "esc_class", 0)), float(self.deflect),
                  task_on, task_key, float(rules.keep_task_completion),
                  float(rules.keep_task_spend_uplift), self.thresholds, self.min_orders,
                  self.track_orders,
                  promo_f, promo_chan, promo_target, promo_redeem, promo_above, promo_keys)
        return keys, shared

    def _promo_reach(self, m: int) -> dict[int, float]:
        """Share of each active campaign's targets it reaches (budget caps included)."""
        out: dict[int, float] = {}
        if not self.active_promos:
            return out
        for cp in self.promos:
            if cp.index not in self.active_promos:
                continue
            p = cp.promo
            reach = p.reach_share
            if p.budget_cny is not None:
                n_t = float(self._alive_groups[cp.target.reshape(-1)].sum()) * self.weight
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
        # numpy's stubs do not accept a tuple index in ufunc.at
        np.add.at(self.out.ltv_n, (self.s_seg[idx], 0), self.weight)  # type: ignore[arg-type]

    def _month(self, m: int) -> None:
        self._acquire(m)
        n, w, S, T = self.n, self.weight, self.S, self.T
        G = S * T
        self._alive_groups, cohorts = self._census_at_start(m)
        reach = self._promo_reach(m)
        keys, shared = self._month_tables(m, reach)
        rolling_orders = self.rolling_orders if self.track_orders else self._no_orders
        slot = (self.hist_pos + 1) % self.W  # the oldest month, overwritten now
        pts = self.sc.tier_rules.points
        svc = self.sc.service

        def step(load_only: bool, class_q, windows: tuple, costs: tuple, outputs: tuple):
            kernel.month_step(
                load_only, class_q,
                n, self.n0, self.s_seg, self.tier, self.alive, self.tier_start, self.s_anniv,
                self.s_frailty, self.sat, self.points if self.points_on else self._no_points,
                self.debt, self.complaints_window, self.rolling, rolling_orders,
                self.spend_hist, self.order_hist if self.track_orders else self._no_order_hist,
                slot, self.y1_orders, self.y1_gross, *shared, keys, *windows,
                svc.wait_satisfaction_per_hour, svc.slow_resolution_hours,
                svc.slow_resolution_penalty, svc.churn_per_satisfaction_point, SAT_RELAX,
                *costs, *self.cost.totals(), self.cost.price_share,
                self.cost.price_per_order, self.cost.price_per_year,
                bool(self.points_on), float(pts.points_per_cny),
                float(getattr(self, "points_redeem_rate", 0.0)), float(pts.point_value_cny),
                bool(self.points_on and m % pts.expiry_months == 0), (m - 1) % 12,
                m <= 12, m % 12 == 0,
                bool(self.tiers_on and self.sc.tier_rules.upgrade == "immediate"), *outputs)

        # Pass 1: the real shop's expected contact load per service class.
        class_q = np.zeros(len(self.classes))
        no_windows = (np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                      np.zeros(1))
        no_out = (np.zeros((kernel.N_ACC, G)), np.zeros(G),
                  np.zeros((len(PROMO_CHANNELS), G)))
        step(True, class_q, no_windows, (0.0, 0.0, 0.0), no_out)
        days = DAYS_PER_MONTH
        class_rate = class_q * w / (days * 24)
        windows = {}
        svc_out = self.out.service[m - 1]
        total_staff_cost = 0.0
        for pi, pool in enumerate(self.pool_objs):
            rates = {self.classes[c][1]: class_rate[c] for c in range(len(self.classes))
                     if self.class_pool[c] == pi}
            win = self.stage.month(pool.name, rates, days * 24)
            windows[pi] = win
            staff_cost = self.stage.pools[pool.name].agent_hours_per_day * days * \
                pool.cost_per_agent_hour_cny
            total_staff_cost += staff_cost
            contacts = sum(rates.values()) * days * 24
            mean_w, p90, sla = _pool_wait_stats(win.waits, rates, self.sc.service.sla_hours)
            svc_out[pi] = (contacts, mean_w, p90, sla, win.utilisation, staff_cost,
                           mean_w + pool.handle_minutes / 60 + pool.followup_hours,
                           win.queue_length, win.unanswered_share, win.backlog,
                           float(win.overloaded))
        q_total = class_q.sum()
        n_alive = float(self._alive_groups.sum())
        cost_per_q = total_staff_cost / (q_total * w) if q_total > 0 else 0.0
        cost_per_member = 0.0 if q_total > 0 else total_staff_cost / max(n_alive * w, 1e-9)
        samples = [windows[self.class_pool[c]].waits.get(self.classes[c][1])
                   for c in range(len(self.classes))]
        follow_cls = np.array([self.pool_objs[self.class_pool[c]].followup_hours
                               + self.pool_objs[self.class_pool[c]].handle_minutes / 60
                               for c in range(len(self.classes))])
        sample_size = np.array([0 if x is None else x.size for x in samples], dtype=np.int64)
        sample_start = np.concatenate([[0], np.cumsum(sample_size)[:-1]]).astype(np.int64)
        flat = np.concatenate([x for x in samples if x is not None and x.size] or
                              [np.zeros(1)])

        # Pass 2: behaviour, costs, the month's group sums and next month's state.
        acc = np.zeros((len(METRICS), G))
        kacc = np.zeros((kernel.N_ACC, G))
        ltv = np.zeros(G)
        chan_cost = np.zeros((len(PROMO_CHANNELS), G))
        step(False, class_q, (flat, sample_start, sample_size, follow_cls),
             (float(cost_per_q), float(self.deflect * self.bot_cost), float(cost_per_member)),
             (kacc, ltv, chan_cost))
        self.hist_pos = slot
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
        self.out.cohort_alive[:, m - 1] = cohorts * w

        if m == 12:
            self._year1()
        self._acc = acc
        self._store_members(m)

    def _census(self) -> tuple[np.ndarray, np.ndarray]:
        """Alive customers per group [T*S] (tier-major) and per join cohort [H+1]."""
        return kernel.census(self.n, self.s_seg, self.tier, self.alive, self.join, self.S,
                             self.S * self.T, self.H + 1)

    def _census_at_start(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """The census after last month's churn and reviews, plus this month's new customers."""
        last = getattr(self, "_last_census", None)
        if last is None:
            return self._census()
        groups, cohorts = last[0].copy(), last[1].copy()
        if self.new_idx.size:
            groups[:self.S] += np.bincount(self.s_seg[self.new_idx], minlength=self.S)
            cohorts[m] += self.new_idx.size
        return groups, cohorts

    def _store_members(self, m: int) -> None:
        """Members per tier at the end of month m (after churn, upgrades and reviews)."""
        S, T = self.S, self.T
        acc = self._acc
        self._last_census = self._census()
        acc[MI["members_end"]] = self._last_census[0] * self.weight
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
            u = kernel.uniforms(self.rs.key(st.TASK, m), n)  # as the month's task take-up
            done = at_risk & (u < rules.keep_task_completion)
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
