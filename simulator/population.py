"""The customers of one arm: their state as numpy arrays, creation, growth and census.

Static draws (segment, rate frailty, anniversary month, churn probability) are
prefix-stable in the capacity, so the scenario and its counterfactual draw the same
customers; the warm start gives today's customers ``window_months`` months of
baseline buying (their rolling spend and starting tiers). About 100 bytes per customer.

Today's customers are drawn from the segments, or are the shop's actual customers
(a :class:`~simulator.customer_base.CustomerBase`): then agent i is customer i, alive
at the start as drawn from their P(alive), with their own rate, dropout and history.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit, prange
from scipy.special import betaincinv, gammaincinv, gammaln

from simulator import customer_base, draws, kernel, sizing
from simulator import streams as st
from simulator.compiled import CompiledScenario
from simulator.customer_base import CustomerBase
from simulator.outputs import Cancelled

# Customers per chunk of the set-up's element-wise draws: the cancel flag is looked at
# between chunks (each takes well under a second even for gammaincinv on a loaded core).
POLL_CHUNK = 1 << 15

# Static customer draws of recent arms (read-only arrays), least recently used first,
# bounded in bytes. They depend on the seed, the replication and the segments only (not
# on the scheme), so every arm of a replication a process runs (both arms of a run, a
# sweep's sets, in any order on a pool worker) draws them once; they are prefix-stable
# in the capacity, so an entry drawn for a larger capacity serves a smaller one.
_STATIC_CACHE: OrderedDict[tuple, tuple[np.ndarray, ...]] = OrderedDict()
STATIC_CACHE_BYTES = sizing.cache_budget() // 6  # 256 MiB on a machine of 24 GB and more

# Warm-start buying histories of recent arms (read-only copies), least recently used
# first: both arms of a replication, and a sweep's arms that keep the segments, draw the
# same history (it depends on the static draws, the segments' rates and order values and
# the window only), so it is drawn once. Bounded in bytes.
# An entry: spend and orders [W, n0], with the window's rolling spend and idle months [n0].
_HISTORY_CACHE: OrderedDict[tuple, tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]] \
    = OrderedDict()
HISTORY_CACHE_BYTES = sizing.cache_budget() * 2 // 3  # 1 GiB on a machine of 24 GB and more


def _remember_history(key: tuple, spend: np.ndarray, orders: np.ndarray | None,
                      rolling: np.ndarray, idle: np.ndarray) -> None:
    size = spend.nbytes + (0 if orders is None else orders.nbytes) + rolling.nbytes + idle.nbytes
    if size > HISTORY_CACHE_BYTES:
        return
    entry = (spend.copy(), None if orders is None else orders.copy(), rolling.copy(), idle.copy())
    for a in entry:
        if a is not None:
            a.setflags(write=False)
    _HISTORY_CACHE[key] = entry
    _HISTORY_CACHE.move_to_end(key)
    sizing.trim_to_budget(_HISTORY_CACHE, _entry_bytes, HISTORY_CACHE_BYTES,
                          sum(map(_entry_bytes, _HISTORY_CACHE.values())))


def _remember_static(key: tuple, arrays: tuple[np.ndarray, ...]) -> None:
    _STATIC_CACHE.pop(key, None)
    _STATIC_CACHE[key] = arrays
    sizing.trim_to_budget(_STATIC_CACHE, _entry_bytes, STATIC_CACHE_BYTES,
                          sum(map(_entry_bytes, _STATIC_CACHE.values())))


def _entry_bytes(entry: tuple) -> int:
    return sum(a.nbytes for a in entry if a is not None)


# The month's rounding uniforms (acquisition, referrals) already drawn, by (seed,
# replication, purpose, month): every arm of a replication draws the same ones, and a
# generator costs ~0.1 ms. Bounded (cleared when full).
_MONTH_U: dict[tuple, float] = {}
_MONTH_U_MAX = 1 << 16


def _month_uniform(rs: st.Streams, purpose: int, m: int) -> float:
    """``rs.uniform(1, purpose, m)[0]``, kept per process."""
    e = rs.entropy
    key = (e if isinstance(e, int) or e is None else tuple(e), rs.replication, purpose, m)
    u = _MONTH_U.get(key)
    if u is None:
        u = float(rs.uniform(1, purpose, m)[0])
        if len(_MONTH_U) >= _MONTH_U_MAX:
            _MONTH_U.clear()
        _MONTH_U[key] = u
    return u


# The rate frailty (gamma with mean 1 and shape a = 1/CV^2) at uniform u is
# gammaincinv(a, u) / a: scipy's inversion costs ~0.4 us a customer. Instead each shape
# has a table of that quantile at u = k / FRAILTY_CELLS and of its slope (1 / density),
# read by cubic Hermite interpolation; a cell where the interpolant at the cell's middle
# (where Hermite's error peaks) is off the exact quantile by more than FRAILTY_TOL
# relative (the steep tails, the first and last cell always) is computed exactly. Max
# relative error over the whole range: see tests/test_frailty_table.py (below float32's
# rounding, 6e-8, for the shipped shapes).
FRAILTY_CELLS = 4096
FRAILTY_TOL = 2e-8


@functools.lru_cache(maxsize=64)
def frailty_table(shape: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knots (frailty at u = k / FRAILTY_CELLS), slopes per cell and the cells to interpolate."""
    n = FRAILTY_CELLS
    with np.errstate(all="ignore"):
        q = gammaincinv(shape, np.arange(n + 1) / n)
        # dQ/du = 1 / density(Q); per unit of the cell index, of the frailty Q / a
        slope = np.exp(-((shape - 1.0) * np.log(q) - q - gammaln(shape))) / (shape * n)
        knots = q / shape
        mid = gammaincinv(shape, (np.arange(n) + 0.5) / n) / shape
        at_mid = 0.5 * (knots[:-1] + knots[1:]) + 0.125 * (slope[:-1] - slope[1:])
        ok = (np.isfinite(at_mid) & np.isfinite(knots[1:]) & np.isfinite(slope[:-1])
              & np.isfinite(slope[1:]) & (mid > 0)
              & (np.abs(at_mid - mid) <= FRAILTY_TOL * mid))
    ok[0] = ok[-1] = False
    knots = np.where(np.isfinite(knots), knots, 0.0)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    for a in (knots, slope, ok):
        a.setflags(write=False)
    return knots, slope, ok


