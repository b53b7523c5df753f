"""BG/NBD with a seasonal order rate per calendar month and a new customer's boost (issue 16).

A customer's purchases are Poisson at rate lambda * w(day) while alive, where
w(day) = s(month of day) * (1 + boost * exp(-tenure / decay)): s one factor per
calendar month shared by every customer, tenure the days since the customer's first
purchase (a new customer buys more in their first weeks, fading). They drop out
after a purchase with probability p, as in BG/NBD. Measured in each customer's
*operational time* tau(d) = sum of w over the days from their first purchase to d
(in weeks), this is BG/NBD itself (the time change of a Poisson process), so the
likelihood is BG/NBD's of (x, tau(t_x), tau(T)) times the density of the purchase
times, prod w(day of each repeat purchase) (Fader & Hardie's time-varying covariates
for Pareto/NBD and BG/NBD work the same way). The factors, boost and decay are
fitted by maximum likelihood jointly with (r, alpha, a, b) (analytic gradient);
month factors only for the calendar months the calibration period covers (at least
:data:`MIN_DAYS` days of the month), the other months keep 1.0. Normalisation: the
covered months' log factors average zero (1.0 is their geometric mean).

Season and tenure are told apart by the staggered entry: customers who joined in
different weeks are at different tenures on the same calendar day. Which parts are
used, in turn by likelihood-ratio tests (p < :data:`P_VALUE`) and effect size
(:data:`MIN_EFFECT`): the boost against plain BG/NBD, then the month factors against
the model without them (with the boost if it was used). A log that covers each
calendar month once cannot tell a month's factor from the cohort's age in it as
well as a long log can; the test against the boost-only model is what keeps a
season that the boost explains from being fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from simulator.datafit import bgnbd
from simulator.datafit.importlog import EPOCH

MIN_DAYS = 14  # days of a calendar month the calibration must cover to fit its factor
P_VALUE = 0.01  # a part is used when the likelihood-ratio test rejects "without it" at this
# ... and its effect is at least this large (a month's factor this far from 1; a boost this
# large): with a million purchases the test also rejects for a stationary log whose small
# misfit (day rounding, same-day merging) the factors absorb (0.93 .. 1.05 on bench_datafit's
# 1 M log drawn without a season).
MIN_EFFECT = 0.10
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS_PER_MONTH = 365.25 / 12
DECAY_DAYS = (1.0, 730.0)  # the decay's search range (days)


def month_of_days(first: int, last: int) -> np.ndarray:
    """Calendar month (0 = January) of each day number ``first`` .. ``last``."""
    d = np.arange(first, last + 1).astype("datetime64[D]")
    return (d.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)


@dataclass(frozen=True)
class Seasonal:
    """The fitted model: BG/NBD in operational weeks, 12 month factors and the boost.

    ``factors`` are the fitted ones; they act (in :meth:`op_time` and the scenario) only
    when :attr:`significant`. ``boost`` and ``decay_days`` are those of the model used
    (0.0 when the boost is not used); ``tenure_fitted`` the boost-only model's fit.
    """

    fit: bgnbd.BGNBD  # (r, alpha, a, b) of the model used; alpha in operational weeks
    factors: tuple[float, ...]  # January .. December (1.0 for months not fitted)
    fitted_months: tuple[int, ...]  # 0-based calendar months whose factor was fitted
    loglik: float  # with the month factors, including the purchase-time density term
    loglik_plain: float  # without them (the boost-only model when the boost is used)
    start_day: int  # first day of the calibration
    boost: float = 0.0  # a new customer's extra order rate at tenure 0 (0: not used)
    decay_days: float = 0.0  # its e-folding time in days
    loglik_bgnbd: float | None = None  # plain BG/NBD
    loglik_tenure: float | None = None  # the boost-only model
    tenure_fitted: tuple[float, float] = (0.0, 0.0)  # its (boost, decay_days)

    @property
    def params(self) -> tuple[float, float, float, float]:
        """(r, alpha, a, b)."""
        return self.fit.params

    @property
    def used_factors(self) -> tuple[float, ...]:
        """The month factors that act: the fitted ones when significant, else all 1."""
        return self.factors if self.significant else (1.0,) * 12

    @property
    def used(self) -> bool:
        """Whether the model differs from plain BG/NBD (a season or a boost is used)."""
        return self.significant or self.boost > 0

    def op_time(self, first, day) -> np.ndarray:
        """Operational weeks from each customer's first purchase day to the start of ``day``."""
        first = np.asarray(first, dtype=np.int64)
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), first.shape)
        if first.size == 0:
            return np.zeros(first.shape)
        fu, inv = np.unique(first, return_inverse=True)
        lo, hi = int(fu[0]), int(max(int(day.max()), int(fu[-1])))
        lam = _op_table(self.used_factors, self.boost, self.decay_days, fu, lo, hi)
        return lam[inv.reshape(first.shape), day - lo] - lam[inv.reshape(first.shape),
                                                             first - lo]

    def lr_statistic(self) -> float:
        """2 x log-likelihood gain of the month factors (chi-squared, len(fitted_months)-1 df)."""
        return 2.0 * (self.loglik - self.loglik_plain)

    @property
    def p_value(self) -> float:
        """Likelihood-ratio test of "every factor 1" (chi-squared, len(fitted_months)-1 df)."""
        df = max(len(self.fitted_months) - 1, 1)
        return float(stats.chi2.sf(max(self.lr_statistic(), 0.0), df))

    @property
    def significant(self) -> bool:
        """Whether the factors matter: beyond chance (p < P_VALUE) and by at least MIN_EFFECT."""
        return (self.p_value < P_VALUE
                and max(abs(f - 1.0) for f in self.factors) >= MIN_EFFECT)

    @property
    def tenure_lr(self) -> float:
        """2 x log-likelihood gain of the boost over plain BG/NBD (2 df)."""
        if self.loglik_tenure is None or self.loglik_bgnbd is None:
            return 0.0
        return 2.0 * (self.loglik_tenure - self.loglik_bgnbd)

    @property
    def tenure_p_value(self) -> float:
        """Likelihood-ratio test of "no boost" (chi-squared, 2 df: boost and decay)."""
        return float(stats.chi2.sf(max(self.tenure_lr, 0.0), 2))

    def as_dict(self) -> dict:
        """For the JSON report."""
        return {"factors": dict(zip(MONTHS, (round(f, 4) for f in self.factors))),
                "fitted_months": [MONTHS[k] for k in self.fitted_months],
                "bgnbd": self.fit.as_dict(), "loglik": self.loglik,
                "likelihood_ratio": round(self.lr_statistic(), 2),
                "p_value": self.p_value, "used": self.significant,
                "degrees_of_freedom": max(len(self.fitted_months) - 1, 0),
                "tested_against": "boost only" if self.boost > 0 else "plain BG/NBD",
                "new_customer_boost": {
                    "boost": round(self.boost, 4), "decay_days": round(self.decay_days, 2),
                    "used": self.boost > 0,
                    "fitted_alone": {"boost": round(self.tenure_fitted[0], 4),
                                     "decay_days": round(self.tenure_fitted[1], 2)},
                    "likelihood_ratio": round(self.tenure_lr, 2),
                    "p_value": self.tenure_p_value, "degrees_of_freedom": 2}}


