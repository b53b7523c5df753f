"""Sheets "Monthly N": simulated columns as values, derived columns as formulas over them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.utils import get_column_letter

from simulator.excel.cells import add_table, formula, label, print_sections, put, set_width
from simulator.excel.data import CF_SIM, MONTHLY_SIM, monthly_means
from simulator.excel.styles import (
    BOLD,
    FMT,
    HEAD_FORMULA,
    HEAD_SIM,
    LEFT_WRAP,
    NOTE,
    TITLE,
    WIDTH,
    WRAP_HEAD,
)
from simulator.kpi_formulas import COST_TOL

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws, i: int) -> None:
    """Fill scenario ``i``'s Monthly sheet; record its title and columns in ``book``."""
    sc, _, res = book.results[i]
    title = ws.title
    book.monthly_titles.append(title)
    df = monthly_means(res)
    has_cf = "cf_net_contribution" in df
    n_months = len(df)
    multi = len(book.results) > 1
    # Column A repeats on every printed section: the titles start in column B, so
    # that no section page shows them cut off.
    name = label(i, sc, book.base if multi else None)
    put(ws, 1, 2, f"Monthly projection: {name}", font=TITLE)
    put(ws, 2, 2, f"Mean over {res.replications} replications of the monthly totals (real "
                  "customers, CNY). Blue headers: simulated values. Green headers: formulas "
                  "over them.", font=NOTE)
    put(ws, 3, 2, "Annual discount rate", font=BOLD)
    put(ws, 4, 2, "Counterfactual", font=BOLD)
    for rr in (3, 4):
        ws.merge_cells(start_row=rr, start_column=2, end_row=rr, end_column=3)
    rate = book.rate_cells[i] if book.rate_cells else None
    if rate:
        formula(ws, 3, 4, f"={rate}", "0.00%")
    else:
        put(ws, 3, 4, sc.run.discount_rate_annual, "0.00%")
    put(ws, 3, 5, "← from Inputs (run.discount_rate_annual); discount factor of month m "
                  "= (1 + rate)^(−m/12)", font=NOTE)
    put(ws, 4, 4, res.meta.get("counterfactual", "none" if not has_cf else ""))
    head = 5
    first = head + 1
    last = first + n_months - 1
    book.monthly_first = first
    cols: dict[str, int] = {}
    spec = [("month", "Month", "int")] + MONTHLY_SIM + (CF_SIM if has_cf else [])
    for j, (key, h, kind) in enumerate(spec, start=1):
        cols[key] = j
        put(ws, head, j, h, font=BOLD, fill=HEAD_SIM)
        set_width(ws, j, WIDTH[kind])
        vals = df[key].to_numpy() if key != "month" else df["month"].to_numpy()
        f = FMT[kind]
        for k in range(n_months):
            put(ws, first + k, j, vals[k], f)
    derived = [("total_cost", "Total cost", "cny"), ("net", "Net contribution", "cny"),
               ("cum_cash", "Cumulative cash flow", "cny"),
               ("df", "Discount factor", "factor"),
               ("dcf", "Discounted cash flow", "cny")]
    if has_cf:
        derived += [("incr", "Incremental contribution", "cny"),
                    ("cum_incr", "Cumulative incremental", "cny"),
                    ("npv", "NPV to date (incremental)", "cny"),
                    ("inc_cost", "Incremental cost", "cny"),
                    ("roi", "ROI to date", "ratio")]
    j0 = len(spec) + 1
    for j, (key, h, kind) in enumerate(derived, start=j0):
        cols[key] = j
        put(ws, head, j, h, font=BOLD, fill=HEAD_FORMULA)
        set_width(ws, j, WIDTH[kind] - (1 if kind == "cny" else 0))
    L = {k: get_column_letter(c) for k, c in cols.items()}
    for k in range(n_months):
        r = first + k
        fc = {key: cols[key] for key, _, _ in derived}

        def w(key, text, kind):
            formula(ws, r, fc[key], text, FMT[kind])

        w("total_cost", f"=SUM({L['benefit_cost']}{r}:{L['acquisition_cost']}{r})", "cny")
        # differences to the fen: float residue of equal amounts never prints as a red -¥0
        w("net", f"=ROUND({L['gross_margin']}{r}-{L['total_cost']}{r},2)", "cny")
        w("cum_cash", f"={L['net']}{r}" if k == 0 else f"={L['cum_cash']}{r - 1}+{L['net']}{r}",
          "cny")
        w("df", f"=(1+$D$3)^(-{L['month']}{r}/12)", "factor")
        w("dcf", f"={L['net']}{r}*{L['df']}{r}", "cny")
        if has_cf:
            w("incr", f"=ROUND({L['net']}{r}-{L['cf_net_contribution']}{r},2)", "cny")
            w("cum_incr", f"={L['incr']}{r}" if k == 0
              else f"={L['cum_incr']}{r - 1}+{L['incr']}{r}", "cny")
            w("npv", f"={L['incr']}{r}*{L['df']}{r}" if k == 0
              else f"={L['npv']}{r - 1}+{L['incr']}{r}*{L['df']}{r}", "cny")
            w("inc_cost", f"=ROUND({L['total_cost']}{r}-{L['cf_total_cost']}{r},2)", "cny")
            ic, inc = L["inc_cost"], L["incr"]
            # As kpi_formulas.roi_and_payback: a cost within a billionth of the cost scale
            # (both arms' costs, the margin) is rounding residue: no ROI (blank).
            scale = ",".join(f"ABS(SUM({L[c]}${first}:{L[c]}{r}))"
                             for c in ("total_cost", "cf_total_cost", "gross_margin"))
            w("roi", f"=IF(SUM({ic}${first}:{ic}{r})>{COST_TOL:.0E}*MAX({scale}),"
                     f"SUM({inc}${first}:{inc}{r})/SUM({ic}${first}:{ic}{r}),\"\")", "ratio")
    add_table(ws, f"Monthly{i + 1}", head, last, 1, j0 + len(derived) - 1)
    # Totals below the table (flows only), so an auditor can tie them to Summary.
    tr = last + 1
    put(ws, tr, 1, "Total", font=BOLD)
    flows = (["new_customers", "churned_customers", "orders", "gross_revenue", "gross_margin",
              "benefit_cost", "promotion_cost", "service_cost", "acquisition_cost",
              "total_cost", "net", "dcf"]
             + (["cf_net_contribution", "cf_total_cost", "incr", "inc_cost"]
                if has_cf else []))
    kinds = {k: kd for k, _, kd in spec + derived}
    for key in flows:
        c = formula(ws, tr, cols[key], f"=SUM({L[key]}{first}:{L[key]}{last})",
                    FMT[kinds[key]])
        c.font = BOLD
    ws.row_dimensions[head].height = 32
    for c in range(1, j0 + len(derived)):
        ws.cell(row=head, column=c).alignment = WRAP_HEAD
    ws.freeze_panes = ws.cell(row=first, column=2)
    # Printed in page-wide sections, the month column and the headers repeated:
    # customers and revenue; costs (and the counterfactual's); cash flow; incremental.
    ends = [cols["gross_margin"], len(spec), cols["dcf"]] + ([cols["roi"]] if has_cf else [])
    captions = ["costs" + (" (and the counterfactual's)" if has_cf else ""),
                "cash flow (formulas)", "incremental, vs the counterfactual (formulas)"]
    for e, cap in zip(ends[:-1], captions):  # each later section's own title
        put(ws, 1, e + 1, f"{name}: {cap}", font=BOLD)
    # The notes wrap within the first section.
    for rr, c0 in ((2, 2), (3, 5), (4, 4)):
        ws.merge_cells(start_row=rr, start_column=c0, end_row=rr, end_column=ends[0])
        ws.cell(row=rr, column=c0).alignment = LEFT_WRAP
    ws.row_dimensions[2].height = 30
    ws.row_dimensions[3].height = 30
    print_sections(ws, 1, ends, f"{head}:{head}", tr)
    book.monthly_cols.append(cols)
