"""The customer-service stage: a real-scale SimPy queue over representative days.

Design (see docs/MODEL_NOTES.md, "Service queue"):

* Each month the engine knows the real shop's expected contact arrivals per
  (pool, priority class) — the agent sample's contact intensities scaled by the
  sample weight, never a scaled-down copy of the queue.
* For those rates the pools are simulated at full scale: every pool is a
  ``PriorityResource`` with one slot per agent on the largest shift; shift
  changes are modelled by "off-duty" requests that take slots ahead of
  customers (non-preemptive: an agent finishes the current contact first).
  Arrivals are Poisson, uniform over the day; handling times exponential or
  lognormal. Windows run on :mod:`simulator.queue_fast`, a numba replay of
  this same SimPy queue (same draws, same event order; identical waits,
  ``tests/test_queue_twin.py``); SimPy stays the reference.
* A window warms up for three relaxation times of the queue (at most 30
  days), then measures long enough to observe ``window_contacts`` contacts
  (at most 14 days); a pool whose staff changes over the day is simulated in
  whole days, a constant-staff pool starts from a draw of its M/M/c steady
  state and needs no whole days. The rota runs on after the last arrival
  until every contact is answered (a pool closed at night answers its
  evening backlog the next morning).
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
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from simulator import window_cache
from simulator.window_cache import WindowResult

HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = 365.25 / 12.0
GRID = 0.05  # step of the load grid of queue windows (see load_index)
MAX_DAYS = 14
MAX_WARM_DAYS = 30
RHO_WINDOW_MAX = 0.99  # windows are simulated at most at this load; beyond it the backlog is fluid
MAX_WAIT_HOURS = HOURS_PER_DAY * 365.25  # waits are reported up to a year (nobody answers)


@dataclass(frozen=True)
class PoolSpec:
    """A pool as the queue sees it (hashable, for the cache)."""

    name: str
    shifts: tuple[tuple[float, float, int], ...]  # (start_hour, end_hour, staff)
    handle_hours: float
    distribution: str  # "exponential" | "lognormal"
    handle_cv: float

    def staff_at(self, hour_of_day: float) -> int:
        """Staff on duty at an hour of the day (overlapping shifts add up)."""
        return sum(s for a, b, s in self.shifts if a <= hour_of_day < b)

    @property
    def max_staff(self) -> int:
        """Largest number on duty at any time."""
        edges = sorted({a for a, _, _ in self.shifts} | {0.0})
        return max((self.staff_at(h) for h in edges), default=0)

    @property
    def agent_hours_per_day(self) -> float:
        """Paid agent-hours per day."""
        return sum((b - a) * s for a, b, s in self.shifts)

    @property
    def capacity_per_hour(self) -> float:
        """Contacts the pool can answer per hour, averaged over the day."""
        return self.agent_hours_per_day / (HOURS_PER_DAY * self.handle_hours)


def load_index(rho: float) -> float:
    """Position of a load ρ (offered / capacity, 0 < ρ < 1) on the window grid.

    The grid is uniform in logit(ρ) = log ρ − log(1 − ρ), with steps of
    log(1 + GRID): at light load that is a 5 % step in the arrival rate, near
    saturation a 5 % step in the spare capacity 1 − ρ, which is what waits
    depend on there (Erlang C's decay rate cμ − λ, Halfin–Whitt's (1 − ρ)√c).
    """
    return (math.log(rho) - math.log1p(-rho)) / math.log1p(GRID)


def load_at(q: int) -> float:
    """The load ρ of grid point ``q`` (inverse of :func:`load_index`)."""
    return 1.0 / (1.0 + math.exp(-q * math.log1p(GRID)))


@dataclass
class WindowDraws:
    """The random inputs of one window (both queue engines consume exactly these)."""

    days: int  # measured days, rounded up
    horizon: float  # hours simulated with arrivals (warm-up + measured period)
    times: np.ndarray  # sorted arrival times, hours
    labels: np.ndarray  # priority class of each arrival
    handle: np.ndarray  # handling time of each arrival, hours
    warm: float = HOURS_PER_DAY  # hours of warm-up before the measured days


def constant_staff(pool: PoolSpec) -> bool:
    """Whether the pool has the same (positive) staff at every hour of the day."""
    return pool.max_staff > 0 and len({pool.staff_at(h) for h in shift_changes(pool)}) == 1


def window_span(pool: PoolSpec, total_rate: float, window_contacts: int) -> tuple[float, float]:
    """Hours of warm-up and hours measured for a window of ``window_contacts`` contacts.

    Warm-up: three relaxation times of the queue, 1/(c·μ·(1 − √ρ)²) hours each
    (M/M/c; c the largest staff, ρ the day-average load), at most MAX_WARM_DAYS.
    At 240 agents that is minutes, at 3 agents and ρ = 0.9 three days.
    Measured: long enough to see ``window_contacts`` contacts, at most MAX_DAYS.
    A pool whose staff changes over the day is simulated in whole days (and at
    least one warm-up day); a constant-staff pool, which starts from its steady
    state (:func:`initial_contacts`), needs no whole days: its cost follows the
    window size, not the contacts of a whole day.
    """
    rho = total_rate / pool.capacity_per_hour
    if rho >= 1.0:
        relax = HOURS_PER_DAY  # no steady state to approach (the stage stays below 1)
    else:
        relax = 1.0 / (pool.max_staff / pool.handle_hours * (1.0 - math.sqrt(rho)) ** 2)
    warm = min(MAX_WARM_DAYS * HOURS_PER_DAY, 3.0 * relax)
    measured = min(MAX_DAYS * HOURS_PER_DAY, window_contacts / total_rate)
    if constant_staff(pool):
        return warm, measured
    days = lambda h: max(1, math.ceil(h / HOURS_PER_DAY - 1e-9))  # noqa: E731
    return HOURS_PER_DAY * days(warm), HOURS_PER_DAY * days(measured)


def initial_contacts(pool: PoolSpec, total_rate: float, rng: np.random.Generator) -> int:
    """Contacts in the system when the window starts: a draw from the M/M/c steady state.

    Only for a pool with the same staff all day (where that steady state exists and
    is exact for exponential handling); other pools start empty and rely on the
    warm-up days. A window that starts empty near saturation would otherwise need
    a warm-up of many relaxation times (at 3 agents and ρ = 0.97, weeks).
    """
    c = pool.max_staff
    if not constant_staff(pool):
        return 0
    a = total_rate * pool.handle_hours  # offered load, Erlangs
    rho = a / c
    if rho >= 1.0:
        return 0
    from simulator.theory import erlang_c

    if rng.random() < erlang_c(c, total_rate, 1.0 / pool.handle_hours):
        return c + int(rng.geometric(1.0 - rho)) - 1  # all busy; queue geometric
    k = np.arange(c)  # fewer than c present: P(k) ∝ a^k / k!
    logw = k * math.log(a) - np.array([math.lgamma(x + 1.0) for x in k]) if a > 0 else None
    if logw is None:
        return 0
    w = np.exp(logw - logw.max())
    return int(rng.choice(c, p=w / w.sum()))


def draw_window(pool: PoolSpec, rates_per_hour: dict[int, float], seed: int,
                window_contacts: int) -> WindowDraws:
    """Window length and the window's arrivals, drawn from ``seed`` in a fixed order."""
    rng = np.random.default_rng(seed)
    total_rate = sum(rates_per_hour.values())
    warm, measured = window_span(pool, total_rate, window_contacts)
    horizon = warm + measured
    days = math.ceil(measured / HOURS_PER_DAY - 1e-9)  # calendar days touched (information)

    # Arrivals: merged Poisson stream with class labels (drawn up front), after the
    # contacts already present at the start (steady state of a constant-staff pool).
    n_expected = total_rate * horizon
    n = rng.poisson(n_expected)
    times = np.sort(rng.uniform(0.0, horizon, size=n))
    n0 = initial_contacts(pool, total_rate, rng)
    times = np.concatenate([np.zeros(n0), times])
    n += n0
    classes = np.array(sorted(rates_per_hour))
    probs = np.array([rates_per_hour[c] for c in classes]) / total_rate
    labels = classes[rng.choice(len(classes), size=n, p=probs)] if n else np.zeros(0, int)
    if pool.distribution == "exponential":
        handle = rng.exponential(pool.handle_hours, size=n)
    else:
        cv = max(pool.handle_cv, 1e-9)
        sigma2 = math.log1p(cv * cv)
        mu = math.log(pool.handle_hours) - sigma2 / 2.0
        handle = rng.lognormal(mu, math.sqrt(sigma2), size=n)
    return WindowDraws(days, horizon, times, labels, handle, warm)