def _op_table(factors, boost: float, decay: float, firsts: np.ndarray, lo: int,
              hi: int) -> np.ndarray:
    """Operational weeks from each first day in ``firsts`` to the start of days lo .. hi + 1.

    Row i, column d - lo: the sum of w over the days firsts[i] .. d - 1 (0 before it).
    """
    s = np.asarray(factors, dtype=float)[month_of_days(lo, hi)]
    rel = np.arange(lo, hi + 1)[None, :] - np.asarray(firsts)[:, None]  # tenure in days
    w = np.where(rel >= 1, s[None, :], 0.0)  # from the day after the first purchase
    if boost > 0:
        w = w * (1.0 + _boost_share(rel, boost, decay))
    return np.concatenate([np.zeros((len(firsts), 1)), np.cumsum(w, axis=1)], axis=1) / 7.0


def _boost_share(rel, boost: float, decay: float):
    """The boost on each day at tenure ``rel`` days, at the day's mid-point.

    boost exp(-(rel + 1/2)/decay); days before the first purchase and its own day carry no
    time (see :class:`_Data`).
    """
    return np.where(rel >= 1, boost * np.exp(-(np.maximum(rel, 1) + 0.5) / decay), 0.0)


def covered_months(start_day: int, end_day: int) -> tuple[int, ...]:
    """Calendar months with at least MIN_DAYS days in start_day .. end_day."""
    n = np.bincount(month_of_days(start_day, end_day), minlength=12)
    return tuple(int(k) for k in np.flatnonzero(n >= MIN_DAYS))


