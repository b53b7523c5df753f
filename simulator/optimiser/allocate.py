"""The allocator: split a budget across levers within bounds to maximise a (fitted) objective."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import optimize as sopt


@dataclass
class Solution:
    """What :func:`allocate` found."""

    x: np.ndarray
    value: float
    method: str
    budget_binding: bool


def check_bounds(lower, upper, budget, constraint):
    """The bounds as arrays, or a ValueError saying which bound or budget cannot hold."""
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    if lo.shape != hi.shape or lo.ndim != 1:
        raise ValueError("lower, upper: need one bound per lever")
    if np.any(hi < lo - 1e-9):
        i = int(np.argmax(hi < lo - 1e-9))
        raise ValueError(f"upper[{i}]: {hi[i]:,.2f} must be >= lower[{i}] ({lo[i]:,.2f})")
    if constraint not in ("equal", "at_most"):
        raise ValueError(f"constraint: {constraint!r} must be 'equal' or 'at_most'")
    tol = 1e-9 * max(1.0, abs(budget))
    if lo.sum() > budget + tol:
        raise ValueError(f"budget: {budget:,.2f} is below the levers' minimums and pinned "
                         f"values ({lo.sum():,.2f})")
    if constraint == "equal" and hi.sum() < budget - tol:
        raise ValueError(f"budget: {budget:,.2f} is above what the levers can take at their "
                         f"maximums ({hi.sum():,.2f}); use constraint 'at_most' or raise bounds")
    return lo, np.maximum(hi, lo)


def _safe(f, x) -> float:
    v = float(f(x))
    return v if math.isfinite(v) else -math.inf


def allocate(objective: Callable[[np.ndarray], float], lower, upper, budget: float, *,
             constraint: str = "equal", pinned: Sequence[bool] | np.ndarray | None = None,
             start=None, steps: int = 400) -> Solution:
    """Maximise ``objective(x)`` subject to lower <= x <= upper and sum(x) = / <= budget.

    ``pinned[i]`` holds lever i at ``start[i]`` (or its lower bound). The
    greedy pass hands out the budget above the lower bounds in ``steps``
    slices, each to the lever whose objective rises most per yuan (under
    ``at_most`` it stops when no slice helps); SLSQP then polishes from the
    greedy point and from ``start``. Values within a hair of a bound are
    snapped to it, so "binds at min" is exact.
    """
    lo, hi = np.asarray(lower, dtype=float).copy(), np.asarray(upper, dtype=float).copy()
    if pinned is not None:
        pin = np.asarray(pinned, dtype=bool)
        held = np.asarray(start, dtype=float) if start is not None else lo
        lo = np.where(pin, held, lo)
        hi = np.where(pin, held, hi)
    lo, hi = check_bounds(lo, hi, budget, constraint)
    n = lo.size
    free = hi - lo > 1e-9 * np.maximum(1.0, hi)
    room_total = min(budget, hi.sum()) - lo.sum()

    # Greedy marginal allocation.
    x = lo.copy()
    fx = _safe(objective, x)
    if room_total > 0 and free.any():
        chunk = room_total / steps
        left = room_total
        while left > 1e-12 * max(1.0, room_total):
            best_i, best_gain, best_amt, best_f = -1, -math.inf, 0.0, fx
            for i in np.nonzero(free)[0]:
                amt = min(chunk, hi[i] - x[i], left)
                if amt <= 1e-12 * max(1.0, chunk):
                    continue
                y = x.copy()
                y[i] += amt
                fy = _safe(objective, y)
                rate = (fy - fx) / amt if math.isfinite(fx) or not math.isfinite(fy) else math.inf
                if not math.isfinite(fy):
                    rate = -math.inf
                if best_i < 0 or rate > best_gain:
                    best_i, best_gain, best_amt, best_f = int(i), rate, amt, fy
            if best_i < 0:
                break
            if constraint == "at_most" and not best_gain > 0:
                break
            x[best_i] += best_amt
            left -= best_amt
            fx = best_f
    greedy = Solution(x.copy(), fx, "greedy", False)

    # SLSQP polish in scaled variables z in [0, 1] for the free levers.
    best = greedy
    idx = np.nonzero(free)[0]
    if idx.size:
        span = hi[idx] - lo[idx]
        fscale = max(1.0, abs(fx)) if math.isfinite(fx) else 1.0

        def full(z):
            y = lo.copy()
            y[idx] = lo[idx] + np.clip(z, 0, 1) * span
            return y

        def neg(z):
            v = _safe(objective, full(z))
            return -v / fscale if math.isfinite(v) else 1e12

        bscale = max(1.0, budget)
        cons = [{"type": "eq" if constraint == "equal" else "ineq",
                 "fun": (lambda z: (budget - full(z).sum()) / bscale)}]
        starts = [(greedy.x[idx] - lo[idx]) / span]
        if start is not None:
            s = np.clip(np.asarray(start, dtype=float)[idx], lo[idx], hi[idx])
            starts.append((s - lo[idx]) / span)
        for z0 in starts:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = sopt.minimize(neg, z0, method="SLSQP", bounds=[(0, 1)] * idx.size,
                                      constraints=cons, options={"maxiter": 200, "ftol": 1e-10})
            except (ValueError, ArithmeticError):
                continue
            y = _project(full(r.x), lo, hi, budget, constraint)
            fy = _safe(objective, y)
            if fy > best.value + 1e-12 * max(1.0, abs(best.value)):
                best = Solution(y, fy, "slsqp", False)
    x = _snap(best.x, lo, hi)
    val = _safe(objective, x)
    binding = constraint == "equal" or x.sum() >= budget - 1e-6 * max(1.0, budget)
    return Solution(x, val, best.method, bool(binding and n > 0))


def _project(x, lo, hi, budget, constraint):
    """Clip to bounds and repair the total (SLSQP meets constraints only to tolerance)."""
    x = np.clip(x, lo, hi)
    for _ in range(50):
        gap = budget - x.sum()
        if constraint == "at_most" and gap >= 0:
            break
        if abs(gap) <= 1e-9 * max(1.0, budget):
            break
        room = (hi - x) if gap > 0 else (x - lo)
        if room.sum() <= 0:
            break
        x = np.clip(x + np.sign(gap) * room * min(1.0, abs(gap) / room.sum()), lo, hi)
    return x


def _snap(x, lo, hi):
    tol = 1e-7 * np.maximum(1.0, hi - lo)
    x = np.where(np.abs(x - lo) < tol, lo, x)
    return np.where(np.abs(hi - x) < tol, hi, x)


def marginal_returns(objective: Callable[[np.ndarray], float], x, lower, upper,
                     rel_step: float = 1e-3) -> np.ndarray:
    """D objective / d x_i by finite differences (one-sided at a bound; 0 if fixed)."""
    x = np.asarray(x, dtype=float)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    out = np.zeros_like(x)
    for i in range(x.size):
        h = rel_step * max(hi[i] - lo[i], abs(x[i]), 1.0)
        a, b = x.copy(), x.copy()
        a[i] = max(lo[i], x[i] - h) if hi[i] > lo[i] else x[i] - h
        b[i] = min(hi[i], x[i] + h) if hi[i] > lo[i] else x[i] + h
        if b[i] == a[i]:
            a[i], b[i] = x[i] - h, x[i] + h
        out[i] = (_safe(objective, b) - _safe(objective, a)) / (b[i] - a[i])
    return out


def binding_of(x, lower, upper, pinned=None) -> list[str]:
    """'min', 'max' or '' per lever ('pinned' for pinned levers)."""
    out = []
    for i, (v, lo, hi) in enumerate(zip(x, lower, upper)):
        tol = 1e-6 * max(1.0, abs(hi), abs(lo))
        if pinned is not None and pinned[i]:
            out.append("pinned")
        elif abs(v - lo) <= tol and hi - lo > tol:
            out.append("min")
        elif abs(v - hi) <= tol and hi - lo > tol:
            out.append("max")
        elif hi - lo <= tol:
            out.append("fixed")
        else:
            out.append("")
    return out


def probe_split(x, i: int, lower, upper, free_idx: Sequence[int], budget: float,
                constraint: str, share: float = 0.2) -> np.ndarray | None:
    """Return the local check's probe for lever ``i``: +``share`` on it, within the budget.

    The step is ``share`` × the larger of the lever's spend and an even share of
    the free budget, capped by the lever's maximum. Under ``equal`` all of it is
    taken from the other free levers pro rata to their room above their minimums;
    under ``at_most`` the unspent budget pays first and only the rest is taken
    from the others. When the others cannot give enough the step shrinks, so
    the probe never spends more than the budget nor leaves a bound. ``None``
    when there is no room to move.
    """
    x = np.asarray(x, dtype=float)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    free = np.zeros(x.size, dtype=bool)
    free[list(free_idx)] = True
    if not free[i]:
        return None
    fixed_spend = float(x[~free].sum())
    per_lever = max(budget - fixed_spend, 0.0) / max(1, int(free.sum()))
    delta = max(0.0, min(hi[i] - x[i], share * max(x[i], per_lever)))
    give = np.where(free, x - lo, 0.0)
    give[i] = 0.0
    give = np.maximum(give, 0.0)
    slack = 0.0 if constraint == "equal" else max(budget - float(x.sum()), 0.0)
    need = max(0.0, delta - slack)
    if need > give.sum():
        delta -= need - give.sum()
        need = float(give.sum())
    if delta <= 1e-9 * max(1.0, budget):
        return None
    xp = x.copy()
    xp[i] += delta
    if need > 0:
        xp -= give * (need / give.sum())
    return np.clip(xp, lo, hi)