def shift_changes(pool: PoolSpec) -> list[float]:
    """Hours of the day at which the number on duty may change (0 included)."""
    changes = sorted({0.0} | {a for a, _, _ in pool.shifts} | {b for _, b, _ in pool.shifts})
    return [h for h in changes if h < HOURS_PER_DAY]


def run_out_end(pool: PoolSpec, d: WindowDraws) -> float:
    """When to stop simulating: late enough that every contact of the window is answered.

    While contacts wait, at least ``staff_at(h)`` agents handle contacts (off-duty
    requests only take slots beyond the rota's staff), so each day does at least
    ``agent_hours_per_day`` of work; the backlog at the end of arrivals is at most
    all the window's handling work. The rota keeps running (nights closed, days
    open) until then, so a pool closed at night answers its evening backlog the
    next morning instead of losing it.
    """
    work = float(d.handle.sum())
    return d.horizon + HOURS_PER_DAY * (math.ceil(work / pool.agent_hours_per_day) + 2)


def queue_simpy(pool: PoolSpec, classes, d: WindowDraws) -> tuple[np.ndarray, float]:
    """The reference queue in SimPy: every contact's wait (NaN if unanswered), busy agent-hours."""
    cap = pool.max_staff
    horizon, warm = d.horizon, d.warm
    times, labels, handle, n = d.times, d.labels, d.handle, d.times.size
    t_end = run_out_end(pool, d)
    rota_days = math.ceil(t_end / HOURS_PER_DAY)
    waits = np.full(n, np.nan)
    env = simpy.Environment()
    res = simpy.PriorityResource(env, capacity=cap)
    busy = [0.0]  # agent-hours spent handling inside the measured window

    # Shift changes: block (cap - staff) slots with top-priority "off duty" requests.
    changes = shift_changes(pool)

    def rota(env):
        held: list = []
        for day in range(rota_days):
            for h in changes:
                t = day * HOURS_PER_DAY + h
                if t > env.now:
                    yield env.timeout(t - env.now)
                want_blocked = cap - pool.staff_at(h)
                while len(held) > want_blocked:
                    req = held.pop()
                    if req.triggered:
                        res.release(req)
                    else:
                        req.cancel()
                while len(held) < want_blocked:
                    held.append(res.request(priority=-(10**9)))

    def contact(env, i: int, prio: int, service: float, arrive: float):
        with res.request(priority=-prio) as req:
            yield req
            waits[i] = env.now - arrive
            start = env.now
            yield env.timeout(service)
            end = env.now
            lo, hi = max(start, warm), min(end, horizon)
            if hi > lo:
                busy[0] += hi - lo

    def source(env):
        for i in range(n):
            t = times[i]
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(contact(env, i, int(labels[i]), float(handle[i]), float(t)))

    env.process(rota(env))
    env.process(source(env))
    # The run-out: contacts that arrived in the window are all answered before t_end.
    env.run(until=t_end)
    return waits, busy[0]


