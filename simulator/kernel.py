"""The fused per-customer month step (numba), called once per month by the engine.

It applies exactly the rules of :mod:`simulator.engine` to each customer in
one pass: the month's rates and multipliers (tier effects, campaigns and their
reach, keep-your-tier tasks, pulled-forward demand), orders (Poisson by
inversion), order values (one lognormal per order,
:func:`simulator.draws.order_values`), service contacts and their wait drawn from
the real-scale queue window, satisfaction, churn, benefit and service costs,
the group sums of the month's table, and the state carried to next month
(rolling spend window, complaints window, points, tier upgrades).

Random numbers are *addressed*, not sequential: the uniform a customer gets
for a purpose is a hash of the purpose's 64-bit key (derived from the seed,
replication, month, step and purpose by :class:`simulator.streams.Streams`)
and the customer's index (SplitMix64's finaliser applied to
``key + (i + 1) * golden_gamma``). So draws are computed only when they are
needed, a customer meets the same luck in the scenario and its counterfactual
(common random numbers), and results do not depend on how many customers
exist or in which order the code asks. Integer arithmetic makes them identical
on every machine.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from simulator import threads as _threads  # noqa: F401 - picks the threading layer first
from simulator.draws import _poisson, order_values, uniform_at

# Rows of the kernel's group accumulator (read by simulator.accounting).
# A_CONTACT_WAIT: hours waited summed over queued contacts; A_WAITED: customers who
# queued at least one contact.
A_PRICE, A_MARGIN, A_PROMO_DISC, A_SERVICE, A_CONTACTS, A_COMPLAINTS, A_CONTACT_WAIT, \
    A_WAITED, A_SAT, A_CHURNED, A_GROSS, A_ORDERS, A_MEMBERS, A_ANNIV, A_POINTS = range(15)
# Points flows in points (issue 15): issued on the month's spend, redeemed, expired (at the
# expiry date, or forfeited by a customer who leaves) and the balances at the month's end.
A_PTS_ISSUED, A_PTS_REDEEMED, A_PTS_EXPIRED, A_PTS_BALANCE = range(15, 19)
# Deadweight (a run paired with its counterfactual arm, customer by customer): orders that
# also happen in the counterfactual (same customer, same month) and those that do not; the
# scheme cost (benefit cost + campaign discount) and the price concessions of the
# customer-month, split pro rata between the two; scheme cost in months without an order.
A_DW_MATCHED, A_DW_UNMATCHED, A_DW_COST_MATCHED, A_DW_COST_UNMATCHED, A_DW_COST_NO_ORDER, \
    A_DW_PRICE_MATCHED, A_DW_PRICE_UNMATCHED = range(19, 26)
ORDERS_CAP = 255  # a month's orders kept per customer for the pairing (uint8)
# Lifecycle rows: customers dormant at the month's start; customers reactivated by a
# dormant/at-risk campaign; dormant/at-risk customers such a campaign reached (contacts);
# reactivation cost (CNY); expected referrals made (new customers next month, agents);
# referral rewards (CNY); expected negative word-of-mouth spreaders (agents).
A_DORMANT, A_REACTIVATED, A_RECALL_REACHED, A_REACT_COST, A_REFERRALS, A_REFERRAL_COST, \
    A_WOM = range(26, 33)
N_ACC = 33

# Month draw purposes: columns of the ``keys`` array the engine passes in.
D_ORDERS, D_SPEND, D_QUESTIONS, D_COMPLAINTS, D_BOT, D_WAIT, D_CHURN = range(7)
N_DRAWS = 7

# Rows of the per-segment constants.
SG_RATE, SG_SAT0, SG_MARGIN, SG_CPO, SG_CMP, SG_MU, SG_SIGMA, SG_TOL, SG_SENS, SG_HAZ = range(10)
N_SEG = 10
# Rows of the per-group (tier x segment) effect multipliers.
GR_ORDER, GR_SPEND, GR_CHURN, GR_COMPL, GR_SAT = range(5)
N_GRP = 5
# Rows of the per-segment lifecycle constants: months without a purchase to be dormant
# (0: never), dormant order-rate and churn factors, referrals per active customer-month.
LC_AFTER, LC_ORDER, LC_CHURN, LC_REFER = range(4)
N_LC = 4
# A campaign's lifecycle target (PR_LIFE): everyone, dormant, at risk of dormancy.
LIFE_ALL, LIFE_DORMANT, LIFE_AT_RISK = range(3)
# Rows of the per-campaign figures (campaigns active this month).
PR_REACH, PR_F, PR_ORDER, PR_SPEND, PR_CHURN, PR_DISC, PR_MARGIN, PR_SAT, PR_PULL, \
    PR_COST, PR_LIFE, PR_REACT_COST = range(12)
N_PROMO = 12

@njit(cache=True)
def census(n, seg, tier, alive, join, n_seg, n_groups, n_cohorts):
    """Alive customers per (tier, segment) group and per join cohort, in one sweep."""
    groups = np.zeros(n_groups)
    cohorts = np.zeros(n_cohorts)
    for i in range(n):
        if alive[i]:
            groups[tier[i] * n_seg + seg[i]] += 1.0
            cohorts[join[i]] += 1.0
    return groups, cohorts


@njit(cache=True, inline="always")
def _qualified_one(spend, orders, thresholds, min_orders, track_orders):
    t = 0
    for k in range(thresholds.shape[0]):
        if thresholds[k] <= spend:
            t = k
    if track_orders:
        while t > 0 and orders < min_orders[t]:
            t -= 1
    return t


@njit(cache=True)
def qualified(spend, orders, thresholds, min_orders, track_orders):
    """Highest tier whose spend (and, if tracked, order) thresholds are met."""
    n = spend.shape[0]
    out = np.empty(n, dtype=np.int8)
    for i in range(n):
        o = orders[i] if track_orders else 0
        out[i] = _qualified_one(spend[i], o, thresholds, min_orders, track_orders)
    return out


@njit(cache=True, inline="always")
def benefit_cost(share, per_order, per_month, per_year, gross, orders, members, anniversaries):
    """Cost of benefits (or price concessions) from their coefficients and drivers.

    The one formula of benefit cost: ``share × order value + per_order × orders +
    per_month × member-months + per_year × anniversaries``. The kernel applies it per
    customer with the per-tier totals; :mod:`simulator.accounting` applies it per
    benefit kind to the month's group sums (numpy arrays), with the same order of
    operations, so the kinds add up to what the customers were charged.
    """
    return share * gross + per_order * orders + per_month * members + per_year * anniversaries


@njit(cache=True, inline="always")
def _churns(u, base, x):
    """Whether a customer with uniform ``u`` churns at hazard ``base * exp(x)``.

    Decided without the exp where a bound settles it: exp(x) <= (1 - x/16)^-16 for
    x < 16 (exp(-y) >= 1 - y), so u (1 - x/16)^16 >= base (1 + 1e-12) means u is above
    the hazard (the margin is far above the rounding of both sides); otherwise the
    hazard is computed as before. Most customer-steps are far from churning.
    """
    y = 1.0 - x * (1.0 / 16.0)
    if y > 0.0:
        y *= y
        y *= y
        y *= y
        y *= y
        if u * y >= base * (1.0 + 1e-12):
            return False
    return u < base * math.exp(x)


class Customers(NamedTuple):
    """Customers' state, arrays indexed by customer (updated in place by pass 2)."""

    n: int  # customers that exist (alive or not)
    n0: int  # today's customers (indices below n0)
    segment: np.ndarray  # int8
    tier: np.ndarray  # int8
    alive: np.ndarray  # bool
    tier_start: np.ndarray  # int8, tier at start (or entry)
    anniversary_month: np.ndarray  # int8, 0..11
    frailty: np.ndarray  # float32, rate multiplier
    churn_step: np.ndarray  # float64, the customer's churn probability per behaviour step
    satisfaction: np.ndarray  # float32
    points: np.ndarray  # float32 balance (a 1-element stand-in without points)
    pull_forward_debt: np.ndarray  # float32, orders taken from this month by last's campaigns
    complaints_window: np.ndarray  # int16, complaints since the last yearly reset
    rolling_spend: np.ndarray  # float64, spend in the qualification window
    rolling_orders: np.ndarray  # int32 (stand-in unless tracked)
    spend_hist: np.ndarray  # [window_months, cap] float32 ring buffer
    order_hist: np.ndarray  # [window_months, cap] int16 ring buffer (stand-in unless tracked)
    y1_orders: np.ndarray  # int16, orders in the first year
    y1_gross: np.ndarray  # float64 [n0], today's customers' first-year spend
    join_month: np.ndarray  # int16, month joined (0: today's customers)
    idle_months: np.ndarray  # int16, months since the last purchase (dormancy)
    spend_level: np.ndarray  # float32, order-value multiplier (1: the segment's; real customers)


