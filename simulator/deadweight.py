"""Deadweight: scheme cost paid on purchases that would have happened anyway.

Under common random numbers customer *i* is the same person in both arms. A run
whose counterfactual switches the scheme off, or is a base scenario with the same
segments, pairs the arms customer by customer
(:func:`simulator.execution.run_replication`): per customer and month,
matched orders = min(orders with the scheme, orders without it); the rest of
the scheme arm's orders are incremental. The engine splits each customer-month's
scheme cost (benefit cost, points redemptions included, plus campaign
discounts) and its price concessions pro rata between matched and incremental
orders, and books the scheme cost of months without an order apart
(:attr:`simulator.outputs.ArmOutput.deadweight`). docs/ACCOUNTING.md states
the definitions.

Per segment and per tier (the customer's tier in the scheme arm that month):
deadweight share = cost on matched orders / cost on orders; cost per
incremental order = scheme cost / incremental orders; cost per retained
customer (per segment and in total, where both arms share segments) = scheme
cost / (active customers at the horizon − the counterfactual's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.outputs import DEADWEIGHT, MI
from simulator.results import RunResult, Stat

COLUMNS = ("matched_orders", "incremental_orders", "scheme_cost", "cost_matched",
           "cost_incremental", "cost_no_order", "concessions_matched",
           "concessions_incremental", "deadweight_share", "cost_per_incremental_order",
           "retained_customers", "cost_per_retained_customer")
LABELS = {
    "matched_orders": "Orders that happen anyway", "incremental_orders": "Incremental orders",
    "scheme_cost": "Scheme cost (benefits + campaign discounts)",
    "cost_matched": "Cost on orders that happen anyway (deadweight)",
    "cost_incremental": "Cost on incremental orders", "cost_no_order": "Cost in months without "
    "an order", "concessions_matched": "Price concessions on orders that happen anyway",
    "concessions_incremental": "Price concessions on incremental orders",
    "deadweight_share": "Deadweight share", "cost_per_incremental_order":
    "Cost per incremental order", "retained_customers": "Customers retained (vs counterfactual)",
    "cost_per_retained_customer": "Cost per retained customer",
}
KIND = {"matched_orders": "count", "incremental_orders": "count", "deadweight_share": "share",
        "retained_customers": "count"}
NOT_PAIRED = ("deadweight needs a counterfactual (the scheme switched off, or a base scenario "
              "with the same segments: the same customers in both arms) and a run whose "
              "counterfactual orders log fits in memory (1 byte per simulated customer and "
              "month)")


def kind_of(column: str) -> str:
    """Display kind of a column (simulator.metrics kinds)."""
    return KIND.get(column, "money")


@dataclass
class Deadweight:
    """Deadweight per replication, by segment and tier, over the horizon."""

    segments: list[str]
    tiers: list[str]
    sums: np.ndarray  # [R, len(DEADWEIGHT), S, T]
    retained: np.ndarray  # [R, S] active at the horizon minus the counterfactual's

    def _rows(self, by: str) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
        """(label, sums [R, k], retained [R] or None) per row of a breakdown."""
        a = self.sums
        if by == "segment":
            return [(s, a[:, :, i, :].sum(axis=2), self.retained[:, i])
                    for i, s in enumerate(self.segments)]
        if by == "tier":
            return [(t, a[:, :, :, j].sum(axis=2), None) for j, t in enumerate(self.tiers)]
        return [("all customers", a.sum(axis=(2, 3)), self.retained.sum(axis=1))]

    @staticmethod
    def _figures(x: np.ndarray, retained: np.ndarray | None) -> dict[str, np.ndarray]:
        d = {k: x[:, i] for i, k in enumerate(DEADWEIGHT)}
        cost = d["cost_matched"] + d["cost_incremental"] + d["cost_no_order"]
        on_orders = d["cost_matched"] + d["cost_incremental"]
        inc = d["incremental_orders"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = {
                "matched_orders": d["matched_orders"], "incremental_orders": inc,
                "scheme_cost": cost, "cost_matched": d["cost_matched"],
                "cost_incremental": d["cost_incremental"], "cost_no_order": d["cost_no_order"],
                "concessions_matched": d["concessions_matched"],
                "concessions_incremental": d["concessions_incremental"],
                "deadweight_share": np.where(on_orders > 0, d["cost_matched"] / on_orders,
                                             np.nan),
                "cost_per_incremental_order": np.where(inc > 0, cost / inc, np.nan),
            }
            if retained is not None:
                out["retained_customers"] = retained
                out["cost_per_retained_customer"] = np.where(retained > 0, cost / retained,
                                                             np.nan)
            else:
                out["retained_customers"] = np.full(len(cost), np.nan)
                out["cost_per_retained_customer"] = np.full(len(cost), np.nan)
        return out

    def stats(self, by: str = "total") -> dict[str, dict[str, Stat]]:
        """Row label -> column -> Stat (``by``: total, segment or tier)."""
        out = {}
        for label, x, ret in self._rows(by):
            figs = self._figures(x, ret)
            out[label] = {c: Stat.of(figs[c], "share" if kind_of(c) == "share" else
                                     ("customers" if kind_of(c) == "count" else "CNY"),
                                     "not defined" if c in ("deadweight_share",
                                                            "cost_per_incremental_order",
                                                            "cost_per_retained_customer",
                                                            "retained_customers") else None)
                          for c in COLUMNS}
        return out

    def table(self, by: str = "total") -> pd.DataFrame:
        """One row per segment / tier (or the total), column means."""
        rows = [{"row": label, **{c: s.mean for c, s in st.items()}}
                for label, st in self.stats(by).items()]
        return pd.DataFrame(rows, columns=["row", *COLUMNS])

    def frame(self) -> pd.DataFrame:
        """Total, per segment and per tier: one row each, means and 95 % intervals."""
        rows = []
        for by in ("total", "segment", "tier"):
            for label, st in self.stats(by).items():
                row: dict = {"by": by, "row": label}
                for c in COLUMNS:
                    row[c] = st[c].mean
                    row[c + "_ci95_low"] = st[c].ci95_low
                    row[c + "_ci95_high"] = st[c].ci95_high
                rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        """JSON-safe: total, by segment and by tier (mean and 95 % interval)."""
        return {by: {label: {c: s.to_json() for c, s in st.items()}
                     for label, st in self.stats(by).items()}
                for by in ("total", "segment", "tier")}


def deadweight(res: RunResult) -> Deadweight | None:
    """The run's deadweight, or None when its arms were not paired (see :data:`NOT_PAIRED`)."""
    if not res.cf or not all(getattr(o, "paired", False) for o in res.scn):
        return None
    sums = np.stack([o.deadweight for o in res.scn])  # [R, k, S, T]
    a = res._stack("scenario")[:, -1, :, :, MI["members_end"]].sum(axis=2)  # [R, S]
    b = res._stack("counterfactual")[:, -1, :, :, MI["members_end"]].sum(axis=2)
    return Deadweight(list(res.segments), list(res.tiers), sums, retained_difference(a, b))


def retained_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Customers active in the scenario minus the counterfactual (``a - b``), exact zeros kept.

    Each side is whole agents times the sample weight summed over the tiers, in each
    arm's own grouping: the same customers in other tiers differ in the last bits
    (9.3e-10 of 8e6), which as a count of retained customers gave a cost per retained
    customer of ~1e15 instead of none. A difference within 1e-9 of the counts is no
    customer (one agent is at least 1 / 12.5 M of them, 8e-8).
    """
    d = a - b
    d[np.abs(d) <= 1e-9 * np.maximum(np.abs(a), np.abs(b))] = 0.0
    return d