def queue_fast(pool: PoolSpec, classes, d: WindowDraws) -> tuple[np.ndarray, float]:
    """The compiled twin of :func:`queue_simpy` (same waits, same busy hours)."""
    from simulator.queue_fast import run_queue

    cap = pool.max_staff
    changes = shift_changes(pool)
    ranked = sorted(classes, reverse=True)  # served first = highest priority = rank 0
    rank = np.searchsorted(-np.asarray(ranked, dtype=np.int64), -d.labels.astype(np.int64))
    want = np.array([cap - pool.staff_at(h) for h in changes], dtype=np.int64)
    t_end = run_out_end(pool, d)
    rota_days = math.ceil(t_end / HOURS_PER_DAY)
    w, busy = run_queue(d.times.astype(np.float64), rank.astype(np.int64),
                        d.handle.astype(np.float64), len(ranked),
                        np.array(changes, dtype=np.float64), want, rota_days - 1, cap,
                        d.warm, d.horizon, t_end)
    return w, float(busy)


def twin_applies(classes) -> bool:
    """Whether the twin models these classes (all must rank below "off duty")."""
    from simulator.queue_fast import OFF_DUTY_PRIORITY

    return all(-OFF_DUTY_PRIORITY < int(p) < OFF_DUTY_PRIORITY for p in classes)