class Tables(NamedTuple):
    """The arm's constant tables (from :class:`simulator.compiled.CompiledScenario`)."""

    segment: np.ndarray  # [N_SEG, S] rows SG_*
    group: np.ndarray  # [N_GRP, T*S] rows GR_*
    thresholds: np.ndarray  # [T] spend in the window
    min_orders: np.ndarray  # [T]
    track_orders: bool
    class_of_tier: np.ndarray  # [T]
    escalate_after: int  # 0: no escalation
    escalation_class: int
    deflect: float  # share of questions the bot answers
    wait_sat_per_hour: float
    slow_hours: float
    slow_penalty: float
    churn_per_sat_point: float
    sat_relax: float
    lifecycle: np.ndarray  # [N_LC, S] rows LC_*
    wom_share: float  # share of slowly resolved complainants who spread negative word of mouth
    values: np.ndarray  # [S, VALUE_CELLS + 1] order values at the quantiles (draws.value_table)


class Costs(NamedTuple):
    """Cost coefficients: benefits and price concessions per tier, service this month."""

    share: np.ndarray  # [T] benefit cost per CNY of order value (all kinds)
    per_order: np.ndarray  # [T]
    per_month: np.ndarray  # [T]
    per_year: np.ndarray  # [T]
    price_share: np.ndarray  # [T] price concessions, same drivers
    price_per_order: np.ndarray  # [T]
    price_per_year: np.ndarray  # [T]
    per_contact: float  # service staff cost per expected contact (this month)
    bot_per_question: float  # bot cost per question asked
    per_member: float  # staff cost per member when nobody contacts
    per_referral: np.ndarray  # [T] referral reward per referred customer