@njit(cache=True)
def _frailty_lookup(u, seg, knots, slope, ok, out):
    """Hermite-interpolated frailty per customer; NaN where its cell is computed exactly."""
    n = knots.shape[1] - 1
    for i in range(u.shape[0]):
        s = seg[i]
        x = u[i] * n
        c = int(x)
        if c >= n or not ok[s, c]:
            out[i] = np.nan
            continue
        t = x - c
        t2 = t * t
        t3 = t2 * t
        out[i] = ((2.0 * t3 - 3.0 * t2 + 1.0) * knots[s, c] + (t3 - 2.0 * t2 + t) * slope[s, c]
                  + (3.0 * t2 - 2.0 * t3) * knots[s, c + 1] + (t3 - t2) * slope[s, c + 1])


def gamma_frailty(shapes: np.ndarray, seg: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``gammaincinv(shapes[seg], u) / shapes[seg]`` (float64) from the shapes' tables."""
    tables = [frailty_table(float(a)) for a in shapes]
    knots = np.stack([t[0] for t in tables])
    slope = np.stack([t[1] for t in tables])
    ok = np.stack([t[2] for t in tables])
    out = np.empty(u.shape[0])
    _frailty_lookup(u, seg, knots, slope, ok, out)
    exact = np.flatnonzero(np.isnan(out))
    if exact.size:
        a = shapes[seg[exact]]
        out[exact] = gammaincinv(a, u[exact]) / a
    return out


@njit(cache=True, parallel=True)
def history_month(key, u, lam, seg, values, mu, sigma, offset, spend, orders):
    """One month of the warm start's baseline buying for customers ``offset + i``.

    Orders by Poisson inversion at ``u`` with rates ``lam`` (as :func:`streams.poisson_inverse`);
    their values summed by :func:`draws.order_values` from the segment's row of
    ``values`` (:func:`draws.value_table`), as the simulated months do. Writes ``spend``
    (float32) and ``orders`` (int16, when it has a row per customer). Element-wise in
    parallel: the result does not depend on the thread count.
    """
    keep = orders.shape[0] == u.shape[0]
    for i in prange(u.shape[0]):
        o = draws._poisson(u[i], lam[i])
        s = seg[i]
        spend[i] = draws.order_values(key, offset + i, o, mu[s], sigma[s], values,
                                      np.uint64(s))
        if keep:
            orders[i] = o


# Per-customer arrays that grow with the capacity (last axis).
_GROWING = ("alive", "tier", "satisfaction", "complaints_window", "grace_count", "join_month",
            "pull_forward_debt", "y1_orders", "tier_start", "spend_hist", "rolling_spend",
            "idle_months", "spend_level")


@njit(cache=True)
def _window_summary(spend_hist, n0):
    """Rolling spend (float64 sums of the rows, in row order) and idle months of 0..n0-1."""
    W, cap = spend_hist.shape
    rolling = np.zeros(cap)
    for k in range(W):
        for i in range(cap):
            rolling[i] += np.float64(spend_hist[k, i])
    idle = np.empty(n0, dtype=np.int16)
    for i in range(n0):
        j = W
        for back in range(W):
            if spend_hist[W - 1 - back, i] > 0:
                j = back
                break
        idle[i] = j
    return rolling, idle


class Population:
    """Customers' state (arrays indexed by customer; today's are 0..n0-1)."""

    def __init__(self, cs: CompiledScenario, rs: st.Streams, agents: int, weight: float,
                 customers: CustomerBase | None = None, cancel=None):
        if customers is not None and len(customers) != agents:
            raise ValueError(f"{agents} agents for {len(customers)} real customers")
        self.cancel = cancel  # set-up raises Cancelled soon after cancel.is_set()
        self.cs = cs
        self.rs = rs
        self.customers = customers
        self.weight = weight  # real customers per agent
        self.n0 = agents
        self.n = agents
        cap = int(agents + cs.new_per_month / weight * cs.horizon * 1.25 + 64)
        self.capacity = cap
        self._static(cap)
        W = cs.window_months
        self.alive = np.zeros(cap, dtype=bool)
        self.alive[:agents] = self.alive_at_start
        self.tier = np.zeros(cap, dtype=np.int8)
        self.satisfaction = np.zeros(cap, dtype=np.float32)
        self.spend_hist = np.zeros((W, cap), dtype=np.float32)
        self.track_orders = cs.track_orders
        self.order_hist = np.zeros((W, cap), dtype=np.int16) if self.track_orders else None
        self.complaints_window = np.zeros(cap, dtype=np.int16)
        self.grace_count = np.zeros(cap, dtype=np.int8)  # reviews spent below the tier
        self.points = np.zeros(cap, dtype=np.float32) if cs.points_on else None
        self.join_month = np.zeros(cap, dtype=np.int16)
        self.pull_forward_debt = np.zeros(cap, dtype=np.float32)
        self.y1_orders = np.zeros(cap, dtype=np.int16)
        self.tier_start = np.zeros(cap, dtype=np.int8)
        self.y1_gross = np.zeros(agents)
        self.idle_months = np.zeros(cap, dtype=np.int16)  # months since the last purchase
        # Order-value multiplier: 1, or a real customer's own spend per order over the segment's.
        self.spend_level = np.ones(cap, dtype=np.float32)
        if customers is not None and customers.spend_level is not None:
            seg_mean = np.exp(cs.spend_mu + cs.spend_sigma**2 / 2)[customers.segment]
            self.spend_level[:agents] = customers.spend_level / seg_mean
        self.new_idx = np.zeros(0, dtype=np.int64)  # customers who joined this month
        self.new_referred = 0  # the last this many of new_idx came by referral
        # Stand-ins for arrays not kept (the kernel's types stay the same).
        self._no_orders = np.zeros(1, dtype=np.int32)
        self._no_order_hist = np.zeros((1, 1), dtype=np.int16)
        self._no_points = np.zeros(1, dtype=np.float32)
        self._warm_start()

    def _poll(self) -> None:
        """Raise :class:`~simulator.outputs.Cancelled` if the run was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _chunks(self, n: int):
        """Ranges (a, b) covering 0..n-1 in :data:`POLL_CHUNK` steps, polling cancel before each."""
        for a in range(0, n, POLL_CHUNK):
            self._poll()
            yield a, min(n, a + POLL_CHUNK)

    def _each_chunk(self, n: int, work) -> None:
        """``work(a, b)`` for the :data:`POLL_CHUNK` chunks of 0..n-1, polling cancel.

        Element-wise work only (each element its own numbers): chunks run on up to the
        kernel's thread count at once (scipy's special functions release the GIL), so
        the result does not depend on the threads.
        """
        chunks = [(a, min(n, a + POLL_CHUNK)) for a in range(0, n, POLL_CHUNK)]
        k = min(max(1, numba.get_num_threads()), len(chunks))
        if k <= 1:
            for a, b in chunks:
                self._poll()
                work(a, b)
            return
        with ThreadPoolExecutor(k) as ex:
            for g in range(0, len(chunks), k):
                running = []
                for a, b in chunks[g:g + k]:
                    self._poll()
                    running.append(ex.submit(work, a, b))
                for f in running:
                    f.result()

    # ----------------------------------------------------------------- draws
    def _static(self, cap: int) -> None:
        """Per-customer draws that never change (prefix-stable in ``cap``).

        Both arms of a replication draw the same static customers, so the last
        few results are kept (read-only) and the second arm reuses them.
        """
        cs = self.cs
        key = (self.rs.entropy, self.rs.replication, self.n0, cs.shares.tobytes(),
               cs.new_mix.tobytes(), cs.gamma_shape.tobytes(), cs.steps_per_month,
               cs.hazard.tobytes(), cs.churn_beta, cs.base_rate.tobytes(), id(self.customers))
        self._static_key = key
        hit = _STATIC_CACHE.get(key)
        if hit is None or hit[0].shape[0] < cap:
            hit = self._draw_static(cap)
            for a in hit:
                a.setflags(write=False)
            _remember_static(key, hit)
        else:
            _STATIC_CACHE.move_to_end(key)
        seg, frailty, anniv, churn, alive0 = hit
        # the first ``cap`` of a larger draw: the same numbers (prefix-stable)
        self.segment, self.frailty, self.anniversary_month, self.churn_step = (
            a[:cap] for a in (seg, frailty, anniv, churn))
        self.alive_at_start = alive0

    def _draw_static(self, cap: int) -> tuple[np.ndarray, ...]:
        cs = self.cs
        n_seg = cs.n_segments
        cb = self.customers
        u_seg = self.rs.uniform(cap, st.STATIC_SEGMENT)
        seg = np.empty(cap, dtype=np.int8)
        n0 = min(self.n0, cap)
        seg[:n0] = np.searchsorted(np.cumsum(cs.shares), u_seg[:n0], side="right").clip(
            0, n_seg - 1) if cb is None else cb.segment[:n0]
        seg[n0:] = np.searchsorted(np.cumsum(cs.new_mix), u_seg[n0:], side="right").clip(
            0, n_seg - 1)
        self._poll()
        u_f = np.clip(self.rs.uniform(cap, st.STATIC_FRAILTY), 1e-12, 1 - 1e-12)
        frailty = np.empty(cap, dtype=np.float32)

        def gamma(a: int, b: int) -> None:  # element-wise: the same numbers in chunks
            frailty[a:b] = gamma_frailty(cs.gamma_shape, seg[a:b], u_f[a:b])

        self._each_chunk(cap, gamma)
        anniv = (self.rs.uniform(cap, st.STATIC_ANNIVERSARY) * 12).astype(np.int8)
        # Churn probability per behaviour step: the segment's hazard, or with churn
        # heterogeneity the customer's own monthly draw from the segment's beta.
        K = cs.steps_per_month
        churn = cs.segment_table[kernel.SG_HAZ][seg]
        u_c = None
        if cb is not None or any(ab is not None for ab in cs.churn_beta):
            u_c = np.clip(self.rs.uniform(cap, st.STATIC_CHURN), 1e-12, 1 - 1e-12)
        for s, ab in enumerate(cs.churn_beta):
            if ab is not None and u_c is not None:
                def beta(a: int, b: int, s=s, ab=ab, u_c=u_c) -> None:
                    m = np.flatnonzero(seg[a:b] == s) + a
                    churn[m] = -np.expm1(np.log1p(-betaincinv(ab[0], ab[1], u_c[m])) / K)

                self._each_chunk(cap, beta)
        self._poll()
        alive0 = np.ones(n0, dtype=bool)
        if cb is not None and u_c is not None:  # the real customers: their own draws
            alive0, rate, q = customer_base.draw(cb, self.rs.uniform(n0, st.STATIC_ALIVE),
                                                 u_f[:n0], u_c[:n0])
            frailty[:n0] = (rate / np.maximum(cs.base_rate[cb.segment], 1e-300)
                            ).astype(np.float32)
            if q is not None:
                churn[:n0] = -np.expm1(np.log1p(-q) / K)
        return seg, frailty, anniv, churn, alive0

    def _warm_start(self) -> None:
        """Today's customers: starting satisfaction, window of baseline buying, tiers."""
        cs = self.cs
        n0 = self.n0
        seg = self.segment[:n0]
        self.satisfaction[:n0] = cs.sat_start[seg]
        lam = cs.base_rate[seg] * self.frailty[:n0]
        W = cs.window_months
        cb = self.customers
        hist_key = None
        summary: tuple[np.ndarray, np.ndarray] | None = None  # rolling spend, idle months
        if cb is None:
            hist_key = (self._static_key, cs.spend_mu.tobytes(), cs.spend_sigma.tobytes(), W)
            hit = _HISTORY_CACHE.get(hist_key)
            if hit is not None and (self.order_hist is None or hit[1] is not None):
                _HISTORY_CACHE.move_to_end(hist_key)
                spend, orders, rolling, idle = hit
                self.spend_hist[:, :n0] = spend
                if self.order_hist is not None and orders is not None:
                    self.order_hist[:, :n0] = orders
                summary = rolling, idle
                W = 0  # the history is the one drawn before
        for k in range(W):
            if cb is not None:  # their own last months, the most recent in row W-1
                if W - 1 - k < cb.spend.shape[0]:
                    self.spend_hist[k, :n0] = cb.spend[W - 1 - k]
                    if self.order_hist is not None:
                        self.order_hist[k, :n0] = np.minimum(cb.orders[W - 1 - k], 30000)
                continue
            self._poll()
            u = self.rs.uniform(n0, st.HISTORY_ORDERS, k)
            key = self.rs.key(st.HISTORY_SPEND, k)
            for a, b in self._chunks(n0):
                # One value per order, from the segment's table as in the months.
                history_month(key, u[a:b], lam[a:b], seg[a:b], cs.value_table, cs.spend_mu,
                              cs.spend_sigma, a, self.spend_hist[k, a:b],
                              self.order_hist[k, a:b] if self.order_hist is not None
                              else self._no_order_hist[0])
        self._poll()
        # CNY in the window; months since the last purchase (the history's trailing
        # months without spend) — one compiled pass, the same numbers as numpy's row sums.
        if summary is None:
            self.rolling_spend, self.idle_months[:n0] = _window_summary(self.spend_hist, n0)
            if hist_key is not None:
                _remember_history(hist_key, self.spend_hist[:, :n0],
                                  None if self.order_hist is None else self.order_hist[:, :n0],
                                  self.rolling_spend[:n0], self.idle_months[:n0])
        else:  # customers n0.. have no history: their rolling spend is 0
            self.rolling_spend = np.zeros(self.capacity)
            self.rolling_spend[:n0], self.idle_months[:n0] = summary
        self.rolling_orders = (self.order_hist.sum(0, dtype=np.int32)
                               if self.order_hist is not None else None)
        if cs.tiers_on:
            self.tier[:n0] = self.qualified(n0)
        self.tier_start[:n0] = self.tier[:n0]
        self.hist_pos = cs.window_months - 1  # row of the latest month; next overwrites row 0

    # ----------------------------------------------------------------- state
    def qualified(self, n: int) -> np.ndarray:
        """The tier customers 0..n-1 qualify for by their rolling window."""
        cs = self.cs
        orders = self.rolling_orders[:n] if self.rolling_orders is not None else self._no_orders
        return kernel.qualified(np.ascontiguousarray(self.rolling_spend[:n]),
                                np.ascontiguousarray(orders), cs.thresholds, cs.min_orders,
                                self.track_orders)

    def _grow(self, need: int) -> None:
        new_cap = int(max(need, self.capacity * 1.5))
        old = self.capacity
        self._static(new_cap)

        def ext(a):
            pad = [(0, 0)] * a.ndim
            pad[-1] = (0, new_cap - old)
            return np.pad(a, pad)

        for name in _GROWING:
            setattr(self, name, ext(getattr(self, name)))
        self.spend_level[old:] = 1.0  # new customers spend as their segment
        if self.order_hist is not None:
            self.order_hist = ext(self.order_hist)
            self.rolling_orders = ext(self.rolling_orders)
        if self.points is not None:
            self.points = ext(self.points)
        self.capacity = new_cap

    def acquire(self, m: int, referred: float = 0.0, lost_share: float = 0.0) -> np.ndarray:
        """New customers of month m (tier 0, starting satisfaction); their indices.

        ``referred``: real customers referred last month (they join after the organic
        and paid ones, :attr:`new_referred` of them); ``lost_share``: share of the
        organic and paid new customers lost to negative word of mouth.
        """
        cs = self.cs
        x = cs.new_per_month / self.weight
        if lost_share > 0.0:
            x *= max(0.0, 1.0 - lost_share)
        u = _month_uniform(self.rs, st.ACQUISITION, m)
        k = int(math.floor(x)) + (1 if u < x - math.floor(x) else 0)
        self.new_referred = 0
        if referred > 0.0:
            xr = referred / self.weight
            ur = _month_uniform(self.rs, st.REFERRAL, m)
            self.new_referred = int(math.floor(xr)) + (1 if ur < xr - math.floor(xr) else 0)
            k += self.new_referred
        if k <= 0:
            self.new_idx = np.zeros(0, dtype=np.int64)
            return self.new_idx
        if self.n + k > self.capacity:
            self._grow(self.n + k)
        idx = np.arange(self.n, self.n + k)
        self.n += k
        self.alive[idx] = True
        self.satisfaction[idx] = cs.sat_start[self.segment[idx]]
        self.join_month[idx] = m
        self.new_idx = idx
        return idx

    def census(self) -> tuple[np.ndarray, np.ndarray]:
        """Alive customers per group [T*S] (tier-major) and per join cohort [H+1]."""
        cs = self.cs
        return kernel.census(self.n, self.segment, self.tier, self.alive, self.join_month,
                             cs.n_segments, cs.n_segments * cs.n_tiers, cs.horizon + 1)

    def new_boost(self, m: int) -> np.ndarray | None:
        """Each customer's order-rate factor for month m from a new customer's extra rate.

        1 + boost x (its mean over the month at the customer's tenure): with tenure t0
        months at the month's start and fade F, 1 + boost F (exp(-t0/F) - exp(-(t0+1)/F)).
        New customers are at tenure 0 in the month they join; a customer file's customers
        at their ``tenure_months`` in month 1; customers drawn from the segments at the
        start, or from a file without tenure, are established (factor 1). None without
        an extra rate in the scenario.
        """
        nb = self.cs.new_boost
        if nb is None:
            return None
        boost, fade = nb
        n, n0 = self.n, self.n0
        t0 = np.full(n, np.inf)
        t0[n0:] = m - self.join_month[n0:n]
        cb = self.customers
        if cb is not None and cb.tenure_months is not None:
            t0[:n0] = cb.tenure_months[:n0] + (m - 1)
        with np.errstate(over="ignore"):
            return 1.0 + boost * fade * (np.exp(-t0 / fade) - np.exp(-(t0 + 1.0) / fade))

    def bundle(self, season: float = 1.0, m: int | None = None) -> kernel.Customers:
        """The kernel's view of the customers (same arrays, no copies without a factor).

        ``season``: the month's seasonal order-rate factor; ``m``: the run month, for a
        new customer's extra order rate (:meth:`new_boost`, applied through a copy of the
        rate frailty). Real customers whose churn follows their orders (a customer file's
        dropout per order, BG/NBD) drop out that much faster too: their churn per step
        becomes 1 - (1 - c)^(season x boost) (a copy).
        """
        churn = self.churn_step
        frailty = self.frailty
        cb = self.customers
        follows = cb is not None and cb.dropout_a is not None  # churn follows orders
        boost = self.new_boost(m) if m is not None else None
        if boost is not None:  # the new customer's extra rate left this month (a copy)
            frailty = self.frailty.copy()
            frailty[:self.n] *= boost.astype(np.float32)
            frailty.setflags(write=self.frailty.flags.writeable)  # the kernel's types stay
        if follows and (season != 1.0 or boost is not None):
            f = season * (boost[:self.n0] if boost is not None else 1.0)
            churn = self.churn_step.copy()
            churn[:self.n0] = -np.expm1(f * np.log1p(-churn[:self.n0]))
            churn.setflags(write=self.churn_step.flags.writeable)
        return kernel.Customers(
            self.n, self.n0, self.segment, self.tier, self.alive, self.tier_start,
            self.anniversary_month, frailty, churn, self.satisfaction,
            self.points if self.points is not None else self._no_points,
            self.pull_forward_debt, self.complaints_window, self.rolling_spend,
            self.rolling_orders if self.rolling_orders is not None else self._no_orders,
            self.spend_hist,
            self.order_hist if self.order_hist is not None else self._no_order_hist,
            self.y1_orders, self.y1_gross, self.join_month, self.idle_months, self.spend_level)

    def review(self, m: int) -> None:
        """Tier review at the end of month m (the downgrade rule of the scheme)."""
        cs = self.cs
        n = self.n
        key = self.rs.key(st.TASK, m) if cs.downgrade == "keep_task" else np.uint64(0)
        _review(self.tier, self.qualified(n), self.alive, self.grace_count, n,
                _DOWNGRADE[cs.downgrade], cs.grace_reviews, key, float(cs.task_completion),
                cs.benefits_on)


