"""RFM per customer, BG/NBD fit on a calibration period and the holdout check.

Purchases on the same day count as one transaction (the field's convention,
and what the published CDNOW figures use). Times are in weeks of 7 days.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.datafit import bgnbd
from simulator.datafit.importlog import EPOCH, Log, LogError


@dataclass
class RFM:
    """Per customer over the calibration period (weeks)."""

    x: np.ndarray          # repeat transactions (purchase days after the first)
    tx: np.ndarray         # first purchase -> last purchase
    T: np.ndarray          # first purchase -> end of calibration (tenure)
    first_day: np.ndarray  # day number of the first purchase
    monetary: np.ndarray   # mean spend per purchase day (all purchase days)
    segment: np.ndarray    # segment code of the customer's first row (-1: none)


def daily(log: Log) -> pd.DataFrame:
    """One row per customer and purchase day: amount summed, segment of the day's first row."""
    df = pd.DataFrame({"c": log.customer, "d": log.day, "amt": log.amount, "seg": log.segment})
    return df.groupby(["c", "d"], sort=True).agg(amt=("amt", "sum"), seg=("seg", "first")
                                                 ).reset_index()


def rfm(days: pd.DataFrame, end_day: int, season=None) -> RFM:
    """RFM and tenure of the customers whose first purchase is on or before ``end_day``.

    ``season``: a :class:`simulator.datafit.seasonal.Seasonal`; t_x and T are then in
    its operational weeks (a busy month, and a new customer's first weeks, count more
    than 7 days a week).
    """
    cal = days[days["d"] <= end_day]
    g = cal.groupby("c", sort=True)
    first = g["d"].min().to_numpy()
    last = g["d"].max().to_numpy()
    n = g["d"].size().to_numpy()
    if season is not None:
        tx, T = season.op_time(first, last), season.op_time(first, np.full_like(first, end_day))
    else:
        tx, T = (last - first) / 7.0, (end_day - first) / 7.0
    return RFM(x=(n - 1).astype(float), tx=tx, T=T,
               first_day=first, monetary=g["amt"].mean().to_numpy(),
               segment=g["seg"].first().to_numpy())


def _day(s: str) -> int:
    try:
        day = np.datetime64(pd.Timestamp(s).date(), "D") - EPOCH  # numpy's stubs: a timedelta
        return int(day.astype(int))  # type: ignore[attr-defined]
    except (ValueError, TypeError):
        raise LogError(f"split date {s!r} is not a date (use YYYY-MM-DD)") from None


def validate(log: Log, split: str, *, end: str | None = None) -> dict:
    """Fit on days before ``split``, check on ``split`` .. end of the log (or ``end``).

    Returns the fit, the weekly tracking (actual and forecast repeat transactions per
    week and cumulative, from the log's first day), holdout totals and the
    conditional expectation by calibration frequency, with the errors.
    """
    days = daily(log)
    start = int(days["d"].min())
    split_day = _day(split)
    end_day = _day(end) if end else int(days["d"].max())
    if not start < split_day <= end_day:
        raise LogError(f"split date {split} must fall after the log's first day "
                       f"{EPOCH + start} and on or before its last {EPOCH + end_day}")
    cal_end = split_day - 1
    t0 = time.perf_counter()
    cal = rfm(days, cal_end)
    fitted = bgnbd.fit(cal.x, cal.tx, cal.T)
    fit_s = time.perf_counter() - t0
    params = fitted.params
    cohort = days["c"].isin(days.loc[days["d"] <= cal_end, "c"].unique())
    d = days[cohort & (days["d"] <= end_day)]
    firsts = d.groupby("c")["d"].transform("min")
    repeat = d[d["d"] > firsts]
    weeks = int(np.ceil((end_day - start + 1) / 7))
    actual_week = np.bincount(((repeat["d"] - start) // 7).to_numpy(), minlength=weeks)[:weeks]
    # Forecast: each customer from their first day; grouped by first day.
    fd, cnt = np.unique(cal.first_day, return_counts=True)
    edges = np.minimum(start + 7 * np.arange(1, weeks + 1), end_day + 1)  # exclusive day edge
    cum_fc = np.array([np.dot(cnt, bgnbd.expected_repeat(params, (e - fd) / 7.0))
                       for e in edges])
    cum_act = np.cumsum(actual_week).astype(float)
    split_week = (split_day - start) / 7.0
    hold_act = float(((repeat["d"] >= split_day)).sum())
    # Holdout forecast for exactly the holdout days (unconditional, the tracking curve).
    hold_fc = float(np.dot(cnt, bgnbd.expected_repeat(params, (end_day + 1 - fd) / 7.0)
                           - bgnbd.expected_repeat(params, (split_day - fd) / 7.0)))
    # Conditional expectation by calibration frequency.
    t_hold = (end_day - cal_end) / 7.0
    cond = bgnbd.conditional_expected(params, t_hold, cal.x, cal.tx, cal.T)
    hold_per_c = (repeat[repeat["d"] >= split_day].groupby("c").size()
                  .reindex(np.unique(days.loc[days["d"] <= cal_end, "c"]), fill_value=0)
                  .to_numpy())
    bucket = np.minimum(cal.x, 7).astype(int)
    by_freq: list[dict[str, Any]] = []
    for k in range(8):
        m = bucket == k
        if m.any():
            by_freq.append({"x": f"{k}+" if k == 7 else str(k), "customers": int(m.sum()),
                            "actual": float(hold_per_c[m].mean()),
                            "bgnbd": float(cond[m].mean())})
    cum_at_end_err = (cum_fc[-1] - cum_act[-1]) / cum_act[-1] if cum_act[-1] else float("nan")
    return {
        "log": log.source, "first_day": str(EPOCH + start), "split": str(EPOCH + split_day),
        "last_day": str(EPOCH + end_day), "calibration_weeks": round(split_week, 3),
        "holdout_weeks": round(t_hold, 3), "customers": fitted.customers,
        "fit": fitted.as_dict(), "fit_seconds": round(fit_s, 3),
        "calibration_repeat_transactions": float(cal.x.sum()),
        "holdout_total": {"actual": hold_act, "forecast": hold_fc,
                          "error": (hold_fc - hold_act) / hold_act if hold_act else None},
        "cumulative_at_end": {"week": weeks, "actual": float(cum_act[-1]),
                              "forecast": float(cum_fc[-1]), "error": cum_at_end_err},
        "weekly": {"actual": actual_week.astype(int).tolist(),
                   "forecast": np.diff(np.concatenate([[0.0], cum_fc])).round(3).tolist(),
                   "cumulative_actual": cum_act.tolist(),
                   "cumulative_forecast": cum_fc.round(3).tolist()},
        "by_calibration_frequency": by_freq,
        "conditional_mae": float(np.mean([abs(r["actual"] - r["bgnbd"]) for r in by_freq])),
    }
