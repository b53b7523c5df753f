"""The customer-service stage: a real-scale SimPy queue over representative days.

Design (see docs/MODEL_NOTES.md, "Service queue"):

* Each month the engine knows the real shop's expected contact arrivals per
  (pool, priority class) — the agent sample's contact intensities scaled by the
  sample weight, never a scaled-down copy of the queue.
* For those rates the pools are simulated in SimPy at full scale: every pool is
  a ``PriorityResource`` with one slot per agent on the largest shift; shift
  changes are modelled by "off-duty" requests that take slots ahead of
  customers (non-preemptive: an agent finishes the current contact first).
  Arrivals are Poisson, uniform over the day; handling times exponential or
  lognormal. Windows of more than ``FAST_MIN_CONTACTS`` drawn contacts run
  on :mod:`simulator.queue_fast`, a numba replay of this same SimPy queue
  (same draws, same event order; identical waits, ``tests/test_queue_twin.py``).
* The simulated window is one warm-up day plus as many whole days as needed to
  observe ``window_contacts`` contacts (at least one day, at most 14). Its cost
  depends on the contacts per day of the real shop, capped by the window size,
  not on the sample size.
* Windows are cached per load key: the pool's total rate is bracketed by two
  points of a 5 % log grid and the wait distributions of the two are
  interpolated (quantile by quantile), so months with similar loads reuse
  windows without snapping bias. Each key has
  ``VARIANTS`` independent windows and replication r uses variant r mod
  VARIANTS, so window noise shows in the spread between replications (for
  runs with more replications than variants, part of it is shared). A
  window's seed derives from its key, the scenario seed and the variant, so
  the result does not depend on which process computes it or in what order.
* Customers who contacted service draw their waits from the window's wait
  sample of their class (one uniform each: common random numbers hold).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = 365.25 / 12.0
GRID = 0.05  # relative step of the arrival-rate grid of queue windows
MAX_DAYS = 14


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


@dataclass
class WindowResult:
    """What one simulated window says about a pool's classes."""

    waits: dict[int, np.ndarray]  # priority -> sorted wait sample, hours
    utilisation: float
    contacts_per_hour: float = 0.0
    busy_fraction: float = 0.0  # share of contacts that waited at all
    days: int = 0
    simulated_contacts: int = 0

    def mean_wait(self) -> float:
        """Mean wait over all classes in the window (hours)."""
        allw = np.concatenate(list(self.waits.values())) if self.waits else np.zeros(0)
        return float(allw.mean()) if allw.size else 0.0


def quantise(rate: float) -> int:
    """Grid index of a positive rate on a 2 % log grid (0 for no arrivals)."""
    if rate <= 0:
        return -(10**9)
    return int(round(math.log(rate) / math.log1p(GRID)))


def dequantise(q: int) -> float:
    """Inverse of :func:`quantise` (grid point)."""
    if q <= -(10**8):
        return 0.0
    return (1.0 + GRID) ** q


FAST_MIN_CONTACTS = 20_000  # windows with more drawn contacts run on the compiled twin


@dataclass
class WindowDraws:
    """The random inputs of one window (both queue engines consume exactly these)."""

    days: int
    horizon: float  # hours simulated with arrivals (warm-up day + measured days)
    times: np.ndarray  # sorted arrival times, hours
    labels: np.ndarray  # priority class of each arrival
    handle: np.ndarray  # handling time of each arrival, hours


def draw_window(pool: PoolSpec, rates_per_hour: dict[int, float], seed: int,
                window_contacts: int) -> WindowDraws:
    """Window length and the window's arrivals, drawn from ``seed`` in a fixed order."""
    rng = np.random.default_rng(seed)
    total_rate = sum(rates_per_hour.values())
    per_day = total_rate * HOURS_PER_DAY
    days = int(min(MAX_DAYS, max(1, math.ceil(window_contacts / per_day))))
    horizon = HOURS_PER_DAY * (days + 1)  # one warm-up day

    # Arrivals: merged Poisson stream with class labels (drawn up front).
    n_expected = total_rate * horizon
    n = rng.poisson(n_expected)
    times = np.sort(rng.uniform(0.0, horizon, size=n))
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
    return WindowDraws(days, horizon, times, labels, handle)


def shift_changes(pool: PoolSpec) -> list[float]:
    """Hours of the day at which the number on duty may change (0 included)."""
    changes = sorted({0.0} | {a for a, _, _ in pool.shifts} | {b for _, b, _ in pool.shifts})
    return [h for h in changes if h < HOURS_PER_DAY]