def lone_waits(pool: PoolSpec) -> np.ndarray:
    """Waits of a contact that finds nobody ahead: the time until an agent is on duty.

    Arrival uniform over the day (QUANTILES points). Used for a class whose window
    happened to hold no contact: zero waits would be wrong for a pool closed at night.
    """
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES * HOURS_PER_DAY
    opens = [h for h in shift_changes(pool) if pool.staff_at(h) > 0]
    if not opens:
        return np.full(QUANTILES, MAX_WAIT_HOURS)
    out = np.empty(QUANTILES)
    for i, t in enumerate(u):
        if pool.staff_at(float(t)) > 0:
            out[i] = 0.0
        else:
            out[i] = min((h - t) % HOURS_PER_DAY for h in opens)
    return np.sort(out)


def queue_length_mean(arrive: np.ndarray, waits: np.ndarray, lo: float, hi: float) -> float:
    """Time-average number of contacts waiting over [lo, hi), from the queue's trajectory.

    Each contact waits on [arrival, arrival + wait); the integral of the queue length
    is the sum of those intervals' overlaps with [lo, hi). (Little's law L = λW ties
    it to the waits; it is computed here independently, from every contact that was
    in the queue in the period, including the warm-up's.)
    """
    if hi <= lo or arrive.size == 0:
        return 0.0
    ends = arrive + np.nan_to_num(waits, nan=np.inf)
    overlap = np.minimum(ends, hi) - np.maximum(arrive, lo)
    return float(np.clip(overlap, 0.0, None).sum() / (hi - lo))


