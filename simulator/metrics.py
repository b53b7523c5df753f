"""The metric catalogue and the one formatter every front end uses (no Qt here).

Every figure the program reports is declared once, as Mesa's DataCollector
declares its reporters: key, label, unit, display kind, whether higher is
better, and the definition a user sees in tooltips and the workbook's notes.
The CLI, the GUI, the Excel workbook, ``compare`` and the optimiser read labels,
units and kinds from :data:`METRICS` and write numbers with :func:`value`,
:func:`interval` and :func:`stat_text`, so a figure reads the same everywhere
(ROI "150.0 %" in the console, on screen and in the workbook).

Display kinds: ``money`` (CNY), ``share`` (0-1 shown as %), ``ratio`` (shown as
%, e.g. ROI), ``hours``, ``count``, ``months`` and ``score`` (0-1 shown as is).

To add a metric: compute it in :mod:`simulator.results` (``_kpis_for``) and
declare it here; the front ends pick it up from its key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KINDS = ("money", "share", "ratio", "hours", "count", "months", "score")
MINUS = "−"  # U+2212: a minus sign, not a hyphen


@dataclass(frozen=True)
class Metric:
    """One reported figure."""

    key: str
    label: str
    unit: str  # "CNY", "CNY/customer", "share", "share/year", "ratio", "hours", ...
    kind: str  # one of KINDS: how the number is written
    higher_is_better: bool | None  # None: neither (a size, not a goal)
    definition: str


def _m(key, label, unit, kind, better, definition) -> Metric:
    assert kind in KINDS, kind
    return Metric(key, label, unit, kind, better, definition)


_ALL = [
    # money over the horizon
    _m("npv", "NPV", "CNY", "money", True,
       "Σ over months of (1 + i)^−m × incremental net contribution of month m, i the monthly "
       "discount rate"),
    _m("incremental_contribution", "Incremental contribution", "CNY", "money", True,
       "net contribution minus the counterfactual's, same replication"),
    _m("incremental_cost", "Incremental cost", "CNY", "money", False,
       "total cost minus the counterfactual's total cost"),
    _m("incremental_margin", "Incremental margin", "CNY", "money", True,
       "gross margin minus the counterfactual's"),
    _m("net_contribution", "Net contribution", "CNY", "money", True,
       "gross margin minus all costs"),
    _m("npv_net_contribution", "Discounted net contribution", "CNY", "money", True,
       "discounted net contribution over the horizon"),
    _m("roi", "ROI", "ratio", "ratio", True,
       "incremental contribution / incremental cost, per replication then averaged; not "
       "defined when the scheme adds no cost"),
    _m("payback_month", "Payback month", "month", "months", False,
       "first month from which the cumulative incremental cash flow stays ≥ 0"),
    # a scenario against the base scenario of a comparison (simulator.compare)
    _m("npv_vs_base", "NPV vs base (Δ discounted net contribution)", "CNY", "money", True,
       "discounted net contribution minus the base scenario's, paired replications"),
    _m("roi_vs_base", "ROI vs base (Δ net contribution / Δ total cost)", "ratio", "ratio", True,
       "net contribution minus the base's, over total cost minus the base's"),
    _m("payback_vs_base", "Payback month vs base", "month", "months", False,
       "first month from which the cumulative net contribution minus the base's stays ≥ 0"),
    _m("ltv_per_customer", "Discounted LTV per customer", "CNY/customer", "money", True,
       "discounted net contribution (before acquisition cost) per customer over the horizon, "
       "by segment and tier at the start"),
    _m("ltv_uplift", "LTV uplift per customer", "CNY/customer", "money", True,
       "LTV per customer minus the counterfactual's"),
    _m("revenue", "Gross revenue", "CNY", "money", True, "gross order value over the horizon"),
    _m("net_revenue", "Net revenue", "CNY", "money", True,
       "revenue minus price concessions (discount benefits, coupons, campaign discounts)"),
    _m("gross_margin", "Gross margin", "CNY", "money", True,
       "Σ order value × margin (campaign margin changes included)"),
    _m("total_cost", "Total cost", "CNY", "money", False,
       "benefit + promotion + service + acquisition cost"),
    _m("benefit_cost", "Benefit cost", "CNY", "money", False, "cost of the tier benefits"),
    _m("promotion_cost", "Promotion cost", "CNY", "money", False,
       "campaign discounts and channel costs"),
    _m("service_cost", "Service cost", "CNY", "money", False,
       "customer-service staff and bot cost"),
    _m("acquisition_cost", "Acquisition cost", "CNY", "money", False,
       "paid acquisition spend"),
    # customers
    _m("active_customers_end", "Active customers at end", "customers", "count", True,
       "customers alive at the end of the horizon"),
    _m("members_end", "Members at end", "customers", "count", True,
       "members at the end of the horizon"),
    _m("new_customers", "New customers", "customers", "count", True,
       "customers who joined during the horizon"),
    _m("churned_customers", "Churned customers", "customers", "count", False,
       "customers lost during the horizon"),
    _m("orders", "Orders", "orders", "count", True, "orders placed over the horizon"),
    _m("contacts", "Service contacts", "contacts", "count", None,
       "questions and complaints that reached the service queue"),
    _m("churn_annual", "Churn (annualised)", "share/year", "share", False,
       "1 − (1 − churned / active customer-months)^12"),
    _m("retention_12m", "Retention after 12 months", "share", "share", True,
       "today's customers still active after 12 months"),
    _m("repurchase_rate", "Repurchase rate", "share", "share", True,
       "today's customers with ≥ 2 orders in months 1–12"),
    _m("high_freq_sales_share", "High-frequency buyers' sales share", "share", "share", None,
       "year-1 sales from customers with ≥ 36 orders in year 1 (≥ 3 a month)"),
    _m("high_freq_customer_share", "High-frequency buyers", "share", "share", None,
       "today's customers with ≥ 36 orders in year 1"),
    # service
    _m("service_wait_mean_hours", "Service wait, mean", "hours", "hours", False,
       "first-response wait, contact-weighted"),
    _m("service_wait_p90_hours", "Service wait, P90", "hours", "hours", False,
       "90th percentile of the first-response wait"),
    _m("sla_attainment", "SLA attainment", "share", "share", True,
       "contacts answered within the service level"),
    _m("utilisation", "Agent utilisation", "share", "share", None,
       "share of staffed agent time spent handling contacts"),
    _m("complaint_resolution_hours", "Complaint resolution time", "hours", "hours", False,
       "mean wait + handling + follow-up"),
    _m("satisfaction_end", "Satisfaction at end", "score 0-1", "score", True,
       "mean satisfaction of active customers in the last month"),
    # monthly table columns shown on their own
    _m("active_customers", "Active customers", "customers", "count", True,
       "customers alive at the start of the month"),
    # lifecycle (shown when a scenario uses dormancy, recall campaigns or word of mouth)
    _m("dormant_customers", "Dormant customers", "customers", "count", False,
       "active customers with no purchase for the segment's 'dormant after' months or more, "
       "at the start of the month (a part of the active customers)"),
    _m("dormant_customers_end", "Dormant customers at end", "customers", "count", False,
       "dormant customers at the start of the last month"),
    _m("dormant_share_end", "Dormant share at end", "share", "share", False,
       "dormant / active customers at the start of the last month"),
    _m("recall_contacts", "Recall contacts", "contacts", "count", None,
       "dormant or at-risk customers reached by a recall (win-back) campaign"),
    _m("reactivated_customers", "Reactivated customers", "customers", "count", True,
       "dormant or at-risk customers a recall campaign brought back (reactivated redeemers)"),
    _m("recall_success", "Recall success", "share", "share", True,
       "reactivated customers / recall contacts"),
    _m("reactivation_cost", "Reactivation cost", "CNY", "money", False,
       "cost per reactivated customer × reactivations (part of promotion cost; the contacts' "
       "cost is in the channel cost)"),
    _m("promotion_reactivation_cost", "Promotion cost: reactivations", "CNY", "money", False,
       "cost per reactivated customer × reactivations"),
    _m("referrals_made", "Referrals made", "customers", "count", True,
       "new customers referred by active customers this month (they join next month)"),
    _m("referral_customers", "New customers by referral", "customers", "count", True,
       "new customers who came by referral (a part of new customers)"),
    _m("new_customers_paid", "New customers, paid", "customers", "count", True,
       "new customers from paid acquisition (a part of new customers)"),
    _m("paid_new_customers", "New customers, paid", "customers", "count", True,
       "new customers from paid acquisition over the horizon"),
    _m("organic_new_customers", "New customers, organic", "customers", "count", True,
       "new customers who came on their own (neither paid nor referred)"),
    _m("referral_cost", "Referral reward cost", "CNY", "money", False,
       "referral rewards paid per referred customer (benefit kind 'referral reward')"),
    _m("cost_per_acquired_customer", "Cost per acquired customer", "CNY/customer", "money",
       False, "(paid acquisition + referral rewards) / all new customers"),
    _m("cost_per_paid_customer", "Cost per paid customer", "CNY/customer", "money", False,
       "paid acquisition spend / new customers from paid acquisition"),
    _m("cost_per_referred_customer", "Cost per referred customer", "CNY/customer", "money",
       False, "referral rewards / new customers by referral"),
    _m("negative_wom_spreaders", "Negative word of mouth", "customers", "count", False,
       "customers with a slowly resolved complaint who spread negative word of mouth"),
    _m("new_customers_lost_wom", "New customers lost to word of mouth", "customers", "count",
       False, "organic and paid new customers lost to negative word of mouth"),
    _m("gross_revenue", "Gross revenue", "CNY", "money", True, "gross order value"),
]
METRICS: dict[str, Metric] = {m.key: m for m in _ALL}

# Which metrics each view lists, in order (labels, units and kinds come from METRICS).
CLI_HEADLINE = ("npv", "roi", "incremental_contribution", "incremental_cost", "net_contribution",
                "revenue", "total_cost", "payback_month", "ltv_per_customer", "ltv_uplift",
                "active_customers_end", "churn_annual", "retention_12m", "repurchase_rate",
                "service_wait_mean_hours", "service_wait_p90_hours", "sla_attainment",
                "satisfaction_end")
CLI_GROUP = ("revenue", "net_contribution", "incremental_contribution", "ltv_per_customer",
             "active_customers_end", "churn_annual")
MONTHLY = ("active_customers", "new_customers", "churned_customers", "orders", "gross_revenue",
           "gross_margin", "benefit_cost", "promotion_cost", "service_cost", "acquisition_cost")
# The lifecycle's monthly columns (the lifecycle table and stacked chart) and headline.
LIFECYCLE_MONTHLY = ("active_customers", "dormant_customers", "churned_customers",
                     "recall_contacts", "reactivated_customers", "new_customers",
                     "referral_customers", "new_customers_paid", "new_customers_lost_wom",
                     "negative_wom_spreaders")
LIFECYCLE_HEADLINE = ("dormant_customers_end", "dormant_share_end", "recall_success",
                      "reactivated_customers", "reactivation_cost", "referral_customers",
                      "cost_per_acquired_customer", "cost_per_paid_customer",
                      "cost_per_referred_customer", "new_customers_lost_wom")
# Optimiser objectives -> the metric each maximises.
OBJECTIVES = {"npv": "npv", "roi": "roi", "ltv": "ltv_per_customer"}

# Excel number formats per display kind.
EXCEL_FORMAT = {
    "money": '"¥"#,##0;[Red]-"¥"#,##0',
    "share": "0.0%",
    "ratio": "0.0%",
    "hours": "0.00",
    "months": "0.0",
    "count": "#,##0",
    "score": "0.000",
}
_EXCEL_UNIT = {"money": "CNY", "share": "%", "ratio": "%", "hours": "hours", "months": "month",
               "score": "0-1"}


def metric(key: str) -> Metric:
    """The catalogue entry of ``key``; benefit-cost-by-kind and unknown keys get a derived one."""
    if key in METRICS:
        return METRICS[key]
    if key.startswith("benefit_cost_"):
        kind = key[len("benefit_cost_"):].replace("_", " ")
        return Metric(key, f"  benefit cost: {kind}", "CNY", "money", False,
                      f"cost of benefits of kind '{kind}'")
    if key.endswith("_hours"):
        kind = "hours"
    elif key.endswith("_share"):
        kind = "share"
    elif key.endswith("_cost") or key.endswith("_cny") or "revenue" in key:
        kind = "money"
    else:
        kind = "count"
    return Metric(key, key.replace("_", " ").capitalize(), "", kind, None, "")


def excel_unit(key: str) -> str:
    """The unit written beside a metric's value in the workbook (counts: what is counted)."""
    m = metric(key)
    return m.unit if m.kind == "count" else _EXCEL_UNIT.get(m.kind, "")


