"""One window of a pool's service queue, simulated at the real shop's scale.

Design (see docs/MODEL_NOTES.md, "Service queue"; :mod:`simulator.service` says how
windows become a month's waits):

* For a pool's expected contact arrivals per priority class the pool is simulated
  at full scale: it is a ``PriorityResource`` with one slot per agent on the
  largest shift; shift changes are modelled by "off-duty" requests that take
  slots ahead of customers (non-preemptive: an agent finishes the current contact
  first). Arrivals are Poisson, uniform over the day; handling times exponential
  or lognormal. Windows run on :mod:`simulator.queue_fast`, a numba replay of this
  same SimPy queue (same draws, same event order; identical waits,
  ``tests/test_queue_twin.py``); SimPy stays the reference (:func:`queue_simpy`).
* A window warms up for three relaxation times of the queue (at most 30 days),
  then measures long enough to observe ``window_contacts`` contacts (at most 14
  days); a pool whose staff changes over the day is simulated in whole days, a
  constant-staff pool starts from a draw of its M/M/c steady state and needs no
  whole days. The rota runs on after the last arrival until every contact is
  answered (a pool closed at night answers its evening backlog the next morning).
* The load grid (:func:`load_index`, :func:`load_at`): windows are simulated at
  loads uniform in logit ρ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import simpy

from simulator.window_cache import WindowResult

HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = 365.25 / 12.0
GRID = 0.05  # step of the load grid of queue windows (see load_index)
MAX_DAYS = 14
MAX_WARM_DAYS = 30
RHO_WINDOW_MAX = 0.99  # windows are simulated at most at this load; beyond it the backlog is fluid
MAX_WAIT_HOURS = HOURS_PER_DAY * 365.25  # waits are reported up to a year (nobody answers)
QUANTILES = 1024  # resolution of wait distributions (quantiles on a fixed grid)


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

    # The figures below walk the shifts: computed once per specification and kept on it
    # (the simulated months ask every month; not fields, so not in eq, hash or repr).
    @cached_property
    def max_staff(self) -> int:
        """Largest number on duty at any time."""
        edges = sorted({a for a, _, _ in self.shifts} | {0.0})
        return max((self.staff_at(h) for h in edges), default=0)

    @cached_property
    def agent_hours_per_day(self) -> float:
        """Paid agent-hours per day."""
        return sum((b - a) * s for a, b, s in self.shifts)

    @cached_property
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