def simulate_pool_window(pool: PoolSpec, rates_per_hour: dict[int, float], seed: int,
                         window_contacts: int, engine: str = "auto") -> WindowResult:
    """Run the real-scale queue of one pool and return wait samples per class.

    ``rates_per_hour`` maps priority class (higher = served first) to its
    Poisson arrival rate per hour. Waits are the time from arrival to the start
    of handling (first response), in hours. Every contact of the window is
    answered: the rota runs on past the last arrival until the queue is empty.

    ``engine``: ``"simpy"`` (the reference model), ``"fast"`` (its compiled
    twin, :mod:`simulator.queue_fast`, identical waits) or ``"auto"``: the twin
    whenever it models the classes (its cost does not grow with idle staff).
    """
    total_rate = sum(rates_per_hour.values())
    if total_rate <= 0:
        return WindowResult({p: np.zeros(1) for p in rates_per_hour}, 0.0)
    cap = pool.max_staff
    if cap <= 0:
        # Nobody ever answers: waits are effectively unbounded.
        return WindowResult({p: np.full(1, MAX_WAIT_HOURS) for p in rates_per_hour}, 1.0,
                            total_rate, 1.0, 0, 0, 0.0)
    d = draw_window(pool, rates_per_hour, seed, window_contacts)
    if engine == "auto":
        engine = "fast" if twin_applies(rates_per_hour) else "simpy"
    if engine == "fast":
        w_all, busy = queue_fast(pool, list(rates_per_hour), d)
    elif engine == "simpy":
        w_all, busy = queue_simpy(pool, list(rates_per_hour), d)
    else:
        raise ValueError(f"unknown queue engine {engine!r}")
    # A contact answered on arrival waits start − arrival, which float arithmetic on
    # times of hundreds of hours leaves at ±1e-17 h: a wait under 1e-9 h (3.6 µs,
    # the threshold the share that waited uses) is no wait, and never negative.
    w_all = np.where(w_all > 1e-9, w_all, 0.0)
    warm = d.warm
    measured = d.times >= warm
    out = {p: np.sort(w_all[measured & (d.labels == p)]) for p in rates_per_hour}
    pooled = np.sort(np.concatenate(list(out.values())))
    for p in out:
        if out[p].size == 0:
            # No contact of this class arrived in the window (a tiny class): it
            # waits like the pool's contacts, or like a lone contact if none came.
            out[p] = pooled if pooled.size else lone_waits(pool)
    paid = pool.agent_hours_per_day * (d.horizon - d.warm) / HOURS_PER_DAY
    util = min(1.0, busy / paid) if paid > 0 else 1.0
    seen = w_all[measured]
    lq = queue_length_mean(d.times, w_all, warm, d.horizon)
    return WindowResult(out, util, total_rate,
                        float((seen > 1e-9).mean()) if seen.size else 0.0, d.days,
                        int(seen.size), lq)


QUANTILES = 1024  # resolution of interpolated wait distributions
SHARE_STEP = 0.05  # class mix is rounded to this step for the cache key
_U = (np.arange(QUANTILES) + 0.5) / QUANTILES
# A fixed pairing of window-wait quantiles with arrival times in the month (the
# two are independent); any fixed permutation does, this one is reproducible.
_PAIRING = np.random.default_rng(20261129).permutation(QUANTILES)


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
    t = np.union1d(qa, qb)
    cdf = ((1.0 - theta) * np.searchsorted(qa, t, side="right") / qa.size
           + theta * np.searchsorted(qb, t, side="right") / qb.size)
    idx = np.minimum(np.searchsorted(cdf, _U - 1e-12), t.size - 1)
    return t[idx]


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
        if spec.max_staff <= 0:
            return simulate_pool_window(spec, live, 0, self.window_contacts)
        raw = sorted((p, r / total) for p, r in live.items())
        # Round the mix to SHARE_STEP, keeping every class present and the sum at 1.
        rounded = [(p, max(SHARE_STEP, round(sh / SHARE_STEP) * SHARE_STEP)) for p, sh in raw]
        norm = sum(sh for _, sh in rounded)
        mix = tuple((p, round(sh / norm, 6)) for p, sh in rounded)
        rho = min(max(total / spec.capacity_per_hour, 1e-12), RHO_WINDOW_MAX)
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
        rate = min(total, RHO_WINDOW_MAX * spec.capacity_per_hour)
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
            base = win.waits.get(p)
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
        share = float(np.average(unanswered, weights=weights)) if weights else 0.0
        util = win.utilisation
        if mu > 0 and total > 0:
            util = max(util, min(1.0, served / (mu * hours)))
        overloaded = bool(total >= mu or max(backlog_start, backlog_end) > 0.5)
        return MonthService(waits, min(1.0, util), lq, share, backlog_end, overloaded)