class Points(NamedTuple):
    """The points programme."""

    on: bool
    per_cny: float
    redeem_rate: float  # share of the balance redeemed per month
    value: float  # CNY per point


class Campaigns(NamedTuple):
    """Campaigns running this month (columns/rows: campaigns)."""

    figures: np.ndarray  # [N_PROMO, P] rows PR_*
    channel: np.ndarray  # [P] channel cost column
    target: np.ndarray  # [P, T*S] bool
    redeem: np.ndarray  # [P, S] redemption probability
    above: np.ndarray  # [P, S] share of order value above the threshold
    keys: np.ndarray  # [P, 2] uint64 draw keys: reach, redemption


class Month(NamedTuple):
    """Facts of this month."""

    keys: np.ndarray  # [steps, N_DRAWS] uint64 draw keys
    slot: int  # ring-buffer row overwritten by this month
    month_of_year: int  # 0..11 (anniversaries)
    first_year: bool
    reset_complaints: bool
    upgrade_now: bool
    expire_points: bool
    task_on: bool  # a keep-your-tier task runs
    task_key: np.uint64
    task_completion: float
    task_uplift: float


class Windows(NamedTuple):
    """The month's queue windows: concatenated wait samples per service class."""

    samples: np.ndarray  # hours
    start: np.ndarray  # [classes]
    size: np.ndarray  # [classes]
    resolution_hours: np.ndarray  # [classes] handling + follow-up


