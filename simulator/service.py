"""The customer-service stage: a pool's waits month by month, from real-scale queue windows.

Design (see docs/MODEL_NOTES.md, "Service queue"):

* Each month the engine knows the real shop's expected contact arrivals per
  (pool, priority class) — the agent sample's contact intensities scaled by the
  sample weight, never a scaled-down copy of the queue.
* For those rates the pools are simulated at full scale in windows of a few
  days (:mod:`simulator.queue_window`: the SimPy queue, its numba twin, warm-up
  and window length).
* Windows are cached per load key: the pool's load ρ (arrivals / day-average
  capacity) is bracketed by two points of a grid uniform in logit ρ, and the
  month's wait distribution is the mixture of the two windows' (weighted by
  the position between them). Loads above ``RHO_WINDOW_MAX`` use the window at
  that load: the excess is a fluid backlog per class, carried from month to
  month, that adds backlog / capacity to the waits (:meth:`ServiceStage.month`).
* Each replication has its own windows (the variant is the replication), so
  replications' queue noise is independent. A window's seed derives from its
  key, the scenario seed and the variant, so the result does not depend on
  which process computes it or in what order.
* Customers who contacted service draw their waits from the month's wait
  distribution of their class (one uniform each: common random numbers hold).

``PoolSpec`` and ``DAYS_PER_MONTH`` (:mod:`simulator.queue_window`) are importable
from here too.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from simulator import threads as _threads  # noqa: F401 - compiled code's cache folder
from simulator import window_cache
from simulator.queue_window import (  # noqa: F401 - PoolSpec, DAYS_PER_MONTH re-exported
    DAYS_PER_MONTH,
    MAX_WAIT_HOURS,
    QUANTILES,
    RHO_WINDOW_MAX,
    PoolSpec,
    load_at,
    load_index,
    simulate_pool_window,
)
from simulator.window_cache import WindowResult

SHARE_STEP = 0.05  # class mix is rounded to this step for the cache key
_U = (np.arange(QUANTILES) + 0.5) / QUANTILES
# A fixed pairing of window-wait quantiles with arrival times in the month (the
# two are independent); any fixed permutation does, this one is reproducible.
_PAIRING = np.random.default_rng(20261129).permutation(QUANTILES)
_PAIRING_C = np.ascontiguousarray(_PAIRING)


def _quantiles(sample: np.ndarray) -> np.ndarray:
    """The sample's quantile function on a fixed grid (sorted, QUANTILES values).

    Linear interpolation between order statistics at position u·(n − 1), as
    ``np.quantile``'s default, on the sorted sample (np.quantile partitions once
    per quantile: 1024 partitions cost more than the window).
    """
    x = np.sort(sample)
    return np.interp(_U * (x.size - 1), np.arange(x.size), x)


def interpolate_waits(qa: np.ndarray, qb: np.ndarray, theta: float) -> np.ndarray:
    """Wait quantiles between two windows: the mixture (1 − θ)·F_a + θ·F_b of their CDFs.

    On the logit-load grid the wait distribution changes little from one point to
    the next (Erlang C's mean wait is within 1 % of linear across a step), so mixing
    the two distributions is accurate; unlike averaging quantiles (which gave the
    larger of the two P(W > 0)) it interpolates P(W > t) for every t, and unlike a
    geometric mean of survivals it is linear in the windows' noise (no Jensen bias:
    small windows would read low).
    """
    if theta <= 0.0:
        return qa
    if theta >= 1.0:
        return qb
    mixed = _mix_if_sorted(qa, qb, float(theta), _U)  # the same numbers, one merge
    if mixed is not None:
        return mixed
    t = np.union1d(qa, qb)
    cdf = ((1.0 - theta) * np.searchsorted(qa, t, side="right") / qa.size
           + theta * np.searchsorted(qb, t, side="right") / qb.size)
    idx = np.minimum(np.searchsorted(cdf, _U - 1e-12), t.size - 1)
    return t[idx]


@njit(cache=True)
def _late_share(t, base, hours):
    """Share of the month's arrivals whose window wait ends after the month.

    ``(t + wait > hours).mean()`` with arrival times ``t`` and the waits ``base``
    paired by ``_PAIRING``, capped.
    """
    late = 0
    for r in range(t.shape[0]):
        if t[r] + min(base[_PAIRING_C[r]], MAX_WAIT_HOURS) > hours:
            late += 1
    return late / t.shape[0]


@njit(cache=True)
def _is_sorted(x):
    for i in range(1, x.shape[0]):
        if not x[i - 1] <= x[i]:
            return False
    return True


@njit(cache=True)
def _mix_if_sorted(qa, qb, theta, u):
    """:func:`_mix_sorted` if ``qa`` and ``qb`` are sorted (:func:`_is_sorted`), else None.

    One compiled call where the three were three.
    """
    if _is_sorted(qa) and _is_sorted(qb):
        return _mix_sorted(qa, qb, theta, u)
    return None


@njit(cache=True)
def _mix_sorted(qa, qb, theta, u):
    """:func:`interpolate_waits` for sorted ``qa``, ``qb``: the union walked once.

    Same operations as the numpy version (union of the values, counts at or below
    each, ``(1 - θ)·count_a / n_a + θ·count_b / n_b``, first union value whose CDF
    reaches u - 1e-12), so the same numbers, without numpy's sorts and binary searches.
    """
    na = qa.shape[0]
    nb = qb.shape[0]
    nu = u.shape[0]
    out = np.empty(nu)
    i = 0
    j = 0
    r = 0
    last = 0.0
    wa = 1.0 - theta
    # The union's values in order with their CDF; each u takes the first value whose
    # CDF reaches u - 1e-12 (the u increase, so one walk serves them all, and it stops
    # once every u has its value); the u beyond the last CDF take the largest value.
    while (i < na or j < nb) and r < nu:
        if j >= nb or (i < na and qa[i] <= qb[j]):
            v = qa[i]
        else:
            v = qb[j]
        while i < na and qa[i] == v:
            i += 1
        while j < nb and qb[j] == v:
            j += 1
        cdf = wa * i / na + theta * j / nb
        while r < nu and not cdf < u[r] - 1e-12:
            out[r] = v
            r += 1
        last = v
    while r < nu:
        out[r] = last
        r += 1
    return out


@dataclass
class MonthService:
    """A pool's service in one month: what customers wait and what the pool reports."""

    waits: dict[int, np.ndarray]  # priority -> wait quantiles (hours), backlog included
    utilisation: float
    queue_length: float  # time-average contacts waiting
    unanswered_share: float  # share of the month's contacts not answered within the month
    backlog: float  # contacts still waiting at the month's end (carried into the next)
    overloaded: bool  # offered load at or above capacity, or a backlog carried in or out


