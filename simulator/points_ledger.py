"""The points liability under IFRS 15: points flows, breakage, deferred revenue by month.

Built from the flows the engine records in the scenario arm
(:attr:`simulator.outputs.ArmOutput.points_flows`: points issued, redeemed,
expired or forfeited, and outstanding at each month's end) and the arm's net
revenue; docs/ACCOUNTING.md states the convention:

- breakage estimate b = expired / (redeemed + expired), cumulative up to the
  month (re-estimated each month from the simulated redemption); before the first
  expiry date, the scenario's own assumption 1 − redemption share;
- revenue deferred at issue by relative stand-alone selling price: net revenue ×
  SSP(points) / (net revenue + SSP(points)), SSP(points) = issued × point value ×
  (1 − b);
- deferred revenue recognised as points are redeemed or expire, pro rata over the
  outstanding points (weighted average per point);
- liability at expected redemption value = outstanding × point value × (1 − b);
- cash cost of redemptions = redeemed × point value.

Every figure is computed per replication, then summarised (mean, 95 % interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.outputs import POINTS_FLOWS
from simulator.results import RunResult, Stat

# Monthly columns of the ledger (points, then CNY), in order.
COLUMNS = ("points_opening", "points_issued", "points_redeemed", "points_expired",
           "points_outstanding", "breakage_estimate", "liability_cny",
           "redemption_cash_cny", "net_revenue_cny", "revenue_deferred_cny",
           "revenue_recognised_cny", "deferred_revenue_cny")
LABELS = {
    "points_opening": "Points outstanding, opening", "points_issued": "Points issued",
    "points_redeemed": "Points redeemed", "points_expired": "Points expired or forfeited",
    "points_outstanding": "Points outstanding, closing",
    "breakage_estimate": "Breakage estimate", "liability_cny": "Liability (expected redemption)",
    "redemption_cash_cny": "Cash cost of redemptions", "net_revenue_cny": "Net revenue",
    "revenue_deferred_cny": "Revenue deferred at issue",
    "revenue_recognised_cny": "Revenue recognised (redeemed/expired)",
    "deferred_revenue_cny": "Deferred revenue (contract liability), closing",
}
CONVENTION = ("IFRS 15: revenue allocated to points by relative stand-alone selling price "
              "(points at point value × (1 − breakage)), deferred at issue and recognised "
              "pro rata as points are redeemed or expire; breakage re-estimated each month "
              "from the simulated redemption (expired / (redeemed + expired) to date; the "
              "scenario's 1 − redemption share before the first expiry date); liability = "
              "outstanding points × point value × (1 − breakage).")


@dataclass
class PointsLedger:
    """The scheme arm's points ledger per replication and month."""

    point_value: float
    prior_breakage: float  # 1 − the scenario's redemption share
    values: dict[str, np.ndarray]  # column -> [R, H]

    @property
    def horizon(self) -> int:
        """Months in the ledger."""
        return self.values["points_issued"].shape[1]

    def table(self) -> pd.DataFrame:
        """Month rows, the mean of every column over replications."""
        df = pd.DataFrame({c: self.values[c].mean(axis=0) for c in COLUMNS})
        df.insert(0, "month", np.arange(1, self.horizon + 1))
        return df

    def stat(self, column: str, month: int | None = None) -> Stat:
        """A column at a month (default: the last) across replications."""
        m = self.horizon if month is None else month
        unit = "CNY" if column.endswith("_cny") else ("share" if column == "breakage_estimate"
                                                      else "points")
        return Stat.of(self.values[column][:, m - 1], unit)

    def realised_breakage(self) -> Stat:
        """Expired / (redeemed + expired) over the whole horizon, across replications."""
        red = self.values["points_redeemed"].sum(axis=1)
        exp = self.values["points_expired"].sum(axis=1)
        tot = red + exp
        return Stat.of(np.where(tot > 0, exp / np.where(tot > 0, tot, 1.0), np.nan), "share",
                       "no point redeemed or expired")

    def roll_forward_gap(self) -> float:
        """Largest |opening + issued − redeemed − expired − closing| relative to the flows."""
        v = self.values
        gap = (v["points_opening"] + v["points_issued"] - v["points_redeemed"]
               - v["points_expired"] - v["points_outstanding"])
        scale = max(float(np.abs(v["points_issued"]).max(initial=0.0)), 1.0)
        return float(np.abs(gap).max(initial=0.0) / scale)

    def summary(self) -> dict[str, Stat]:
        """Headline figures: horizon totals and the closing position."""
        v = self.values
        out = {c: Stat.of(v[c].sum(axis=1), "CNY" if c.endswith("_cny") else "points")
               for c in ("points_issued", "points_redeemed", "points_expired",
                         "redemption_cash_cny", "revenue_deferred_cny",
                         "revenue_recognised_cny")}
        for c in ("points_outstanding", "liability_cny", "deferred_revenue_cny",
                  "breakage_estimate"):
            out[c + "_closing" if not c.endswith("_closing") else c] = self.stat(c)
        out["breakage_realised"] = self.realised_breakage()
        return out

    def to_json(self) -> dict:
        """JSON-safe: the convention, the monthly means and the summary."""
        def num(x):
            return float(x) if math.isfinite(float(x)) else None
        return {
            "convention": CONVENTION, "point_value_cny": self.point_value,
            "prior_breakage": self.prior_breakage,
            "monthly": [{k: (int(v) if k == "month" else num(v)) for k, v in row.items()}
                        for row in self.table().to_dict(orient="records")],
            "summary": {k: s.to_json() for k, s in self.summary().items()},
        }


