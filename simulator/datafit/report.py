"""The holdout comparison as a workbook: summary, frequency table, weekly tracking charts."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font

from simulator.excel import put

BOLD = Font(bold=True)


def holdout_workbook(r: dict) -> bytes:
    """Bytes of an .xlsx with the result of :func:`simulator.datafit.holdout.validate`."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Holdout"
    f = r["fit"]
    rows = [
        ("Transaction log", r["log"]),
        ("Fit period", f"{r['first_day']} to the day before {r['split']} "
                       f"({r['calibration_weeks']:g} weeks)"),
        ("Holdout", f"{r['split']} to {r['last_day']} ({r['holdout_weeks']:g} weeks)"),
        ("Customers", r["customers"]),
        ("BG/NBD r", f["r"]), ("BG/NBD alpha (weeks)", f["alpha"]),
        ("BG/NBD a", f["a"]), ("BG/NBD b", f["b"]),
    ]
    for i, (k, v) in enumerate(rows, start=1):
        put(ws, i, 1, k, font=BOLD)
        put(ws, i, 2, v, "0.0000" if isinstance(v, float) else None)
    top = len(rows) + 2
    for j, h in enumerate(("", "actual", "BG/NBD forecast", "error"), start=1):
        put(ws, top, j, h, font=BOLD)
    h, c = r["holdout_total"], r["cumulative_at_end"]
    for i, (name, d) in enumerate((("Repeat transactions in the holdout", h),
                                   (f"Cumulative repeat transactions, week {c['week']}", c)),
                                  start=top + 1):
        put(ws, i, 1, name)
        put(ws, i, 2, d["actual"], "#,##0")
        put(ws, i, 3, d["forecast"], "#,##0.0")
        put(ws, i, 4, d["error"], "+0.0%;-0.0%")
    top += 4
    put(ws, top, 1, "Holdout transactions per customer by repeat purchases in the fit period",
        font=BOLD)
    for j, hd in enumerate(("repeat purchases", "customers", "actual", "BG/NBD"), start=1):
        put(ws, top + 1, j, hd, font=BOLD)
    for i, row in enumerate(r["by_calibration_frequency"], start=top + 2):
        put(ws, i, 1, row["x"])
        put(ws, i, 2, row["customers"], "#,##0")
        put(ws, i, 3, row["actual"], "0.000")
        put(ws, i, 4, row["bgnbd"], "0.000")
    ws.column_dimensions["A"].width = 48
    for col in "BCD":
        ws.column_dimensions[col].width = 18

    wk = wb.create_sheet("Weekly")
    w = r["weekly"]
    for j, hd in enumerate(("week", "actual", "forecast", "cumulative actual",
                            "cumulative forecast"), start=1):
        put(wk, 1, j, hd, font=BOLD)
    n = len(w["actual"])
    for i in range(n):
        put(wk, i + 2, 1, i + 1)
        put(wk, i + 2, 2, w["actual"][i], "#,##0")
        put(wk, i + 2, 3, w["forecast"][i], "#,##0.0")
        put(wk, i + 2, 4, w["cumulative_actual"][i], "#,##0")
        put(wk, i + 2, 5, w["cumulative_forecast"][i], "#,##0.0")
    for col, width in zip("ABCDE", (8, 10, 12, 20, 20)):
        wk.column_dimensions[col].width = width
    weeks = Reference(wk, min_col=1, min_row=2, max_row=n + 1)
    for title, c0, anchor in (("Repeat transactions per week", 2, "G2"),
                              ("Cumulative repeat transactions", 4, "G20")):
        ch = LineChart()
        ch.title = title
        ch.x_axis.title = f"week (holdout from week {r['calibration_weeks'] + 1:g})"
        ch.height, ch.width = 8, 18
        ch.add_data(Reference(wk, min_col=c0, max_col=c0 + 1, min_row=1, max_row=n + 1),
                    titles_from_data=True)
        ch.set_categories(weeks)
        for s in ch.series:
            s.smooth = False
        wk.add_chart(ch, anchor)
    sheets = [ws, wk]
    if r.get("engine"):
        sheets.append(_engine_sheet(wb, r["engine"]))
    for sheet in sheets:  # prints landscape, one page wide
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _engine_sheet(wb: Workbook, e: dict):
    """The fitted base run through the engine: totals, months with charts, frequency table."""
    ws = wb.create_sheet("Engine")
    put(ws, 1, 1, f"The fitted scenario run through the engine from the {e['customers']:,} "
        f"actual customers ({e['replications']} runs; {e['alive_at_split']:,.0f} alive at the "
        f"split)", font=BOLD)
    for j, h in enumerate(("", "actual", "engine", "error", "BG/NBD error"), start=1):
        put(ws, 3, j, h, font=BOLD)
    rows = (("Repeat transactions in the holdout", e["holdout_total"]),
            ("Cumulative repeat transactions at the end", e["cumulative_at_end"]),
            ("Spend in the holdout", e["holdout_spend"]))
    for i, (name, d) in enumerate(rows, start=4):
        put(ws, i, 1, name)
        put(ws, i, 2, d["actual"], "#,##0")
        put(ws, i, 3, d["engine"], "#,##0.0")
        put(ws, i, 4, d["error"], "+0.0%;-0.0%")
        if d.get("bgnbd_error") is not None:
            put(ws, i, 5, d["bgnbd_error"], "+0.0%;-0.0%")
    top = 9
    heads = ("month", "actual", "BG/NBD", "engine", "cumulative actual", "cumulative BG/NBD",
             "cumulative engine")
    for j, h in enumerate(heads, start=1):
        put(ws, top, j, h, font=BOLD)
    m = e["monthly"]
    n = len(m["actual"])
    cum = {k: 0.0 for k in ("actual", "bgnbd", "engine")}
    for i in range(n):
        put(ws, top + 1 + i, 1, i + 1)
        for j, k in enumerate(("actual", "bgnbd", "engine")):
            put(ws, top + 1 + i, 2 + j, m[k][i], "#,##0.0")
            cum[k] += m[k][i]
            put(ws, top + 1 + i, 5 + j, cum[k], "#,##0")
    charts = []  # placed under the tables, so the sheet prints at a readable scale
    for title, c0, col in (("Repeat transactions per month of the holdout", 2, "A"),
                           ("Cumulative over the holdout", 5, "E")):
        ch = LineChart()
        ch.title = title
        ch.x_axis.title = f"month of {e['month_days']:g} days from the split"
        ch.height, ch.width = 8, 18
        ch.add_data(Reference(ws, min_col=c0, max_col=c0 + 2, min_row=top, max_row=top + n),
                    titles_from_data=True)
        ch.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=top + n))
        charts.append((ch, col))
    top += n + 3
    put(ws, top, 1, "Holdout transactions per customer by repeat purchases in the fit period",
        font=BOLD)
    for j, h in enumerate(("repeat purchases", "customers", "actual", "BG/NBD", "engine",
                           "engine Monte Carlo se"), start=1):
        put(ws, top + 1, j, h, font=BOLD)
    for i, row in enumerate(e["by_calibration_frequency"], start=top + 2):
        put(ws, i, 1, row["x"])
        put(ws, i, 2, row["customers"], "#,##0")
        for j, k in enumerate(("actual", "bgnbd", "engine", "engine_se"), start=3):
            if row.get(k) is not None:
                put(ws, i, j, row[k], "0.000")
    below = ws.max_row + 3
    for ch, col in charts:
        ws.add_chart(ch, f"{col}{below}")
    ws.column_dimensions["A"].width = 44
    for col in "BCDEFG":  # wide enough for the bold "cumulative BG/NBD" header
        ws.column_dimensions[col].width = 16 if col in "BCD" else 25
    return ws

