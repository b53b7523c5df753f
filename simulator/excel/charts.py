"""Sheet "Charts": native Excel charts over the Summary, Monthly and Members by tier cells."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.chart import AreaChart, BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.worksheet.pagebreak import Break

from simulator.excel.cells import clean, label, print_setup, put
from simulator.excel.styles import TITLE

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Charts sheet; it reads where the other sheets put their figures from ``book``."""
    put(ws, 1, 1, "Charts (native Excel charts over the workbook's cells)", font=TITLE)
    anchors: list[str] = []
    width_cm, height_cm = 17.0, 8.5  # cm
    row = 3

    slot = 0

    def place(chart):
        nonlocal row, slot
        k = slot
        slot += 1
        col = "A" if k % 2 == 0 else "K"
        if chart is not None:
            chart.width, chart.height = width_cm, height_cm
            anchor = f"{col}{row}"
            ws.add_chart(chart, anchor)
            anchors.append(anchor)
        if k % 2 == 1:
            row += 18
            if k % 4 == 3:  # two rows of charts per printed page
                ws.row_breaks.append(Break(id=row - 1))
                row += 1

    # 1. KPI comparison bars (the money KPIs at the top of Summary).
    ssum = book.wb["Summary"]
    # Absolute figures (comparable across scenarios), consecutive rows of the Summary.
    money = ["net_contribution", "npv_net_contribution", "total_cost", "revenue"]
    rows = [book.summary_rows[k] for k in money]
    bc = BarChart()
    bc.type = "col"
    bc.grouping = "clustered"
    bc.title = "KPI comparison (mean, CNY)"
    for i, (sc, _, _) in enumerate(book.results):
        c = book.summary_mean_col[i]
        bc.add_data(Reference(ssum, min_col=c, min_row=rows[0], max_row=rows[-1]),
                    titles_from_data=False)
        bc.series[-1].tx = SeriesLabel(v=clean(label(i, sc)))
    bc.set_categories(Reference(ssum, min_col=1, min_row=rows[0], max_row=rows[-1]))
    _axes(bc, money=True)
    place(bc)

    # 2. Cumulative cash flow by scenario; 3. cumulative incremental.
    for key, title in (("cum_cash", "Cumulative cash flow by scenario (CNY)"),
                       ("cum_incr", "Cumulative incremental contribution (CNY)")):
        lc = LineChart()
        lc.title = title
        for i, (sc, _, res) in enumerate(book.results):
            cols = book.monthly_cols[i]
            if key not in cols:
                continue
            wsm = book.wb[book.monthly_titles[i]]
            first = book.monthly_first
            lc.add_data(Reference(wsm, min_col=cols[key], min_row=first,
                                  max_row=first + res.horizon - 1), titles_from_data=False)
            lc.series[-1].tx = SeriesLabel(v=clean(label(i, sc)))
        if not lc.series:
            continue
        wsm0 = book.wb[book.monthly_titles[book.base]]
        lc.set_categories(Reference(wsm0, min_col=1, min_row=book.monthly_first,
                                    max_row=book.monthly_first
                                    + book.results[book.base][2].horizon - 1))
        _axes(lc, money=True)
        place(lc)

    # Per scenario, on a row of its own: revenue / cost / contribution, members by tier.
    wsmem = book.wb["Members by tier"]
    for i, (sc, _, res) in enumerate(book.results):
        if slot % 2 == 1:  # leave the right-hand place beside a lone comparison empty
            place(None)
        wsm = book.wb[book.monthly_titles[i]]
        cols = book.monthly_cols[i]
        first = book.monthly_first
        last = first + res.horizon - 1
        lc = LineChart()
        lc.title = clean(f"[{i + 1}] revenue, cost and net contribution (CNY/month)")
        for key in ("gross_revenue", "total_cost", "net"):
            lc.add_data(Reference(wsm, min_col=cols[key], min_row=first - 1, max_row=last),
                        titles_from_data=True)
        lc.set_categories(Reference(wsm, min_col=1, min_row=first, max_row=last))
        _axes(lc, money=True)
        place(lc)

        head, c0, nt = book.tier_blocks[i]
        ac = AreaChart()
        ac.grouping = "stacked"
        ac.title = clean(f"[{i + 1}] members by tier (end of month)")
        ac.add_data(Reference(wsmem, min_col=c0 + 1, max_col=c0 + nt, min_row=head,
                              max_row=head + res.horizon), titles_from_data=True)
        ac.set_categories(Reference(wsmem, min_col=c0, min_row=head + 1,
                                    max_row=head + res.horizon))
        _axes(ac, money=False)
        place(ac)
    print_setup(ws)

def _axes(ch, money: bool) -> None:
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.y_axis.number_format = '#,##0,," M"' if money else "#,##0"
    ch.legend.position = "b"
    ch.x_axis.tickLblPos = "low"  # month labels below the plot, also for negative values
    if isinstance(ch, LineChart):
        ch.x_axis.title = "Month"
        for s in ch.series:
            s.smooth = False
            s.marker.symbol = "none"
    elif isinstance(ch, AreaChart):
        ch.x_axis.title = "Month"
