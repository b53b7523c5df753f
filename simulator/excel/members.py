"""Sheet "Members by tier": members at the end of each month, one block per scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.utils import get_column_letter

from simulator.excel.cells import formula, label, print_setup, put, set_width
from simulator.excel.data import members_by_tier
from simulator.excel.styles import BOLD, FMT, HEAD_FORMULA, HEAD_SIM, RIGHT, TITLE

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Members by tier sheet; record each scenario's block in ``book``."""
    put(ws, 1, 1, "Members by tier (end of month, mean over replications)", font=TITLE)
    r = 3
    widest = 0
    for i, (sc, _, res) in enumerate(book.results):
        pv = members_by_tier(res)
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
        widest = max(widest, tot)
        r = head + len(pv) + 3
    set_width(ws, 1, 10)
    for c in range(2, widest + 1):
        set_width(ws, c, 13)
    print_setup(ws)
