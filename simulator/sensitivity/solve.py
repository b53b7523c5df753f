"""Goal seek and break-even: bracketing solvers under common random numbers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from simulator import metrics
from simulator.scenario import Effect, Scenario
from simulator.sensitivity.paths import get_value, with_value
from simulator.sensitivity.runs import (
    _is_lever,
    _kpi_key,
    _Runner,
    _sharing_arms,
    _stat_json,
    sharing,
)

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not with the CLI

    from simulator.results import RunResult, Stat


EFFECT_FIELDS = ("order_rate", "spend_per_order", "churn", "satisfaction", "complaints")
MAX_EFFECT_SCALE = 10.0


class Unreachable(ValueError):
    """The target is not reached anywhere in the bracket (the message says the KPI at its ends)."""



@dataclass
class Solution:
    """Where a KPI reaches a target, found by bracketing under common random numbers."""

    input: str
    kpi: str
    metric: str
    target: float
    value: float  # the input's value at the target
    interval: tuple[float, float]  # 95 %: the KPI's CI at the solution, through the local slope
    kpi_at_value: Stat
    evaluations: list[tuple[float, float]]  # (input value, KPI mean) in the order run
    whole_number: bool = False
    note: str = ""

    def to_json(self) -> dict:
        """Plain data."""
        d = asdict(self)
        d["kpi_at_value"] = _stat_json(self.kpi_at_value)
        d["interval"] = [None if not math.isfinite(x) else x for x in self.interval]
        return d


def _bracket_solve(f, lo: float, hi: float, target: float, integer: bool, tol: float,
                   max_iter: int, what: str, fmt) -> tuple[float, list, dict]:
    """Illinois regula falsi (or integer bisection) for f(x) = target on [lo, hi].

    ``f`` returns (mean, RunResult). Raises :class:`Unreachable` when the target is
    not between f(lo) and f(hi).
    """
    evals: list[tuple[float, float]] = []
    cache: dict[float, tuple[float, object]] = {}

    def F(x):
        if x not in cache:
            cache[x] = f(x)
            evals.append((x, cache[x][0]))
        return cache[x][0] - target

    a, b = lo, hi
    fa, fb = F(a), F(b)
    if not (math.isfinite(fa) and math.isfinite(fb)):
        raise Unreachable(f"{what} is not defined at an end of the range ({fmt(a)}: "
                          f"{evals[0][1]}, {fmt(b)}: {evals[1][1]})")
    if fa == 0:
        return a, evals, cache
    if fb == 0:
        return b, evals, cache
    if fa * fb > 0:
        raise Unreachable(f"the target is not reached between {fmt(a)} and {fmt(b)}: "
                          f"{what} is {evals[0][1]:.6g} and {evals[1][1]:.6g} there")
    if integer:
        rising = fa < 0  # the KPI climbs to the target from the low end
        while b - a > 1:
            m = float(math.floor((a + b) / 2))
            fm = F(m)
            if fm == 0:
                return m, evals, cache
            if fa * fm < 0:
                b, fb = m, fm
            else:
                a, fa = m, fm
        # the end on the target's side (the first whole value that reaches it)
        reached_a = fa >= 0 if rising else fa <= 0
        return (a if reached_a else b), evals, cache
    side = 0
    for _ in range(max_iter):
        m = b - fb * (b - a) / (fb - fa)
        if not a < m < b and not b < m < a:
            m = (a + b) / 2
        fm = F(m)
        if abs(b - a) <= tol or fm == 0:
            return m, evals, cache
        if fm * fb < 0:
            a, fa = b, fb
            b, fb = m, fm
            side = 0
        else:
            b, fb = m, fm
            fa = fa / 2 if side == -1 else fa  # Illinois: halve the stale end
            side = -1
        if abs(b - a) <= tol:
            break
    return b, evals, cache


def _interval(x: float, st: Stat, evals, target: float) -> tuple[float, float]:
    """Carry the KPI's 95 % CI at x to the input through the secant slope."""
    import numpy as np

    pts = sorted(set(evals))
    if len(pts) < 2 or not math.isfinite(st.half_width):
        return (math.nan, math.nan)
    near = sorted(pts, key=lambda p: abs(p[0] - x))[:3]
    xs = np.array([p[0] for p in near])
    ys = np.array([p[1] for p in near])
    if np.ptp(xs) == 0:
        return (math.nan, math.nan)
    slope = float(np.polyfit(xs, ys, 1)[0])
    if slope == 0:
        return (-math.inf, math.inf)
    d = abs(st.half_width / slope)
    return (x - d, x + d)


