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

from typing import cast

import numpy as np
import simpy

from simulator import accounting, customer_base, draws, kernel, threads
from simulator import streams as st
from simulator.compiled import SWITCHES, CompiledScenario, compile_scenario
from simulator.customer_base import CustomerBase
from simulator.outputs import (
    DEADWEIGHT,
    METRICS,
    MI,
    POINTS_FLOWS,
    PROMO_CHANNELS,
    SERVICE_METRICS,
    ArmOutput,
    Cancelled,
)
from simulator.population import Population
from simulator.scenario import Scenario
from simulator.service import DAYS_PER_MONTH, ServiceStage

__all__ = ["SWITCHES", "ArmOutput", "Cancelled", "Simulation", "SERVICE_METRICS"]

# Kernel accumulator rows behind ArmOutput.points_flows and ArmOutput.deadweight.
POINTS_ROWS = (kernel.A_PTS_ISSUED, kernel.A_PTS_REDEEMED, kernel.A_PTS_EXPIRED,
               kernel.A_PTS_BALANCE)
DEADWEIGHT_ROWS = (kernel.A_DW_MATCHED, kernel.A_DW_UNMATCHED, kernel.A_DW_COST_MATCHED,
                   kernel.A_DW_COST_UNMATCHED, kernel.A_DW_COST_NO_ORDER,
                   kernel.A_DW_PRICE_MATCHED, kernel.A_DW_PRICE_UNMATCHED)
_POINTS_IDX = np.array(POINTS_ROWS, dtype=np.intp)
_DEADWEIGHT_IDX = np.array(DEADWEIGHT_ROWS, dtype=np.intp)
_DRAWS = (st.ORDERS, st.SPEND, st.QUESTIONS, st.COMPLAINTS, st.BOT, st.WAIT, st.CHURN)


# The month's draw keys [step, purpose] by (seed, replication, month, steps): every arm of a
# replication uses the same ones (read only by the kernel). Bounded (cleared when full).
_MONTH_KEYS: dict[tuple, np.ndarray] = {}
_MONTH_KEYS_MAX = 1 << 12


def _month_keys(rs: st.Streams, m: int, steps: int) -> np.ndarray:
    """``[[rs.key(p, m, k) for p in _DRAWS] for k in range(steps)]`` (uint64), kept per process."""
    e = rs.entropy
    ck = (e if isinstance(e, int) or e is None else tuple(e), rs.replication, m, steps)
    keys = _MONTH_KEYS.get(ck)
    if keys is None:
        keys = np.array([[rs.key(p, m, k) for p in _DRAWS] for k in range(steps)],
                        dtype=np.uint64)
        if len(_MONTH_KEYS) >= _MONTH_KEYS_MAX:
            _MONTH_KEYS.clear()
        _MONTH_KEYS[ck] = keys
    return keys


