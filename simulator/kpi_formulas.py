"""Formulas of the KPIs computed from monthly totals: ROI, payback, annual churn, lifecycle.

Each takes per-replication arrays and returns per-replication values, with the reason
a figure is not defined (its denominator or its change is zero) where one can be
missing; :class:`simulator.results.RunResult` applies them to a run's tables, and
:mod:`simulator.compare` to paired differences between scenarios.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.outputs import MI

# ROI and payback divide by, or wait for, an incremental amount. Amounts within
# COST_TOL of the scenario's cost scale (its and its counterfactual's total cost
# and gross margin) are floating-point residue (service cost is allocated per
# contact), not money: a zero-cost benefit gave incremental costs of +/-1e-9 CNY
# and an ROI of 7e16. Such a figure is "not defined", with the reason.
COST_TOL = 1e-9
NO_COUNTERFACTUAL = "no counterfactual"
OTHER_TIERS = "the counterfactual has other tiers"
NO_INCREMENTAL_COST = "no incremental cost"
COSTS_LESS = "the scheme costs less than its counterfactual"
NO_CHANGE = "no change from the counterfactual"
NO_PAYBACK = "not reached within the horizon"


def _safe_div(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _annual(churned, exposure):
    r = _safe_div(churned, exposure)
    return 1.0 - (1.0 - r) ** 12


def _payback(cum: np.ndarray, tol: float = 0.0) -> float:
    """First month from which the cumulative incremental cash flow stays >= 0.

    Amounts within ``tol`` of zero count as zero. NaN when it never does, and when
    the cash flow never leaves zero (nothing changed: nothing to pay back).
    """
    if cum.size == 0 or cum[-1] < -tol:
        return math.nan
    if np.all(np.abs(np.diff(cum, prepend=0.0)) <= tol):
        return math.nan
    neg = np.nonzero(cum < -tol)[0]
    return float(neg[-1] + 2) if neg.size else 1.0


def roi_and_payback(inc: np.ndarray, inc_cost: np.ndarray, scale: np.ndarray
                    ) -> tuple[tuple[np.ndarray, str | None], tuple[np.ndarray, str | None]]:
    """ROI and payback month per replication, each with why none is defined (or None).

    ``inc`` is the incremental net contribution per replication and month [R, H],
    ``inc_cost`` the incremental total cost per replication [R] and ``scale`` the
    cost scale per replication [R]; amounts within ``COST_TOL * scale`` are zero.
    ROI = incremental contribution / incremental cost where that cost is positive.
    """
    tol = COST_TOL * np.asarray(scale, dtype=float)
    cost = np.asarray(inc_cost, dtype=float)
    ok = cost > tol
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(ok, inc.sum(axis=1) / np.where(ok, cost, 1.0), np.nan)
    roi_why = None if ok.any() else (
        NO_INCREMENTAL_COST if np.any(np.abs(cost) <= tol) else COSTS_LESS)
    payback = np.array([_payback(np.cumsum(row), t) for row, t in zip(inc, tol)])
    pay_why = None
    if np.all(np.abs(inc) <= tol[:, None]):
        pay_why = NO_CHANGE
    elif np.isnan(payback).all():
        pay_why = NO_PAYBACK
    return (roi, roi_why), (payback, pay_why)


# Why a lifecycle ratio has no value (its denominator is zero in every replication).
LIFECYCLE_NOT_DEFINED = {
    "dormant_share_end": "no active customers in the last month",
    "recall_success": "no recall contacts",
    "cost_per_acquired_customer": "no new customers",
    "cost_per_paid_customer": "no paid new customers",
    "cost_per_referred_customer": "no referred customers",
}


def lifecycle_kpis(tot: np.ndarray) -> dict[str, np.ndarray]:
    """Lifecycle summary figures per replication from monthly totals [R, H, METRICS].

    Dormant customers at the last month's start and their share of the active;
    recall contacts, reactivations, recall success (reactivated / contacted) and the
    reactivation cost; new customers by source (referred, paid, organic), referral
    cost and cost per acquired customer overall and by source; negative word of
    mouth's spreaders and the new customers it cost.
    """
    def total(metric):
        return tot[:, :, MI[metric]].sum(axis=1)

    k: dict[str, np.ndarray] = {}
    k["dormant_customers_end"] = tot[:, -1, MI["dormant_customers"]]
    k["dormant_share_end"] = _safe_div(k["dormant_customers_end"],
                                       tot[:, -1, MI["active_customers"]])
    k["recall_contacts"] = total("recall_contacts")
    k["reactivated_customers"] = total("reactivated_customers")
    k["recall_success"] = _safe_div(k["reactivated_customers"], k["recall_contacts"])
    k["reactivation_cost"] = total("promotion_reactivation_cost")
    new, referred, paid = (total("new_customers"), total("referral_customers"),
                           total("new_customers_paid"))
    k["referral_customers"] = referred
    k["paid_new_customers"] = paid
    k["organic_new_customers"] = new - referred - paid
    k["referral_cost"] = total("benefit_cost_referral_reward")
    k["cost_per_acquired_customer"] = _safe_div(total("acquisition_cost") + k["referral_cost"],
                                                new)
    k["cost_per_paid_customer"] = _safe_div(total("acquisition_cost"), paid)
    k["cost_per_referred_customer"] = _safe_div(k["referral_cost"], referred)
    k["negative_wom_spreaders"] = total("negative_wom_spreaders")
    k["new_customers_lost_wom"] = total("new_customers_lost_wom")
    return k