def kind_of(key: str) -> str:
    """Display kind of a metric key."""
    return metric(key).kind


def value_range(key: str) -> tuple[float, float] | None:
    """Where a metric's value (and so its interval) can lie.

    Shares and scores in 0-1; counts (customers, orders, contacts) and hours (waits) at
    or above 0 — with 3 replications a mean wait of 0.03 h had the interval −0.09 to
    0.14 h; a month (a payback month, counted from 1) at or above 1 — "−1.9 to 10.9" with
    2. Money can be either sign: no range.
    """
    kind = metric(key).kind
    if kind in ("share", "score"):
        return (0.0, 1.0)
    if kind in ("count", "hours"):
        return (0.0, math.inf)
    if kind == "months":
        return (1.0, math.inf)
    return None


def label_of(key: str) -> str:
    """Display label of a metric key."""
    return metric(key).label


# ------------------------------------------------------------------ formatter
def finite(x: Any) -> bool:
    """A number that can be shown (not None, NaN or infinite)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _scale(v: float) -> tuple[float, str]:
    a = abs(v)
    if a >= 1e9:
        return 1e9, " B"
    if a >= 1e6:
        return 1e6, " M"
    if a >= 1e4:
        return 1e3, " k"
    return 1.0, ""


def _num(v: float, div: float) -> str:
    x = v / div
    if div == 1.0 and abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}" if abs(x) >= 10 or div > 1 else f"{x:,.2f}"


def _sign(v: float) -> str:
    return MINUS if v < 0 else ""


def money(v: float) -> str:
    """¥12.3 M, ¥950, −¥1.2 k."""
    if not finite(v):
        return "—"
    div, suf = _scale(v)
    return f"{_sign(v)}¥{_num(abs(v), div)}{suf}"


def _bare(v: float, kind: str, div: float = 1.0) -> str:
    """The number alone (no unit), in the kind's precision; ``div`` a shared M/k scale."""
    if kind in ("share", "ratio"):
        return f"{_sign(v)}{abs(v) * 100:,.1f}"
    if kind == "hours":
        return f"{_sign(v)}{abs(v):,.2f}"
    if kind == "months":
        return f"{_sign(v)}{abs(v):,.1f}"
    if kind == "score":
        return f"{_sign(v)}{abs(v):.3f}"
    if kind == "count" and v == 0:
        return "0"  # none at all, not "0.00" of something
    if kind in ("money", "count"):
        return f"{_sign(v)}{_num(abs(v), div)}"
    return f"{_sign(v)}{abs(v):,.3g}"


