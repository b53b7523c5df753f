"""The books of one arm: the kernel's group sums turned into the monthly table.

The kernel adds up per (tier, segment) group what customers did and cost
(:data:`simulator.kernel.A_PRICE` …); this module turns those sums into the
month's metric columns (:data:`simulator.outputs.METRICS`, real customers and
CNY), splits benefit cost by kind with the one cost formula
(:func:`simulator.kernel.benefit_cost`), summarises a pool's waits, and books
year-1 statistics and the tier migration matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulator import kernel
from simulator import threads as _threads  # noqa: F401 - the compiled code's folder first
from simulator.compiled import CompiledScenario
from simulator.outputs import METRICS, MI, PROMO_CHANNELS
from simulator.tiers import BENEFIT_KINDS

# Metric columns copied from a kernel accumulator row.
_FROM_KERNEL = (("price_concessions", kernel.A_PRICE), ("gross_margin", kernel.A_MARGIN),
                ("promotion_discount_cost", kernel.A_PROMO_DISC),
                ("service_cost", kernel.A_SERVICE), ("contacts", kernel.A_CONTACTS),
                ("complaints", kernel.A_COMPLAINTS),
                ("contact_wait_hours", kernel.A_CONTACT_WAIT),
                ("waited_customers", kernel.A_WAITED),
                ("satisfaction_sum", kernel.A_SAT),
                ("churned_customers", kernel.A_CHURNED),
                ("active_customers", kernel.A_MEMBERS), ("orders", kernel.A_ORDERS),
                ("gross_revenue", kernel.A_GROSS),
                ("dormant_customers", kernel.A_DORMANT),
                ("recall_contacts", kernel.A_RECALL_REACHED),
                ("reactivated_customers", kernel.A_REACTIVATED),
                ("promotion_reactivation_cost", kernel.A_REACT_COST),
                ("referrals_made", kernel.A_REFERRALS),
                ("negative_wom_spreaders", kernel.A_WOM))


def pool_wait_stats(waits: dict, rates: dict, sla_hours: float) -> tuple[float, float, float]:
    """Mean, P90 and SLA attainment of a pool's waits, classes weighted by arrivals.

    The classes' waits pooled in order of value (a stable sort: on a tie the earlier
    class first), each weighted by its class's share of the arrivals over its sample
    size; the running sum of the weights gives the P90. The classes' wait quantiles
    come sorted, so that order is a merge (:func:`_sorted_runs_stats`, compiled, with
    numpy's own summation order); otherwise (or with a NaN) numpy's stable argsort.
    The same numbers either way (``tests/test_arm_overheads.py``).
    """
    total = sum(r for p, r in rates.items() if p in waits and r > 0)
    if total <= 0:
        return 0.0, 0.0, 1.0
    vals, shares = [], []
    for p, r in rates.items():
        if r > 0 and p in waits and waits[p].size:
            vals.append(waits[p])
            shares.append(r / total / waits[p].size)
    v = np.concatenate(vals)
    sizes = np.array([x.size for x in vals], dtype=np.int64)
    if v.dtype == np.float64:
        ok, mean, p90, sla = _sorted_runs_stats(v, sizes, np.array(shares), float(sla_hours))
        if ok:
            return mean, p90, sla
    return _argsort_stats(v, np.repeat(shares, sizes), sla_hours)


def _argsort_stats(v: np.ndarray, w: np.ndarray, sla_hours: float) -> tuple[float, float, float]:
    """:func:`pool_wait_stats` of pooled waits ``v`` with weights ``w`` by a stable argsort.

    The general route (any order, NaN too) and the reference the merge is held to.
    """
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cw = np.cumsum(w)
    p90 = float(v[min(np.searchsorted(cw, 0.9 * cw[-1]), v.size - 1)])
    return float((v * w).sum() / cw[-1]), p90, float(w[v <= sla_hours].sum() / cw[-1])


@njit(cache=True)
def _block_sum(a, lo, n):
    """The sum numpy takes of a block of at most 128: 8 accumulators, then one by one."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    end = n - n % 8
    while i < end:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _np_sum(a):
    """``a.sum()`` as numpy computes it for a contiguous float64 array.

    0.0 plus numpy's pairwise sum: a block of at most 128 by :func:`_block_sum`, a
    longer one as the sum of its halves (the first a multiple of 8 long), left then
    right. Walked with an explicit stack (numba's cached code and recursion do not mix).
    """
    n = a.shape[0]
    if n <= 128:
        return 0.0 + _block_sum(a, 0, n)
    lo_s = np.empty(64, dtype=np.int64)
    n_s = np.empty(64, dtype=np.int64)
    right = np.zeros(64, dtype=np.bool_)  # the frame's left half is done
    left = np.empty(64)
    top = 0
    lo_s[0] = 0
    n_s[0] = n
    while True:
        if n_s[top] > 128:  # split: the left half first
            h = n_s[top] // 2
            h -= h % 8
            right[top] = False
            lo_s[top + 1] = lo_s[top]
            n_s[top + 1] = h
            top += 1
            continue
        ret = _block_sum(a, lo_s[top], n_s[top])
        top -= 1
        while top >= 0:
            if not right[top]:  # the left half's sum: now the right half
                left[top] = ret
                right[top] = True
                h = n_s[top] // 2
                h -= h % 8
                lo_s[top + 1] = lo_s[top] + h
                n_s[top + 1] = n_s[top] - h
                top += 1
                break
            ret = left[top] + ret
            top -= 1
        if top < 0:
            return 0.0 + ret


@njit(cache=True)
def _sorted_runs_stats(v, sizes, share, sla_hours):
    """:func:`pool_wait_stats` of sorted runs: (ok, mean, P90, SLA share).

    The runs of ``v`` (lengths ``sizes``, weights ``share`` per element) in a stable
    sort's order: the smallest value's copies first, run by run, then the rest of the
    runs merged in adjacent groups, pairwise, the left one's element first on a tie.
    The running sum of the weights one addition after another (as ``np.cumsum``), the
    sums as :func:`_np_sum`. ``ok`` False if a run is not sorted or holds a NaN (the
    caller sorts).
    """
    k = sizes.shape[0]
    n = v.shape[0]
    runs = np.zeros(k + 1, dtype=np.int64)
    smallest = np.inf
    for j in range(k):
        runs[j + 1] = runs[j] + sizes[j]
        for i in range(runs[j] + 1, runs[j + 1]):
            if not v[i - 1] <= v[i]:
                return False, 0.0, 0.0, 0.0
        if sizes[j] > 0:
            if v[runs[j]] != v[runs[j]]:
                return False, 0.0, 0.0, 0.0
            smallest = min(smallest, v[runs[j]])
    src_v = np.empty(n)
    src_w = np.empty(n)
    dst_v = np.empty(n)
    dst_w = np.empty(n)
    # The smallest value first (often zero, most of the waits): each run's copies of it,
    # run by run, as a stable sort places them; then the rest of each run, to merge.
    head = 0
    cut = runs[:k].copy()
    for j in range(k):
        i = runs[j]
        while i < runs[j + 1] and v[i] == smallest:
            src_v[head] = dst_v[head] = v[i]
            src_w[head] = dst_w[head] = share[j]
            head += 1
            i += 1
        cut[j] = i
    bounds = np.zeros(k + 1, dtype=np.int64)
    o = head
    for j in range(k):
        bounds[j] = o
        for i in range(cut[j], runs[j + 1]):
            src_v[o] = v[i]
            src_w[o] = share[j]
            o += 1
    bounds[k] = n
    groups = k
    while groups > 1:
        g = 0
        new = 0
        while g < groups:
            lo = bounds[g]
            if g + 1 == groups:  # an odd group out: copied as it is
                for i in range(lo, bounds[g + 1]):
                    dst_v[i] = src_v[i]
                    dst_w[i] = src_w[i]
            else:
                mid = bounds[g + 1]
                hi = bounds[g + 2]
                i = lo
                j = mid
                o = lo
                while i < mid and j < hi:
                    if src_v[j] < src_v[i]:
                        dst_v[o] = src_v[j]
                        dst_w[o] = src_w[j]
                        j += 1
                    else:
                        dst_v[o] = src_v[i]
                        dst_w[o] = src_w[i]
                        i += 1
                    o += 1
                while i < mid:
                    dst_v[o] = src_v[i]
                    dst_w[o] = src_w[i]
                    i += 1
                    o += 1
                while j < hi:
                    dst_v[o] = src_v[j]
                    dst_w[o] = src_w[j]
                    j += 1
                    o += 1
            bounds[new] = lo
            new += 1
            g += 2
        bounds[new] = n
        groups = new
        src_v, dst_v = dst_v, src_v
        src_w, dst_w = dst_w, src_w
    cw = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = src_w[i] if i == 0 else acc + src_w[i]
        cw[i] = acc
    total = cw[n - 1]
    x = 0.9 * total
    at = n - 1
    for i in range(n):  # np.searchsorted(cw, x): the first at or above (cw never falls)
        if cw[i] >= x:
            at = i
            break
    prod = np.empty(n)
    m = 0
    for i in range(n):
        prod[i] = src_v[i] * src_w[i]
        if src_v[i] <= sla_hours:
            dst_w[m] = src_w[i]
            m += 1
    return True, _np_sum(prod) / total, src_v[at], _np_sum(dst_w[:m]) / total


# Each arm's benefit coefficients per kind and group [kind, T*S], by its compiled costs
# (kept with them, so an id is never reused while its entry is here). Bounded.
_COEFFICIENTS: dict[int, tuple] = {}


def _coefficients(cs: CompiledScenario) -> tuple[np.ndarray, ...]:
    """Share, per order, per month and per year coefficients [kind, T*S] of ``cs``'s benefits."""
    c = cs.costs
    hit = _COEFFICIENTS.get(id(c))
    if hit is None or hit[0] is not c:
        t_of_g = np.repeat(np.arange(cs.n_tiers), cs.n_segments)
        hit = (c, c.share[:, t_of_g], c.per_order[:, t_of_g], c.per_month[:, t_of_g],
               c.per_year[:, t_of_g])
        if len(_COEFFICIENTS) >= 64:
            _COEFFICIENTS.clear()
        _COEFFICIENTS[id(c)] = hit
    return hit[1:]


def benefit_cost_by_kind(cs: CompiledScenario, sums: np.ndarray) -> np.ndarray:
    """Benefit cost per kind and group [kind, T*S] from the kernel's group sums.

    Points' redemptions (``A_POINTS``) are the points kind's cost on top of its
    coefficients, referral rewards (``A_REFERRAL_COST``) the referral-reward kind's.
    """
    share, per_order, per_month, per_year = _coefficients(cs)
    # Every kind at once ([kind, T*S]): the kernel's formula (its Python body, same
    # operations element by element, so the same numbers as compiled, without a
    # compiled call per kind).
    out = kernel.benefit_cost.py_func(
        share, per_order, per_month, per_year, sums[kernel.A_GROSS], sums[kernel.A_ORDERS],
        sums[kernel.A_MEMBERS], sums[kernel.A_ANNIV])
    for k, kind in enumerate(BENEFIT_KINDS):
        if kind == "points":
            out[k] = out[k] + sums[kernel.A_POINTS]
        elif kind == "referral_reward":
            out[k] = out[k] + sums[kernel.A_REFERRAL_COST]
    return out


# The same copies as index arrays (one fancy-indexed copy each instead of a loop of rows).
_KERNEL_DST = np.array([MI[metric] for metric, _ in _FROM_KERNEL], dtype=np.intp)
_KERNEL_SRC = np.array([row for _, row in _FROM_KERNEL], dtype=np.intp)
_KIND_ROWS = np.array([MI[f"benefit_cost_{k}"] for k in BENEFIT_KINDS], dtype=np.intp)
_CHANNEL_ROWS = np.array([MI[f"promotion_cost_{ch}"] for ch in PROMO_CHANNELS], dtype=np.intp)


def month_table(cs: CompiledScenario, sums: np.ndarray, channel_cost: np.ndarray,
                new_segments: np.ndarray, weight: float,
                referred_segments: np.ndarray | None = None,
                lost_to_wom: float = 0.0) -> np.ndarray:
    """The month's metric columns [len(METRICS), T*S] (``members_end`` left 0).

    ``sums`` is the kernel's accumulator, ``channel_cost`` its campaign channel
    costs, ``new_segments`` the segments of the month's new customers, ``weight``
    real customers per agent; ``referred_segments`` those of the new customers who
    came by referral (None: none), ``lost_to_wom`` real new customers lost to
    negative word of mouth this month.
    """
    n_seg = cs.n_segments
    acc = np.zeros((len(METRICS), sums.shape[1]))
    acc[_KERNEL_DST] = sums[_KERNEL_SRC]
    acc[_KIND_ROWS] = benefit_cost_by_kind(cs, sums)
    acc[MI["benefit_cost"]] = acc[_KIND_ROWS].sum(0)
    acc[_CHANNEL_ROWS] = channel_cost
    acc[MI["promotion_channel_cost"]] = channel_cost.sum(0)
    if new_segments.size:
        # new customers enter tier 0
        acc[MI["new_customers"], :n_seg] = np.bincount(new_segments.astype(np.intp),
                                                       minlength=n_seg)
    if referred_segments is not None and referred_segments.size:
        acc[MI["referral_customers"], :n_seg] = np.bincount(referred_segments.astype(np.intp),
                                                            minlength=n_seg)
    if cs.paid_new_per_month > 0:  # the organic/paid split of the month's other new customers
        acc[MI["new_customers_paid"]] = ((acc[MI["new_customers"]] - acc[MI["referral_customers"]])
                                         * (cs.paid_new_per_month / cs.new_per_month))
    acc *= weight
    if lost_to_wom > 0:
        acc[MI["new_customers_lost_wom"], :n_seg] = lost_to_wom * cs.new_mix
    if cs.acquisition_spend > 0:
        acc[MI["acquisition_cost"], :n_seg] += cs.acquisition_spend * cs.new_mix  # entry tier
    acc[MI["net_revenue"]] = acc[MI["gross_revenue"]] - acc[MI["price_concessions"]]
    acc[MI["promotion_cost"]] = (acc[MI["promotion_discount_cost"]]
                                 + acc[MI["promotion_channel_cost"]])
    if sums[kernel.A_REACT_COST].any():
        acc[MI["promotion_cost"]] += acc[MI["promotion_reactivation_cost"]]
    acc[MI["total_cost"]] = (acc[MI["benefit_cost"]] + acc[MI["promotion_cost"]]
                             + acc[MI["service_cost"]] + acc[MI["acquisition_cost"]])
    acc[MI["net_contribution"]] = acc[MI["gross_margin"]] - acc[MI["total_cost"]]
    return acc


def to_monthly(acc: np.ndarray, n_tiers: int, n_segments: int) -> np.ndarray:
    """[metric, T*S] (tier-major groups) -> the arm's monthly layout [S, T, metric]."""
    return acc.reshape(len(METRICS), n_tiers, n_segments).transpose(2, 1, 0)


def by_group(rows: np.ndarray, n_tiers: int, n_segments: int) -> np.ndarray:
    """[k, T*S] tier-major -> [k, S, T]."""
    return rows.reshape(rows.shape[0], n_tiers, n_segments).transpose(0, 2, 1)


def by_start_group(values: np.ndarray, n_tiers: int, n_segments: int) -> np.ndarray:
    """[T*S] tier-major -> [S, T]."""
    return values.reshape(n_tiers, n_segments).T


def year_one(segment: np.ndarray, tier_start: np.ndarray, alive: np.ndarray,
             y1_orders: np.ndarray, y1_gross: np.ndarray, n_tiers: int, n_segments: int,
             weight: float) -> dict[str, np.ndarray]:
    """Retention, repurchase and high-frequency share among today's customers [S, T]."""
    key = tier_start.astype(np.int64) * n_segments + segment.astype(np.int64)
    sums = _year_one_sums(key, alive, y1_orders, np.asarray(y1_gross, dtype=np.float64),
                          n_segments * n_tiers)
    return {name: by_start_group(sums[row] * weight, n_tiers, n_segments)
            for row, name in enumerate(_YEAR_ONE)}


_YEAR_ONE = ("customers", "retained", "repurchasers", "buyers", "gross", "gross_high_freq",
             "high_freq_customers")


@njit(cache=True)
def _year_one_sums(key, alive, y1_orders, y1_gross, n_groups):
    """The rows of :data:`_YEAR_ONE` summed per start group [7, groups] in one pass.

    Customer by customer in index order, as ``np.bincount(key, weights=...)`` sums each
    row (the same numbers). High-frequency buyers: >= 36 orders in year 1 (>= 3 a
    month, study B's).
    """
    out = np.zeros((7, n_groups))
    for i in range(key.shape[0]):
        g = key[i]
        o = y1_orders[i]
        hf = o >= 36
        out[0, g] += 1.0
        out[1, g] += 1.0 if alive[i] else 0.0
        out[2, g] += 1.0 if o >= 2 else 0.0
        out[3, g] += 1.0 if o >= 1 else 0.0
        out[4, g] += y1_gross[i]
        out[5, g] += y1_gross[i] if hf else 0.0
        out[6, g] += 1.0 if hf else 0.0
    return out


def migration(tier_start: np.ndarray, tier_end: np.ndarray, alive: np.ndarray, n_tiers: int,
              weight: float) -> np.ndarray:
    """Today's customers from start tier to end tier [T, T+1] (last column: churned)."""
    ts = tier_start.astype(np.int64)
    end = np.where(alive, tier_end.astype(np.int64), n_tiers)
    counts = np.bincount(ts * (n_tiers + 1) + end, minlength=n_tiers * (n_tiers + 1))
    return counts.reshape(n_tiers, n_tiers + 1) * weight
