"""Response curves: a saturating curve fitted to one lever's simulated points (scipy curve_fit)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import optimize as sopt

CURVE_FAMILIES = ("linear", "exp", "log")


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
