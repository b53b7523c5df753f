"""Budget optimiser: response curves, allocation, frontier and verification.

The question it answers: *where should the next yuan of the membership budget
go?* A total monthly budget is split across levers (benefit funding per tier,
service staffing per pool, promotion reach per campaign = segment × channel,
paid acquisition; see :mod:`simulator.budget`) to maximise NPV, ROI or LTV over
the horizon, within per-lever bounds, with pinned levers held where they are.

Method (robust rather than clever):

1. **Baseline.** Today's scenario is simulated with its counterfactual, which
   gives today's figures and the fixed reference every allocation is measured
   against (same seed, so common random numbers throughout).
2. **Response curves.** Each free lever is moved alone to a few spend levels
   (``levels``, spread over its bounds) with every other lever at today's
   value; each point is a full simulation with the baseline's seed. Five
   additive components are recorded per replication (discounted and
   undiscounted net contribution, total cost, LTV sum and LTV customers) and
   each is fitted per lever with ``scipy.optimize.curve_fit`` by the best of a
   straight line, ``c + a·(1 − exp(−x/b))`` and ``c + a·log(1 + x/b)``. The
   nominal spend is added back before fitting (so the fitted part is the
   saturating *return*), and subtracted again afterwards — the transform is
   exact, only the fit's shape benefits. The objective is then a function of
   the summed component changes: NPV = discounted net contribution − the
   reference's; ROI = (net contribution − reference) / (total cost −
   reference); LTV = LTV sum / LTV customers. Levers are assumed additive
   here; step 4 checks that with the simulator.
3. **Allocation** on the fitted model (:func:`allocate`): a greedy marginal
   allocation in small steps (exact for concave separable returns, up to a
   step) polished by SLSQP; the better feasible answer wins. Bounds, pinned
   levers and the total (``equal`` or ``at_most``) always hold.
4. **Local check** (``local_check=True``): the recommended split is simulated,
   and so is a probe per free lever (+20 % on that lever, paid for within the
   budget: under "at most" from the unspent budget first, the rest taken pro
   rata from the others; :func:`probe_split`). A probe that beats the recommendation with its
   whole 95 % interval above zero is adopted — this is where lever
   interactions (more members need more staff) show up.
5. **Verification.** Today's scenario and the exact scenario "Apply this split"
   produces (:meth:`Allocation.apply`, same values and name) are each run with
   their own counterfactual, like a full run of their files, with
   ``verify_replications`` under the same seed. The headline's figures are
   these runs' own figures, so a full run of the applied scenario at the
   optimiser's sample and seed reproduces them exactly. The gain is the paired
   change of the objective measured against one reference, today's
   counterfactual, with a t interval; when the split moves service staff or
   paid acquisition under a "scheme off" counterfactual, the applied scenario's
   own counterfactual moves with it, so its own NPV is not today's plus the
   gain — the verdict says so and gives both. When the gain's interval holds
   zero the verdict says so plainly: the gain is within noise.
6. **Frontier.** At 50 … 200 % of the budget, the best split on the fitted
   model, simulated like the verification (``verify_replications``, same seed,
   against today's counterfactual; under "at most" the best simulated split
   the budget can afford). At 100 % it is the recommendation's own verification
   run, so the recommended point lies on the frontier. Under "at most", a
   frontier split the budget can afford that beats the recommendation in this
   simulation with its whole paired 95 % interval above zero becomes the
   recommendation (and is verified as above). ``predicted`` keeps the fitted
   model's value for comparison.

Public API (used by the CLI ``benefit-sim optimize``, the GUI panel and the
Excel export)::

    from simulator.optimizer import optimise, Allocation
    alloc = optimise(sc, budget=None, objective=None,      # None: sc.budget.*
                     agents=None, replications=2, levels=3,
                     verify_replications=None, local_check=True,
                     seed=None, horizon_months=None, workers=None,
                     progress=cb,          # cb(done: int, total: int), replication units
                     cancel=event,         # .is_set(); raises simulator.runner.Cancelled
                     base=None)            # base scenario when counterfactual = base_scenario
    alloc.levers        # DataFrame, one row per lever: lever, kind, label, segment, channel,
                        #   current_cny, recommended_cny, change_cny, min_cny, max_cny, pinned,
                        #   binding ('min'/'max'/''), marginal_return_current,
                        #   marginal_return_recommended, curve (fitted family), note
    alloc.frontier      # DataFrame: budget_share, budget_cny, objective_mean, ci_low, ci_high,
                        #   gain_vs_today_mean, gain_ci_low, gain_ci_high, predicted,
                        #   feasible, spent_cny, split (which split the point is)
    alloc.curves        # DataFrame of simulated response points: lever, spend_cny,
                        #   objective_mean, ci_low, ci_high, fitted
    alloc.local_check   # DataFrame: probe, lever, shift_cny, spent_cny, gain_mean, ci_low,
                        #   ci_high, adopted
    alloc.verification  # Verification: today, recommended (own figures), gain (Stat, vs
                        #   today's counterfactual), recommended_vs_today_reference,
                        #   same_reference, within_noise, on_frontier, verdict
    alloc.headline()    # dict of headline figures (budget, objective, gain, verdict ...)
    alloc.apply(sc)     # -> Scenario with the recommended split ("apply this split")
    alloc.to_frames()   # -> (levers DataFrame for a sheet, headline dict)
    alloc.to_json()     # JSON-safe dict

Marginal returns are d objective / d (one more ¥ per month on the lever),
from the fitted curves; for NPV ``net_return_per_cny`` divides by the
discounted months, i.e. NPV per extra discounted yuan spent (0 = break even).
Allocation is equalised where it is interior: at the optimum the free levers'
marginal returns are equal (the budget's shadow price); a lever at a bound
earns less (at its min) or more (at its max) than that.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize as sopt

from simulator import metrics
from simulator.results import RunResult, Stat

OBJECTIVES = metrics.OBJECTIVES  # objective -> the metric it maximises (simulator.metrics)


def _unit(objective: str) -> str:
    """Unit of an objective's metric."""
    return metrics.metric(OBJECTIVES[objective]).unit