class Pairing(NamedTuple):
    """Customer-by-customer pairing with the counterfactual arm (deadweight).

    The counterfactual arm records each customer's orders of the month
    (``record``: into ``orders``, capped at :data:`ORDERS_CAP`); the scenario arm
    reads them (``paired``: from ``cf_orders``, customers beyond its length had
    none). Without pairing both arrays are 1-element stand-ins.
    """

    record: bool
    orders: np.ndarray  # uint8 [>= n] this arm's orders of the month (written)
    paired: bool
    cf_orders: np.ndarray  # uint8 the counterfactual arm's orders of the month (read)


class Outputs(NamedTuple):
    """What a pass adds to (zeros on entry): contact load (pass 1), sums (pass 2)."""

    class_load: np.ndarray  # [classes] expected contacts (pass 1)
    acc: np.ndarray  # [N_ACC, T*S] rows A_*
    ltv: np.ndarray  # [T*S] by tier at start
    channel_cost: np.ndarray  # [channels, T*S]
    members_end: np.ndarray  # [T*S] alive at the month's end (after churn and upgrades)
    cohorts_end: np.ndarray  # [horizon + 1] the same by join month


# Customers per block of the parallel month step. Fixed (never derived from the
# thread count): each block sums into its own accumulators, and blocks are added
# in block order, so the numbers do not depend on how many threads run the blocks.
BLOCK = 8192


