"""Each customer's spend per order: the gamma-gamma model of monetary value.

Fader, Hardie & Lee (2005, "RFM and CLV"; Fader & Hardie 2013, "The Gamma-Gamma
Model of Monetary Value"): a customer's order values vary around their own mean
spend 1/nu·p (gamma with shape p and rate nu), and nu varies across customers as
a gamma with shape q and rate gamma. Fitted by maximum likelihood on the mean
spend m_x of each customer's x >= 1 repeat purchases (the first purchase is left
out, as in the published CDNOW analysis); a customer's expected spend per order
is then their own mean shrunk toward the population mean:

    E[Z | m_x, x] = (q - 1)/(p x + q - 1) · p gamma/(q - 1) + p x/(p x + q - 1) · m_x

so a customer with few purchases keeps close to the population mean and one with
many keeps close to their own. A customer with no repeat purchase gets the
population mean p gamma/(q - 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGamma:
    """Fitted (p, q, gamma) and the customers they were fitted on."""

    p: float
    q: float
    gamma: float
    customers: int

    @property
    def mean(self) -> float:
        """Population mean spend per order, p gamma / (q - 1) (infinite if q <= 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")

    def expected(self, m_x: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Each customer's expected spend per order given x repeat purchases of mean m_x."""
        x = np.asarray(x, dtype=float)
        m = np.where(x > 0, np.asarray(m_x, dtype=float), 0.0)
        return (self.gamma + m * x) * self.p / (self.p * x + self.q - 1)

    def as_dict(self) -> dict:
        """Parameters and population mean for a JSON report."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma, "mean": self.mean,
                "customers": self.customers}


def loglik_terms(params, m_x, x) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend m_x of x repeat purchases."""
    p, q, g = params
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
            + q * np.log(g) + (px - 1) * np.log(m_x) + px * np.log(x)
            - (px + q) * np.log(g + m_x * x))


def fit(m_x, x) -> GammaGamma:
    """Maximum-likelihood (p, q, gamma) from customers with x >= 1 and m_x > 0."""
    m_x = np.asarray(m_x, dtype=float)
    x = np.asarray(x, dtype=float)
    use = (x > 0) & (m_x > 0) & np.isfinite(m_x)
    if use.sum() < 3:
        raise ValueError("fewer than 3 customers with a repeat purchase of positive value: "
                         "spend per customer cannot be fitted")
    m, n = m_x[use], x[use]
    # Group equal (m_x, x) pairs: fewer terms on large logs, the same sum.
    pairs, w = np.unique(np.column_stack([m, n]), axis=0, return_counts=True)
    m, n, w = pairs[:, 0], pairs[:, 1], w.astype(float)
    scale = float(np.average(m, weights=w))  # fit in units of the mean spend

    def nll(theta):
        v = -np.dot(w, loglik_terms(np.exp(theta), m / scale, n)) / w.sum()
        return v if np.isfinite(v) else 1e10

    best: Any = None  # scipy's OptimizeResult of the better start
    for start in ((1.0, 1.0, 1.0), (5.0, 4.0, 3.0)):
        res = optimize.minimize(nll, np.log(start), method="L-BFGS-B",
                                bounds=[(-10, 10)] * 3,
                                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9})
        if best is None or res.fun < best.fun:
            best = res
    p, q, g = (float(v) for v in np.exp(best.x))
    return GammaGamma(p, q, g * scale, int(w.sum()))


def repeat_mean(days: pd.DataFrame, end_day: int, codes: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """(m_x, x) per customer of ``codes``: mean spend of their repeat purchase days to ``end_day``.

    ``days`` is one row per customer and purchase day (holdout.daily); the first
    purchase day is left out; m_x is 0 for a customer with no repeat purchase.
    """
    cal = days[days["d"] <= end_day]
    first = cal.groupby("c")["d"].transform("min")
    rep = cal[cal["d"] > first]
    g = rep.groupby("c")["amt"]
    total = g.sum().reindex(codes, fill_value=0.0).to_numpy()
    x = g.size().reindex(codes, fill_value=0).to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m_x = np.where(x > 0, total / np.maximum(x, 1), 0.0)
    return m_x, x
