"""BG/NBD with a seasonal order rate per calendar month (issue 16).

A customer's purchases are Poisson at rate lambda * s(month) while alive, where
s(month) is one factor per calendar month shared by every customer; they drop
out after a purchase with probability p, as in BG/NBD. Measured in *operational
time* tau(d) = sum of s over the days before d (in weeks), this is BG/NBD itself
(the time change of a Poisson process), so the likelihood is BG/NBD's of
(x, tau(t_x), tau(T)) times the density of the purchase times, prod s(month of
each repeat purchase) (Fader & Hardie's time-varying covariates for Pareto/NBD
and BG/NBD work the same way). The factors are fitted by maximum likelihood
jointly with (r, alpha, a, b) for the calendar months the calibration period
covers (at least :data:`MIN_DAYS` days of the month); the other months keep 1.0.
Normalisation: the covered months' log factors average zero (1.0 is the covered
months' geometric mean). The factors are used when the likelihood-ratio test rejects
"no season" (p < 0.01) and some month differs from 1 by 10 % or more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from simulator.datafit import bgnbd
from simulator.datafit.importlog import EPOCH

MIN_DAYS = 14  # days of a calendar month the calibration must cover to fit its factor
P_VALUE = 0.01  # the factors are used when the likelihood-ratio test rejects "no season" at this
# ... and some month's factor is at least this far from 1: with a million purchases the test
# also rejects for a stationary log whose small misfit (day rounding, same-day merging) the
# factors absorb (0.93 .. 1.05 on bench_datafit's 1 M log drawn without a season).
MIN_EFFECT = 0.10
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_of_days(first: int, last: int) -> np.ndarray:
    """Calendar month (0 = January) of each day number ``first`` .. ``last``."""
    d = np.arange(first, last + 1).astype("datetime64[D]")
    return (d.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)


@dataclass(frozen=True)
class Seasonal:
    """The fitted model: BG/NBD parameters in operational weeks and 12 month factors."""

    fit: bgnbd.BGNBD  # (r, alpha, a, b); alpha in operational weeks
    factors: tuple[float, ...]  # January .. December (1.0 for months not fitted)
    fitted_months: tuple[int, ...]  # 0-based calendar months whose factor was fitted
    loglik: float  # including the purchase-time density term
    loglik_plain: float  # plain BG/NBD on the same data (for the likelihood-ratio test)
    start_day: int  # day number of tau = 0

    @property
    def params(self) -> tuple[float, float, float, float]:
        """(r, alpha, a, b)."""
        return self.fit.params

    def tau(self, days) -> np.ndarray:
        """Operational time in weeks at the start of each day number (0 at ``start_day``)."""
        days = np.asarray(days, dtype=np.int64)
        return _tau_table(self.factors, self.start_day, int(days.max()))[days - self.start_day]

    def lr_statistic(self) -> float:
        """2 x log-likelihood gain over plain BG/NBD (chi-squared, len(fitted_months)-1 df)."""
        return 2.0 * (self.loglik - self.loglik_plain)

    @property
    def p_value(self) -> float:
        """Likelihood-ratio test of "every factor 1" (chi-squared, len(fitted_months)-1 df)."""
        from scipy import stats

        df = max(len(self.fitted_months) - 1, 1)
        return float(stats.chi2.sf(max(self.lr_statistic(), 0.0), df))

    @property
    def significant(self) -> bool:
        """Whether the factors matter: beyond chance (p < P_VALUE) and by at least MIN_EFFECT."""
        return (self.p_value < P_VALUE
                and max(abs(f - 1.0) for f in self.factors) >= MIN_EFFECT)

    def as_dict(self) -> dict:
        """For the JSON report."""
        return {"factors": dict(zip(MONTHS, (round(f, 4) for f in self.factors))),
                "fitted_months": [MONTHS[k] for k in self.fitted_months],
                "bgnbd": self.fit.as_dict(), "loglik": self.loglik,
                "likelihood_ratio": round(self.lr_statistic(), 2),
                "p_value": self.p_value, "used": self.significant,
                "degrees_of_freedom": max(len(self.fitted_months) - 1, 0)}


def _tau_table(factors, start_day: int, last_day: int) -> np.ndarray:
    """Operational time at the start of days start_day .. last_day + 1 (weeks)."""
    s = np.asarray(factors, dtype=float)[month_of_days(start_day, last_day)]
    return np.concatenate([[0.0], np.cumsum(s) / 7.0])


def covered_months(start_day: int, end_day: int) -> tuple[int, ...]:
    """Calendar months with at least MIN_DAYS days in start_day .. end_day."""
    n = np.bincount(month_of_days(start_day, end_day), minlength=12)
    return tuple(int(k) for k in np.flatnonzero(n >= MIN_DAYS))


def fit(days: pd.DataFrame, end_day: int) -> Seasonal | None:
    """Fit on the purchase days (``c``, ``d``: one row per customer and day) up to ``end_day``.

    None when the calibration covers fewer than two calendar months (nothing to fit).
    """
    cal = days[days["d"] <= end_day]
    start = int(cal["d"].min())
    months = covered_months(start, end_day)
    if len(months) < 2:
        return None
    g = cal.groupby("c", sort=True)["d"]
    first = g.min().to_numpy()
    last = g.max().to_numpy()
    x = (g.size().to_numpy() - 1).astype(float)
    dd = cal["d"].to_numpy()
    repeat_days = dd[dd > np.repeat(first, g.size().to_numpy())]
    mon = month_of_days(start, end_day)
    rep_month = np.bincount(mon[repeat_days - start], minlength=12).astype(float)
    # Distinct (x, first, last) with counts: tau depends on the days, not the customer.
    trip, w = np.unique(np.column_stack([x, first, last]), axis=0, return_counts=True)
    tx_, f_, l_ = trip[:, 0], trip[:, 1].astype(np.int64), trip[:, 2].astype(np.int64)
    w = w.astype(float)
    # Days of each calendar month in [first, end) and [first, last): per triple, 12 columns.
    onehot = np.zeros((end_day - start + 2, 12))
    onehot[1:][np.arange(len(mon)), mon] = 1.0
    cum = np.cumsum(onehot, axis=0)  # cum[d - start] = days of each month before day d
    nT = cum[end_day - start] - cum[f_ - start]
    nt = cum[l_ - start] - cum[f_ - start]
    k = len(months)
    idx = np.array(months)
    plain = bgnbd.fit(x, (last - first) / 7.0, (end_day - first) / 7.0)
    n = float(w.sum())

    def unpack(v):
        u = np.zeros(k)
        u[1:] = v[4:]
        ls = np.zeros(12)
        ls[idx] = u - u.mean()
        return np.exp(v[:4]), ls

    def neg(v):
        (r, alpha, a, b), ls = unpack(v)
        s = np.exp(ls)
        T = nT @ s / 7.0
        tx = nt @ s / 7.0
        xx = tx_
        A12 = (special.gammaln(r + xx) - special.gammaln(r) + r * np.log(alpha)
               + special.gammaln(a + b) + special.gammaln(b + xx) - special.gammaln(b)
               - special.gammaln(a + b + xx))
        pos = xx > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_b = np.where(pos, 1.0 / np.maximum(b + xx - 1, 1e-300), 0.0)
            a4 = np.where(pos, np.log(a) + np.log(inv_b) - (r + xx) * np.log(alpha + tx),
                          -np.inf)
        a3 = -(r + xx) * np.log(alpha + T)
        L = np.logaddexp(a3, a4)
        w4 = np.exp(a4 - L)
        w3 = 1.0 - w4
        value = np.dot(w, A12 + L) + np.dot(rep_month, ls)
        rx = r + xx
        g_r = np.dot(w, special.digamma(r + xx) - special.digamma(r) + np.log(alpha)
                     - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx))
        g_alpha = np.dot(w, r / alpha - rx * (w3 / (alpha + T) + w4 / (alpha + tx)))
        psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + xx)
        g_a = np.dot(w, psi_ab - psi_abx + w4 / a)
        g_b = np.dot(w, psi_ab + special.digamma(b + xx) - special.digamma(b) - psi_abx
                     - w4 * inv_b)
        dT = w * w3 * (-rx / (alpha + T))
        dt = w * w4 * (-rx / (alpha + tx))
        g_ls = s * (dT @ nT + dt @ nt) / 7.0 + rep_month  # d/d log s_k, all 12
        g_u = g_ls[idx] - g_ls[idx].mean()
        grad = np.concatenate([np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b]),
                               g_u[1:]])
        return -value / n, -grad / n

    v0 = np.concatenate([np.log(plain.params), np.zeros(k - 1)])
    res = optimize.minimize(neg, v0, jac=True, method="L-BFGS-B",
                            bounds=[(-12, 12)] * 4 + [(-5, 5)] * (k - 1))
    (r, alpha, a, b), ls = unpack(res.x)
    factors = tuple(float(f) for f in np.exp(ls))
    # Standard errors of (r, alpha, a, b) given the factors: plain BG/NBD in operational time.
    tau = _tau_table(factors, start, end_day)
    t0 = tau[first - start]
    op = bgnbd.fit(x, tau[last - start] - t0, tau[end_day - start] - t0, start=(r, alpha, a, b))
    return Seasonal(fit=op, factors=factors, fitted_months=months,
                    loglik=float(-res.fun * n), loglik_plain=plain.loglik, start_day=start)


def describe(s: Seasonal) -> str:
    """One line for a scenario file's comment: the fitted factors by month."""
    parts = [f"{MONTHS[k]} {s.factors[k]:.3f}" for k in range(12) if k in s.fitted_months]
    rest = [MONTHS[k] for k in range(12) if k not in s.fitted_months]
    text = ", ".join(parts)
    if rest:
        text += f"; {', '.join(rest)} 1.0 (not in the log's fit period)"
    return text


def day_name(day: int) -> str:
    """A day number as YYYY-MM-DD."""
    return str(EPOCH + day)
