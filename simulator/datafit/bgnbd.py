"""BG/NBD (Fader, Hardie & Lee 2005) by maximum likelihood with scipy.

Time unit: weeks. Per customer: x repeat transactions, t_x time of the last
one and T the age at the end of calibration (both from the first purchase).
Customers are grouped by (x, t_x, T) so a large log fits as fast as its
distinct triples allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BGNBD:
    """Fitted parameters, their standard errors and the fit's log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    se: tuple[float, float, float, float]
    loglik: float
    customers: int
    cov: tuple[tuple[float, ...], ...] | None = None  # of (r, alpha, a, b); None if singular

    @property
    def params(self) -> tuple[float, float, float, float]:
        """(r, alpha, a, b)."""
        return self.r, self.alpha, self.a, self.b

    def as_dict(self) -> dict:
        """Parameters, standard errors and log-likelihood for a JSON report."""
        return {**dict(zip(NAMES, self.params)),
                "se": dict(zip(NAMES, self.se)), "loglik": self.loglik,
                "customers": self.customers}


def loglik_terms(params, x, tx, T) -> np.ndarray:
    """Per-customer log-likelihood (vectorised, stable for large x)."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    A1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    A2 = (special.gammaln(a + b) + special.gammaln(b + x)
          - special.gammaln(b) - special.gammaln(a + b + x))
    A3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        A4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                      - (r + x) * np.log(alpha + tx), -np.inf)
    return A1 + A2 + np.logaddexp(A3, A4)


def _grouped(x, tx, T):
    arr = np.column_stack([x, tx, T]).astype(float)
    uniq, counts = np.unique(arr, axis=0, return_counts=True)
    return uniq[:, 0], uniq[:, 1], uniq[:, 2], counts.astype(float)


class _Factored:
    """The log-likelihood of grouped triples with each term computed on distinct values.

    The gamma functions depend on x only and the logarithms on T or t_x only: a large
    log has millions of distinct (x, t_x, T) but few distinct x, t_x and T (in days),
    so those are evaluated once per distinct value (same sums as :func:`loglik_terms`).
    """

    def __init__(self, x, tx, T):
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.ut, self.it = np.unique(tx, return_inverse=True)
        self.uT, self.iT = np.unique(T, return_inverse=True)
        self.x = np.asarray(x, dtype=float)
        self.pos = self.x > 0

    def terms(self, params) -> np.ndarray:
        r, alpha, a, b = params
        ux = self.ux
        a12 = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
               + special.gammaln(a + b) + special.gammaln(b + ux) - special.gammaln(b)
               - special.gammaln(a + b + ux))
        with np.errstate(divide="ignore", invalid="ignore"):
            c4 = np.log(a) - np.log(np.maximum(b + ux - 1, 1e-300))
        rx = r + self.x
        a3 = -rx * np.log(alpha + self.uT)[self.iT]
        a4 = np.where(self.pos, c4[self.ix] - rx * np.log(alpha + self.ut)[self.it], -np.inf)
        return a12[self.ix] + np.logaddexp(a3, a4)

    def value_grad(self, params, w) -> tuple[float, np.ndarray]:
        """Sum of ``w`` x the log-likelihood terms and its gradient in (r, alpha, a, b).

        Analytic (digamma functions): the optimiser needs one evaluation per step
        instead of five with numerical differences.
        """
        r, alpha, a, b = params
        ux = self.ux
        wx = np.bincount(self.ix, weights=w, minlength=len(ux))  # weight per distinct x
        a12 = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
               + special.gammaln(a + b) + special.gammaln(b + ux) - special.gammaln(b)
               - special.gammaln(a + b + ux))
        psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + ux)
        d_r = special.digamma(r + ux) - special.digamma(r) + np.log(alpha)
        d_a = psi_ab - psi_abx
        d_b = psi_ab + special.digamma(b + ux) - special.digamma(b) - psi_abx
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_b = np.where(ux > 0, 1.0 / np.maximum(b + ux - 1, 1e-300), 0.0)
            c4 = np.log(a) + np.log(inv_b)
        lT = np.log(alpha + self.uT)[self.iT]
        lt = np.log(alpha + self.ut)[self.it]
        rx = r + self.x
        a3 = -rx * lT
        a4 = np.where(self.pos, c4[self.ix] - rx * lt, -np.inf)
        L = np.logaddexp(a3, a4)
        w4 = np.exp(a4 - L)  # share of the "dropped out at t_x" branch (0 for x = 0)
        w3 = 1.0 - w4
        value = float(np.dot(wx, a12) + np.dot(w, L))
        g_r = np.dot(wx, d_r) - np.dot(w, w3 * lT + w4 * lt)
        g_alpha = r / alpha * wx.sum() - np.dot(
            w * rx, w3 / (alpha + self.uT)[self.iT] + w4 / (alpha + self.ut)[self.it])
        ww4 = np.bincount(self.ix, weights=w * w4, minlength=len(ux))
        g_a = np.dot(wx, d_a) + ww4.sum() / a
        g_b = np.dot(wx, d_b) - np.dot(ww4, inv_b)
        return value, np.array([g_r, g_alpha, g_a, g_b])


def fit(x, tx, T, start=(1.0, 1.0, 1.0, 1.0)) -> BGNBD:
    """Maximum-likelihood fit; standard errors from the observed information."""
    x = np.asarray(x)
    if len(x) == 0:
        raise ValueError("no customers to fit")
    gx, gtx, gT, w = _grouped(x, tx, T)
    n = w.sum()
    ll = _Factored(gx, gtx, gT)

    def nll(theta):
        p = np.exp(theta)
        v, g = ll.value_grad(p, w)
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            return 1e10, np.zeros(4)
        return -v / n, -g * p / n  # gradient in log-parameters

    best: Any = None  # scipy's OptimizeResult of the better start
    for s in (start, (0.5, 5.0, 0.8, 2.5)):
        res = optimize.minimize(nll, np.log(s), jac=True, method="L-BFGS-B",
                                bounds=[(-12, 12)] * 4,
                                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9})
        if best is None or res.fun < best.fun - 1e-12:
            best = res
        if res.success:
            break  # a second start only when the first did not converge
    theta = best.x
    p = np.exp(theta)
    # Observed information in the natural parameters: central differences of the
    # analytic gradient (8 gradient evaluations), made symmetric.
    H = np.zeros((4, 4))
    h = 1e-5 * p
    for j in range(4):
        e = np.eye(4)[j] * h[j]
        H[:, j] = -(ll.value_grad(p + e, w)[1] - ll.value_grad(p - e, w)[1]) / (2 * h[j])
    H = (H + H.T) / 2
    try:
        inv = np.linalg.inv(H)
        d = [float(np.sqrt(v)) if v > 0 else float("nan") for v in np.diag(inv)]
        se = (d[0], d[1], d[2], d[3])
        cov = tuple(tuple(float(v) for v in row) for row in inv)
    except np.linalg.LinAlgError:
        se = (float("nan"),) * 4
        cov = None
    r, alpha, a, b = (float(v) for v in p)
    return BGNBD(r, alpha, a, b, se=se, loglik=float(-best.fun * n), customers=int(n), cov=cov)


def expected_repeat(params, t) -> np.ndarray:
    """E[X(t)]: expected repeat transactions of one new customer in (0, t] weeks."""
    r, alpha, a, b = params
    t = np.maximum(np.asarray(t, dtype=float), 0.0)
    z = t / (alpha + t)
    hyp = special.hyp2f1(r, b, a + b - 1, z)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def conditional_expected(params, t, x, tx, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected transactions in the next t weeks."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    tx, T = np.asarray(tx, dtype=float), np.asarray(T, dtype=float)
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300)
                         * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
    return num / (1 + extra)


def share_alive(params, t) -> float:
    """Share of a new cohort still alive after t weeks: E[exp(-lambda p t)]."""
    r, alpha, a, b = params
    from scipy import integrate

    def f(p):
        return (alpha / (alpha + p * t)) ** r * np.exp(
            (a - 1) * np.log(max(p, 1e-300)) + (b - 1) * np.log1p(-min(p, 1 - 1e-16))
            - special.betaln(a, b))
    val, _ = integrate.quad(f, 0, 1, limit=200)
    return float(val)


def simulate(params, n: int, birth_weeks: np.ndarray, end_week: float,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic log from known parameters: (customer index, purchase time in weeks).

    Each customer buys first at ``birth_weeks[i]``, then at Poisson rate lambda
    while alive, dropping out after any repeat purchase with probability p.
    """
    r, alpha, a, b = params
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    cust = [np.arange(n)]
    times = [np.asarray(birth_weeks, dtype=float)]
    t = times[0].copy()
    alive = np.ones(n, dtype=bool)  # dropout can follow repeat purchases only (P(X=0) = e^-lt)
    idx = np.arange(n)
    while alive.any():
        i = idx[alive]
        t[i] += rng.exponential(1.0, len(i)) / np.maximum(lam[i], 1e-12)
        bought = t[i] <= end_week
        i = i[bought]
        cust.append(i)
        times.append(t[i].copy())
        alive[:] = False
        alive[i] = rng.random(len(i)) >= p[i]
    return np.concatenate(cust), np.concatenate(times)


def p_alive(params, x, tx, T) -> np.ndarray:
    """P(alive | x, t_x, T): 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    tx, T = np.asarray(tx, dtype=float), np.asarray(T, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700))), 1.0)
