"""Data reducers: a run's per-replication tables down to the means the sheets show."""

from __future__ import annotations

import pandas as pd

from simulator import metrics
from simulator.results import RunResult

MONTHLY_SIM = [  # (key, header, kind): mean over replications of the monthly totals
    (k, metrics.label_of(k), metrics.kind_of(k)) for k in metrics.MONTHLY]
CF_SIM = [("cf_net_contribution", "Counterfactual net contribution", "cny"),
          ("cf_total_cost", "Counterfactual total cost", "cny")]


def monthly_means(res: RunResult) -> pd.DataFrame:
    """Month rows: mean over replications of the monthly totals (all segments and tiers)."""
    m = res.monthly
    cols = [k for k, _, _ in MONTHLY_SIM] + ["net_contribution", "total_cost", "members_end"]
    g = (m.groupby(["arm", "replication", "month"])[cols].sum()
         .groupby(["arm", "month"]).mean())
    out = g.loc["scenario"].copy()
    if "counterfactual" in g.index.get_level_values(0):
        cf = g.loc["counterfactual"]
        out["cf_net_contribution"] = cf["net_contribution"]
        out["cf_total_cost"] = cf["total_cost"]
    return out.reset_index()


def breakdown_means(res: RunResult) -> pd.DataFrame:
    """Month x segment x tier rows of the scenario arm, mean over replications."""
    m = res.monthly
    m = m[m["arm"] == "scenario"]
    cols = [k for k, _, _ in MONTHLY_SIM] + ["members_end"]
    g = m.groupby(["month", "segment", "tier"], sort=False)[cols].mean().reset_index()
    g["segment"] = pd.Categorical(g["segment"], res.segments, ordered=True)
    g["tier"] = pd.Categorical(g["tier"], res.tiers, ordered=True)
    g = g.sort_values(["month", "segment", "tier"]).reset_index(drop=True)
    g["segment"] = g["segment"].astype(str)
    g["tier"] = g["tier"].astype(str)
    return g


def members_by_tier(res: RunResult) -> pd.DataFrame:
    """Month rows, one column per tier: members at the end of the month (mean)."""
    b = res.band_by("members_end", by="tier")
    return b.pivot(index="month", columns="tier", values="mean").reindex(columns=res.tiers)