@njit(cache=True, error_model="numpy", inline="always")
def _live_block(lo, hi, load_only, one_step, cu, tb, co, pt, cp, mo, wi, pa,
                class_load, acc, ltv, channel_cost, members_end, cohorts_end):
    """Customers lo..hi-1 of :func:`month_step`, summing into this block's arrays.

    Inlined into :func:`_load_block` and :func:`_book_block` with ``load_only`` a
    constant, so each pass is compiled with only its own work (pass 1 without the
    month's behaviour, the task's draw and the spend, churn and margin effects).
    """
    seg_f = tb.segment
    grp_f = tb.group
    keys = mo.keys
    K = 1 if one_step else keys.shape[0]
    n_seg = seg_f.shape[1]
    n_promo = cp.figures.shape[1]
    values = tb.values  # passed whole with the row: a row view would be reference counted
    for i in range(lo, hi):
        # Indices that are never negative are used unsigned (ix, sx, tx, gx): numba
        # then leaves out Python's negative-index test on every array access.
        ix = np.uint64(i)
        if not cu.alive[ix]:
            # Gone before this month: nothing happens, nothing is booked.
            continue
        s = cu.segment[ix]
        t = cu.tier[ix]
        # The month's rates and multipliers: tier effects, task, campaigns, pull-forward.
        grp = t * n_seg + s
        sx = np.uint64(s)
        tx = np.uint64(t)
        gx = np.uint64(grp)
        spend_mult = grp_f[GR_SPEND, gx]
        churn_mult = grp_f[GR_CHURN, gx]
        compl_mult = grp_f[GR_COMPL, gx]
        sat_target = seg_f[SG_SAT0, sx] + grp_f[GR_SAT, gx]
        margin = seg_f[SG_MARGIN, sx]
        # Lifecycle stage at the month's start: dormant after LC_AFTER idle months.
        after = tb.lifecycle[LC_AFTER, sx]
        idle = cu.idle_months[ix]
        dormant = after > 0.0 and idle >= after
        at_risk = after > 0.0 and not dormant and idle >= max(1.0, after - 1.0)
        react = False  # reactivated by a dormant / at-risk campaign this month
        react_cost = 0.0
        if mo.task_on and not load_only:
            q = _qualified_one(cu.rolling_spend[ix],
                               cu.rolling_orders[ix] if tb.track_orders else 0,
                               tb.thresholds, tb.min_orders, tb.track_orders)
            if q < t and uniform_at(mo.task_key, i) < mo.task_completion:
                spend_mult *= 1.0 + mo.task_uplift
        base_lam = seg_f[SG_RATE, sx] * cu.frailty[ix] * grp_f[GR_ORDER, gx]
        extra = 0.0
        disc_share = 0.0
        reached_cost = 0.0
        pull = 0.0
        for p in range(n_promo):
            if not cp.target[p, gx]:
                continue
            life = cp.figures[PR_LIFE, p]
            if life != LIFE_ALL and not (dormant if life == LIFE_DORMANT else at_risk):
                continue
            if uniform_at(cp.keys[p, 0], i) >= cp.figures[PR_REACH, p]:
                continue
            if life != LIFE_ALL and not load_only:
                acc[A_RECALL_REACHED, gx] += 1.0
            pc = cp.figures[PR_COST, p]
            if pc > 0.0:
                reached_cost += pc
                if not load_only:
                    channel_cost[cp.channel[p], gx] += pc
            if uniform_at(cp.keys[p, 1], i) >= cp.redeem[p, sx]:
                continue
            if life != LIFE_ALL and not react:
                react = True
                react_cost += cp.figures[PR_REACT_COST, p]
            f = cp.figures[PR_F, p]
            extra += base_lam * cp.figures[PR_ORDER, p] * f
            spend_mult *= 1.0 + cp.figures[PR_SPEND, p] * f
            churn_mult *= cp.figures[PR_CHURN, p]
            disc_share += cp.figures[PR_DISC, p] * cp.above[p, sx]
            margin += cp.figures[PR_MARGIN, p]
            sat_target += cp.figures[PR_SAT, p]
            if cp.figures[PR_PULL, p] > pull:
                pull = cp.figures[PR_PULL, p]
        if dormant and not react:
            base_lam *= tb.lifecycle[LC_ORDER, sx]
            extra *= tb.lifecycle[LC_ORDER, sx]
            churn_mult *= tb.lifecycle[LC_CHURN, sx]
        lam = max(0.0, base_lam + extra - cu.pull_forward_debt[ix])
        c = tb.class_of_tier[tx]
        if tb.escalate_after > 0 and cu.complaints_window[ix] >= tb.escalate_after - 1:
            c = tb.escalation_class
        q_rate = lam * (seg_f[SG_CPO, sx] * (1.0 - tb.deflect) + seg_f[SG_CMP, sx] * compl_mult)
        if load_only:
            class_load[np.uint64(c)] += q_rate
            continue

        # The month, in K steps: orders, contacts and waits, satisfaction, churn.
        orders = 0
        gross = 0.0
        complaints = 0
        queued = 0
        wait_sum = 0.0
        churned = False
        slow = False
        sat_i = np.float64(cu.satisfaction[ix])
        lam_step = lam / K
        cpo = seg_f[SG_CPO, sx]
        for k in range(K):
            if churned:
                break
            o = _poisson(uniform_at(keys[k, D_ORDERS], i), lam_step)
            qn = 0
            cn = 0
            if o > 0:
                # Each order has its own value: the step's spend is their sum.
                gross += order_values(keys[k, D_SPEND], i, o, seg_f[SG_MU, sx],
                                      seg_f[SG_SIGMA, sx], values, sx) \
                    * spend_mult * cu.spend_level[ix]
                orders += o
                qn = _poisson(uniform_at(keys[k, D_QUESTIONS], i), o * cpo)
                cn = _poisson(uniform_at(keys[k, D_COMPLAINTS], i),
                              o * seg_f[SG_CMP, sx] * compl_mult)
            q_queued = qn > 0 and uniform_at(keys[k, D_BOT], i) >= tb.deflect
            w = 0.0
            if q_queued or cn > 0:
                size = wi.size[c]
                if size > 0:
                    j = int(uniform_at(keys[k, D_WAIT], i) * size)
                    if j >= size:
                        j = size - 1
                    w = wi.samples[wi.start[c] + j]
            complaints += cn
            if q_queued:
                queued += qn
                wait_sum += w * qn  # every queued contact of the step waits w
            queued += cn
            wait_sum += w * cn
            pen = max(0.0, w - seg_f[SG_TOL, sx]) * tb.wait_sat_per_hour
            if cn > 0 and w + wi.resolution_hours[c] > tb.slow_hours:
                pen += tb.slow_penalty
                slow = True
            new_sat = (sat_i + (tb.sat_relax / K) * (sat_target - sat_i)
                       - pen * seg_f[SG_SENS, sx])
            if new_sat < 0.0:
                new_sat = 0.0
            elif new_sat > 1.0:
                new_sat = 1.0
            sat_i = new_sat
            if _churns(uniform_at(keys[k, D_CHURN], i), cu.churn_step[ix] * churn_mult,
                       tb.churn_per_sat_point * (seg_f[SG_SAT0, sx] - sat_i)):
                churned = True
        sat32 = np.float32(sat_i)
        cu.satisfaction[ix] = sat32
        anniv = 1.0 if cu.anniversary_month[ix] == mo.month_of_year else 0.0
        benefit = benefit_cost(co.share[tx], co.per_order[tx], co.per_month[tx], co.per_year[tx],
                               gross, orders, 1.0, anniv)
        price = benefit_cost(co.price_share[tx], co.price_per_order[tx], 0.0,
                             co.price_per_year[tx], gross, orders, 0.0, anniv)
        pcost = 0.0
        if pt.on:
            issued = gross * pt.per_cny
            bal = cu.points[ix] + issued
            red = bal * pt.redeem_rate
            pcost = red * pt.value
            bal -= red
            expired = 0.0
            if mo.expire_points:
                expired = bal
                bal = 0.0
            cu.points[ix] = np.float32(bal)
            benefit += pcost
            acc[A_PTS_ISSUED, gx] += issued
            acc[A_PTS_REDEEMED, gx] += red
            acc[A_PTS_EXPIRED, gx] += expired
        service = q_rate * co.per_contact + lam * cpo * co.bot_per_question + co.per_member
        promo_disc = disc_share * gross
        gm = gross * margin
        contrib = gm - benefit - promo_disc - reached_cost - service
        # Lifecycle: recall, referrals by active customers, negative word of mouth.
        if dormant:
            acc[A_DORMANT, gx] += 1.0
        if react:
            acc[A_REACTIVATED, gx] += 1.0
            acc[A_REACT_COST, gx] += react_cost
            contrib -= react_cost
        refer_rate = tb.lifecycle[LC_REFER, sx]
        if refer_rate > 0.0 and (react or not dormant):
            sat0 = seg_f[SG_SAT0, sx]
            refer = refer_rate * (sat_i / sat0 if sat0 > 0.0 else 1.0)
            acc[A_REFERRALS, gx] += refer
            if co.per_referral[tx] > 0.0:
                acc[A_REFERRAL_COST, gx] += refer * co.per_referral[tx]
                contrib -= refer * co.per_referral[tx]
        if slow and tb.wom_share > 0.0:
            acc[A_WOM, gx] += tb.wom_share
        acc[A_PRICE, gx] += price + promo_disc
        acc[A_MARGIN, gx] += gm
        acc[A_PROMO_DISC, gx] += promo_disc
        acc[A_SERVICE, gx] += service
        acc[A_CONTACTS, gx] += queued
        acc[A_COMPLAINTS, gx] += complaints
        acc[A_CONTACT_WAIT, gx] += wait_sum
        if queued > 0:
            acc[A_WAITED, gx] += 1.0
        acc[A_SAT, gx] += sat32
        acc[A_MEMBERS, gx] += 1.0
        if churned:
            acc[A_CHURNED, gx] += 1.0
        acc[A_GROSS, gx] += gross
        acc[A_ORDERS, gx] += orders
        acc[A_ANNIV, gx] += anniv
        acc[A_POINTS, gx] += pcost
        ltv[np.uint64(cu.tier_start[ix] * n_seg + s)] += contrib
        if pa.record:
            pa.orders[ix] = min(orders, ORDERS_CAP)
        if pa.paired:
            cf_o = np.int64(pa.cf_orders[ix]) if i < pa.cf_orders.shape[0] else 0
            scheme_cost = benefit + promo_disc
            concession = price + promo_disc
            if orders > 0:
                matched = min(orders, cf_o)
                share = matched / orders
                acc[A_DW_MATCHED, gx] += matched
                acc[A_DW_UNMATCHED, gx] += orders - matched
                acc[A_DW_COST_MATCHED, gx] += scheme_cost * share
                acc[A_DW_COST_UNMATCHED, gx] += scheme_cost * (1.0 - share)
                acc[A_DW_PRICE_MATCHED, gx] += concession * share
                acc[A_DW_PRICE_UNMATCHED, gx] += concession * (1.0 - share)
            else:
                acc[A_DW_COST_NO_ORDER, gx] += scheme_cost

        # State carried to next month.
        cu.pull_forward_debt[ix] = np.float32(extra * pull)
        if mo.first_year:
            cu.y1_orders[ix] += min(orders, 1000)
            if i < cu.n0:
                cu.y1_gross[ix] += gross
        g32 = np.float32(gross)
        slot = mo.slot
        cu.rolling_spend[ix] += np.float64(g32) - np.float64(cu.spend_hist[slot, ix])
        cu.spend_hist[slot, ix] = g32
        if tb.track_orders:
            o16 = min(orders, 30000)
            cu.rolling_orders[ix] += o16 - cu.order_hist[slot, ix]
            cu.order_hist[slot, ix] = o16
        cu.idle_months[ix] = 0 if orders > 0 else min((0 if react else idle) + 1, 30000)
        cw = cu.complaints_window
        cw[ix] = 0 if mo.reset_complaints else cw[ix] + min(complaints, 1000)
        if churned:
            cu.alive[ix] = False
            if pt.on:
                acc[A_PTS_EXPIRED, gx] += np.float64(cu.points[ix])  # forfeited on leaving
                cu.points[ix] = 0.0
            continue
        if mo.upgrade_now:
            q = _qualified_one(cu.rolling_spend[ix],
                               cu.rolling_orders[ix] if tb.track_orders else 0,
                               tb.thresholds, tb.min_orders, tb.track_orders)
            if q > t:
                cu.tier[ix] = q
                t = q
        if pt.on:
            acc[A_PTS_BALANCE, gx] += np.float64(cu.points[ix])
        members_end[np.uint64(t * n_seg + s)] += 1.0
        cohorts_end[np.uint64(cu.join_month[ix])] += 1.0