class _Data:
    """The calibration in the shape the likelihood needs (computed once)."""

    def __init__(self, days: pd.DataFrame, end_day: int):
        cal = days[days["d"] <= end_day]
        self.start = start = int(cal["d"].min())
        self.end = end_day
        g = cal.groupby("c", sort=True)["d"]
        first = g.min().to_numpy()
        last = g.max().to_numpy()
        size = g.size().to_numpy()
        self.first, self.last = first, last
        self.x = (size - 1).astype(float)
        dd = cal["d"].to_numpy()
        fr = np.repeat(first, size)
        rep = dd > fr
        self.mon = month_of_days(start, end_day)  # calendar month of grid day j = day - start
        self.rep_month = np.bincount(self.mon[dd[rep] - start], minlength=12).astype(float)
        # Repeat purchases by tenure in days (for the boost's density term).
        self.rep_tenure = np.bincount((dd - fr)[rep], minlength=1).astype(float)
        self.fu, finv = np.unique(first, return_inverse=True)
        trip, self.w = np.unique(np.column_stack([self.x, finv, last]), axis=0,
                                 return_counts=True)
        self.tx_ = trip[:, 0]
        self.f_ = trip[:, 1].astype(np.int64)
        self.l_ = trip[:, 2].astype(np.int64) - start
        self.w = self.w.astype(float)
        self.n = float(self.w.sum())
        ndays = end_day - start  # grid days start .. end_day - 1 (T is the start of end_day)
        self.rel = np.arange(ndays)[None, :] - (self.fu - start)[:, None]
        # Operational time runs from the day after the first purchase: a repeat purchase on
        # the first purchase's own day is the same purchase day, never seen, so that day's
        # exposure would read as "no purchase" (and a boost fitted with it as a smaller,
        # slower one: 0.62 over 46 days for a true 0.8 over 30 on a synthetic log).
        self.on = self.on1 = self.rel >= 1
        self.relp = np.maximum(self.rel, 1).astype(float) + 0.5  # mid-day tenure


def _neg(v, data: _Data, months: tuple[int, ...], tenure: bool):
    """Minus the mean log-likelihood and its gradient in the log parameters.

    v = (log r, log alpha, log a, log b[, log boost, log decay], u_2 .. u_k): u the
    months' log factors before centring (the first month's u is 0).
    """
    r, alpha, a, b = np.exp(v[:4])
    i = 4
    boost = decay = 0.0
    if tenure:
        boost, decay = float(np.exp(v[4])), float(np.exp(v[5]))
        i = 6
    k = len(months)
    idx = np.array(months, dtype=np.int64)
    u = np.zeros(k)
    u[1:] = v[i:]
    ls = np.zeros(12)
    if k:
        ls[idx] = u - u.mean()
    sd = np.exp(ls)[data.mon[:-1]] if data.end > data.start else np.zeros(0)
    e = np.where(data.on1, np.exp(-data.relp / decay), 0.0) if tenure else None
    ten = (1.0 + boost * e) if e is not None else 1.0
    wgrid = np.where(data.on, sd[None, :] * ten, 0.0)
    lam = np.concatenate([np.zeros((len(data.fu), 1)), np.cumsum(wgrid, axis=1)], axis=1) / 7.0
    T = lam[data.f_, data.end - data.start]
    tx = lam[data.f_, data.l_]
    xx = data.tx_
    w = data.w
    A12 = (special.gammaln(r + xx) - special.gammaln(r) + r * np.log(alpha)
           + special.gammaln(a + b) + special.gammaln(b + xx) - special.gammaln(b)
           - special.gammaln(a + b + xx))
    pos = xx > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_b = np.where(pos, 1.0 / np.maximum(b + xx - 1, 1e-300), 0.0)
        a4 = np.where(pos, np.log(a) + np.log(inv_b) - (r + xx) * np.log(alpha + tx), -np.inf)
    a3 = -(r + xx) * np.log(alpha + T)
    L = np.logaddexp(a3, a4)
    w4 = np.exp(a4 - L)
    w3 = 1.0 - w4
    dens = np.dot(data.rep_month, ls)
    if tenure:
        et = np.exp(-(np.arange(len(data.rep_tenure)) + 0.5) / decay)
        dens += np.dot(data.rep_tenure, np.log1p(boost * et))
    value = np.dot(w, A12 + L) + dens
    rx = r + xx
    g_r = np.dot(w, special.digamma(r + xx) - special.digamma(r) + np.log(alpha)
                 - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx))
    g_alpha = np.dot(w, r / alpha - rx * (w3 / (alpha + T) + w4 / (alpha + tx)))
    psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + xx)
    g_a = np.dot(w, psi_ab - psi_abx + w4 / a)
    g_b = np.dot(w, psi_ab + special.digamma(b + xx) - special.digamma(b) - psi_abx
                 - w4 * inv_b)
    grad = [g_r * r, g_alpha * alpha, g_a * a, g_b * b]
    # d value / d lam at each cohort's T and t_x, then / d w[f, j] = sum over later columns / 7
    M = np.zeros(lam.shape)
    np.add.at(M, (data.f_, np.full(len(w), data.end - data.start)), w * w3 * (-rx / (alpha + T)))
    np.add.at(M, (data.f_, data.l_), w * w4 * (-rx / (alpha + tx)))
    R = np.cumsum(M[:, ::-1], axis=1)[:, ::-1][:, 1:] / 7.0  # R[f, j] = sum_{c > j} M[f, c] / 7
    gw = R * wgrid  # d value / d log w[f, j]
    if tenure:
        assert e is not None
        share = np.where(data.on, boost * e / (1.0 + boost * e), 0.0)  # d log w / d log boost
        t_days = np.arange(len(data.rep_tenure)) + 0.5
        et = np.exp(-t_days / decay)
        st = boost * et / (1.0 + boost * et)
        grad.append(float(np.sum(gw * share) + np.dot(data.rep_tenure, st)))
        grad.append(float(np.sum(gw * share * data.relp / decay)
                          + np.dot(data.rep_tenure, st * t_days / decay)))
    if k:
        g_ls = np.bincount(data.mon[:-1], weights=gw.sum(axis=0), minlength=12) + data.rep_month
        g_u = g_ls[idx] - g_ls[idx].mean()
        grad.extend(g_u[1:])
    return -value / data.n, -np.asarray(grad, dtype=float) / data.n