OBJECTIVE_LABEL = {k: metrics.label_of(m) for k, m in OBJECTIVES.items()}
# The run KPI a full run of a scenario reports for each objective (against its own counterfactual).
OWN_KPI = OBJECTIVES
# Additive components recorded per replication (see module docstring).
COMPONENTS = ("disc_net", "net", "cost", "ltv_sum", "ltv_n")
FRONTIER_SHARES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
CURVE_FAMILIES = ("linear", "exp", "log")


@dataclass(frozen=True)
class OptimiserSettings:
    """The optimiser's sample settings the CLI and the GUI start from (one copy)."""

    replications: int = 2  # per response-curve point and local-check probe
    verify_replications: int = 4  # paired runs of today's and the recommended split
    levels: int = 3  # spend levels simulated per lever
    local_check: bool = True
    gui_agents_cap: int = 5000  # the GUI's default sample: min(scenario's agents, this)


OPTIMISER_DEFAULTS = OptimiserSettings()


# --------------------------------------------------------------------------- curves
@dataclass
class CurveFit:
    """A fitted response ``y(x)``; parameters are in scaled units (x / x_scale)."""

    family: str
    params: tuple[float, ...]
    x_scale: float = 1.0
    sse: float = 0.0

    def __call__(self, x):
        """Evaluate at spend ``x`` (scalar or array)."""
        u = np.asarray(x, dtype=float) / self.x_scale
        p = self.params
        if self.family == "linear":
            return p[0] + p[1] * u
        if self.family == "exp":
            return p[0] + p[1] * -np.expm1(-u / p[2])
        if self.family == "log":
            return p[0] + p[1] * np.log1p(np.maximum(u, -0.999 * p[2]) / p[2])
        if self.family == "constant":
            return p[0] + 0.0 * u
        raise ValueError(f"family: {self.family!r} is not a curve family")


def _f_exp(u, c, a, b):
    return c + a * -np.expm1(-u / b)


def _f_log(u, c, a, b):
    return c + a * np.log1p(u / b)


def fit_curve(x, y, families: Sequence[str] = CURVE_FAMILIES, prefer_linear: float = 0.9
              ) -> CurveFit:
    """Fit a saturating response to points; the best of the families by squared error.

    A curved family replaces the straight line only when it cuts the squared
    error below ``prefer_linear`` × the line's (three points always fit a
    curve better; this keeps noise from inventing curvature). The curvature
    scale ``b`` is held between 1/50 and 20 times the largest spend, so a
    curve can neither jump like a step nor be a line in disguise.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("x, y: need the same number of points, at least one")
    xs = float(np.max(np.abs(x))) or 1.0
    u = x / xs
    distinct = np.unique(np.round(u, 12)).size
    if distinct < 2:
        return CurveFit("constant", (float(y.mean()),), xs, float(((y - y.mean()) ** 2).sum()))
    slope, icpt = np.polyfit(u, y, 1)
    lin = CurveFit("linear", (float(icpt), float(slope)), xs,
                   float(((icpt + slope * u - y) ** 2).sum()))
    best = lin
    if distinct < 3:
        return lin
    yscale = float(np.max(np.abs(y - y.mean()))) or 1.0
    for fam, fn in (("exp", _f_exp), ("log", _f_log)):
        if fam not in families:
            continue
        lo_b = 1 / 50 if fam == "exp" else 1 / 1000
        for b0 in (0.3, 1.0, 3.0):
            a0 = slope * b0
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p, _ = sopt.curve_fit(
                        lambda uu, c, a, b: fn(uu, c, a, b) / yscale, u, y / yscale,
                        p0=[icpt, a0, b0],
                        bounds=([-np.inf, -np.inf, lo_b], [np.inf, np.inf, 20.0]),
                        maxfev=4000)
            except (RuntimeError, ValueError, sopt.OptimizeWarning):
                continue
            sse = float(((fn(u, *p) - y) ** 2).sum())
            if np.isfinite(sse) and sse < best.sse and sse < prefer_linear * lin.sse:
                best = CurveFit(fam, tuple(float(v) for v in p), xs, sse)
    return best


def refit_like(template: CurveFit, x, y) -> CurveFit:
    """Fit ``y(x)`` in the family of ``template`` (per-replication curves for intervals)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    u = x / template.x_scale
    if template.family in ("linear", "constant") or np.unique(u).size < 3:
        if np.unique(u).size < 2:
            return CurveFit("constant", (float(y.mean()),), template.x_scale)
        s, c = np.polyfit(u, y, 1)
        return CurveFit("linear", (float(c), float(s)), template.x_scale)
    fn = _f_exp if template.family == "exp" else _f_log
    yscale = float(np.max(np.abs(y - y.mean()))) or 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, _ = sopt.curve_fit(lambda uu, c, a, b: fn(uu, c, a, b) / yscale, u, y / yscale,
                                  p0=list(template.params),
                                  bounds=([-np.inf, -np.inf, 1 / 1000], [np.inf, np.inf, 20.0]),
                                  maxfev=4000)
        return CurveFit(template.family, tuple(float(v) for v in p), template.x_scale)
    except (RuntimeError, ValueError):
        # Fall back to the mean curve shifted to these points.
        off = float((y - template(x)).mean())
        return CurveFit(template.family, (template.params[0] + off, *template.params[1:]),
                        template.x_scale)