@_sharing_arms
def goal_seek(sc: Scenario, input: str, kpi: str, target: float, low: float | None = None,
              high: float | None = None, base: Scenario | None = None, tol: float | None = None,
              max_iter: int = 12, progress=None, cancel=None, **sample) -> Solution:
    """Find the value of one input at which the KPI's mean reaches ``target``.

    ``input``: a parameter path or a lever id (a lever moves in CNY per month).
    Default bracket: today's value ÷ 4 to × 4 (levers: their bounds). Whole-number
    inputs are bisected on integers and the answer is the first whole value on the
    target's side. Raises :class:`Unreachable` when the KPI does not cross the
    target inside the bracket.
    """
    from simulator.optimiser.levers import apply_allocation, extract_levers

    key = _kpi_key(kpi)
    if not math.isfinite(target):
        raise ValueError(f"target: {target} must be a finite number")
    lever = _is_lever(input, sc)
    integer = False
    runner = _Runner(sc, base, sample, progress, cancel, max_iter + 2)
    if lever:
        centre = runner(sc)
        levers = extract_levers(sc, centre)
        lv = next(x for x in levers if x.id == input)
        cur = lv.current_cny
        lo = low if low is not None else lv.min_cny
        hi = high if high is not None else (lv.max_cny if math.isfinite(lv.max_cny)
                                            else 4 * cur)

        def make(x):
            return apply_allocation(sc, levers, {input: x})
    else:
        cur = float(get_value(sc, input))
        integer = isinstance(get_value(sc, input), int)
        lo = low if low is not None else cur / 4
        hi = high if high is not None else (cur * 4 if cur else 1.0)
        if integer:
            lo, hi = float(math.floor(lo)), float(math.ceil(hi))

        def make(x):
            return with_value(sc, input, x)
    if not lo < hi:
        raise ValueError(f"range of {input}: low {lo:g} must be below high {hi:g}")
    results: dict[float, RunResult] = {}
    ends: dict[float, RunResult] = {}

    def f(x):
        r = ends.pop(x) if x in ends else runner(make(x))
        results[x] = r
        return float(r.summary[key].mean), r

    tol = tol if tol is not None else 1e-3 * (hi - lo)
    label = metrics.label_of(key)
    with sharing():  # every step shares the arms it does not change (the counterfactual)
        ends.update(zip((lo, hi), runner.many([make(lo), make(hi)])))  # the bracket: one batch
        x, evals, _ = _bracket_solve(f, lo, hi, target, integer, tol, max_iter, label,
                                     lambda v: f"{v:,.6g}")
        if x not in results:
            f(x)
    st = results[x].summary[key]
    iv = _interval(x, st, evals, target)
    note = ("whole number: the first value on the target's side" if integer else "")
    return Solution(input, kpi, key, target, x, iv, st, evals, integer, note)


