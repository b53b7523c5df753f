"""The fitted base through the engine over the holdout, compared with the log (issue 16).

The fitted scenario (no scheme) starts from the shop's actual customers on the split
day: each agent is one customer of the fit period with their own spend history,
alive or not as drawn from the fitted model's P(alive), with their posterior order
rate and dropout (:mod:`simulator.datafit.customers`). No new customers join: the
holdout check follows the fit period's customers, as BG/NBD's does. The engine's
months are 365.25/12 days; the log's holdout is binned the same way from the split
(the last, partial month is compared pro rata).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable

import numpy as np
import pandas as pd

from simulator.customer_base import CustomerBase
from simulator.datafit import bgnbd, customers, holdout, toscenario
from simulator.datafit.importlog import EPOCH, Log, LogError
from simulator.scenario import Scenario
from simulator.scenario_io import from_dict, to_dict

DAYS_PER_MONTH = customers.DAYS_PER_MONTH
MAX_MONTHS = 12  # per-customer orders are kept for the first 12 months of a run
BUCKETS = 8  # calibration repeat purchases 0..6 and 7+
STEPS = 4  # behaviour steps per month in the holdout run


def holdout_scenario(sc: Scenario, n: int, months: int) -> Scenario:
    """The fitted scenario for the holdout run: n real customers, no new ones.

    Satisfaction does not move churn in this run and behaviour moves in weekly steps
    (see the comments below).
    """
    d = to_dict(sc)
    d["population"]["customers"] = n
    d["population"]["acquisition"]["organic_per_month"] = 0.0
    d["population"]["acquisition"]["paid_spend_cny_per_month"] = 0.0
    d["run"]["horizon_months"] = months
    # Weekly behaviour steps: customers who drop out stop buying within the month, as in
    # continuous time (with one step a month they buy the whole month of their dropout,
    # about +3 % transactions on a log drawn from BG/NBD itself).
    d["run"]["steps_per_month"] = STEPS
    # The log's dropout already contains today's service; the fitted file's service
    # assumptions (the default scenario's) would count it a second time through
    # satisfaction, so the check runs with satisfaction not moving churn.
    d["service"]["churn_per_satisfaction_point"] = 0.0
    return from_dict(d, "fitted scenario (holdout run)")


def customer_base(log: Log, sc: Scenario, segs: list[toscenario.FittedSegment],
                  days: pd.DataFrame, cal: holdout.RFM, end_day: int,
                  bands: int | None, segment_by: str = "rfm") -> CustomerBase:
    """The fit period's customers on the day after ``end_day``, in the fitted segments.

    With a segment column each customer takes their segment and its own BG/NBD fit;
    with RFM clusters, their cluster; with order-rate bands, the band of their
    posterior mean rate (one fit).
    """
    names = [s.name for s in sc.segments]
    n = len(cal.x)
    seg = np.zeros(n, dtype=np.int64)
    fits = np.tile(np.array(segs[0].fit.params, dtype=float), (n, 1))
    if log.segment_names:
        for fs in segs:
            m = cal.segment == log.segment_names.index(fs.name)
            seg[m] = names.index(fs.name)
            fits[m] = fs.fit.params
        # Customers of segments too small to fit (under 10) take the largest segment.
        known = np.isin(cal.segment, [log.segment_names.index(fs.name) for fs in segs])
        big = max(segs, key=lambda fs: fs.customers)
        seg[~known] = names.index(big.name)
        fits[~known] = big.fit.params
    elif bands and bands > 1 and segment_by == "rfm":
        seg = toscenario.rfm_clusters(cal, bands)
    elif bands and bands > 1:
        from scipy import stats

        r, alpha = segs[0].fit.r, segs[0].fit.alpha
        q = stats.gamma.cdf((r + cal.x) / (alpha + cal.T) * alpha, r)
        seg = np.minimum((q * bands).astype(np.int64), bands - 1)
    return customers.build(days, cal, tuple(fits.T), end_day, log.customer_ids, seg,
                           log.source)


def run_holdout(log: Log, split: str, *, segments: int | None = None,
                segment_by: str = "rfm", seasonality: bool = True, replications: int = 4,
                seed: int = 20261129, end: str | None = None,
                progress: Callable[[float], None] | None = None,
                cancel: threading.Event | None = None) -> dict[str, Any]:
    """Fit before ``split``, run the engine from the actual customers, compare with the log.

    Returns the BG/NBD comparison of :func:`holdout.validate` with an ``engine`` part:
    monthly tracking, holdout total and spend, cumulative at the end, conditional
    expectation by calibration frequency (means over ``replications`` runs), timings.
    """
    from simulator.engine import Simulation
    from simulator.outputs import MI

    t0 = time.perf_counter()
    ref = holdout.validate(log, split, end=end)  # BG/NBD on the same split
    days = holdout.daily(log)
    split_day = holdout._day(split)
    end_day = holdout._day(end) if end else int(days["d"].max())
    cal_end = split_day - 1
    cal = holdout.rfm(days, cal_end)
    fit = bgnbd.fit(cal.x, cal.tx, cal.T)
    params = fit.params
    fitted = toscenario.fit_segments(log, split, segments, segment_by, seasonality)
    segs = fitted[0]
    season = fitted[1]["seasonal"]
    sc, _ = toscenario.build(log, split, segments, fitted=fitted, segment_by=segment_by)
    hold_days = end_day - cal_end
    months = int(math.ceil(hold_days / DAYS_PER_MONTH - 1e-9))
    if months > MAX_MONTHS:
        raise LogError(f"holdout of {hold_days} days: the engine check covers at most "
                       f"{MAX_MONTHS} months; choose a later split date")
    n = len(cal.x)
    cal_fit = cal if season is None else holdout.rfm(days, cal_end, season)
    cb = customer_base(log, sc, segs, days, cal_fit, cal_end, segments, segment_by)
    run_sc = holdout_scenario(sc, n, months)
    t_fit = time.perf_counter() - t0

    monthly = np.zeros((replications, months))
    spend = np.zeros(replications)
    per_customer = np.zeros(n)
    bucket = np.minimum(cal.x, BUCKETS - 1).astype(int)
    bin_n = np.maximum(np.bincount(bucket, minlength=BUCKETS), 1)
    per_bin = np.zeros((replications, BUCKETS))  # each replication's mean by frequency
    alive0 = np.zeros(replications)
    root = np.random.SeedSequence(seed)
    for rep in range(replications):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("validation cancelled")
        sim = Simulation(run_sc, root, rep, n, months, cancel=cancel, customers=cb)
        out = sim.run()
        alive0[rep] = float(sim.population.alive_at_start.sum())
        monthly[rep] = out.monthly[:, :, :, MI["orders"]].sum(axis=(1, 2))
        spend[rep] = float(out.monthly[:, :, :, MI["gross_revenue"]].sum())
        per_customer += sim.population.y1_orders[:n]
        per_bin[rep] = np.bincount(bucket, weights=sim.population.y1_orders[:n],
                                   minlength=BUCKETS) / bin_n
        if progress:
            progress((rep + 1) / replications)
    per_customer /= replications
    t_run = time.perf_counter() - t0 - t_fit
    eng = _compare(days, cal, cb, ref, monthly, spend, per_customer, alive0, split_day,
                   end_day, months, params, replications, t_fit, t_run, per_bin)
    eng["seasonality"] = fitted[1]["seasonal_test"]
    if season is not None:
        eng["seasonal_bgnbd"] = _seasonal_reference(season, cal, split_day, end_day, months,
                                                    eng["holdout_total"]["actual"])
    return {**ref, "engine": eng}


def _seasonal_reference(season, cal: holdout.RFM, split_day: int, end_day: int, months: int,
                        actual: float) -> dict[str, Any]:
    """The seasonal BG/NBD's own forecast by engine month (unconditional, by first day)."""
    fd, cnt = np.unique(cal.first_day, return_counts=True)
    hold_days = end_day - split_day + 1
    edges = split_day + np.minimum(np.round(np.arange(months + 1) * DAYS_PER_MONTH), hold_days)
    cum = np.array([np.dot(cnt, bgnbd.expected_repeat(season.params,
                                                      season.op_time(fd, int(e))))
                    for e in edges])
    month = np.diff(cum)
    total = float(month.sum())
    return {"monthly": month.round(2).tolist(), "holdout_total": total,
            "error": (total - actual) / actual if actual else None}