def _fit(data: _Data, months: tuple[int, ...], tenure: bool, start4, tenure0=(0.5, 30.0)):
    """Maximum likelihood; returns (r, alpha, a, b), boost, decay, factors, log-likelihood."""
    v0 = list(np.log(start4))
    bounds = [(-12.0, 12.0)] * 4
    if tenure:
        v0 += [np.log(max(tenure0[0], 1e-3)), np.log(tenure0[1])]
        bounds += [(np.log(1e-4), np.log(50.0)), tuple(np.log(DECAY_DAYS))]
    v0 += [0.0] * max(len(months) - 1, 0)
    bounds += [(-5.0, 5.0)] * max(len(months) - 1, 0)
    res = optimize.minimize(_neg, np.array(v0), args=(data, months, tenure), jac=True,
                            method="L-BFGS-B", bounds=bounds)
    v = res.x
    boost = decay = 0.0
    i = 4
    if tenure:
        boost, decay = float(np.exp(v[4])), float(np.exp(v[5]))
        i = 6
    ls = np.zeros(12)
    if months:
        u = np.zeros(len(months))
        u[1:] = v[i:]
        ls[list(months)] = u - u.mean()
    return (tuple(np.exp(v[:4])), boost, decay, tuple(float(f) for f in np.exp(ls)),
            float(-res.fun * data.n))


def fit(days: pd.DataFrame, end_day: int) -> Seasonal | None:
    """Fit on the purchase days (``c``, ``d``: one row per customer and day) up to ``end_day``.

    None when the calibration covers fewer than two calendar months (nothing to fit).
    """
    cal = days[days["d"] <= end_day]
    start = int(cal["d"].min())
    months = covered_months(start, end_day)
    if len(months) < 2:
        return None
    data = _Data(days, end_day)
    plain = bgnbd.fit(data.x, (data.last - data.first) / 7.0, (end_day - data.first) / 7.0)
    # The models below nest plain BG/NBD with time from the day after the first purchase.
    day1 = bgnbd.fit(data.x, np.maximum(data.last - data.first - 1, 0) / 7.0,
                     np.maximum(end_day - data.first - 1, 0) / 7.0, start=plain.params)
    # The boost against plain BG/NBD (from a few starting decays: the likelihood can have
    # more than one hill in it).
    best = None
    for d0 in (7.0, 30.0, 120.0):
        got = _fit(data, (), True, day1.params, (0.5, d0))
        if best is None or got[4] > best[4]:
            best = got
    assert best is not None
    t_params, t_boost, t_decay, _, ll_t = best
    use_boost = (stats.chi2.sf(max(2.0 * (ll_t - day1.loglik), 0.0), 2) < P_VALUE
                 and t_boost >= MIN_EFFECT)
    if use_boost:
        s_params, boost, decay, factors, ll_s = _fit(data, months, True, t_params,
                                                     (t_boost, t_decay))
        base_ll, base = ll_t, (t_params, t_boost, t_decay)
    else:
        s_params, boost, decay, factors, ll_s = _fit(data, months, False, day1.params)
        base_ll, base = day1.loglik, (day1.params, 0.0, 0.0)
    out = Seasonal(fit=plain, factors=factors, fitted_months=months, loglik=ll_s,
                   loglik_plain=base_ll, start_day=start, loglik_bgnbd=day1.loglik,
                   loglik_tenure=ll_t, tenure_fitted=(t_boost, t_decay))
    if out.significant:
        params, boost_u, decay_u = s_params, boost, decay
    else:
        params, boost_u, decay_u = base
    from dataclasses import replace

    out = replace(out, boost=boost_u, decay_days=decay_u)
    if not out.used:
        return out
    # Standard errors of (r, alpha, a, b) given the rest: plain BG/NBD in operational time.
    op = bgnbd.fit(data.x, out.op_time(data.first, data.last),
                   out.op_time(data.first, np.full_like(data.first, end_day)), start=params)
    return replace(out, fit=op)


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