# --------------------------------------------------------------------------- allocation
@dataclass
class Solution:
    """What :func:`allocate` found."""

    x: np.ndarray
    value: float
    method: str
    budget_binding: bool


def _check_bounds(lower, upper, budget, constraint):
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
    lo, hi = _check_bounds(lo, hi, budget, constraint)
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


# --------------------------------------------------------------------------- objective
def components_of(res: RunResult) -> np.ndarray:
    """Per-replication additive components [R, 5] of a run's scenario arm (see COMPONENTS)."""
    k = res.kpis
    ltv = res.ltv
    ltv = ltv[ltv["arm"] == "scenario"]
    cust = ltv["customers"].to_numpy(dtype=float)
    val = np.nan_to_num(ltv["ltv_cny"].to_numpy(dtype=float)) * cust
    g = pd.DataFrame({"r": ltv["replication"].to_numpy(), "s": val, "n": cust}).groupby("r").sum()
    return np.column_stack([k["npv_net_contribution"].to_numpy(float),
                            k["net_contribution"].to_numpy(float),
                            k["total_cost"].to_numpy(float),
                            g["s"].to_numpy(float), g["n"].to_numpy(float)])


def reference_of(res: RunResult) -> np.ndarray | None:
    """Per-replication counterfactual [R, 3]: discounted net, net, total cost (None if none)."""
    k = res.kpis
    if not np.isfinite(k["npv"].to_numpy(float)).all():
        return None
    return np.column_stack([(k["npv_net_contribution"] - k["npv"]).to_numpy(float),
                            (k["net_contribution"] - k["incremental_contribution"]).to_numpy(float),
                            (k["total_cost"] - k["incremental_cost"]).to_numpy(float)])