def scale_effects(sc: Scenario, k: float) -> Scenario:
    """``sc`` with every assumed effect (tier benefits, points, promotions) multiplied by k.

    Raises ``ValueError`` naming the first effect that k would push outside its range.
    """
    if not (math.isfinite(k) and k >= 0):
        raise ValueError(f"k: {k} must be a finite number >= 0")
    new = sc.model_copy(deep=True)
    lims = {n: (Effect.model_fields[n].metadata) for n in EFFECT_FIELDS}

    def bounds(name):
        lo, hi = -math.inf, math.inf
        for m in lims[name]:
            lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
            hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
        return lo, hi

    def scale(e: Effect, where: str) -> None:
        for n in EFFECT_FIELDS:
            v = getattr(e, n) * k
            lo, hi = bounds(n)
            if not lo <= v <= hi:
                raise ValueError(f"{where}.effect.{n}: {getattr(e, n):g} × {k:g} = {v:g} is "
                                 f"outside {lo:g} to {hi:g}")
            setattr(e, n, v)

    for i, t in enumerate(new.tiers):
        for j, b in enumerate(t.benefits):
            scale(b.effect, f"tiers[{i}].benefits[{j}]")
    scale(new.tier_rules.points.effect, "tier_rules.points")
    for i, p in enumerate(new.promotions):
        scale(p.effect, f"promotions[{i}]")
    return new


def max_effect_scale(sc: Scenario) -> float:
    """Return the largest k every effect can take within its field's range (at most 10)."""
    kmax = MAX_EFFECT_SCALE
    effects = [b.effect for t in sc.tiers for b in t.benefits]
    effects += [sc.tier_rules.points.effect] + [p.effect for p in sc.promotions]
    for e in effects:
        for n in EFFECT_FIELDS:
            v = getattr(e, n)
            if v == 0:
                continue
            for m in Effect.model_fields[n].metadata:
                lim = getattr(m, "le", None) if v > 0 else getattr(m, "ge", None)
                if lim is not None:
                    kmax = min(kmax, lim / v)
    return max(kmax, 0.0)


@_sharing_arms
def break_even(sc: Scenario, base: Scenario | None = None, high: float | None = None,
               tol: float = 1e-3, max_iter: int = 12, progress=None, cancel=None,
               **sample) -> Solution:
    """Find the share k of the assumed effects at which NPV = 0 (k = 1: as assumed).

    Solved on [0, high] (default: the largest k the effects' ranges allow, at most
    10) by regula falsi under common random numbers; :class:`Unreachable` when NPV
    does not change sign there (e.g. NPV > 0 even with no effect at all).
    """
    kmax = high if high is not None else max_effect_scale(sc)
    if not 0 < kmax <= MAX_EFFECT_SCALE:
        raise ValueError(f"high: {kmax:g} must be above 0 and at most {MAX_EFFECT_SCALE:g}")
    runner = _Runner(sc, base, sample, progress, cancel, max_iter + 2)
    results: dict[float, RunResult] = {}
    ends: dict[float, RunResult] = {}

    def f(k):
        r = ends.pop(k) if k in ends else runner(scale_effects(sc, k))
        results[k] = r
        return float(r.summary["npv"].mean), r

    with sharing():  # every k shares the scheme-off counterfactual
        ends.update(zip((0.0, kmax), runner.many([scale_effects(sc, 0.0),
                                                  scale_effects(sc, kmax)])))
        try:
            k, evals, _ = _bracket_solve(f, 0.0, kmax, 0.0, False, tol, max_iter, "NPV",
                                         lambda v: f"k = {v:.3g}")
        except Unreachable:
            if 0.0 in results and kmax in results:
                a, b = (float(results[x].summary["npv"].mean) for x in (0.0, kmax))
                raise Unreachable(f"NPV does not reach 0 for k from 0 to {kmax:.3g}: it is "
                                  f"{metrics.money(a)} with no effect (k = 0) and "
                                  f"{metrics.money(b)} at k = {kmax:.3g}") from None
            raise
        if k not in results:
            f(k)
    st = results[k].summary["npv"]
    return Solution("effects × k", "npv", "npv", 0.0, k, _interval(k, st, evals, 0.0), st,
                    evals, False, "k = 1: every effect as assumed; k = 0: no effect")
