"""Deadweight and points-liability tables of ``benefit-sim run`` (console, JSON, CSV).

The figures come from :mod:`simulator.deadweight` and :mod:`simulator.points_ledger`
(docs/ACCOUNTING.md); this module only lays them out. The workbook's
"Deadweight" and "Points liability" sheets read the same frames
(``Deadweight.frame``, ``PointsLedger.table``), so their numbers equal these.
"""

from __future__ import annotations

import pandas as pd

from simulator import metrics
from simulator.deadweight import LABELS as DW_LABELS
from simulator.deadweight import NOT_PAIRED, Deadweight, deadweight
from simulator.deadweight import kind_of as dw_kind
from simulator.points_ledger import CONVENTION, LABELS, PointsLedger, of_scenario

DW_SHOWN = ("matched_orders", "incremental_orders", "scheme_cost", "cost_matched",
            "cost_incremental", "deadweight_share", "cost_per_incremental_order",
            "cost_per_retained_customer")
POINTS_SHOWN = ("points_issued", "points_redeemed", "points_expired", "points_outstanding",
                "breakage_estimate", "liability_cny", "revenue_deferred_cny",
                "revenue_recognised_cny", "deferred_revenue_cny", "redemption_cash_cny")


def deadweight_table(dw: Deadweight):
    """A rich table: total, segments, tiers."""
    from rich.table import Table

    t = Table(title="Deadweight: scheme cost on purchases that happen anyway (same customer, "
              "same month in the counterfactual arm; means, 95 % CI under the share)",
              title_justify="left")
    t.add_column("")
    for c in DW_SHOWN:
        t.add_column(DW_LABELS[c], justify="right")
    for by in ("total", "segment", "tier"):
        for label, st in dw.stats(by).items():
            cells = []
            for c in DW_SHOWN:
                s = st[c]
                text = metrics.stat_value(s, dw_kind(c))
                if c == "deadweight_share" and not metrics.not_defined(s):
                    ci = metrics.interval(max(s.ci95_low, 0.0), min(s.ci95_high, 1.0),
                                          "share")  # a share's interval stays in [0, 1]
                    text += f"\n{ci}" if ci else ""
                cells.append(text)
            name = "[b]all customers[/b]" if by == "total" else f"{by}: {label}"
            t.add_row(name, *cells)
    return t


def points_table(led: PointsLedger, every: int = 3):
    """A rich table of the ledger: every ``every``-th month and the last."""
    from rich.table import Table

    df = led.table()
    t = Table(title=f"Points liability (IFRS 15), scenario arm, means over replications; point "
              f"value ¥{led.point_value:g}", title_justify="left")
    t.add_column("month", justify="right")
    for c in POINTS_SHOWN:
        t.add_column(LABELS[c], justify="right")
    last = len(df)
    for _, r in df.iterrows():
        m = int(r["month"])
        if m % every and m != last:
            continue
        cells = []
        for c in POINTS_SHOWN:
            v = float(r[c])
            if c == "breakage_estimate":
                cells.append(metrics.value(v, "share"))
            elif c.startswith("points_"):
                cells.append(metrics.value(v, "count"))
            else:
                cells.append(metrics.money(v))
        t.add_row(str(m), *cells)
    return t


def print_accounting(console, res, sc) -> None:
    """Print the points ledger (if the scheme has points) and deadweight (if paired)."""
    led = of_scenario(res, sc)
    if led is not None:
        console.print(points_table(led))
        b = led.realised_breakage()
        console.print(f"Realised breakage over the horizon {metrics.stat_value(b, 'share')} "
                      f"(scenario's assumption {metrics.value(led.prior_breakage, 'share')}); "
                      f"roll-forward gap {led.roll_forward_gap():.1e} of issuance. "
                      + CONVENTION, highlight=False)
    dw = deadweight(res)
    if dw is not None:
        console.print(deadweight_table(dw))
    elif res.cf:
        console.print(f"Deadweight not available: {NOT_PAIRED}.", highlight=False)


def accounting_json(res, sc) -> dict:
    """``points_liability`` and ``deadweight`` blocks for ``run --json`` (None when absent)."""
    led = of_scenario(res, sc)
    dw = deadweight(res)
    return {"points_liability": led.to_json() if led is not None else None,
            "deadweight": dw.to_json() if dw is not None else None}


def accounting_csv(res, sc) -> dict[str, pd.DataFrame]:
    """CSV tables for ``run --csv``: points_liability.csv, deadweight.csv (when present)."""
    out = {}
    led = of_scenario(res, sc)
    if led is not None:
        out["points_liability"] = led.table()
    dw = deadweight(res)
    if dw is not None:
        out["deadweight"] = dw.frame()
    return out