def objective_from(comp: np.ndarray, ref: np.ndarray, objective: str) -> np.ndarray:
    """The objective from components (``[..., 5]``) and the reference (``[..., 3]``)."""
    comp = np.asarray(comp, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if objective == "npv":
        return comp[..., 0] - ref[..., 0]
    if objective == "roi":
        cost = comp[..., 2] - ref[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cost > 0, (comp[..., 1] - ref[..., 1]) / np.where(cost > 0, cost, 1),
                            -np.inf)
    if objective == "ltv":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(comp[..., 4] > 0, comp[..., 3] / np.where(comp[..., 4] > 0,
                                                                       comp[..., 4], 1), np.nan)
    raise ValueError(f"objective: {objective!r} must be one of {sorted(OBJECTIVES)}")


class ResponseModel:
    """Objective as a function of the levers' spend, from fitted per-lever curves.

    ``comp(x) = comp(today) + Σ_i [g_i(x_i) − g_i(today_i)]`` per component,
    where ``g_i`` is fitted to ``component + s · spend`` (``s`` = discounted
    months for discounted value, months for undiscounted value, −months for
    cost) and the spend term is taken off again.
    """

    def __init__(self, objective: str, x0: np.ndarray, comp0: np.ndarray, ref: np.ndarray,
                 shift: np.ndarray, fits: dict[int, list[CurveFit]],
                 rep_fits: dict[int, list[list[CurveFit]]]):
        self.objective = objective
        self.x0 = np.asarray(x0, dtype=float)
        self.comp0 = np.asarray(comp0, dtype=float)  # [R, K]
        self.ref = np.asarray(ref, dtype=float)  # [R, 3]
        self.shift = np.asarray(shift, dtype=float)
        self.fits = fits
        self.rep_fits = rep_fits
        self._base: dict = {}

    def _delta(self, fits: list[CurveFit], i: int, xi: float) -> np.ndarray:
        x0 = self.x0[i]
        return np.array([float(f(xi)) - float(f(x0)) for f in fits]) - self.shift * (xi - x0)

    def components(self, x, rep: int | None = None) -> np.ndarray:
        """Predicted components at spend ``x`` (mean model, or replication ``rep``'s)."""
        x = np.asarray(x, dtype=float)
        c = (self.comp0.mean(axis=0) if rep is None else self.comp0[rep]).copy()
        for i, fits in self.fits.items():
            if x[i] != self.x0[i]:
                c += self._delta(fits if rep is None else self.rep_fits[i][rep], i, x[i])
        return c

    def value(self, x, rep: int | None = None) -> float:
        """Predicted objective at spend ``x``."""
        ref = self.ref.mean(axis=0) if rep is None else self.ref[rep]
        return float(objective_from(self.components(x, rep), ref, self.objective))

    def values_by_rep(self, x) -> np.ndarray:
        """Predicted objective per replication at ``x`` (for intervals)."""
        return np.array([self.value(x, r) for r in range(self.comp0.shape[0])])

    def __call__(self, x) -> float:
        """The modelled value at spend x (as :meth:`value`)."""
        return self.value(x)


# --------------------------------------------------------------------------- results
@dataclass
class Verification:
    """Today's split against the recommended one, by full simulation under CRN.

    ``today`` and ``recommended`` are what full runs of today's and of the applied
    scenario report (each against its own counterfactual); ``gain`` is the paired change
    of the objective measured against one reference, today's counterfactual.
    """

    today: Stat
    recommended: Stat  # the applied scenario's own figure (what its full run reports)
    gain: Stat  # paired difference per replication, against today's counterfactual
    within_noise: bool
    on_frontier: bool  # today's split cannot be beaten (beyond noise) at this budget
    verdict: str
    predicted_gain: float = math.nan  # what the fitted curves expected
    # The recommended split against today's counterfactual (today + gain, pairwise); equal to
    # ``recommended`` when both scenarios have the same counterfactual (``same_reference``).
    recommended_vs_today_reference: Stat | None = None
    same_reference: bool = True

    def to_json(self) -> dict:
        """JSON-safe dict."""
        vs = self.recommended_vs_today_reference
        return {"today": self.today.to_json(), "recommended": self.recommended.to_json(),
                "recommended_vs_today_reference": vs.to_json() if vs is not None else None,
                "same_reference": self.same_reference,
                "gain": self.gain.to_json(), "within_noise": self.within_noise,
                "on_frontier": self.on_frontier, "verdict": self.verdict,
                "predicted_gain": _num(self.predicted_gain)}


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


@dataclass
class Allocation:
    """The optimiser's answer; see the module docstring for the tables."""

    objective: str
    budget_cny: float
    constraint: str
    levers: pd.DataFrame
    frontier: pd.DataFrame
    curves: pd.DataFrame
    local_check: pd.DataFrame
    verification: Verification
    meta: dict
    lever_objs: list = field(default_factory=list, repr=False)
    recommended_x: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    runs: dict = field(default_factory=dict, repr=False)  # verification RunResults by arm

    @property
    def unit(self) -> str:
        """Unit of the objective."""
        return _unit(self.objective)

    def split(self) -> dict[str, float]:
        """Recommended monthly spend per lever id."""
        return dict(zip(self.levers["lever"], self.levers["recommended_cny"]))

    def apply(self, sc):
        """Return the scenario with the recommended split ("apply this split").

        Exactly the scenario the verification ran (same values and name), so its full
        run at the optimiser's sample and seed gives the headline figures.
        """
        from simulator.budget import apply_allocation

        out = apply_allocation(sc, self.lever_objs, dict(zip([lv.id for lv in self.lever_objs],
                                                             self.recommended_x)))
        out.name = recommended_name(sc.name)
        return out

    def headline(self) -> dict:
        """Headline figures (plain values) for the CLI, the GUI and the Excel sheet."""
        v = self.verification
        lv = self.levers
        return {
            "objective": self.objective,
            "objective_label": OBJECTIVE_LABEL[self.objective],
            "objective_unit": self.unit,
            "budget_cny": self.budget_cny,
            "constraint": self.constraint,
            "today_spend_cny": float(lv["current_cny"].sum()),
            "recommended_spend_cny": float(lv["recommended_cny"].sum()),
            "today_mean": v.today.mean,
            "recommended_mean": v.recommended.mean,
            "recommended_ci_low": v.recommended.ci95_low,
            "recommended_ci_high": v.recommended.ci95_high,
            "recommended_vs_today_reference_mean": (
                v.recommended_vs_today_reference.mean
                if v.recommended_vs_today_reference is not None else v.recommended.mean),
            "same_reference": v.same_reference,
            "counterfactual": (self.runs["today"].meta.get("counterfactual")
                               if "today" in self.runs else None),
            "gain_mean": v.gain.mean,
            "gain_ci_low": v.gain.ci95_low,
            "gain_ci_high": v.gain.ci95_high,
            "predicted_gain": v.predicted_gain,
            "within_noise": v.within_noise,
            "on_frontier": v.on_frontier,
            "verdict": v.verdict,
            "binding": ", ".join(f"{r.lever} ({r.binding})" for r in lv.itertuples()
                                 if r.binding in ("min", "max")) or "none",
            "budget_binding": bool(self.meta.get("budget_binding")),
            "simulations": self.meta.get("simulations"),
            "replications": self.meta.get("replications"),
            "verify_replications": self.meta.get("verify_replications"),
            "agents": self.meta.get("agents"),
            "seed": self.meta.get("seed"),
            "horizon_months": self.meta.get("horizon_months"),
            "elapsed_seconds": self.meta.get("elapsed_seconds"),
            "method": self.meta.get("method"),
        }

    def to_frames(self) -> tuple[pd.DataFrame, dict]:
        """(levers table for a worksheet, headline figures) for the Excel export.

        The headline also carries the frontier (best objective per budget share)
        so the one-table sheet shows where returns flatten.
        """
        head = {k: _num(v) for k, v in self.headline().items()}
        for r in self.frontier.itertuples():
            head[f"frontier {100 * r.budget_share:.0f} % budget: best {self.objective}"] = \
                _num(float(r.objective_mean)) if r.feasible else "infeasible"
        cols = ["lever", "label", "kind", "segment", "channel", "current_cny", "recommended_cny",
                "change_cny", "min_cny", "max_cny", "pinned", "binding",
                "marginal_return_current", "marginal_return_recommended", "curve", "note"]
        return self.levers[cols].copy(), head

    def to_json(self) -> dict:
        """The result as a JSON-safe dict."""
        def recs(df):
            return [{k: _num(v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                    for r in df.to_dict(orient="records")]
        return {"headline": {k: _num(v) for k, v in self.headline().items()},
                "levers": recs(self.levers), "frontier": recs(self.frontier),
                "curves": recs(self.curves), "local_check": recs(self.local_check),
                "verification": self.verification.to_json(),
                "meta": {k: _num(v) for k, v in self.meta.items()}}


# --------------------------------------------------------------------------- optimise
def _auto_workers(agents: int, horizon: int, reps: int) -> int:
    cores = os.cpu_count() or 1
    if cores < 2 or reps < 2 or agents * horizon * reps < 1_000_000:
        return 1
    return min(cores, reps)


def optimise(sc, budget: float | None = None, objective: str | None = None, *,
             agents: int | None = None, replications: int = 3, levels: int = 3,
             verify_replications: int | None = None, local_check: bool = True,
             frontier_shares: Sequence[float] = FRONTIER_SHARES, seed: int | None = None,
             horizon_months: int | None = None, workers: int | None = None,
             progress: Callable[[int, int], None] | None = None, cancel=None,
             base=None) -> Allocation:
    """Split ``budget`` (CNY/month) across the scenario's levers to maximise ``objective``.

    ``None`` takes ``sc.budget.total_cny_per_month`` (or today's spend on all
    levers) and ``sc.budget.objective``. Each response-curve point, the local
    check and the verification are full simulations with ``replications`` /
    ``verify_replications`` (default max(4, replications)) under one seed.
    Progress is reported in replications; ``cancel.is_set()`` stops with
    :class:`simulator.runner.Cancelled`.
    """
    from simulator.budget import apply_allocation, extract_levers, spend_after
    from simulator.runner import run
    from simulator.theory import discount_factors

    t0 = time.perf_counter()
    obj = objective or sc.budget.objective
    if obj not in OBJECTIVES:
        raise ValueError(f"objective: {obj!r} must be one of {sorted(OBJECTIVES)}")
    if int(levels) != levels or levels < 2:
        raise ValueError(f"levels: {levels} must be a whole number >= 2")
    R = int(replications)
    if R < 1:
        raise ValueError(f"replications: {replications} must be >= 1")
    V = int(verify_replications or max(4, R))
    N = int(agents or sc.run.agents)
    S = int(sc.run.seed if seed is None else seed)
    H = int(horizon_months or sc.run.horizon_months)
    W = workers if workers is not None else _auto_workers(N, H, R)
    constraint = sc.budget.constraint
    sims = 0
    done_reps = 0
    plan = {"total": 0}

    def report(extra=0):
        if progress:
            progress(done_reps + extra, plan["total"])

    def simulate(scn, reps, with_cf=False):
        nonlocal sims, done_reps
        s2 = scn
        if not with_cf:
            s2 = scn.model_copy(deep=True)
            s2.run.counterfactual.mode = "none"
        res = run(s2, replications=reps, agents=N, seed=S, horizon_months=H,
                  workers=min(W, reps), cancel=cancel, base=base if with_cf else None,
                  progress=(lambda d, t: report(d)) if progress else None)
        sims += 1
        done_reps += reps
        report()
        return res

    # 1. Baseline: today's split with its counterfactual (the fixed reference).
    plan["total"] = R
    res0 = simulate(sc, R, with_cf=True)
    comp0 = components_of(res0)
    ref = reference_of(res0)
    if ref is None:
        if obj == "roi":
            raise ValueError("objective: 'roi' needs a counterfactual (run.counterfactual.mode "
                             "is 'none')")
        ref = np.zeros((R, 3))
    levers = extract_levers(sc, res0)
    x0 = np.array([lv.current_cny for lv in levers])
    lo = np.array([lv.min_cny for lv in levers])
    hi = np.array([lv.max_cny for lv in levers])
    pinned = np.array([lv.pinned for lv in levers])
    free_idx = [i for i, lv in enumerate(levers) if lv.free]
    B = float(budget if budget is not None else
              (sc.budget.total_cny_per_month if sc.budget.total_cny_per_month is not None
               else x0.sum()))
    if not math.isfinite(B) or B < 0:
        raise ValueError(f"budget: {B} must be a finite amount >= 0")
    _check_bounds(np.where(pinned, x0, lo), np.where(pinned, x0, hi), B, constraint)
    n_probe = len(free_idx) + 1 if local_check else 0
    # (an upper bound: frontier splits that repeat one already simulated are not run again)
    plan["total"] = (R + len(free_idx) * levels * R + n_probe * R + 2 * V
                     + max(0, len(frontier_shares) - 1) * V)

    # 2. Response curves: one lever at a time, others at today's spend.
    disc = discount_factors(sc.run.discount_rate_annual, H)
    shift = np.array([disc.sum(), H, -H, disc.sum(), 0.0])
    fits, rep_fits, points = {}, {}, []
    for i in free_idx:
        lv = levers[i]
        spends, comps = [x0[i]], [comp0]
        for level in np.linspace(lo[i], hi[i], levels):
            scn = apply_allocation(sc, levers, {lv.id: float(level)})
            spends.append(spend_after(lv, scn, float(level)))
            comps.append(components_of(simulate(scn, R)))
        xs = np.array(spends)
        cs = np.stack(comps)  # [P, R, K]
        y = cs + shift[None, None, :] * xs[:, None, None]
        fits[i] = [fit_curve(xs, y[:, :, k].mean(axis=1)) for k in range(len(COMPONENTS))]
        rep_fits[i] = [[refit_like(fits[i][k], xs, y[:, r, k]) for k in range(len(COMPONENTS))]
                       for r in range(R)]
        for p in range(len(xs)):
            points.append((i, xs[p], objective_from(cs[p], ref, obj)))
    model = ResponseModel(obj, x0, comp0, ref, shift, fits, rep_fits)

    # 3. Allocation on the fitted model.
    sol = allocate(model, lo, hi, B, constraint=constraint, pinned=pinned, start=x0)
    x_rec = sol.x
    method = f"fitted curves + {sol.method}"

    # 4. Local check with the simulator around the optimum.
    probes: list = []
    if local_check:
        sc_rec = apply_allocation(sc, levers, dict(zip([lv.id for lv in levers], x_rec)))
        base_obj = objective_from(components_of(simulate(sc_rec, R)), ref, obj)
        best_gain, best_x = None, None
        for i in free_idx:
            xp = probe_split(x_rec, i, lo, hi, free_idx, B, constraint)
            if xp is None:
                continue
            scp = apply_allocation(sc, levers, dict(zip([lv.id for lv in levers], xp)))
            g = objective_from(components_of(simulate(scp, R)), ref, obj) - base_obj
            st = Stat.of(g, _unit(obj))
            probes.append({"probe": len(probes) + 1, "lever": levers[i].id,
                           "shift_cny": float(xp[i] - x_rec[i]), "spent_cny": float(xp.sum()),
                           "gain_mean": st.mean, "ci_low": st.ci95_low, "ci_high": st.ci95_high,
                           "adopted": False})
            if st.n > 1 and st.ci95_low > 0 and (best_gain is None or st.mean > best_gain):
                best_gain, best_x = st.mean, (len(probes) - 1, xp)
        if best_x is not None:
            probes[best_x[0]]["adopted"] = True
            x_rec = best_x[1]
            method += " + simulated local check (adopted a probe)"
        else:
            method += " + simulated local check"

    crow = []
    for i, xp, vals in points:
        st = Stat.of(vals, _unit(obj))
        xm = x0.copy()
        xm[i] = xp
        crow.append({"lever": levers[i].id, "spend_cny": float(xp), "objective_mean": st.mean,
                     "ci_low": st.ci95_low, "ci_high": st.ci95_high,
                     "fitted": model.value(xm)})
    curves = pd.DataFrame(crow, columns=["lever", "spend_cny", "objective_mean", "ci_low",
                                         "ci_high", "fitted"])
    local_df = pd.DataFrame(probes, columns=["probe", "lever", "shift_cny", "spent_cny",
                                             "gain_mean", "ci_low", "ci_high", "adopted"])

    # 6. Verification: today's scenario and the exact scenario "Apply" produces, each run
    # with its own counterfactual like a full run of its file, V paired replications under
    # one seed. The objective is measured against today's counterfactual (the one fixed
    # reference every split is compared with); the recommended split's own figure (against
    # its own counterfactual) is what a full run of the applied scenario reports.
    ids = [lv.id for lv in levers]
    res_t = simulate(sc, V, with_cf=True)
    ref_v = reference_of(res_t)
    if ref_v is None:
        ref_v = np.zeros((V, 3))
    today_v = objective_from(components_of(res_t), ref_v, obj)
    sims_by_split: dict[tuple, np.ndarray] = {_split_key(x0): today_v}

    def simulated(x):
        """Objective per replication of split ``x`` (V reps, against today's reference)."""
        k = _split_key(x)
        if k not in sims_by_split:
            scn = apply_allocation(sc, levers, dict(zip(ids, x)))
            sims_by_split[k] = objective_from(components_of(simulate(scn, V)), ref_v, obj)
        return sims_by_split[k]

    def verified(x):
        """Run the applied scenario of split ``x`` with its own counterfactual."""
        scn = apply_allocation(sc, levers, dict(zip(ids, x)))
        scn.name = recommended_name(sc.name)
        res = simulate(scn, V, with_cf=True)
        sims_by_split[_split_key(x)] = objective_from(components_of(res), ref_v, obj)
        return scn, res

    # 7. Frontier splits: the best split on the fitted curves at each other budget share,
    # simulated like the recommendation (V replications, same seed, today's reference).
    plans = []
    for share in frontier_shares:
        Bf = float(share) * B
        xf = x_rec if share == 1.0 else None
        if xf is None:
            try:
                xf = allocate(model, lo, hi, Bf, constraint=constraint, pinned=pinned,
                              start=x0).x
            except ValueError:  # below the pinned levers' and minimums' spend
                xf = None
            else:
                simulated(xf)
        plans.append((float(share), Bf, xf))
    sc_rec, res_r = verified(x_rec)
    # Under "at most" the budget can buy any split that spends less: a frontier split
    # that beats the recommendation in simulation with its whole 95 % interval above zero
    # (paired) becomes the recommendation, as an adopted probe does.
    if constraint == "at_most":
        tol = 1e-9 * max(1.0, B)
        rec_v = sims_by_split[_split_key(x_rec)]
        best = None
        for share, Bf, xf in plans:
            if xf is None or share == 1.0 or xf.sum() > B + tol:
                continue
            d = Stat.of(simulated(xf) - rec_v, OBJECTIVES[obj])
            if d.n > 1 and d.ci95_low > 0 and (best is None or d.mean > best[0]):
                best = (d.mean, xf, share)
        if best is not None:
            x_rec = best[1]
            method += (f" + the fitted split for {100 * best[2]:.0f} % of the budget, which "
                       "beat it in simulation")
            plans = [(sh, Bf, x_rec if sh == 1.0 else xf) for sh, Bf, xf in plans]
            plan["total"] += V
            sc_rec, res_r = verified(x_rec)
    rec_v = sims_by_split[_split_key(x_rec)]
    ref_r = reference_of(res_r)
    if ref_r is None:
        rec_own, same_ref = rec_v, True
    else:
        rec_own = res_r.kpis[OWN_KPI[obj]].to_numpy(float)
        same_ref = bool(np.allclose(ref_r, ref_v, rtol=1e-12, atol=1e-6))

    # Marginal returns and bindings at the final recommendation.
    m_now = marginal_returns(model, x0, lo, hi)
    m_rec = marginal_returns(model, x_rec, lo, hi)
    binds = binding_of(x_rec, lo, hi, pinned)
    rows = []
    for i, lv in enumerate(levers):
        rows.append({"lever": lv.id, "kind": lv.kind, "label": lv.label, "segment": lv.segment,
                     "channel": lv.channel, "current_cny": x0[i], "recommended_cny": x_rec[i],
                     "change_cny": x_rec[i] - x0[i], "min_cny": lo[i], "max_cny": hi[i],
                     "pinned": bool(lv.pinned), "binding": binds[i],
                     "marginal_return_current": m_now[i],
                     "marginal_return_recommended": m_rec[i],
                     "curve": fits[i][0].family if i in fits else "", "note": lv.note})
    lever_df = pd.DataFrame(rows)
    if obj == "npv":
        lever_df["net_return_per_cny_current"] = lever_df["marginal_return_current"] / disc.sum()
        lever_df["net_return_per_cny_recommended"] = \
            lever_df["marginal_return_recommended"] / disc.sum()

    # Staff are whole agents: the table shows what the applied scenario spends.
    for i, lv in enumerate(levers):
        if lv.kind == "service" and not lv.pinned:
            real = spend_after(lv, sc_rec, float(x_rec[i]))
            lever_df.loc[i, ["recommended_cny", "change_cny"]] = [real, real - x0[i]]
    ver = verify(today_v, rec_v, obj, budget_cny=B, today_spend_cny=float(x0.sum()),
                 predicted_gain=model.value(x_rec) - model.value(x0),
                 recommended_own=rec_own, same_reference=same_ref)

    # Frontier rows. Under "at most" each share's point is the best simulated split it can
    # afford (its own fitted split, the recommendation or a smaller share's); at 100 % it
    # is the recommendation itself, so the recommended point lies on the frontier.
    cands = [(xf, simulated(xf), "recommended" if sh == 1.0 else f"best at {100 * sh:.0f} %")
             for sh, _, xf in plans if xf is not None]
    frows = []
    for share, Bf, xf in plans:
        if xf is None:
            frows.append({"budget_share": share, "budget_cny": Bf, "objective_mean": math.nan,
                          "ci_low": math.nan, "ci_high": math.nan,
                          "gain_vs_today_mean": math.nan, "gain_ci_low": math.nan,
                          "gain_ci_high": math.nan, "predicted": math.nan, "feasible": False,
                          "spent_cny": math.nan, "split": ""})
            continue
        byrep, src = simulated(xf), ("recommended" if share == 1.0 else
                                     f"best at {100 * share:.0f} %")
        if constraint == "at_most" and share != 1.0:
            tol = 1e-9 * max(1.0, Bf)
            for c_x, c_vals, c_src in cands:
                if c_x.sum() <= Bf + tol and np.mean(c_vals) > np.mean(byrep):
                    xf, byrep, src = c_x, c_vals, c_src
        st = Stat.of(byrep, _unit(obj))
        gt = Stat.of(byrep - today_v, _unit(obj))
        frows.append({"budget_share": share, "budget_cny": Bf,
                      "objective_mean": st.mean, "ci_low": st.ci95_low,
                      "ci_high": st.ci95_high, "gain_vs_today_mean": gt.mean,
                      "gain_ci_low": gt.ci95_low, "gain_ci_high": gt.ci95_high,
                      "predicted": model.value(xf), "feasible": True,
                      "spent_cny": float(xf.sum()), "split": src})
    frontier = pd.DataFrame(frows)
    plan["total"] = done_reps
    report()

    meta = {"scenario": sc.name, "objective": obj, "budget_cny": B, "constraint": constraint,
            "replications": R, "verify_replications": V, "levels": int(levels), "agents": N,
            "seed": S, "horizon_months": H, "workers": W, "simulations": sims,
            "replication_runs": done_reps, "budget_binding": bool(sol.budget_binding),
            "method": method, "elapsed_seconds": round(time.perf_counter() - t0, 2),
            "free_levers": len(free_idx)}
    return Allocation(obj, B, constraint, lever_df, frontier, curves, local_df, ver, meta,
                      levers, x_rec, {"today": res_t, "recommended": res_r})


def _split_key(x) -> tuple:
    return tuple(np.round(np.asarray(x, dtype=float), 6).tolist())


def recommended_name(name: str) -> str:
    """Name of the scenario with the recommended split (fits the 80-character limit)."""
    tail = " — recommended split"
    return name[: 80 - len(tail)] + tail


def verify(today, recommended, objective: str, *, budget_cny: float = math.nan,
           today_spend_cny: float = math.nan, predicted_gain: float = math.nan,
           recommended_own=None, same_reference: bool = True) -> Verification:
    """Compare per-replication objective values of today and the recommendation (paired).

    ``today`` and ``recommended`` are measured against the same reference (today's
    counterfactual); ``recommended_own`` is the recommendation against its own
    counterfactual, as a full run of the applied scenario reports it (default: the same).
    """
    today = np.asarray(today, dtype=float)
    rec = np.asarray(recommended, dtype=float)
    own = rec if recommended_own is None else np.asarray(recommended_own, dtype=float)
    unit = _unit(objective)
    gain = Stat.of(rec - today, unit)
    label = OBJECTIVE_LABEL[objective]
    kind = metrics.kind_of(OBJECTIVES[objective])

    def f(v):
        return metrics.value(v, kind) if math.isfinite(v) else "n/a"

    ci = (f"95 % CI {metrics.interval(gain.ci95_low, gain.ci95_high, kind)}, {gain.n} paired "
          f"replications")
    at = ""
    if math.isfinite(budget_cny) and math.isfinite(today_spend_cny) and \
            abs(budget_cny - today_spend_cny) > 1e-6 * max(1.0, today_spend_cny):
        at = (f" (note: the budget, {metrics.money(budget_cny)}"
              f"/month, differs from today's spend)")
    if gain.n < 2 or not math.isfinite(gain.ci95_low):
        within = True
        verdict = (f"Cannot tell: one replication gives no interval; {label} changes by "
                   f"{f(gain.mean)}. Run more replications.")
        on = True
    elif gain.ci95_low <= 0 <= gain.ci95_high:
        within = True
        on = True
        verdict = (f"The gain is within noise: the recommended split changes {label} by "
                   f"{f(gain.mean)} ({ci}), which cannot be told from zero. Today's split is "
                   f"on the frontier as far as the simulation can tell{at}.")
    elif gain.ci95_low > 0:
        within = False
        on = False
        verdict = (f"Today's split is not on the frontier: the recommended split raises {label} "
                   f"by {f(gain.mean)} ({ci}){at}.")
    else:
        within = False
        on = True
        verdict = (f"The recommended split did worse than today's in the full simulation "
                   f"({f(gain.mean)}, {ci}): the fitted curves missed something (lever "
                   f"interactions or noise). Keep today's split{at}.")
    own_st = Stat.of(own, unit)
    if not same_reference:
        verdict += (f" The recommended split's own {label}, {f(own_st.mean)}, is what a full run "
                    f"of the applied scenario reports: it is measured against that scenario's "
                    f"own counterfactual, which shares the split's service staffing and paid "
                    f"acquisition, so it is not today's {label} plus the gain (against today's "
                    f"counterfactual the split's {label} is {f(float(np.mean(rec)))}).")
    return Verification(Stat.of(today, unit), own_st, gain, within, on, verdict,
                        float(predicted_gain), Stat.of(rec, unit), bool(same_reference))
