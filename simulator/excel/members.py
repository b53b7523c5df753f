"""Sheet "Members by tier": members at the end of each month, one block per scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from simulator.excel.cells import WIDE_CM, formula, label, print_setup, put, set_width
from simulator.excel.data import members_by_tier
from simulator.excel.styles import BOLD, FMT, HEAD_FORMULA, HEAD_SIM, RIGHT, TITLE

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Members by tier sheet; record each scenario's block in ``book``."""
    put(ws, 1, 1, "Members by tier (end of month, mean over replications)", font=TITLE)
    r = 3
    widest = 0
    heads = []
    tallest = 0
    for i, (sc, _, res) in enumerate(book.results):
        pv = members_by_tier(res)
        if i:  # each scenario's block starts a page (its month rows and header together)
            ws.row_breaks.append(Break(id=r - 1))
        put(ws, r, 1, label(i, sc, book.base if len(book.results) > 1 else None), font=BOLD)
        head = r + 1
        put(ws, head, 1, "Month", font=BOLD, fill=HEAD_SIM)
        for j, t in enumerate(res.tiers):
            put(ws, head, 2 + j, t, font=BOLD, fill=HEAD_SIM).alignment = RIGHT
        tot = 2 + len(res.tiers)
        put(ws, head, tot, "All tiers", font=BOLD, fill=HEAD_FORMULA).alignment = RIGHT
        for k, month in enumerate(pv.index):
            rr = head + 1 + k
            put(ws, rr, 1, int(month), FMT["int"])
            for j, t in enumerate(res.tiers):
                put(ws, rr, 2 + j, pv[t].iloc[k], FMT["count"])
            formula(ws, rr, tot, f"=SUM({get_column_letter(2)}{rr}:"
                                 f"{get_column_letter(tot - 1)}{rr})", FMT["count"])
        book.tier_blocks.append((head, 1, len(res.tiers)))
        heads.append(head)
        tallest = max(tallest, len(pv) + 2)  # its title, header and months
        widest = max(widest, tot)
        r = head + len(pv) + 3
    set_width(ws, 1, 10)
    for c in range(2, widest + 1):
        set_width(ws, c, 13)
    # narrow and long: portrait (landscape printed 30 of 36 months a page, the last six
    # on a second page without the header row)
    width = 10 + 13 * (widest - 1)
    narrow = width <= 80
    print_setup(ws, f"{heads[0]}:{heads[0]}" if len(heads) == 1 else None, portrait=narrow)
    # one scale for the sheet: each block (its title, header and months) one page tall,
    # as wide as the page (the 6-tier block in landscape split over two pages)
    page_w, page_h = (18.9, 770.0) if narrow else (27.7, 500.0)
    block = 15.0 * tallest + 40.0  # pt, with the sheet's title
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = int(max(40, min(100, 100 * page_h / block,
                                          100 * page_w / (width * WIDE_CM + 0.5))))
