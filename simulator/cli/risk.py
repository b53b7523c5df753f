"""The command line's view of uncertain inputs: what ``run`` adds when a scenario has ranges."""

from __future__ import annotations

import math

from simulator import metrics


def _pct(p: float) -> str:
    return "n/a" if not math.isfinite(p) else f"{100 * p:.0f} %"


def print_risk(console, risk: dict) -> None:
    """Print the probabilistic answers of :func:`simulator.uncertainty.risk_summary`."""
    from rich.table import Table

    n_in = len(risk["inputs"])
    console.print(f"[bold]With the uncertain inputs[/bold]: {n_in} input"
                  f"{'s' if n_in != 1 else ''} written as ranges, {risk['draws']} Latin "
                  f"hypercube draws × {risk['replications_per_draw']} replications "
                  f"(inputs hash {risk['inputs_hash']})", highlight=False)
    t = Table(title="Assumptions and simulation noise (one replication's value; the split: "
              "one-way ANOVA over draws)", title_justify="left")
    for col in ("metric", "mean", "95 % CI of mean", "P10", "P50", "P90", "95 % range",
                "from assumptions", "from noise"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for key, k in risk["kpis"].items():
        kind = metrics.kind_of(key)
        t.add_row(k["label"], metrics.value(k["mean"], kind),
                  metrics.interval(k["ci95"][0], k["ci95"][1], kind) or "n/a",
                  metrics.value(k["p10"], kind), metrics.value(k["p50"], kind),
                  metrics.value(k["p90"], kind),
                  metrics.interval(k["range95"][0], k["range95"][1], kind) or "n/a",
                  _pct(k["share_assumptions"]), _pct(k["share_noise"]))
    console.print(t)
    roi = risk["p_roi_above_target"]
    console.print(f"P(NPV > 0) = {_pct(risk['p_npv_positive'])};  P(ROI > "
                  f"{metrics.value(roi['target'], metrics.kind_of('roi'))}) = {_pct(roi['p'])}",
                  highlight=False)
    g = risk["global"]
    if g["inputs"]:
        t = Table(title="Which assumptions move NPV (per draw: Spearman rank correlation, "
                  "standardised regression coefficient)", title_justify="left")
        for col in ("input", "range", "rank correlation", "SRC"):
            t.add_column(col, justify="left" if col in ("input", "range") else "right")
        text = {i["input"]: (i["label"], i["text"]) for i in risk["inputs"]}
        for row in g["inputs"]:
            lab, rng = text.get(row["input"], (row["input"], ""))
            t.add_row(lab, rng, _num(row["rank_correlation"]), _num(row["src"]))
        console.print(t)
        if g["why"]:
            console.print(f"  {g['why']}", markup=False)
        elif g["r2"] is not None:
            console.print(f"  linear model of NPV on the inputs: R² = {g['r2']:.2f}",
                          highlight=False)


def _num(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:+.2f}"
