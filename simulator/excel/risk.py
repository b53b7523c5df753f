"""Sheet "Risk" (optional): input ranges, the tornado as a native bar chart, P(NPV > 0), break-even.

Written from the plain data of :meth:`simulator.sensitivity.RiskAnalysis.to_json`
(what ``benefit-sim risk --json`` writes), so its numbers are the CLI's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.series import SeriesLabel

from simulator import metrics
from simulator.excel.cells import add_table, note, print_setup, put, set_width
from simulator.excel.styles import BOLD, FMT, HEAD_PLAIN, RIGHT, TITLE

if TYPE_CHECKING:
    from simulator.excel.book import Book


def _fmt(kind: str) -> str:
    return FMT.get(kind, FMT["num"])


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and \
        math.isfinite(float(v)) else None


def write(book: Book, ws, ra: dict) -> None:
    """Fill the Risk sheet from a risk analysis as plain data (``RiskAnalysis.to_json()``)."""
    t = ra["tornado"]
    kind = metrics.kind_of(t["metric"])
    s = ra.get("sample") or {}
    put(ws, 1, 1, f"Risk and sensitivity: {ra['scenario']}", font=TITLE)
    put(ws, 2, 1, f"{s.get('replications')} replications × {s.get('agents')} agents, seed "
                  f"{s.get('seed')}, {s.get('horizon_months')} months; every run with the same "
                  "random numbers (paired)")
    r = 4
    # -- the answers ---------------------------------------------------------------
    put(ws, r, 1, "Answers", font=BOLD)
    r += 1
    risk = ra.get("risk")
    rows: list[tuple[str, Any, str]] = []
    if risk:
        k = risk["kpis"]["npv"]
        roi = risk["p_roi_above_target"]
        rows += [("P(NPV > 0)", risk["p_npv_positive"], FMT["share"]),
                 (f"P(ROI > {100 * roi['target']:g} %)", roi["p"], FMT["share"]),
                 ("NPV mean", k["mean"], FMT["money"]),
                 ("NPV mean, 95 % CI low", k["ci95"][0], FMT["money"]),
                 ("NPV mean, 95 % CI high", k["ci95"][1], FMT["money"]),
                 ("NPV P10", k["p10"], FMT["money"]), ("NPV P50", k["p50"], FMT["money"]),
                 ("NPV P90", k["p90"], FMT["money"]),
                 ("NPV variance from assumptions", k["share_assumptions"], FMT["share"]),
                 ("NPV variance from simulation noise", k["share_noise"], FMT["share"]),
                 ("Latin hypercube draws", risk["draws"], FMT["int"]),
                 ("Replications per draw", risk["replications_per_draw"], FMT["int"])]
    be = ra.get("breakeven")
    if be:
        lo, hi = be["interval"]
        rows += [("Break-even k (share of the assumed effects for NPV = 0)", be["value"],
                  FMT["factor"]),
                 ("Break-even k, 95 % low", lo, FMT["factor"]),
                 ("Break-even k, 95 % high", hi, FMT["factor"])]
    first_answer = r
    for name, v, fmt in rows:
        put(ws, r, 1, name)
        put(ws, r, 2, _num(v), fmt)
        r += 1
    if not be and ra.get("breakeven_why"):
        put(ws, r, 1, "Break-even")
        put(ws, r, 2, "unreachable: " + ra["breakeven_why"])
        r += 1
    book.risk_answers = {name: first_answer + i for i, (name, _, _) in enumerate(rows)}
    r += 1
    # -- input ranges --------------------------------------------------------------
    if risk and risk.get("inputs"):
        put(ws, r, 1, "Inputs written as ranges", font=BOLD)
        r += 1
        # numbers in the columns of the tornado's low/centre/high below; the range's text
        # and the path (for --inputs) over merged cells to the right
        for j, col in ((1, "Input"), (2, "Low"), (3, "Nominal"), (4, "High"), (5, "Range"),
                       (9, "Path (for --inputs)")):
            c = put(ws, r, j, col, font=BOLD, fill=HEAD_PLAIN)
            if j in (2, 3, 4):
                c.alignment = RIGHT  # over right-aligned numbers
        for j in (6, 7, 8, 10, 11):
            put(ws, r, j, None, fill=HEAD_PLAIN)
        for inp in risk["inputs"]:
            r += 1
            put(ws, r, 1, inp["label"])
            for j, key in ((2, "low"), (3, "nominal"), (4, "high")):
                put(ws, r, j, _num(inp[key]), FMT["num"])
            put(ws, r, 5, inp["text"])
            put(ws, r, 9, inp["input"])
            ws.merge_cells(start_row=r, start_column=5, end_row=r, end_column=8)
            ws.merge_cells(start_row=r, start_column=9, end_row=r, end_column=11)
        r += 2
    # -- tornado -------------------------------------------------------------------
    put(ws, r, 1, f"Tornado: {metrics.label_of(t['metric'])} (centre "
                  f"{metrics.value(t['centre']['mean'], kind)}), each input low → high, the "
                  "others at their nominal values", font=BOLD)
    r += 1
    head = r
    cols = ("Input", "Low", "Centre", "High", "KPI at low", "KPI at high", "Change at low",
            "Change at high", "Swing", "Swing 95 % low", "Swing 95 % high")
    for j, col in enumerate(cols, 1):
        c = put(ws, r, j, col, font=BOLD, fill=HEAD_PLAIN)
        if j > 1:
            c.alignment = RIGHT  # over right-aligned numbers
    for b in t["bars"]:
        r += 1
        put(ws, r, 1, b["label"])
        for j, key in ((2, "low"), (3, "centre"), (4, "high")):
            put(ws, r, j, _num(b[key]), FMT["num"])
        vals = (b["kpi_low"]["mean"], b["kpi_high"]["mean"], b["delta_low"]["mean"],
                b["delta_high"]["mean"], b["swing"]["mean"], b["swing"]["ci95_low"],
                b["swing"]["ci95_high"])
        for j, v in enumerate(vals, 5):
            put(ws, r, j, _num(v), _fmt(kind))
    last = r
    book.risk_tornado_rows = (head + 1, last)
    if t["bars"]:
        add_table(ws, "Tornado", head, last, 1, len(cols))
        bc = BarChart()
        bc.type = "bar"  # horizontal bars
        bc.grouping = "clustered"
        bc.overlap = 100
        bc.title = f"Tornado: change in {metrics.label_of(t['metric'])} vs the centre"
        for j, name in ((7, "input at its low end"), (8, "input at its high end")):
            bc.add_data(Reference(ws, min_col=j, min_row=head + 1, max_row=last),
                        titles_from_data=False)
            bc.series[-1].tx = SeriesLabel(v=name)
        bc.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        bc.y_axis.numFmt = _fmt(kind)
        bc.y_axis.delete = False
        bc.x_axis.delete = False
        bc.x_axis.scaling.orientation = "maxMin"  # the largest swing on top
        bc.x_axis.tickLblPos = "low"  # input names at the left edge, clear of the bars
        bc.width, bc.height = 24.0, max(7.0, 0.7 * len(t["bars"]) + 3)
        ws.add_chart(bc, f"A{last + 3}")
    if t.get("skipped"):
        note(ws, last + 2, "Not swung: " + "; ".join(t["skipped"]), len(cols))
    set_width(ws, 1, 62)
    for j in range(2, len(cols) + 1):
        set_width(ws, j, 15)
    print_setup(ws)