_DOWNGRADE = {"immediate": 0, "never": 1, "grace": 2, "keep_task": 3}


@njit(cache=True)
def _review(tier, q, alive, grace_count, n, rule, grace_reviews, task_key, task_completion,
            benefits_on):
    """Customers 0..n-1's tiers after a review: ``q`` the tiers they qualify for.

    ``rule`` (:data:`_DOWNGRADE`): immediate (the qualified tier), never (no step
    down), grace (down after more than ``grace_reviews`` reviews in a row below the
    tier, the count kept in ``grace_count``), keep_task (a customer at risk keeps the
    tier if their task uniform, as the month's take-up, is below ``task_completion``
    and benefits are on). The dead keep theirs. One pass, the numbers of the former
    numpy form (int8 counts wrap alike).
    """
    for i in range(n):
        cur = tier[i]
        qi = q[i]
        if rule == 0:
            new = qi
        elif rule == 1:
            new = max(cur, qi)
        elif rule == 2:
            below = qi < cur
            grace_count[i] = grace_count[i] + 1 if below else 0
            if below and grace_count[i] > grace_reviews:
                new = qi
                grace_count[i] = 0
            else:
                new = max(cur, qi)
        else:
            done = qi < cur and draws.uniform_at(task_key, i) < task_completion
            new = cur if done and benefits_on else qi
        if alive[i]:
            tier[i] = new
