"""Sheet "Deadweight": scheme cost on purchases that happen anyway, by segment and tier.

One block per scenario whose run paired its arms customer by customer
(:mod:`simulator.deadweight`, docs/ACCOUNTING.md); the numbers are
``Deadweight.frame()``, the same rows ``benefit-sim run --csv`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.deadweight import LABELS, NOT_PAIRED, deadweight, kind_of
from simulator.excel.cells import label, note, print_setup, put, set_width
from simulator.excel.styles import BOLD, FMT, HEAD_SIM, NOTE, TITLE, WRAP_HEAD_RIGHT

if TYPE_CHECKING:
    from simulator.excel.book import Book

SHOWN = ("matched_orders", "incremental_orders", "scheme_cost", "cost_matched",
         "cost_incremental", "cost_no_order", "concessions_matched", "concessions_incremental",
         "deadweight_share", "cost_per_incremental_order", "cost_per_retained_customer")


def wanted(book: Book) -> bool:
    """True if any scenario of the workbook has deadweight figures."""
    return any(deadweight(res) is not None for _, _, res in book.results)


def write(book: Book, ws) -> None:
    """Fill the Deadweight sheet, one block per scenario."""
    put(ws, 1, 1, "Deadweight: scheme cost on purchases that happen anyway", font=TITLE)
    note(ws, 2, "A purchase happens anyway when the same customer orders in the same month "
         "in the counterfactual arm (common random numbers: customer i is the same person "
         "in both arms); per customer and month, matched orders = min(with scheme, without). "
         "Scheme cost = benefit cost (points redemptions included) + campaign discounts, split "
         "pro rata between matched and incremental orders; price concessions are the part of "
         "it that lowers the price. Means over replications; the deadweight share with its "
         "95 % interval. Cost per retained customer: by segment and in total only (tiers "
         "differ between the arms).", 1 + len(SHOWN) + 2)
    r = 4
    for i, (sc, _, res) in enumerate(book.results):
        put(ws, r, 1, label(i, sc, book.base if len(book.results) > 1 else None), font=BOLD)
        dw = deadweight(res)
        if dw is None:
            put(ws, r + 1, 1, f"Not available: {NOT_PAIRED}.", font=NOTE)
            r += 3
            continue
        head = r + 1
        put(ws, head, 1, "Row", font=BOLD, fill=HEAD_SIM)
        for j, c in enumerate(SHOWN):
            put(ws, head, 2 + j, LABELS[c], font=BOLD, fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
        lo_col = 2 + len(SHOWN)
        put(ws, head, lo_col, "Deadweight share, 95 % low", font=BOLD,
            fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
        put(ws, head, lo_col + 1, "Deadweight share, 95 % high", font=BOLD,
            fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
        ws.row_dimensions[head].height = 62
        frame = dw.frame()
        for k, row in enumerate(frame.to_dict(orient="records")):
            rr = head + 1 + k
            name = "All customers" if row["by"] == "total" else f"{row['by']}: {row['row']}"
            put(ws, rr, 1, name, font=BOLD if row["by"] == "total" else None)
            for j, c in enumerate(SHOWN):
                kind = kind_of(c)
                put(ws, rr, 2 + j, row[c], FMT["share"] if kind == "share" else
                    (FMT["count"] if kind == "count" else FMT["money"]))
            put(ws, rr, lo_col, max(row["deadweight_share_ci95_low"], 0.0), FMT["share"])
            put(ws, rr, lo_col + 1, min(row["deadweight_share_ci95_high"], 1.0), FMT["share"])
        r = head + len(frame) + 3
    set_width(ws, 1, 26)
    for col in range(2, 2 + len(SHOWN) + 2):
        set_width(ws, col, 14)
    print_setup(ws)