def _compare(days: pd.DataFrame, cal: holdout.RFM, cb: CustomerBase, ref: dict,
             monthly: np.ndarray, spend: np.ndarray, per_customer: np.ndarray,
             alive0: np.ndarray, split_day: int, end_day: int, months: int, params,
             replications: int, t_fit: float, t_run: float,
             per_bin: np.ndarray | None = None) -> dict[str, Any]:
    hold_days = end_day - split_day + 1
    last_share = hold_days / DAYS_PER_MONTH - (months - 1)  # of the last engine month
    scale = np.ones(months)
    scale[-1] = last_share
    sim_month = monthly.mean(axis=0) * scale
    sim_sd = monthly.std(axis=0, ddof=1) * scale if replications > 1 else np.zeros(months)
    codes = np.sort(days.loc[days["d"] <= split_day - 1, "c"].unique())
    cohort = days[days["c"].isin(codes) & (days["d"] >= split_day) & (days["d"] <= end_day)]
    k = np.floor((cohort["d"].to_numpy() - split_day) / DAYS_PER_MONTH).astype(np.int64)
    act_month = np.bincount(np.minimum(k, months - 1), minlength=months).astype(float)
    act_spend = float(cohort["amt"].sum())
    # BG/NBD's monthly tracking from the same unconditional curve as its weekly one.
    fd, cnt = np.unique(cal.first_day, return_counts=True)
    edges = split_day + np.minimum(np.arange(months + 1) * DAYS_PER_MONTH, hold_days)
    cum_bg = np.array([np.dot(cnt, bgnbd.expected_repeat(params, (e - fd) / 7.0))
                       for e in edges])
    bg_month = np.diff(cum_bg)
    cal_repeat = float(cal.x.sum())
    total_sim = float(sim_month.sum())
    total_act = float(act_month.sum())
    cum_end_act = cal_repeat + total_act
    cum_end_sim = cal_repeat + total_sim
    # Conditional expectation by calibration frequency (engine pro rata in the last month).
    # Like with like: each customer's simulated holdout transactions (the runs' mean, the
    # last month pro rata as in the totals) beside their actual ones, grouped by their
    # calibration repeat purchases in the same bins (0..6, 7+) and averaged per customer as
    # the BG/NBD reference is. Unlike BG/NBD's exact expectation, the engine's carries
    # Monte Carlo error (engine_se), which only adds to its distance from the actual.
    pro_rata = total_sim / max(float(monthly.mean(axis=0).sum()), 1e-12)
    per_c = per_customer * pro_rata
    bucket = np.minimum(cal.x, BUCKETS - 1).astype(int)
    se = (per_bin.std(axis=0, ddof=1) / np.sqrt(replications) * pro_rata
          if per_bin is not None and replications > 1 else np.full(BUCKETS, np.nan))
    hold_per_c = (cohort.groupby("c").size().reindex(codes, fill_value=0).to_numpy())
    rows = []
    for b, row in zip(range(BUCKETS), ref["by_calibration_frequency"], strict=False):
        m = bucket == b
        rows.append({**row, "engine": float(per_c[m].mean()), "engine_se": float(se[b]),
                     "actual_check": float(hold_per_c[m].mean())})
    mae_engine = float(np.mean([abs(r["engine"] - r["actual"]) for r in rows]))
    mc_se = float(np.mean([r["engine_se"] for r in rows]))
    return {
        "customers": int(len(cb)), "alive_at_split": float(alive0.mean()),
        "expected_alive": float(cb.p_alive.sum()), "months": months,
        "month_days": round(DAYS_PER_MONTH, 4), "last_month_share": round(last_share, 4),
        "replications": replications,
        "monthly": {"actual": act_month.tolist(), "engine": sim_month.round(2).tolist(),
                    "engine_sd": sim_sd.round(2).tolist(), "bgnbd": bg_month.round(2).tolist()},
        "holdout_total": {"actual": total_act, "engine": total_sim,
                          "error": (total_sim - total_act) / total_act if total_act else None,
                          "bgnbd": float(bg_month.sum()),
                          "bgnbd_error": ref["holdout_total"]["error"]},
        "holdout_spend": {"actual": act_spend, "engine": float(spend.mean()),
                          "error": (float(spend.mean()) - act_spend) / act_spend
                          if act_spend else None},
        "cumulative_at_end": {"actual": cum_end_act, "engine": cum_end_sim,
                              "error": (cum_end_sim - cum_end_act) / cum_end_act,
                              "bgnbd_error": ref["cumulative_at_end"]["error"],
                              "note": "engine: actual repeat transactions to the split plus "
                                      "the simulated holdout"},
        "by_calibration_frequency": rows,
        "conditional_mae": {"engine": mae_engine, "bgnbd": ref["conditional_mae"],
                            "engine_mean_se": mc_se},
        "seconds": {"fit_and_setup": round(t_fit, 2), "engine": round(t_run, 2)},
        "split": str(EPOCH + split_day),
    }


def customer_base_at(log: Log, sc: Scenario, segs: list[toscenario.FittedSegment],
                     split: str | None, bands: int | None, cny_per_unit: float = 1.0,
                     segment_by: str = "rfm", season=None) -> CustomerBase:
    """The customer file of ``fit``: the fit period's customers the day after it ends.

    ``season``: the fit's seasonal model (``fit_segments``' ``facts["seasonal"]``), whose
    operational time the segments' fits are in.
    """
    days = holdout.daily(log)
    end_day = holdout._day(split) - 1 if split else int(days["d"].max())
    cal = holdout.rfm(days, end_day, season)
    cb = customer_base(log, sc, segs, days, cal, end_day, bands, segment_by)
    if cny_per_unit != 1.0:
        from dataclasses import replace

        cb = replace(cb, spend=cb.spend * cny_per_unit,
                     spend_level=None if cb.spend_level is None
                     else cb.spend_level * cny_per_unit)
    return cb
