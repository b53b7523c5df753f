"""Sheet "Points liability": the IFRS 15 points ledger by month, one block per scenario.

For scenarios whose scheme has points (:mod:`simulator.points_ledger`,
docs/ACCOUNTING.md): points issued, redeemed, expired or forfeited and
outstanding, the breakage estimate, the liability at expected redemption value,
revenue deferred and recognised, the deferred-revenue balance and the cash cost
of redemptions; a native line chart of the liability and the deferred revenue.
The numbers are ``PointsLedger.table()``, the rows ``benefit-sim run --csv`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.chart import LineChart, Reference
from openpyxl.worksheet.pagebreak import Break

from simulator.excel.cells import label, note, print_setup, put, set_width
from simulator.excel.styles import BOLD, FMT, HEAD_SIM, TITLE, WRAP_HEAD_RIGHT
from simulator.points_ledger import COLUMNS, CONVENTION, LABELS, of_scenario

if TYPE_CHECKING:
    from simulator.excel.book import Book


def wanted(book: Book) -> bool:
    """True if any scenario of the workbook issues points."""
    return any(of_scenario(res, sc) is not None for sc, _, res in book.results)


def write(book: Book, ws) -> None:
    """Fill the Points liability sheet."""
    put(ws, 1, 1, "Points liability (IFRS 15), scenario arm, means over replications",
        font=TITLE)
    note(ws, 2, CONVENTION, 1 + len(COLUMNS))
    r = 4
    for i, (sc, _, res) in enumerate(book.results):
        led = of_scenario(res, sc)
        if led is None:
            continue
        b = led.realised_breakage()
        put(ws, r, 1, label(i, sc, book.base if len(book.results) > 1 else None), font=BOLD)
        put(ws, r + 1, 2, "Point value (CNY)")
        put(ws, r + 1, 3, led.point_value, FMT["num"])
        put(ws, r + 1, 5, "Breakage assumed")
        put(ws, r + 1, 6, led.prior_breakage, FMT["share"])
        put(ws, r + 1, 8, "Breakage realised")
        put(ws, r + 1, 9, b.mean, FMT["share"])
        head = r + 2
        put(ws, head, 1, "Month", font=BOLD, fill=HEAD_SIM)
        for j, c in enumerate(COLUMNS):
            put(ws, head, 2 + j, LABELS[c], font=BOLD, fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
        ws.row_dimensions[head].height = 62
        df = led.table()
        for k, row in enumerate(df.to_dict(orient="records")):
            rr = head + 1 + k
            put(ws, rr, 1, int(row["month"]), FMT["int"])
            for j, c in enumerate(COLUMNS):
                fmt = FMT["share"] if c == "breakage_estimate" else (
                    FMT["count"] if c.startswith("points_") else FMT["money"])
                put(ws, rr, 2 + j, row[c], fmt)
        last = head + len(df)
        ch = LineChart()
        ch.title = f"Points liability and deferred revenue, CNY ({sc.name})"
        for c in ("liability_cny", "deferred_revenue_cny"):
            col = 2 + COLUMNS.index(c)
            ch.add_data(Reference(ws, min_col=col, min_row=head, max_row=last),
                        titles_from_data=True)
        ch.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        for sr in ch.series:
            sr.smooth = False  # a smoothed line overshoots the drop at each expiry date
        ch.x_axis.title = "month"
        ch.y_axis.numFmt = FMT["money"]
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.width, ch.height = 18.0, 8.0
        ch.x_axis.tickLblPos = "low"
        ws.row_breaks.append(Break(id=last + 1))  # the chart on a page of its own
        ws.add_chart(ch, f"B{last + 2}")
        r = last + 20
    set_width(ws, 1, 10)
    for col in range(2, 2 + len(COLUMNS)):
        set_width(ws, col, 14)
    print_setup(ws)