def ledger(flows: np.ndarray, net_revenue: np.ndarray, point_value: float,
           redemption_share: float, expiry_months: int = 1) -> dict[str, np.ndarray]:
    """The ledger columns of one replication from its flows [H, 4] and net revenue [H].

    The breakage estimate is the scenario's 1 − redemption share until the first
    expiry date (month ``expiry_months``): before it only early redemptions and
    leavers' forfeits are resolved, which would understate breakage.
    """
    H = flows.shape[0]
    col = {f: flows[:, i].astype(float) for i, f in enumerate(POINTS_FLOWS)}
    issued, redeemed, expired, closing = (col["issued"], col["redeemed"], col["expired"],
                                          col["outstanding"])
    opening = np.concatenate([[0.0], closing[:-1]])
    prior = 1.0 - redemption_share
    cum_red = np.cumsum(redeemed)
    cum_exp = np.cumsum(expired)
    resolved = cum_red + cum_exp
    months = np.arange(1, H + 1)
    breakage = np.where((months >= expiry_months) & (resolved > 0),
                        cum_exp / np.where(resolved > 0, resolved, 1.0), prior)
    ssp_points = issued * point_value * (1.0 - breakage)
    rev = np.asarray(net_revenue, dtype=float)
    denom = rev + ssp_points
    deferred = np.where(denom > 0, rev * ssp_points / np.where(denom > 0, denom, 1.0), 0.0)
    recognised = np.zeros(H)
    pool_close = np.zeros(H)
    pool = 0.0
    for m in range(H):
        base = opening[m] + issued[m]
        pool += deferred[m]
        share = (redeemed[m] + expired[m]) / base if base > 0 else 0.0
        recognised[m] = pool * min(share, 1.0)
        pool -= recognised[m]
        pool_close[m] = pool
    return {"points_opening": opening, "points_issued": issued, "points_redeemed": redeemed,
            "points_expired": expired, "points_outstanding": closing,
            "breakage_estimate": breakage,
            "liability_cny": closing * point_value * (1.0 - breakage),
            "redemption_cash_cny": redeemed * point_value, "net_revenue_cny": rev,
            "revenue_deferred_cny": deferred, "revenue_recognised_cny": recognised,
            "deferred_revenue_cny": pool_close}


def points_ledger(res: RunResult, point_value: float, redemption_share: float,
                  expiry_months: int = 1) -> PointsLedger | None:
    """The scenario arm's points ledger, or None when the arm issues no points."""
    outs = res.scn
    if not outs or any(o.points_flows.shape[0] != res.horizon for o in outs):
        return None
    flows = np.stack([o.points_flows for o in outs])  # [R, H, 4]
    if not np.any(flows[..., 0] > 0):
        return None
    rev = res.totals("net_revenue", "scenario")  # [R, H]
    per = [ledger(flows[r], rev[r], point_value, redemption_share, expiry_months)
           for r in range(len(outs))]
    values = {c: np.stack([p[c] for p in per]) for c in COLUMNS}
    return PointsLedger(point_value, 1.0 - redemption_share, values)


def of_scenario(res: RunResult, sc) -> PointsLedger | None:
    """:func:`points_ledger` with the scenario's point value and redemption share."""
    pts = sc.tier_rules.points
    if not (sc.tier_rules.enabled and pts.enabled):
        return None
    return points_ledger(res, float(pts.point_value_cny), float(pts.redemption_share),
                         int(pts.expiry_months))
