"""Assumptions vs simulation noise, and a sampled run's probabilistic answers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np


@dataclass(frozen=True)
class Split:
    """Variance of one replication's KPI, split into assumptions and simulation noise."""

    mean: float
    ci95_low: float
    ci95_high: float
    var_assumptions: float
    var_noise: float
    draws: int
    per_draw: int

    @property
    def var_total(self) -> float:
        """σ²_assumptions + σ²_noise."""
        return self.var_assumptions + self.var_noise

    @property
    def share_assumptions(self) -> float:
        """Share of the variance the assumptions explain (0–1)."""
        t = self.var_total
        return self.var_assumptions / t if t > 0 else math.nan


def variance_split(y: Iterable[float], per_draw: int) -> Split:
    """One-way random-effects ANOVA over draws of ``per_draw`` replications (module doc).

    ``y`` in replication order (replication r belongs to draw r // per_draw); an
    incomplete last draw is left out of the split but not of the mean.
    """
    from scipy import stats

    y = np.asarray(list(y), dtype=float)
    y = y[np.isfinite(y)] if per_draw == 1 else y
    m = int(per_draw)
    n = len(y) // m
    mean = float(np.mean(y)) if y.size else math.nan
    if m < 2 or n < 2 or not np.all(np.isfinite(y[:n * m])):
        v = float(np.var(y, ddof=1)) if y.size > 1 else math.nan
        half = float(stats.t.ppf(0.975, y.size - 1) * math.sqrt(v / y.size)) if y.size > 1 \
            else math.nan
        return Split(mean, mean - half, mean + half, math.nan, math.nan, n, m)
    g = y[:n * m].reshape(n, m)
    gm = g.mean(axis=1)
    msw = float(((g - gm[:, None]) ** 2).sum() / (n * (m - 1)))
    msb = float(m * ((gm - gm.mean()) ** 2).sum() / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1) * math.sqrt(msb / (n * m)))
    gmean = float(gm.mean())
    return Split(gmean, gmean - half, gmean + half, max(0.0, (msb - msw) / m), msw, n, m)


def probability_above(y: Iterable[float], threshold: float) -> float:
    """Share of replications whose value is above ``threshold`` (NaN ones left out)."""
    x = np.asarray(list(y), dtype=float)
    x = x[np.isfinite(x)]
    return float(np.mean(x > threshold)) if x.size else math.nan


def histogram(y: Iterable[float], bins: int = 20) -> dict:
    """Histogram (edges, counts) and empirical CDF (sorted values, F) of replication values."""
    x = np.sort(np.asarray(list(y), dtype=float))
    x = x[np.isfinite(x)]
    if not x.size:
        return {"edges": [], "counts": [], "cdf_x": [], "cdf_p": []}
    counts, edges = np.histogram(x, bins=min(bins, max(1, x.size)))
    return {"edges": edges.tolist(), "counts": counts.astype(int).tolist(),
            "cdf_x": x.tolist(), "cdf_p": (np.arange(1, x.size + 1) / x.size).tolist()}


# ------------------------------------------------------------------ a run's probabilistic answers
RISK_KPIS = ("npv", "roi", "ltv_per_customer", "churn_annual")


