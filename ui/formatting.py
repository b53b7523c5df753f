"""Numbers as planners read them: units, M/k scaling and 95 % intervals (no Qt)."""

from __future__ import annotations

import math
from typing import Any

# metric -> (label, kind); kind picks the unit formatting
KPI_DISPLAY: dict[str, tuple[str, str]] = {
    "npv": ("NPV (incremental)", "money"),
    "roi": ("ROI", "ratio_pct"),
    "incremental_contribution": ("Incremental contribution", "money"),
    "ltv_per_customer": ("LTV per customer", "money"),
    "churn_annual": ("Churn", "share_year"),
    "payback_month": ("Payback", "month"),
    "net_contribution": ("Net contribution", "money"),
    "revenue": ("Revenue", "money"),
    "net_revenue": ("Net revenue", "money"),
    "total_cost": ("Total cost", "money"),
    "benefit_cost": ("Benefit cost", "money"),
    "promotion_cost": ("Promotion cost", "money"),
    "service_cost": ("Service cost", "money"),
    "acquisition_cost": ("Acquisition cost", "money"),
    "incremental_cost": ("Incremental cost", "money"),
    "active_customers_end": ("Active customers at end", "count"),
    "retention_12m": ("12-month retention", "share"),
    "repurchase_rate": ("Repurchase rate", "share"),
    "service_wait_mean_hours": ("Mean wait", "hours"),
    "service_wait_p90_hours": ("P90 wait", "hours"),
    "sla_attainment": ("SLA attainment", "share"),
    "satisfaction_end": ("Satisfaction at end", "score"),
    "ltv_uplift": ("LTV uplift", "money"),
}


def _finite(x: Any) -> bool:
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


def money(v: float) -> str:
    """¥12.3 M, ¥950, -¥1.2 k."""
    if not _finite(v):
        return "—"
    div, suf = _scale(v)
    sign = "-" if v < 0 else ""
    return f"{sign}¥{_num(abs(v), div)}{suf}"


def value(v: float, kind: str) -> str:
    """One number with its unit."""
    if not _finite(v):
        return "—"
    if kind == "money":
        return money(v)
    if kind in ("share", "share_year", "ratio_pct"):
        s = f"{v * 100:,.1f} %"
        return s + "/yr" if kind == "share_year" else s
    if kind == "month":
        return f"month {v:,.1f}"
    if kind == "hours":
        return f"{v:,.2f} h"
    if kind == "count":
        div, suf = _scale(v)
        return f"{_num(v, div)}{suf}"
    if kind == "score":
        return f"{v:.3f}"
    return f"{v:,.3g}"


def interval(lo: float, hi: float, kind: str) -> str:
    """'10.1–14.2 M' (money shares the scale of the larger end)."""
    if not (_finite(lo) and _finite(hi)):
        return ""
    sep = " to " if (lo < 0 or hi < 0) else "–"  # "-2.0 to -1.9 B" reads better than "-2.0--1.9"
    if kind == "money":
        div, suf = _scale(max(abs(lo), abs(hi)))
        return f"{_signed(lo, div)}{sep}{_signed(hi, div)}{suf}"
    if kind in ("share", "share_year", "ratio_pct"):
        return f"{lo * 100:,.1f}{sep}{hi * 100:,.1f} %"
    if kind == "month":
        return f"{lo:,.1f}{sep}{hi:,.1f}"
    if kind == "hours":
        return f"{lo:,.2f}–{hi:,.2f} h"
    if kind == "count":
        div, suf = _scale(max(abs(lo), abs(hi)))
        return f"{lo / div:,.1f}{sep}{hi / div:,.1f}{suf}"
    return f"{lo:.3g}–{hi:.3g}"


def _signed(v: float, div: float) -> str:
    return ("-" if v < 0 else "") + _num(abs(v), div)


def stat_text(stat: Any, kind: str, label: str | None = None) -> str:
    """'NPV ¥12.3 M (95 % CI 10.1–14.2 M)'; one replication has no interval."""
    head = f"{label} " if label else ""
    mean = getattr(stat, "mean", math.nan)
    body = value(mean, kind)
    ci = interval(getattr(stat, "ci95_low", math.nan), getattr(stat, "ci95_high", math.nan), kind)
    if ci:
        return f"{head}{body} (95 % CI {ci})"
    n = getattr(stat, "n", 0)
    if not _finite(mean):
        return f"{head}{body}"
    return f"{head}{body} ({'1 run: ' if n <= 1 else ''}no CI)"


def kind_of(metric: str) -> str:
    """Display kind of a metric name."""
    if metric in KPI_DISPLAY:
        return KPI_DISPLAY[metric][1]
    if metric.endswith("_hours"):
        return "hours"
    if metric.endswith("_cost") or metric.endswith("_cny") or "revenue" in metric:
        return "money"
    return "number"


def label_of(metric: str) -> str:
    """Display label of a metric name."""
    if metric in KPI_DISPLAY:
        return KPI_DISPLAY[metric][0]
    return metric.replace("_", " ").capitalize()