def queue_simpy(pool: PoolSpec, classes, d: WindowDraws) -> tuple[dict[int, list[float]], float]:
    """The reference queue in SimPy: observed waits per class and busy agent-hours."""
    cap = pool.max_staff
    days, horizon, warm = d.days, d.horizon, HOURS_PER_DAY
    times, labels, handle, n = d.times, d.labels, d.handle, d.times.size
    waits: dict[int, list[float]] = {p: [] for p in classes}
    env = simpy.Environment()
    res = simpy.PriorityResource(env, capacity=cap)
    busy = [0.0]  # agent-hours spent handling inside the measured window

    # Shift changes: block (cap - staff) slots with top-priority "off duty" requests.
    changes = shift_changes(pool)

    def rota(env):
        held: list = []
        for day in range(days + 1):
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

    def contact(env, prio: int, service: float, arrive: float):
        with res.request(priority=-prio) as req:
            yield req
            if arrive >= warm:
                waits[prio].append(env.now - arrive)
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
            env.process(contact(env, int(labels[i]), float(handle[i]), float(t)))

    env.process(rota(env))
    env.process(source(env))
    # Let contacts that arrived in the window finish, so late waits are observed.
    env.run(until=horizon + HOURS_PER_DAY * 3)
    return waits, busy[0]


def queue_fast(pool: PoolSpec, classes, d: WindowDraws) -> tuple[dict[int, np.ndarray], float]:
    """The compiled twin of :func:`queue_simpy` (same waits, same busy hours)."""
    from simulator.queue_fast import run_queue

    cap = pool.max_staff
    changes = shift_changes(pool)
    ranked = sorted(classes, reverse=True)  # served first = highest priority = rank 0
    rank = np.searchsorted(-np.asarray(ranked, dtype=np.int64), -d.labels.astype(np.int64))
    want = np.array([cap - pool.staff_at(h) for h in changes], dtype=np.int64)
    w, busy = run_queue(d.times.astype(np.float64), rank.astype(np.int64),
                        d.handle.astype(np.float64), len(ranked),
                        np.array(changes, dtype=np.float64), want, d.days, cap,
                        HOURS_PER_DAY, d.horizon, d.horizon + HOURS_PER_DAY * 3)
    seen = ~np.isnan(w)
    return {p: w[seen & (d.labels == p)] for p in classes}, float(busy)


def twin_applies(classes) -> bool:
    """Whether the twin models these classes (all must rank below "off duty")."""
    from simulator.queue_fast import OFF_DUTY_PRIORITY

    return all(-OFF_DUTY_PRIORITY < int(p) < OFF_DUTY_PRIORITY for p in classes)


def simulate_pool_window(pool: PoolSpec, rates_per_hour: dict[int, float], seed: int,
                         window_contacts: int, engine: str = "auto") -> WindowResult:
    """Run the real-scale queue of one pool and return wait samples per class.

    ``rates_per_hour`` maps priority class (higher = served first) to its
    Poisson arrival rate per hour. Waits are the time from arrival to the start
    of handling (first response), in hours.

    ``engine``: ``"simpy"`` (the reference model), ``"fast"`` (its compiled
    twin, :mod:`simulator.queue_fast`, identical waits) or ``"auto"``: SimPy up
    to ``FAST_MIN_CONTACTS`` drawn contacts, the twin above.
    """
    total_rate = sum(rates_per_hour.values())
    if total_rate <= 0:
        return WindowResult({p: np.zeros(1) for p in rates_per_hour}, 0.0)
    cap = pool.max_staff
    if cap <= 0:
        # Nobody ever answers: waits are effectively unbounded; report a month.
        return WindowResult({p: np.full(1, DAYS_PER_MONTH * 24) for p in rates_per_hour}, 1.0,
                            total_rate)
    d = draw_window(pool, rates_per_hour, seed, window_contacts)
    if engine == "auto":
        big = d.times.size > FAST_MIN_CONTACTS
        engine = "fast" if big and twin_applies(rates_per_hour) else "simpy"
    if engine == "fast":
        waits, busy = queue_fast(pool, list(rates_per_hour), d)
    elif engine == "simpy":
        waits, busy = queue_simpy(pool, list(rates_per_hour), d)
    else:
        raise ValueError(f"unknown queue engine {engine!r}")
    # Contacts still unanswered at the end are not in the sample (their wait is censored).
    out = {}
    for p in rates_per_hour:
        w = np.asarray(waits[p], dtype=float)
        out[p] = np.sort(w) if w.size else np.zeros(1)
    paid = pool.agent_hours_per_day * d.days
    util = min(1.0, busy / paid) if paid > 0 else 1.0
    measured = np.concatenate(list(out.values()))
    return WindowResult(out, util, total_rate, float((measured > 1e-9).mean()), d.days,
                        int(measured.size))


VARIANTS = 4  # independent windows per load key; replication r uses variant r % VARIANTS
_CACHE: dict = {}  # process-wide: the key holds everything the window depends on
_CACHE_MAX = 2000


def clear_cache(disk: bool = False) -> None:
    """Forget every simulated window in this process (and on disk with ``disk=True``)."""
    _CACHE.clear()
    if disk:
        d = _disk_dir()
        if d is not None and d.is_dir():
            for f in d.glob("*.npz"):
                f.unlink(missing_ok=True)


# Windows are also kept on disk (the user's cache folder), so the workers of the
# process pool, later runs and the app share them. The file name hashes the key
# and the queue's source (this module and queue_fast.py), so a change to the queue
# model never reads an old file.
_SOURCE_DIGEST = hashlib.sha256(
    Path(__file__).read_bytes() + (Path(__file__).parent / "queue_fast.py").read_bytes()
).hexdigest()[:16]