@njit(cache=True, error_model="numpy")
def _load_block(lo, hi, cu, tb, co, pt, cp, mo, wi, pa, class_load, acc, ltv, channel_cost,
                members_end, cohorts_end):
    """Pass 1 of customers lo..hi-1 (:func:`_live_block` compiled for it)."""
    _live_block(lo, hi, True, False, cu, tb, co, pt, cp, mo, wi, pa, class_load, acc, ltv,
                channel_cost, members_end, cohorts_end)


@njit(cache=True, error_model="numpy")
def _book_block(lo, hi, cu, tb, co, pt, cp, mo, wi, pa, class_load, acc, ltv, channel_cost,
                members_end, cohorts_end):
    """Pass 2 of customers lo..hi-1 (:func:`_live_block` compiled for it)."""
    _live_block(lo, hi, False, False, cu, tb, co, pt, cp, mo, wi, pa, class_load, acc, ltv,
                channel_cost, members_end, cohorts_end)


@njit(cache=True, error_model="numpy")
def _book_block_1(lo, hi, cu, tb, co, pt, cp, mo, wi, pa, class_load, acc, ltv, channel_cost,
                  members_end, cohorts_end):
    """Pass 2 of customers lo..hi-1 with one behaviour step a month (the step loop unrolled)."""
    _live_block(lo, hi, False, True, cu, tb, co, pt, cp, mo, wi, pa, class_load, acc, ltv,
                channel_cost, members_end, cohorts_end)