class Simulation:
    """One arm of one replication.

    ``sc`` is the scenario (compiled here for ``horizon`` and ``switch_off``) or an
    already :class:`~simulator.compiled.CompiledScenario` (its own horizon and
    switches; ``horizon`` and ``switch_off`` must then agree or be left default).
    ``customers``: start from the shop's actual customers, one agent each (``agents``
    is then their number).
    """

    def __init__(self, sc: Scenario | CompiledScenario, root: np.random.SeedSequence,
                 replication: int, agents: int, horizon: int,
                 switch_off: tuple[str, ...] = (), cancel=None,
                 customers: CustomerBase | None = None, pairing: str | None = None):
        if isinstance(sc, CompiledScenario):
            if horizon != sc.horizon:
                raise ValueError(f"horizon {horizon} differs from the compiled {sc.horizon}")
            cs = sc
        else:
            cs = compile_scenario(sc, horizon, switch_off)
        self.cs = cs
        self.horizon = horizon
        # Deadweight pairing (simulator.execution): "record" keeps each month's orders per
        # customer (the counterfactual arm, ``orders_log``, one byte per customer and
        # month), "paired" reads them (``cf_log``, set before the run) month by month.
        if pairing not in (None, "record", "paired"):
            raise ValueError(f"pairing: {pairing!r} must be None, 'record' or 'paired'")
        self.pairing = pairing
        self.orders_log: list[np.ndarray] = []
        self.cf_log: list[np.ndarray] = []
        self.rs = st.Streams(root, replication)
        self.cancel = cancel
        if customers is not None:
            # Each agent one real customer: all of the file's, or a sample of ``agents``.
            customers = customer_base.sample(customers, agents,
                                             int(cast(int, root.entropy)), replication)
            agents = len(customers)
        self.weight = cs.customers / agents  # real customers per agent
        svc = cs.service
        entropy = int(cast(int, root.entropy))  # an int: the scenario's seed
        self.stage = ServiceStage(dict(zip(svc.pool_names, svc.pools)), entropy % (2**63),
                                  svc.window_contacts,
                                  variant=replication)  # independent queue noise per replication
        self._poll()
        # The set-up (static draws, warm start) looks at cancel between chunks of customers.
        self.population = Population(cs, self.rs, agents, self.weight, customers, cancel)
        tb = cs.costs.totals()
        self._tables = cs.kernel_tables()
        self._benefit_totals = tb
        self._points = kernel.Points(cs.points_on, cs.points_per_cny, cs.points_redeem_rate,
                                     cs.point_value)
        self._review_set = set(cs.review_months)
        self._last_census: tuple[np.ndarray, np.ndarray] | None = None
        self._referred = 0.0  # real customers referred last month (they join this month)
        self._spreaders = 0.0  # real customers spreading negative word of mouth last month
        # Read-only stand-ins of the kernel's arguments a pass does not use (pass 1 has no
        # queue windows; an arm not paired has no orders log).
        self._no_windows = kernel.Windows(np.zeros(1), np.zeros(1, dtype=np.int64),
                                          np.zeros(1, dtype=np.int64), np.zeros(1))
        self._stand_in = np.zeros(1, dtype=np.uint8)
        # Per pool: its service classes (index, priority).
        self._pool_classes = [[(c, svc.classes[c][1]) for c in range(len(svc.classes))
                               if svc.class_pool[c] == pi] for pi in range(len(svc.pools))]

    # --------------------------------------------------------------- the run
    def run(self) -> ArmOutput:
        """Run the SimPy calendar to the horizon and return the arm's arrays."""
        self.start()
        self.advance(self.horizon)
        return self.finish()

    def start(self) -> None:
        """Set up the arm's outputs and its SimPy calendar (nothing simulated yet)."""
        cs = self.cs
        H, n_seg, n_tiers = self.horizon, cs.n_segments, cs.n_tiers
        pop = self.population
        self.out = ArmOutput(
            monthly=np.zeros((H, n_seg, n_tiers, len(METRICS))),
            service=np.zeros((H, len(cs.service.pool_names), len(SERVICE_METRICS))),
            pool_names=list(cs.service.pool_names),
            ltv_sum=np.zeros((n_seg, n_tiers)), ltv_n=np.zeros((n_seg, n_tiers)),
            cohort_alive=np.zeros((H + 1, H)), cohort_size=np.zeros(H + 1),
            migration=np.zeros((n_tiers, n_tiers + 1)),
            points_flows=np.zeros((H, len(POINTS_FLOWS))),
            deadweight=np.zeros((len(DEADWEIGHT), n_seg, n_tiers)),
        )
        self.out.paired = self.pairing == "paired"
        # weight added customer by customer to zeros, in customer order (as np.add.at did)
        start_group = pop.segment[: pop.n0].astype(np.intp) * n_tiers + pop.tier_start[: pop.n0]
        self.out.ltv_n[:] = np.bincount(start_group, weights=np.full(pop.n0, self.weight),
                                        minlength=n_seg * n_tiers).reshape(n_seg, n_tiers)
        self.out.cohort_size[0] = pop.n0 * self.weight
        self.active_promos: set[int] = set()
        env = simpy.Environment()
        for ct in cs.campaigns:
            env.process(self._campaign(env, ct.index, ct.schedule.runs_in))
        env.process(self._clock(env))
        if self._review_set:
            env.process(self._reviews(env))
        self._env = env

    def advance(self, until: int) -> None:
        """Simulate up to the end of month ``until`` (months run in order, each once)."""
        self._env.run(until=until)

    def finish(self) -> ArmOutput:
        """Book the end of the horizon and return the arm's arrays."""
        self._finish()
        self.out.windows = self.stage.simulated_windows
        self.out.lifecycle = self.cs.lifecycle_on
        return self.out

    # SimPy processes. Time is in months; within month m (at t = m-1):
    # campaigns switch at +0.0, customers act at +0.5, reviews happen at +0.9.
    def _campaign(self, env, index: int, runs_in):
        for m in range(1, self.horizon + 1):
            if runs_in(m):
                yield env.timeout(max(0.0, (m - 1) - env.now))
                self.active_promos.add(index)
                yield env.timeout(0.95)
                self.active_promos.discard(index)

    def _clock(self, env):
        for m in range(1, self.horizon + 1):
            yield env.timeout((m - 1) + 0.5 - env.now)
            self._poll()
            self._month(m)

    def _poll(self) -> None:
        """Raise :class:`Cancelled` if the run was cancelled.

        Looked at often enough to stop within a second: each month, before each pool's
        queue window, and during the set-up (:class:`Population`, chunk by chunk).
        """
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _reviews(self, env):
        for m in sorted(self._review_set):
            yield env.timeout((m - 1) + 0.9 - env.now)
            self.population.review(m)
            self._store_members(m)  # members at the end of this month reflect the review

    # ------------------------------------------------------------- the month
    def _campaigns(self, m: int, alive_groups: np.ndarray) -> kernel.Campaigns:
        """Campaigns running this month, with their reach (budget caps included).

        A budget is a hard cap, as in the shop: the campaign reaches the targeted
        customers in the order of their reach draws until the next one would take the
        month's spend over it (:meth:`_budget_reach`). (It was a reach share whose cost
        was right only on average: with 600 agents standing for 60,000 customers a
        24,189 CNY budget spent 31,680.)
        """
        live = []
        for ct in self.cs.campaigns:
            if ct.index not in self.active_promos:
                continue
            reach = ct.reach_share
            keys = (self.rs.key(st.PROMO_REACH + 2 * ct.index, m),
                    self.rs.key(st.PROMO_REDEEM + 2 * ct.index, m))
            if ct.budget_cny is not None:
                lifecycle = ct.row[kernel.PR_LIFE] != kernel.LIFE_ALL
                per_contact = ct.cost_per_contact
                if lifecycle:
                    per_contact += ct.row[kernel.PR_REACT_COST]
                if per_contact > 0:
                    reach = self._budget_reach(ct, keys, reach, lifecycle, alive_groups)
                elif ct.budget_cny <= 0:
                    reach = 0.0
            if reach > 0.0:
                live.append((ct, reach, keys))
        n_live, n_seg = len(live), self.cs.n_segments
        figures = np.zeros((kernel.N_PROMO, n_live))
        channel = np.zeros(n_live, dtype=np.int64)
        target = np.zeros((n_live, n_seg * self.cs.n_tiers), dtype=np.bool_)
        redeem = np.zeros((n_live, n_seg))
        above = np.zeros((n_live, n_seg))
        keys_out = np.zeros((n_live, 2), dtype=np.uint64)
        for j, (ct, reach, keys) in enumerate(live):
            figures[:, j] = ct.row
            figures[kernel.PR_REACH, j] = reach
            channel[j] = ct.channel
            target[j] = ct.schedule.target.reshape(-1)
            redeem[j] = ct.schedule.redeem_prob
            above[j] = ct.schedule.above_threshold
            keys_out[j] = keys
        return kernel.Campaigns(figures, channel, target, redeem, above, keys_out)

    def _budget_reach(self, ct, keys: tuple[np.uint64, np.uint64], reach: float,
                      lifecycle: bool, alive_groups: np.ndarray) -> float:
        """The reach threshold at which the month's campaign spend stays within its budget.

        The kernel reaches a targeted customer when their reach uniform is below the
        threshold. Taking the customers a ``reach`` share would reach in the order of
        their uniforms, each costing the contact (and, for a dormant / at-risk campaign,
        the reactivation reward if their redemption draw redeems), the threshold is the
        uniform of the first one the budget no longer pays for: the spend is at most the
        budget, short of it by less than one agent's cost; the same customers in every
        arm where they are targeted (common random numbers).
        """
        pop = self.population
        n = pop.n
        affordable = ct.budget_cny / self.weight  # in one agent's cost units
        if not lifecycle:
            # Every contact costs the same: the budget pays for k agents; the k with the
            # lowest uniforms (compiled selection: study B has 12.5 M agents).
            k = int(np.floor(affordable / ct.cost_per_contact + 1e-9))
            target = ct.schedule.target.reshape(-1)
            if k >= alive_groups[target].sum():
                return reach
            return float(draws.reach_threshold(np.uint64(keys[0]), pop.alive, pop.tier,
                                               pop.segment, n, target, self.cs.n_segments,
                                               reach, k))
        idx = np.flatnonzero(self._lifecycle_mask(ct))
        u = draws.uniforms(np.uint64(keys[0]), n)[idx]
        inside = u < reach
        idx, u = idx[inside], u[inside]
        cost = np.full(u.size, ct.cost_per_contact)
        react = ct.row[kernel.PR_REACT_COST]
        if react > 0:
            redeemed = (draws.uniforms(np.uint64(keys[1]), n)[idx]
                        < ct.schedule.redeem_prob[pop.segment[idx]])
            cost += react * redeemed
        if cost.sum() <= affordable:
            return reach
        order = np.argsort(u, kind="stable")
        k = int(np.searchsorted(np.cumsum(cost[order]), affordable, side="right"))
        return float(u[order[k]]) if k > 0 else 0.0

    def _lifecycle_mask(self, ct) -> np.ndarray:
        """The customers a dormant / at-risk campaign targets now (alive, in its groups)."""
        cs, pop = self.cs, self.population
        n = pop.n
        seg = pop.segment[:n]
        after = cs.lifecycle[kernel.LC_AFTER][seg]
        idle = pop.idle_months[:n]
        dormant = (after > 0) & (idle >= after)
        if ct.row[kernel.PR_LIFE] == kernel.LIFE_DORMANT:
            mask = dormant
        else:
            mask = (after > 0) & ~dormant & (idle >= np.maximum(1.0, after - 1.0))
        grp = pop.tier[:n].astype(np.int64) * cs.n_segments + seg
        return mask & pop.alive[:n] & ct.schedule.target.reshape(-1)[grp]

    def _month_facts(self, m: int, slot: int) -> kernel.Month:
        cs = self.cs
        rs = self.rs
        keys = _month_keys(rs, m, cs.steps_per_month)
        task_at = cs.task_month(m)
        # The customers who take up the task are those who complete it at the review.
        task_key = rs.key(st.TASK, task_at) if task_at is not None else np.uint64(0)
        return kernel.Month(keys, slot, (m - 1) % 12, m <= 12, m % 12 == 0,
                            cs.upgrade_immediate, cs.points_expire(m), task_at is not None,
                            task_key, cs.task_completion, cs.task_spend_uplift)

    def _costs(self, per_contact: float, bot_per_question: float,
               per_member: float) -> kernel.Costs:
        share, per_order, per_month, per_year = self._benefit_totals
        c = self.cs.costs
        return kernel.Costs(share, per_order, per_month, per_year, c.price_share,
                            c.price_per_order, c.price_per_year, float(per_contact),
                            float(bot_per_question), float(per_member), c.per_referral)

    def _season(self, m: int) -> tuple[float, kernel.Tables]:
        """Month m's seasonal order-rate factor and the tables with order rates scaled by it."""
        season = self.cs.season
        if season is None or season[(m - 1) % 12] == 1.0:
            return 1.0, self._tables
        f = float(season[(m - 1) % 12])
        group = self._tables.group.copy()
        group[kernel.GR_ORDER] *= f
        group.setflags(write=False)  # as the compiled table: the kernel's types stay the same
        return f, self._tables._replace(group=group)

    def _month(self, m: int) -> None:
        cs = self.cs
        svc = cs.service
        pop = self.population
        # Last month's referrals join now; its negative word of mouth costs new customers.
        lost = 0.0
        if self._spreaders > 0 and cs.lost_per_wom > 0 and cs.new_per_month > 0:
            lost = min(1.0, cs.lost_per_wom * self._spreaders / cs.new_per_month)
        pop.acquire(m, self._referred, lost)
        if pop.new_idx.size:
            k = pop.new_idx.size
            self.out.cohort_size[m] = k * self.weight
            # numpy's stubs do not accept a tuple index in ufunc.at
            np.add.at(self.out.ltv_n, (pop.segment[pop.new_idx], 0),  # type: ignore[arg-type]
                      self.weight)
        w = self.weight
        alive_groups, cohorts = self._census_at_start(m)
        campaigns = self._campaigns(m, alive_groups)
        slot = (pop.hist_pos + 1) % cs.window_months  # the oldest month, overwritten now
        facts = self._month_facts(m, slot)
        season, tables = self._season(m)
        customers = pop.bundle(season, m)
        n_classes = len(svc.classes)

        stand_in = self._stand_in
        month_orders = stand_in
        if self.pairing == "record":
            month_orders = np.zeros(pop.n, dtype=np.uint8)  # the dead order nothing
            self.orders_log.append(month_orders)
        cf_orders = stand_in
        if self.pairing == "paired" and m - 1 < len(self.cf_log):
            cf_orders = self.cf_log[m - 1]
        pairing = kernel.Pairing(self.pairing == "record", month_orders,
                                 self.pairing == "paired", cf_orders)

        # Pass 1: the real shop's expected contact load per service class.
        class_load = np.zeros(n_classes)
        with threads.KERNEL_LOCK:
            kernel.month_step(True, customers, tables, self._costs(0.0, 0.0, 0.0),
                              self._points, campaigns, facts, self._no_windows,
                              self._outputs(class_load), pairing)

        # The queue windows for that load, pool by pool.
        days = DAYS_PER_MONTH
        class_rate = class_load * w / (days * 24)
        windows = {}
        svc_out = self.out.service[m - 1]
        total_staff_cost = 0.0
        for pi, spec in enumerate(svc.pools):
            self._poll()  # an uncached window is a queue simulation of its own
            rates = {p: class_rate[c] for c, p in self._pool_classes[pi]}
            win = self.stage.month(spec.name, rates, days * 24)
            windows[pi] = win
            staff_cost = spec.agent_hours_per_day * days * svc.cost_per_agent_hour[pi]
            total_staff_cost += staff_cost
            contacts = sum(rates.values()) * days * 24
            mean_w, p90, sla = accounting.pool_wait_stats(win.waits, rates, svc.sla_hours)
            svc_out[pi] = (contacts, mean_w, p90, sla, win.utilisation, staff_cost,
                           mean_w + svc.handle_hours[pi] + svc.followup_hours[pi],
                           win.queue_length, win.unanswered_share, win.backlog,
                           float(win.overloaded))
        q_total = class_load.sum()
        n_alive = float(alive_groups.sum())
        cost_per_q = total_staff_cost / (q_total * w) if q_total > 0 else 0.0
        cost_per_member = 0.0 if q_total > 0 else total_staff_cost / max(n_alive * w, 1e-9)
        samples = [windows[svc.class_pool[c]].waits.get(svc.classes[c][1])
                   for c in range(n_classes)]
        sample_size = np.array([0 if x is None else x.size for x in samples], dtype=np.int64)
        sample_start = np.concatenate([[0], np.cumsum(sample_size)[:-1]]).astype(np.int64)
        flat = np.concatenate([x for x in samples if x is not None and x.size] or
                              [np.zeros(1)])

        # Pass 2: behaviour, costs, the month's group sums and next month's state.
        out = self._outputs(class_load)
        with threads.KERNEL_LOCK:
            kernel.month_step(False, customers, tables,
                              self._costs(cost_per_q, svc.deflect * svc.bot_cost,
                                          cost_per_member),
                              self._points, campaigns, facts,
                              kernel.Windows(flat, sample_start, sample_size,
                                             svc.resolution_hours), out, pairing)
        pop.hist_pos = slot
        self.out.points_flows[m - 1] = out.acc[_POINTS_IDX].sum(axis=1) * w
        if self.pairing == "paired":
            self.out.deadweight += accounting.by_group(out.acc[_DEADWEIGHT_IDX],
                                                       cs.n_tiers, cs.n_segments) * w
        referred_idx = pop.new_idx[pop.new_idx.size - pop.new_referred:]
        self._acc = accounting.month_table(cs, out.acc, out.channel_cost,
                                           pop.segment[pop.new_idx], w,
                                           pop.segment[referred_idx] if pop.new_referred else None,
                                           cs.new_per_month * lost)
        self._referred = float(out.acc[kernel.A_REFERRALS].sum()) * w
        self._spreaders = float(out.acc[kernel.A_WOM].sum()) * w
        self.out.ltv_sum += accounting.by_start_group(out.ltv * w * cs.discount[m - 1],
                                                      cs.n_tiers, cs.n_segments)
        self.out.cohort_alive[:, m - 1] = cohorts * w
        if m == 12:
            self._year1()
        self._store_members(m, (out.members_end, out.cohorts_end))

    def _census_at_start(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """The census after last month's churn and reviews, plus this month's new customers."""
        pop = self.population
        last = self._last_census
        if last is None:
            return pop.census()
        groups, cohorts = last[0].copy(), last[1].copy()
        if pop.new_idx.size:
            n_seg = self.cs.n_segments
            groups[:n_seg] += np.bincount(pop.segment[pop.new_idx], minlength=n_seg)
            cohorts[m] += pop.new_idx.size
        return groups, cohorts

    def _outputs(self, class_load: np.ndarray) -> kernel.Outputs:
        """Zeroed kernel outputs for one pass."""
        n_groups = self.cs.n_segments * self.cs.n_tiers
        return kernel.Outputs(class_load, np.zeros((kernel.N_ACC, n_groups)), np.zeros(n_groups),
                              np.zeros((len(PROMO_CHANNELS), n_groups)), np.zeros(n_groups),
                              np.zeros(self.horizon + 1))

    def _store_members(self, m: int,
                       census: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Members per tier at the end of month m (after churn, upgrades and reviews).

        ``census`` is the month's end-of-month census from the kernel; after a
        review it is counted again.
        """
        acc = self._acc
        self._last_census = census if census is not None else self.population.census()
        acc[MI["members_end"]] = self._last_census[0] * self.weight
        self.out.monthly[m - 1] = accounting.to_monthly(acc, self.cs.n_tiers, self.cs.n_segments)

    def _year1(self) -> None:
        pop = self.population
        n0 = pop.n0
        self.out.y1 = accounting.year_one(pop.segment[:n0], pop.tier_start[:n0],
                                          pop.alive[:n0], pop.y1_orders[:n0], pop.y1_gross,
                                          self.cs.n_tiers, self.cs.n_segments, self.weight)

    def _finish(self) -> None:
        pop = self.population
        n0 = pop.n0
        # Only today's customers enter the migration matrix.
        self.out.migration = accounting.migration(pop.tier_start[:n0], pop.tier[:n0],
                                                  pop.alive[:n0], self.cs.n_tiers, self.weight)
        if not self.out.y1:
            self._year1()