def _disk_dir() -> Path | None:
    """The window cache folder, or None when disabled (``BENEFIT_SIM_WINDOW_CACHE=0``)."""
    if os.environ.get("BENEFIT_SIM_WINDOW_CACHE", "1") == "0":
        return None
    home = os.environ.get("BENEFIT_SIM_HOME")
    if home:
        return Path(home) / "cache" / "windows"
    import platformdirs

    return Path(platformdirs.user_cache_dir("benefit-sim", appauthor=False)) / "windows"


def _disk_name(key: tuple) -> str:
    return hashlib.sha256(repr((_SOURCE_DIGEST, key)).encode()).hexdigest()[:32] + ".npz"


def _disk_load(key: tuple) -> WindowResult | None:
    d = _disk_dir()
    if d is None:
        return None
    f = d / _disk_name(key)
    try:
        with np.load(f, allow_pickle=False) as z:
            prios = z["priorities"]
            waits = {int(p): z[f"w{int(p)}"] for p in prios}
            m = z["meta"]
            return WindowResult(waits, float(m[0]), float(m[1]), float(m[2]), int(m[3]),
                                int(m[4]))
    except (OSError, KeyError, ValueError, IndexError):
        return None  # absent or unreadable: simulate it again


def _disk_save(key: tuple, res: WindowResult) -> None:
    d = _disk_dir()
    if d is None:
        return
    try:
        d.mkdir(parents=True, exist_ok=True)
        arrays = {f"w{p}": np.asarray(w, dtype=np.float64) for p, w in res.waits.items()}
        arrays["priorities"] = np.array(sorted(res.waits), dtype=np.int64)
        arrays["meta"] = np.array([res.utilisation, res.contacts_per_hour, res.busy_fraction,
                                   res.days, res.simulated_contacts], dtype=np.float64)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, d / _disk_name(key))  # atomic: readers never see half a file
    except OSError:
        pass  # a read-only or full disk only costs speed


QUANTILES = 1024  # resolution of interpolated wait distributions
SHARE_STEP = 0.05  # class mix is rounded to this step for the cache key


def _quantiles(sample: np.ndarray) -> np.ndarray:
    """The sample's quantile function on a fixed grid (sorted, QUANTILES values)."""
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    return np.quantile(sample, u)


@dataclass
class ServiceStage:
    """Hands out queue windows for a month's arrival rates.

    The total arrival rate of a pool sits between two points of a 5 % log grid;
    the pool is simulated at both (class mix rounded to 5 %), and the wait
    distribution handed out interpolates their quantile functions by the
    rate's position between the two. So a handful of windows serve a whole
    run, without the bias of snapping the load to a grid point.

    A window is a pure function of its key (pool specification, grid point,
    class mix, window size, scenario seed, variant), so windows are shared by
    every run in the process without changing any result.
    """

    pools: dict[str, PoolSpec]
    seed: int
    window_contacts: int
    variant: int = 0
    simulated_windows: int = 0

    def _simulate(self, spec: PoolSpec, q: int, mix: tuple) -> WindowResult:
        key = (spec, q, mix, self.window_contacts, self.seed, self.variant)
        hit = _CACHE.get(key)
        if hit is None:
            hit = _disk_load(key)
            if hit is not None:
                self._remember(key, hit)
        if hit is not None:
            return hit
        total = dequantise(q)
        rates = {p: total * share for p, share in mix}
        digest = hashlib.sha256(repr((self.seed, key)).encode()).digest()
        seed = int.from_bytes(digest[:8], "little")
        res = simulate_pool_window(spec, rates, seed, self.window_contacts)
        res.waits = {p: _quantiles(w) for p, w in res.waits.items()}
        self._remember(key, res)
        _disk_save(key, res)
        self.simulated_windows += 1
        return res

    @staticmethod
    def _remember(key: tuple, res: WindowResult) -> None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = res

    def window(self, pool: str, rates_per_hour: dict[int, float]) -> WindowResult:
        """Wait distributions per class for a pool at the given arrival rates per hour."""
        spec = self.pools[pool]
        live = {p: r for p, r in rates_per_hour.items() if r > 0}
        total = sum(live.values())
        if total <= 0:
            return WindowResult({p: np.zeros(1) for p in rates_per_hour}, 0.0)
        raw = sorted((p, r / total) for p, r in live.items())
        # Round the mix to SHARE_STEP, keeping every class present and the sum at 1.
        mix = [(p, max(SHARE_STEP, round(sh / SHARE_STEP) * SHARE_STEP)) for p, sh in raw]
        norm = sum(sh for _, sh in mix)
        mix = tuple((p, round(sh / norm, 6)) for p, sh in mix)
        x = math.log(total) / math.log1p(GRID)
        lo = math.floor(x)
        theta = x - lo
        a = self._simulate(spec, lo, mix)
        b = self._simulate(spec, lo + 1, mix) if theta > 1e-9 else a
        waits = {p: (1.0 - theta) * a.waits[p] + theta * b.waits[p] for p, _ in mix}
        util = (1.0 - theta) * a.utilisation + theta * b.utilisation
        return WindowResult(waits, min(1.0, util), total)
