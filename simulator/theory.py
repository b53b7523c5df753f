"""Closed forms the engine is checked against (Erlang C, geometric LTV)."""

from __future__ import annotations

import math

import numpy as np


def erlang_c(servers: int, arrival_per_hour: float, service_per_hour: float) -> float:
    """Probability that an arriving contact waits (M/M/c, Erlang C).

    Computed with the stable recursion on Erlang B: B(0)=1,
    B(k) = a·B(k-1) / (k + a·B(k-1)), then C = B / (1 - ρ(1 - B)).
    """
    if servers <= 0:
        raise ValueError(f"servers: {servers} must be >= 1")
    a = arrival_per_hour / service_per_hour  # offered load, Erlangs
    rho = a / servers
    if rho >= 1.0:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait_hours(servers: int, arrival_per_hour: float, service_per_hour: float) -> float:
    """Mean time in queue W_q = C / (c·μ − λ) for M/M/c."""
    c = erlang_c(servers, arrival_per_hour, service_per_hour)
    cap = servers * service_per_hour - arrival_per_hour
    return math.inf if cap <= 0 else c / cap


def mmc_wait_exceeds(servers: int, arrival_per_hour: float, service_per_hour: float,
                     t_hours: float) -> float:
    """P(W_q > t) = C · exp(−(c·μ − λ)·t) for M/M/c."""
    c = erlang_c(servers, arrival_per_hour, service_per_hour)
    cap = servers * service_per_hour - arrival_per_hour
    return 1.0 if cap <= 0 else c * math.exp(-cap * t_hours)


def geometric_ltv(order_prob: float, order_value: float, margin: float, retention: float,
                  monthly_discount: float, months: int) -> float:
    """Expected discounted contribution of one customer over ``months`` months.

    Timing convention of the engine: a customer alive at the start of month t
    (t = 1..H) buys during month t, the month's cash flow is discounted by
    (1+i)^-t (end of month), then the customer may churn at the end of month t.
    So survival into month t is retention^(t-1).
    """
    per_month = order_prob * order_value * margin
    total = 0.0
    for t in range(1, months + 1):
        total += per_month * retention ** (t - 1) / (1.0 + monthly_discount) ** t
    return total


def geometric_survivors(start: float, retention: float, month: int) -> float:
    """Expected customers alive at the start of month ``month`` (1-based)."""
    return start * retention ** (month - 1)


def monthly_rate(annual_rate: float) -> float:
    """Monthly compounding rate equivalent to an annual rate."""
    return (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0


def discount_factors(annual_rate: float, months: int) -> np.ndarray:
    """Discount factor of months 1..``months``: (1 + i)^−m, i the monthly rate."""
    return (1.0 + monthly_rate(annual_rate)) ** -np.arange(1, months + 1)


def monthly_hazard(annual_churn: float) -> float:
    """Monthly churn probability equivalent to an annual churn share."""
    return 1.0 - (1.0 - annual_churn) ** (1.0 / 12.0)


def points_never_redeemed(monthly_rate: float, expiry_months: int) -> float:
    """Share of points never redeemed (breakage) when a share of every balance is redeemed monthly.

    Balances expire at months E, 2E, ... (E = ``expiry_months``); each month the share
    ``monthly_rate`` (q) of the balance, this month's points included, is redeemed. A
    point earned in month j of an expiry window meets E - j + 1 redemptions, so with
    even earning and nobody leaving the share never redeemed is the mean over
    n = 1..E of (1 - q)^n. Computed with + and × only (the same bits on every machine).
    """
    keep = 1.0 - monthly_rate
    power, total = 1.0, 0.0
    for _ in range(expiry_months):
        power *= keep
        total += power
    return total / expiry_months


def points_redemption_rate(redemption_share: float, expiry_months: int) -> float:
    """Monthly redemption rate q of a balance at which ``redemption_share`` of points is redeemed.

    Solves :func:`points_never_redeemed` (q, E) = 1 − r by bisection (it falls
    strictly as q rises from 0 to 1), so the long-run breakage of the engine's points
    is 1 − r with even earning and no leavers (leavers' forfeited balances add to it).
    """
    if redemption_share <= 0.0:
        return 0.0
    if redemption_share >= 1.0:
        return 1.0
    target = 1.0 - redemption_share
    lo, hi = 0.0, 1.0
    for _ in range(80):  # the interval shrinks to 2**-80: below a double's resolution
        mid = 0.5 * (lo + hi)
        if points_never_redeemed(mid, expiry_months) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def cobham_class_waits(servers: int, arrivals_per_hour: dict[int, float],
                       service_per_hour: float) -> dict[int, float]:
    """Mean wait per class of a non-preemptive priority M/M/c queue (Cobham 1954).

    Higher class = served first; all classes share one exponential service rate.
    W_k = C(c, λ, μ) / (c·μ) / ((1 − σ_{k−1})(1 − σ_k)), with σ_k the load ρ of the
    classes served before or with class k.
    """
    lam = sum(arrivals_per_hour.values())
    c = erlang_c(servers, lam, service_per_hour)
    cmu = servers * service_per_hour
    out: dict[int, float] = {}
    sigma = 0.0
    for p in sorted(arrivals_per_hour, reverse=True):
        before = sigma
        sigma += arrivals_per_hour[p] / cmu
        out[p] = math.inf if sigma >= 1.0 else c / cmu / ((1.0 - before) * (1.0 - sigma))
    return out


def churn_beta(annual_churn: float, heterogeneity: float) -> tuple[float, float] | None:
    """Beta(a, b) of customers' monthly churn probability (shifted-beta-geometric).

    ``heterogeneity`` is the polarisation index 1/(a+b+1); the mean a/(a+b) is the one
    at which a new cohort loses ``annual_churn`` in its first 12 months,
    1 − B(a, b+12)/B(a, b) = annual_churn, so the field keeps its meaning. None when
    every customer churns alike (heterogeneity 0, or no churn at all).
    """
    if heterogeneity <= 0.0 or annual_churn <= 0.0:
        return None
    from scipy import optimize, special

    kappa = 1.0 / heterogeneity - 1.0  # a + b
    target = math.log1p(-annual_churn)

    def gap(logit: float) -> float:
        mu = 1.0 / (1.0 + math.exp(-logit))
        a, b = mu * kappa, (1.0 - mu) * kappa
        return float(special.betaln(a, b + 12.0) - special.betaln(a, b)) - target

    logit = optimize.brentq(gap, -40.0, 40.0, xtol=1e-12)
    mu = 1.0 / (1.0 + math.exp(-logit))
    return mu * kappa, (1.0 - mu) * kappa


def sbg_survival(a: float, b: float, months) -> np.ndarray:
    """Share of a cohort alive after ``months`` months, monthly churn probability ~ Beta(a, b).

    The shifted-beta-geometric survival B(a, b+t)/B(a, b) (Fader & Hardie 2007).
    """
    from scipy import special

    t = np.asarray(months, dtype=float)
    return np.exp(special.betaln(a, b + t) - special.betaln(a, b))