def counted(n: Any, noun: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: '1 draw', '3 draws', '1,200 runs'."""
    try:
        one = int(n) == 1 and float(n) == 1.0
        text = f"{int(n):,}" if float(n) == int(n) else str(n)
    except (TypeError, ValueError):
        return f"{n} {plural or noun + 's'}"
    return f"{text} {noun if one else (plural or noun + 's')}"


def number(v: float, digits: int = 3) -> str:
    """A plain number in ``digits`` significant figures, no exponent, a true minus: −3.09."""
    if not finite(v):
        return "—"
    a = abs(v)
    dec = 0 if a == 0 else min(6, max(0, digits - 1 - math.floor(math.log10(a))))
    return f"{_sign(v)}{a:,.{dec}f}"


def about(lo: float, hi: float, bracket: bool = True) -> str:
    """' (95 % about −3.09 to 3.39)' for a solved value's interval; '' if it has none.

    ``bracket=False``: '95 % about −3.09 to 3.39', for a sentence already in brackets.
    """
    if not (finite(lo) and finite(hi)):
        return ""
    text = f"95 % about {number(lo)} to {number(hi)}"
    return f" ({text})" if bracket else text


def value(v: float, kind: str) -> str:
    """One number with its unit: ¥12.3 M, 150.0 %, 1.24 h, month 7.0, 12.3 k, 0.712."""
    if not finite(v):
        return "—"
    if kind == "money":
        return money(v)
    if kind in ("share", "ratio"):
        return f"{_bare(v, kind)} %"
    if kind == "months":
        return f"month {_bare(v, kind)}"
    if kind == "hours":
        return f"{_bare(v, kind)} h"
    if kind == "count":
        div, suf = _scale(v)
        return f"{_bare(v, kind, div)}{suf}"
    return _bare(v, kind)


_UNIT_AFTER = {"share": " %", "ratio": " %", "hours": " h"}


def _ends(lo: float, hi: float, kind: str, signed: bool) -> str:
    div, suf = (_scale(max(abs(lo), abs(hi))) if kind in ("money", "count") else (1.0, ""))
    cur = "¥" if kind == "money" else ""

    def end(v):
        plus = "+" if signed and v > 0 else ""
        return f"{plus}{_sign(v)}{cur}{_bare(abs(v), kind, div)}"

    return f"{end(lo)} to {end(hi)}{suf}"


def interval(lo: float, hi: float, kind: str) -> str:
    """'−1.24 to −1.09 h', '¥10.1 to ¥14.2 M', '12.0 to 14.5 %' (no brackets)."""
    if not (finite(lo) and finite(hi)):
        return ""
    return _ends(lo, hi, kind, False) + _UNIT_AFTER.get(kind, "")


def delta(v: float, kind: str) -> str:
    """A signed difference: +¥1.2 M, −3.4 pp (shares and ratios), +0.25 h."""
    if not finite(v):
        return "n/a"
    sign = "+" if v > 0 else ""
    if kind in ("share", "ratio"):
        return f"{sign}{_bare(v, kind)} pp"
    if kind == "months":
        return f"{sign}{_bare(v, kind)} months"
    return sign + value(v, kind)


def delta_interval(lo: float, hi: float, kind: str) -> str:
    """The interval of a difference: '−1.24 to −1.09 h', '+1.2 to +3.4 pp', '+¥1.2 to +¥3.4 M'."""
    if not (finite(lo) and finite(hi)):
        return ""
    unit = {"share": " pp", "ratio": " pp", "months": " months", "hours": " h"}.get(kind, "")
    return _ends(lo, hi, kind, True) + unit


def not_defined(stat: Any) -> str:
    """Why a Stat has no value, as shown; '' when it has one.

    For example 'not defined (no incremental cost)' or 'not reached within the horizon'.
    """
    reason = getattr(stat, "not_defined", None)
    if not isinstance(reason, str) or not reason:  # None, or NaN in a table column
        return ""
    return reason if reason.startswith("not ") else f"not defined ({reason})"


def stat_value(stat: Any, kind: str) -> str:
    """The mean of a Stat with its unit, or why it has none."""
    return not_defined(stat) or value(getattr(stat, "mean", math.nan), kind)


def stat_text(stat: Any, kind: str, label: str | None = None) -> str:
    """'NPV ¥12.3 M (¥10.1 to 14.2 M)'; one replication has no interval."""
    head = f"{label} " if label else ""
    nd = not_defined(stat)
    if nd:
        return f"{head}{nd}"
    mean = getattr(stat, "mean", math.nan)
    body = value(mean, kind)
    ci = interval(getattr(stat, "ci95_low", math.nan), getattr(stat, "ci95_high", math.nan), kind)
    if ci:
        return f"{head}{body} ({ci})"
    n = getattr(stat, "n", 0)
    if not finite(mean):
        return f"{head}{body}"
    return f"{head}{body} ({'1 run: ' if n <= 1 else ''}no CI)"