@njit(cache=True, parallel=True, error_model="numpy")
def _run_load(cu, tb, co, pt, cp, mo, wi, pa, b_load, b_acc, b_ltv, b_chan, b_members,
              b_cohorts):
    """Pass 1 over the blocks of customers, in parallel: block b sums into row b."""
    for b in prange(b_load.shape[0]):
        lo = b * BLOCK
        _load_block(lo, min(cu.n, lo + BLOCK), cu, tb, co, pt, cp, mo, wi, pa, b_load[b],
                    b_acc[b], b_ltv[b], b_chan[b], b_members[b], b_cohorts[b])


@njit(cache=True, parallel=True, error_model="numpy")
def _run_book_1(cu, tb, co, pt, cp, mo, wi, pa, b_load, b_acc, b_ltv, b_chan, b_members,
                b_cohorts):
    """Pass 2 with one behaviour step a month over the blocks, in parallel."""
    for b in prange(b_load.shape[0]):
        lo = b * BLOCK
        _book_block_1(lo, min(cu.n, lo + BLOCK), cu, tb, co, pt, cp, mo, wi, pa, b_load[b],
                      b_acc[b], b_ltv[b], b_chan[b], b_members[b], b_cohorts[b])


@njit(cache=True, parallel=True, error_model="numpy")
def _run_book(cu, tb, co, pt, cp, mo, wi, pa, b_load, b_acc, b_ltv, b_chan, b_members,
              b_cohorts):
    """Pass 2 with several behaviour steps a month over the blocks, in parallel."""
    for b in prange(b_load.shape[0]):
        lo = b * BLOCK
        _book_block(lo, min(cu.n, lo + BLOCK), cu, tb, co, pt, cp, mo, wi, pa, b_load[b],
                    b_acc[b], b_ltv[b], b_chan[b], b_members[b], b_cohorts[b])


