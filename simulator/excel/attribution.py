"""Sheets "Attribution" and "Why different": the analyses of ``attribute`` and ``explain``.

Written from the analyses' JSON (``Attribution.to_json()`` /
``Waterfall.to_json()``, what ``--json`` writes), so the workbook's numbers are
the CLI's. "Attribution": one row per part (Shapley share of incremental
contribution, cost, margin and NPV with 95 % intervals, ROI, alone,
leave-one-out, interaction) and a native bar chart of the parts' NPV.
"Why different": start, one step per group of changed inputs, end, each with
its interval and "within noise" mark, and a native stacked-bar waterfall (an
invisible base series carries each step to where the previous one ended).
:func:`write_analysis_workbook` saves either as its own workbook (atomically).
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.shapes import GraphicalProperties

from simulator import metrics
from simulator.excel.cells import note, print_setup, put, set_width, widen_for_numbers
from simulator.excel.output import check_output, save_atomic
from simulator.excel.styles import BOLD, FMT, HEAD_SIM, MONEY_M, TITLE, WRAP_HEAD_RIGHT

QUANTITIES = ("incremental_contribution", "incremental_cost", "incremental_margin", "npv")


def _fmt(kind: str) -> str:
    """Number format: money in CNY millions (the cell keeps the full value)."""
    return MONEY_M if kind == "money" else FMT.get(kind, FMT["money"])


def _stat(ws, row: int, col: int, st: dict | None, kind: str) -> None:
    """Mean, 95 % low, 95 % high in three cells (blank where not defined)."""
    st = st or {}
    for k, key in enumerate(("mean", "ci95_low", "ci95_high")):
        v = st.get(key)
        put(ws, row, col + k, v if v is not None else None, _fmt(kind))


def write_attribution(ws, data: dict) -> None:
    """Fill an "Attribution" sheet from ``Attribution.to_json()``."""
    put(ws, 1, 1, f"Attribution of {data['scenario']} by {data['by']}", font=TITLE)
    note(ws, 2, f"Shapley values under common random numbers ({data['method']}, "
         f"{data['sets_run']} sets in {data['runs']} runs, {data['replications']} "
         f"replications × {data['agents']:,} agents, seed {data['seed']}): every set of "
         "parts ran with the same seed and sample, and per replication the parts add up "
         "exactly to the whole scheme. Alone = the part on its own against nothing on; "
         "leave-one-out = the whole minus the whole without the part; interaction = "
         "leave-one-out − alone (> 0: the part pays only with the others).", 18)
    head = 4
    cols = ["Part"]
    for q in (*QUANTITIES, "roi"):
        lab = metrics.label_of(q) + " (CNY M)" if q != "roi" else "ROI"
        cols += [lab, "95 % low", "95 % high"]
    cols += ["NPV alone (CNY M)", "NPV leave-one-out (CNY M)", "Interaction, NPV (CNY M)"]
    for j, c in enumerate(cols):
        put(ws, head, 1 + j, c, font=BOLD, fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
    ws.row_dimensions[head].height = 62
    rows = data["parts"]
    for k, p in enumerate(rows):
        r = head + 1 + k
        put(ws, r, 1, p["part"])
        for j, q in enumerate(QUANTITIES):
            _stat(ws, r, 2 + 3 * j, p[q], "money")
        _stat(ws, r, 2 + 3 * len(QUANTITIES), p["roi"], "ratio")
        c0 = 2 + 3 * (len(QUANTITIES) + 1)
        put(ws, r, c0, p["npv_alone"].get("mean"), MONEY_M)
        put(ws, r, c0 + 1, p["npv_last"].get("mean"), MONEY_M)
        put(ws, r, c0 + 2, p.get("interaction_npv"), MONEY_M)
    r = head + 1 + len(rows)
    put(ws, r, 1, "Whole scheme", font=BOLD)
    for j, q in enumerate(QUANTITIES):
        _stat(ws, r, 2 + 3 * j, data["whole"][q], "money")
    set_width(ws, 1, 24)
    for col in range(2, len(cols) + 1):
        set_width(ws, col, 13)
    npv_col = 2 + 3 * QUANTITIES.index("npv")
    ch = BarChart()
    ch.type = "bar"
    ch.title = "Shapley share of NPV by part (CNY M)"
    ch.add_data(Reference(ws, min_col=npv_col, min_row=head, max_row=head + len(rows)),
                titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(rows)))
    ch.y_axis.numFmt = MONEY_M
    ch.legend = None
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.x_axis.tickLblPos = "low"  # part names beside the axis, not over the bars
    ch.width, ch.height = 18.0, 7.5
    ws.add_chart(ch, f"A{r + 3}")
    print_setup(ws)


def write_waterfall(ws, data: dict) -> None:
    """Fill a "Why different" sheet from ``Waterfall.to_json()``."""
    kind = metrics.kind_of(data["kpi"])
    put(ws, 1, 1, f"Why {data['other']} differs from {data['base']}: {data['label']}",
        font=TITLE)
    note(ws, 2, f"Each step is a group of changed inputs' Shapley share of the paired "
         f"difference over every mix of the groups ({data['method']}, {data['sets_run']} "
         f"mixes, {data['replications']} replications × {data['agents']:,} agents, seed "
         f"{data['seed']}): the steps add up to the difference and do not depend on the "
         "order of the groups. A step whose 95 % interval contains 0 is within noise.", 10)
    head = 4
    unit = " (CNY M)" if kind == "money" else ""
    cols = ["Step", "Value" + unit, "95 % low", "95 % high", "", "Inputs changed",
            "chart: invisible base", "chart: bar above 0", "chart: bar below 0"]
    for j, c in enumerate(cols):
        put(ws, head, 1 + j, c, font=BOLD, fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
    ws.row_dimensions[head].height = 30  # two lines: "chart: invisible base" wrapped over row 1
    steps = ([(f"base: {data['base']}", data["start"], True, False, [])]
             + [(b["group"], b, False, b["within_noise"], b["inputs"]) for b in data["bars"]]
             + [(data["other"], data["end"], True, False, [])])
    cum = 0.0
    colours: list[str] = []
    for k, (name, st, total, noise, paths) in enumerate(steps):
        r = head + 1 + k
        put(ws, r, 1, name, font=BOLD if total else None)
        _stat(ws, r, 2, st, kind)
        put(ws, r, 5, "within noise" if noise else "")
        put(ws, r, 6, ", ".join(paths[:6]) + (f" (+{len(paths) - 6})" if len(paths) > 6
                                                else ""))
        v = st.get("mean") or 0.0
        base, above, below = _stack(cum, v, total)
        cum = v if total else cum + v
        put(ws, r, 7, base, _fmt(kind))
        put(ws, r, 8, above, _fmt(kind))
        put(ws, r, 9, below, _fmt(kind))
        colours.append("1F77B4" if total else ("2CA02C" if v >= 0 else "D62728"))
    last = head + len(steps)
    r = last + 1
    put(ws, r, 1, "Difference (paired)", font=BOLD)
    _stat(ws, r, 2, data["delta"], kind)
    set_width(ws, 1, 30)
    for col in (2, 3, 4, 7, 8, 9):
        set_width(ws, col, 15)
    set_width(ws, 5, 12)
    set_width(ws, 6, 50)
    print_setup(ws)
    _waterfall_chart(ws, head, last, kind, colours)


def _stack(cum: float, v: float, total: bool) -> tuple[float, float, float]:
    """(invisible base, part above 0, part below 0) of one waterfall bar.

    A total is drawn from 0; a step from the running sum ``cum`` to ``cum + v``.
    Excel stacks positive and negative values apart, so a bar that stays above 0
    rests on a positive invisible base, one that stays below 0 hangs from a
    negative one, and one that crosses 0 is drawn in two parts from 0.
    """
    if total:
        return 0.0, max(v, 0.0), min(v, 0.0)
    lo, hi = sorted((cum, cum + v))
    if lo >= 0:
        return lo, hi - lo, 0.0
    if hi <= 0:
        return hi, 0.0, lo - hi
    return 0.0, hi, lo


def _waterfall_chart(ws, head: int, last: int, kind: str, colours: list[str]) -> None:
    """Stacked bars over the helper columns: an invisible base, then each bar's parts."""
    ch = BarChart()
    ch.type = "col"
    ch.grouping = "stacked"
    ch.overlap = 100
    ch.title = "Waterfall" + (" (CNY M)" if kind == "money" else "") + \
        ": steps within noise are marked in column E"
    ch.add_data(Reference(ws, min_col=7, max_col=9, min_row=head, max_row=last),
                titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
    ch.series[0].graphicalProperties = GraphicalProperties(noFill=True)
    ch.series[0].graphicalProperties.line.noFill = True
    for sr in ch.series[1:]:  # each bar in its colour: totals blue, rises green, falls red
        sr.dPt = [DataPoint(idx=i, spPr=GraphicalProperties(solidFill=c))
                  for i, c in enumerate(colours)]
    ch.y_axis.numFmt = _fmt(kind)
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.legend = None
    ch.x_axis.tickLblPos = "low"  # step names under the chart, not over the bars
    ch.width, ch.height = 20.0, 12.0  # the step names, turned, take the lower part
    ws.add_chart(ch, f"A{last + 4}")


def write_analysis_workbook(data: dict, out_path: str | os.PathLike, *,
                            overwrite: bool = False) -> Path:
    """Save an attribution (``parts`` in ``data``) or a waterfall (``bars``) as a workbook."""
    p = check_output(out_path, overwrite=overwrite)
    wb = Workbook()
    ws = wb.active
    if "parts" in data:
        ws.title = "Attribution"
        write_attribution(ws, data)
    else:
        ws.title = "Why different"
        write_waterfall(ws, data)
    widen_for_numbers(wb)
    save_atomic(wb, p)
    return p
