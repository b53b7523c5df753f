"""Sheet "Summary": KPIs side by side, mean and 95 % interval, deltas vs the base (formulas)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from simulator import metrics
from simulator.compare import compare_scenarios
from simulator.excel.cells import (
    add_table,
    formula,
    label,
    note,
    print_sections,
    print_setup,
    put,
    set_width,
)
from simulator.excel.styles import (
    BOLD,
    FMT,
    HEAD_FORMULA,
    HEAD_PLAIN,
    MONEY_M,
    PER_PAGE,
    TITLE,
    WARN,
    WRAP_HEAD,
)

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Summary sheet; record each KPI's row and each scenario's mean column in ``book``."""
    res0 = book.results[book.base][2]
    reps = res0.meta.get("replications", res0.replications)
    seed = res0.meta.get("seed")
    multi = len(book.results) > 1
    put(ws, 1, 1, "Summary: KPIs over the horizon", font=TITLE)
    text = (f"Mean over {reps} replications with its 95 % interval (Student t). "
            f"Money in CNY over {res0.horizon} months (unit CNY M: millions); NPV and LTV "
            "discounted. Each figure's definition: sheet Definitions.")
    if multi:
        text += (" Δ = scenario − base: the Δ column is a live formula over the means "
                 "beside it; its 95 % interval comes from the per-replication differences, "
                 f"because all scenarios ran with seed {seed} (common random numbers).")
    put(ws, 3, 1, f"{'Base' if multi else 'Scenario'}: "
                  f"{label(book.base, book.results[book.base][0])}", font=BOLD)
    table = compare_scenarios(book.results, book.base, book.kpis)
    head, grp = 6, 5
    put(ws, head, 1, "KPI", font=BOLD, fill=HEAD_PLAIN)
    put(ws, head, 2, "Unit", font=BOLD, fill=HEAD_PLAIN)
    set_width(ws, 1, 40)
    set_width(ws, 2, 9)
    col = 3
    first_row = head + 1
    # Money rows print in CNY millions when any figure of the same unit (CNY totals; per
    # customer amounts are a unit of their own) reaches a million, so that every
    # scenario's columns fit one landscape page at a readable size. One unit for all
    # totals: a Δ row of under ¥1 M read "CNY" between rows in "CNY M".
    big = set()
    money = [kp for kp in book.kpis if kp.kind == "money"]
    for unit in {metrics.metric(kp.metric).unit for kp in money}:
        same = [kp.metric for kp in money if metrics.metric(kp.metric).unit == unit]
        vals = pd.to_numeric(table.loc[table["metric"].isin(same),
                                       ["mean", "ci95_low", "ci95_high", "delta_mean",
                                        "delta_ci95_low", "delta_ci95_high"]].stack(),
                             errors="coerce").abs()
        if vals.max() >= 1e6:
            big.update(same)
    for k, kp in enumerate(book.kpis):
        r = first_row + k
        book.summary_rows[kp.metric] = r
        put(ws, r, 1, kp.label.strip() if not kp.label.startswith("  ") else kp.label)
        unit = metrics.excel_unit(kp.metric)
        put(ws, r, 2, f"{unit} M" if kp.metric in big else unit)
    base_mean_col = None
    order = [book.base] + [i for i in range(len(book.results)) if i != book.base]
    book.summary_mean_col = [0] * len(book.results)
    group_ends: list[int] = []
    for i in order:
        sc = book.results[i][0]
        n = i + 1
        heads = [f"{n} mean", f"{n} 95% low", f"{n} 95% high"]
        if i != book.base:
            heads += [f"{n} Δ vs {book.base + 1}", f"{n} Δ 95% low", f"{n} Δ 95% high"]
        c0 = col
        put(ws, grp, c0, label(i, sc, book.base if multi else None), font=BOLD)
        ws.merge_cells(start_row=grp, start_column=c0, end_row=grp,
                       end_column=c0 + len(heads) - 1)
        ws.cell(row=grp, column=c0).alignment = Alignment(horizontal="center",
                                                          wrap_text=True)
        for j, h in enumerate(heads):
            put(ws, head, c0 + j, h, font=BOLD,
                fill=HEAD_FORMULA if "Δ vs" in h else HEAD_PLAIN)
        book.summary_mean_col[i] = c0
        if i == book.base:
            base_mean_col = c0
        rows = table[table["scenario_no"] == n].set_index("metric")
        for k, kp in enumerate(book.kpis):
            r = first_row + k
            f = MONEY_M if kp.metric in big else FMT[kp.kind]
            x = rows.loc[kp.metric]
            put(ws, r, c0, metrics.not_defined(x) or x["mean"], f)
            put(ws, r, c0 + 1, x["ci95_low"], f)
            put(ws, r, c0 + 2, x["ci95_high"], f)
            if i != book.base and kp.section == "absolute":
                me = get_column_letter(c0)
                bs = get_column_letter(base_mean_col)
                diff = f"{me}{r}-{bs}{r}"
                if kp.kind == "money":  # to the fen: equal means differing in the 9th
                    diff = f"ROUND({diff},2)"  # decimal printed a red "-¥0"
                formula(ws, r, c0 + 3, f'=IF(AND(ISNUMBER({me}{r}),ISNUMBER({bs}{r})),'
                                       f'{diff},"")', f)
                put(ws, r, c0 + 4, x["delta_ci95_low"], f)
                put(ws, r, c0 + 5, x["delta_ci95_high"], f)
        for j in range(len(heads)):
            set_width(ws, c0 + j, 10)
        col = c0 + len(heads)
        group_ends.append(col - 1)
    put(ws, head, col, "Measured against", font=BOLD, fill=HEAD_PLAIN)
    against = {"vs_base": "the base (paired)",
               "absolute": "absolute figure",
               "own_counterfactual": "own counterfactual"}
    for k, kp in enumerate(book.kpis):
        put(ws, first_row + k, col, against[kp.section]).alignment = Alignment(
            horizontal="left", indent=1)
    set_width(ws, col, 19)
    last_col = col
    last_row = first_row + len(book.kpis) - 1
    add_table(ws, "SummaryKPIs", head, last_row, 1, last_col)
    base_name = label(book.base, book.results[book.base][0], book.base if multi else None)
    r = last_row + 2
    # A queue that cannot keep up is said on the first page, not only in the waits.
    warnings = [(f"{label(i, book.results[i][0])}: " if multi else "") + w
                for i in order for w in book.results[i][2].service_warnings()]
    notes = [
        "Measured against: 'absolute figure' is the scenario's own total"
        + (f"; its Δ is scenario − base ({base_name}), paired by replication. 'the base "
           "(paired)': figures of the difference to the base, computed per replication "
           "pair" if multi else "") + ". 'own counterfactual': scenario − its own "
        "counterfactual (Manifest) — different scenarios may have different "
        "counterfactuals, so these are never subtracted across scenarios.",
        "Versus the base: NPV = Σ months of the base's discount factor × (scenario − base) "
        "net contribution; ROI = Δ net contribution / Δ total cost; payback month = first "
        "month from which the cumulative Δ net contribution stays ≥ 0 — all per "
        "replication pair, then averaged." if multi else
        "Versus the counterfactual: ROI = incremental contribution / incremental cost, per "
        "replication, then averaged. ROI to date on the Monthly sheet is the ratio of the "
        "mean totals, so it can differ slightly from the mean ROI.",
        "ROI reads 'not defined (no incremental cost)' when the scheme adds no cost (amounts "
        "within a billionth of the cost scale are rounding residue, not money); payback "
        "reads 'not reached within the horizon' if the cumulative cash flow ends below 0 "
        "and 'not defined (no change from the counterfactual)' if nothing changed.",
        "Monthly sheets: blue headers are simulated values, green headers are formulas "
        "over them; their totals equal the means here (up to rounding).",
    ]
    # Notes as wide as the first printed page.
    note_w = last_col if len(group_ends) <= PER_PAGE else group_ends[PER_PAGE - 1]
    note(ws, 2, text, note_w)
    if warnings:
        put(ws, r, 1, "Warnings", font=WARN)
        for j, t in enumerate(warnings):
            note(ws, r + 1 + j, t, note_w, font=WARN)
        r += len(warnings) + 2
    put(ws, r, 1, "Notes", font=BOLD)
    for j, t in enumerate(notes):
        note(ws, r + 1 + j, t, note_w)
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    ws.row_dimensions[head].height = 30
    ws.row_dimensions[grp].height = 30
    for c in range(1, col + 1):
        ws.cell(row=head, column=c).alignment = WRAP_HEAD
    ws.print_area = f"A1:{get_column_letter(last_col)}{r + len(notes)}"
    if len(group_ends) <= PER_PAGE:
        # One page: every scenario's columns side by side with the notes; one scenario's
        # narrow columns on a portrait page (landscape, its height shrank it to ~60 %)
        print_setup(ws, f"{head}:{head}", portrait=len(group_ends) == 1)
        ws.page_setup.fitToHeight = 1
    else:
        # More would be unreadable on one page: three scenarios a page, as wide as the
        # 3-scenario page, the KPI names repeated on each.
        ends = group_ends[PER_PAGE - 1::PER_PAGE]
        ends = [e for e in ends if e != group_ends[-1]] + [last_col]
        print_sections(ws, 2, ends, f"{head}:{head}", r + len(notes))