@njit(cache=True)
def _add_rows(dst, rows):
    """Add the rows of ``rows`` to ``dst`` one after the other, element by element."""
    d = dst.reshape(-1)
    r = rows.reshape(rows.shape[0], -1)
    for b in range(r.shape[0]):
        for j in range(d.shape[0]):
            d[j] += r[b, j]


def month_step(load_only, cu, tb, co, pt, cp, mo, wi, out, pa):
    """One month of every customer's life: books the month and carries state.

    Pass 1 (``load_only``) computes each customer's rates exactly as pass 2 will
    and only adds the expected service contacts per class to ``out.class_load``
    (the queue windows depend on them); it changes nothing else. Pass 2 then
    lives the month with the windows ``wi`` for that load, adds the month's sums
    to ``out`` and the end-of-month census. Bundles: ``cu`` :class:`Customers`,
    ``tb`` :class:`Tables`, ``co`` :class:`Costs`, ``pt`` :class:`Points`,
    ``cp`` :class:`Campaigns`, ``mo`` :class:`Month`, ``wi`` :class:`Windows`,
    ``out`` :class:`Outputs`, ``pa`` :class:`Pairing` (per-customer orders: each
    customer is written by one block only).

    Customers are split into blocks of :data:`BLOCK` run in parallel (numba
    ``prange``); each block has its own accumulators, added to ``out`` in block
    order afterwards, so results are identical for any number of threads. Only
    the block loops are compiled for parallel execution (compile time). Each pass is
    its own compiled function (pass 1; pass 2 with one behaviour step a month, the
    usual case, with the step loop unrolled; pass 2 with several), compiled the first
    time it is needed.
    """
    n_blocks = (cu.n + BLOCK - 1) // BLOCK
    n_groups = out.acc.shape[1]
    b_load = np.zeros((n_blocks, out.class_load.shape[0]))
    b_acc = np.zeros((n_blocks, N_ACC, n_groups))
    b_ltv = np.zeros((n_blocks, n_groups))
    b_chan = np.zeros((n_blocks, out.channel_cost.shape[0], n_groups))
    b_members = np.zeros((n_blocks, n_groups))
    b_cohorts = np.zeros((n_blocks, out.cohorts_end.shape[0]))
    run = _run_load if load_only else _run_book_1 if mo.keys.shape[0] == 1 else _run_book
    run(cu, tb, co, pt, cp, mo, wi, pa, b_load, b_acc, b_ltv, b_chan, b_members, b_cohorts)
    # in block order: the sums do not depend on the threads
    _add_rows(out.class_load, b_load)
    if not load_only:
        _add_blocks(out, b_acc, b_ltv, b_chan, b_members, b_cohorts)


@njit(cache=True)
def _add_blocks(out, b_acc, b_ltv, b_chan, b_members, b_cohorts):
    """Pass 2's block sums added to ``out`` in block order."""
    _add_rows(out.acc, b_acc)
    _add_rows(out.ltv, b_ltv)
    _add_rows(out.channel_cost, b_chan)
    _add_rows(out.members_end, b_members)
    _add_rows(out.cohorts_end, b_cohorts)