@dataclass
class ServiceStage:
    """Hands out a pool's waits month by month.

    Windows: the pool's load ρ (arrivals / capacity, day-averaged) sits between two
    points of a grid uniform in logit ρ (:func:`load_index`); the pool is simulated
    at both (class mix rounded to 5 %), and the month's wait distribution is the
    mixture of theirs weighted by the position between them
    (:func:`interpolate_waits`). Windows are simulated at loads up to
    ``RHO_WINDOW_MAX``.

    Backlog: contacts the pool cannot answer accumulate as a fluid backlog per
    class, carried month to month. Classes take the capacity in priority order;
    a contact arriving at t waits its window wait plus backlog(t) / capacity
    left to its class. So an overloaded month reports the waits it implies, and
    a month after it starts with the queue it inherited.

    A window is a pure function of its key (pool specification, grid point,
    class mix, window size, scenario seed, variant), so windows are shared by
    every run in the process without changing any result. The variant is the
    replication: replications' queue noise is independent.
    """

    pools: dict[str, PoolSpec]
    seed: int
    window_contacts: int
    variant: int = 0
    simulated_windows: int = 0
    backlog: dict = field(default_factory=dict)  # pool -> {priority: contacts waiting}

    def _simulate(self, spec: PoolSpec, q: int, mix: tuple) -> WindowResult:
        key = (spec, q, mix, self.window_contacts, self.seed, self.variant)
        hit = window_cache.lookup(key)
        if hit is not None:
            return hit
        total = load_at(q) * spec.capacity_per_hour
        rates = {p: total * share for p, share in mix}
        digest = hashlib.sha256(repr((self.seed, key)).encode()).digest()
        seed = int.from_bytes(digest[:8], "little")
        res = simulate_pool_window(spec, rates, seed, self.window_contacts)
        res.waits = {p: _quantiles(w) for p, w in res.waits.items()}
        window_cache.store(key, res)
        self.simulated_windows += 1
        return res

    def window(self, pool: str, rates_per_hour: dict[int, float]) -> WindowResult:
        """Wait distributions per class of the pool's queue at these rates (no backlog).

        Loads above ``RHO_WINDOW_MAX`` get the window at that load (the excess is
        the backlog's, see :meth:`month`).
        """
        spec = self.pools[pool]
        live = {p: r for p, r in rates_per_hour.items() if r > 0}
        total = sum(live.values())
        if total <= 0:
            return WindowResult({p: np.zeros(1) for p in rates_per_hour}, 0.0)
        capacity = spec.capacity_per_hour
        if spec.max_staff <= 0:
            return simulate_pool_window(spec, live, 0, self.window_contacts)
        raw = sorted((p, r / total) for p, r in live.items())
        # Round the mix to SHARE_STEP, keeping every class present and the sum at 1.
        rounded = [(p, max(SHARE_STEP, round(sh / SHARE_STEP) * SHARE_STEP)) for p, sh in raw]
        norm = sum(sh for _, sh in rounded)
        mix = tuple((p, round(sh / norm, 6)) for p, sh in rounded)
        rho = min(max(total / capacity, 1e-12), RHO_WINDOW_MAX)
        x = load_index(rho)
        lo = math.floor(x)
        theta = x - lo
        a = self._simulate(spec, lo, mix)
        b = self._simulate(spec, lo + 1, mix) if theta > 1e-9 else a
        waits = {p: interpolate_waits(a.waits[p], b.waits[p], theta) for p, _ in mix}
        util = (1.0 - theta) * a.utilisation + theta * b.utilisation
        # queue length per unit of arrival rate (Little: the time-average wait),
        # mixed like the waits, at this month's rate (the load above the window cap
        # is the backlog's)
        rate = min(total, RHO_WINDOW_MAX * capacity)
        lq = rate * ((1.0 - theta) * a.queue_length / a.contacts_per_hour
                     + theta * b.queue_length / b.contacts_per_hour)
        return WindowResult(waits, min(1.0, util), total, queue_length=lq)

    def month(self, pool: str, rates_per_hour: dict[int, float], hours: float) -> MonthService:
        """The pool's month: window waits plus the carried (fluid) backlog.

        Classes in priority order take the capacity μ (contacts/hour, day average)
        first; class k has ``avail_k`` = what the classes above leave. Its backlog
        B(t) = max(0, B0 + (λ_k − avail_k)·t) over the month; a contact arriving
        at t waits its window wait plus B(t)/avail_k (capped at a year). The
        window waits and the arrival times are paired by a fixed permutation.
        """
        spec = self.pools[pool]
        win = self.window(pool, rates_per_hour)
        carried = self.backlog.setdefault(pool, {})
        backlog_start = sum(carried.values())
        mu = spec.capacity_per_hour
        t = _U * hours
        waits, unanswered, weights = {}, [], []
        avail = mu
        lq = win.queue_length
        served = 0.0
        backlog_end = 0.0
        total = sum(r for r in rates_per_hour.values() if r > 0)
        for p in sorted(rates_per_hour, reverse=True):
            lam = max(rates_per_hour[p], 0.0)
            b0 = carried.get(p, 0.0)
            base = win.waits.get(p)
            if b0 == 0.0 and lam <= avail and avail > 1e-12 * max(mu, 1e-300):
                # No backlog now nor by the month's end: no delay, the window's waits.
                carried[p] = 0.0
                served += lam * hours
                avail = max(0.0, avail - lam * hours / hours)
                if lam <= 0 or base is None:
                    if base is not None:
                        waits[p] = base
                    continue
                waits[p] = base
                unanswered.append(_late_share(t, base, hours) if base.size == QUANTILES else
                                  float((t + np.minimum(np.full(QUANTILES, float(base.mean())),
                                                        MAX_WAIT_HOURS) > hours).mean()))
                weights.append(lam)
                continue
            if avail > 1e-12 * max(mu, 1e-300):
                b = np.maximum(0.0, b0 + (lam - avail) * t)
                b_end = max(0.0, b0 + (lam - avail) * hours)
                delay = np.minimum(b / avail, MAX_WAIT_HOURS)
                served_k = lam * hours + b0 - b_end
                lq += float(b.mean())
            else:  # nothing left for this class: nobody answers it
                b_end = b0 + lam * hours
                delay = np.full(QUANTILES, MAX_WAIT_HOURS)
                served_k = 0.0
                lq += b0 + lam * hours / 2.0
            carried[p] = b_end
            backlog_end += b_end
            served += served_k
            avail = max(0.0, avail - served_k / hours)  # what this class used, on average
            if lam <= 0 or base is None:
                if base is not None:
                    waits[p] = base
                continue
            if base.size == QUANTILES:
                total_wait = base[_PAIRING] + delay
            else:  # a single-value window (no staff at all)
                total_wait = np.full(QUANTILES, float(base.mean())) + delay
            total_wait = np.minimum(total_wait, MAX_WAIT_HOURS)
            waits[p] = np.sort(total_wait) if delay.any() else base
            unanswered.append(float((t + total_wait > hours).mean()))
            weights.append(lam)
        share = 0.0
        if weights:  # np.average's own operations (the same number, without its checks)
            wts = np.array(weights, dtype=np.float64)
            share = float(np.multiply(np.array(unanswered, dtype=np.float64), wts).sum()
                          / wts.sum())
        util = win.utilisation
        if mu > 0 and total > 0:
            util = max(util, min(1.0, served / (mu * hours)))
        overloaded = bool(total >= mu or max(backlog_start, backlog_end) > 0.5)
        return MonthService(waits, min(1.0, util), lq, share, backlog_end, overloaded)