def global_measures(drawn: dict, y: Iterable[float], per_draw: int) -> dict:
    """Which inputs move the KPI across the Latin hypercube run, as @RISK ranks them.

    Per draw (its replications' mean KPI against the draw's input values):
    Spearman rank correlation of each input with the KPI, and standardised
    regression coefficients (least squares on inputs and KPI in standard units;
    with independent inputs the squares add up to the linear model's R²). The
    coefficients need more draws than inputs + 1; ``why`` says when they are missing.
    """
    from scipy import stats

    names = list(drawn.get("inputs") or [])
    vals = np.asarray(drawn.get("values") or [], dtype=float)
    yv = np.asarray(list(y), dtype=float)
    m = max(1, int(per_draw))
    n = min(len(yv), len(vals)) // m
    out: dict = {"inputs": [], "draws": n, "r2": None, "why": None}
    if n < 3 or not names:
        out["why"] = "fewer than 3 draws"
        return out
    X = vals[: n * m: m]
    Y = yv[: n * m].reshape(n, m).mean(axis=1)
    ok = np.isfinite(Y) & np.all(np.isfinite(X), axis=1)
    X, Y = X[ok], Y[ok]
    sx = X.std(axis=0, ddof=1)
    sy = Y.std(ddof=1) if len(Y) > 1 else 0.0
    rows = []
    for j, name in enumerate(names):
        if sx[j] > 0 and sy > 0:
            rho = float(stats.spearmanr(X[:, j], Y).statistic)
        else:
            rho = math.nan
        rows.append({"input": name, "rank_correlation": rho, "src": math.nan})
    live = [j for j in range(len(names)) if sx[j] > 0]
    if sy > 0 and live and len(Y) > len(live) + 1:
        Z = (X[:, live] - X[:, live].mean(axis=0)) / sx[live]
        zy = (Y - Y.mean()) / sy
        A = np.column_stack([np.ones(len(Y)), Z])
        coef, *_ = np.linalg.lstsq(A, zy, rcond=None)
        fit = A @ coef
        out["r2"] = float(1 - ((zy - fit) ** 2).sum() / ((zy - zy.mean()) ** 2).sum())
        for c, j in zip(coef[1:], live):
            rows[j]["src"] = float(c)
    else:
        out["why"] = (f"standardised regression needs more draws ({len(Y)}) than inputs "
                      f"({len(live)}) + 1")
    rows.sort(key=lambda r: -abs(r["rank_correlation"]) if math.isfinite(r["rank_correlation"])
              else 0.0)
    out["inputs"] = rows
    return out


def risk_summary(res: Any, roi_target: float = 0.0) -> dict | None:
    """The probabilistic answers of a run that sampled its uncertain inputs (None otherwise).

    For each of :data:`RISK_KPIS`: the mean with its 95 % interval (over draws),
    P10/P50/P90 and the 95 % range of one replication's value (assumptions and
    noise), and the variance split (:func:`variance_split`). Also P(NPV > 0),
    P(ROI > ``roi_target``), NPV's histogram and CDF, and the global measures
    (:func:`global_measures`) for NPV. ``res``: a :class:`simulator.results.RunResult`.
    """
    from simulator import metrics

    unc = res.meta.get("uncertainty") or {}
    if unc.get("mode") != "sample" or not unc.get("drawn"):
        return None
    m = int(unc["replications_per_draw"])
    kp = res.kpis
    out: dict = {"inputs": unc["inputs"], "inputs_hash": unc["inputs_hash"],
                 "draws": unc["draws"], "replications_per_draw": m,
                 "replications": int(len(kp)), "kpis": {}}
    for key in RISK_KPIS:
        if key not in kp:
            continue
        y = kp[key].to_numpy(dtype=float)
        sp = variance_split(y, m)
        fin = y[np.isfinite(y)]
        q = np.percentile(fin, [2.5, 10, 50, 90, 97.5]).tolist() if fin.size else [math.nan] * 5
        out["kpis"][key] = {
            "label": metrics.label_of(key), "mean": sp.mean,
            "ci95": [sp.ci95_low, sp.ci95_high],
            "p10": q[1], "p50": q[2], "p90": q[3], "range95": [q[0], q[4]],
            "var_assumptions": sp.var_assumptions, "var_noise": sp.var_noise,
            "share_assumptions": sp.share_assumptions,
            "share_noise": 1 - sp.share_assumptions if math.isfinite(sp.share_assumptions)
            else math.nan}
    npv = kp["npv"].to_numpy(dtype=float)
    out["p_npv_positive"] = probability_above(npv, 0.0)
    roi = kp["roi"].to_numpy(dtype=float) if "roi" in kp else np.array([])
    out["p_roi_above_target"] = {"target": roi_target,
                                 "p": probability_above(roi, roi_target)}
    out["npv_distribution"] = histogram(npv)
    out["global"] = global_measures(unc["drawn"], npv, m)
    return out


def json_safe(x: Any) -> Any:
    """NaN and infinities as null, recursively (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x
