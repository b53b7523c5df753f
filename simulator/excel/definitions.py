"""Sheet "Definitions": each Summary figure's definition, from the metric catalogue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator import metrics
from simulator.excel.cells import note, print_setup, put, set_width
from simulator.excel.styles import BOLD, TITLE

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Each Summary figure's definition, from the metric catalogue (as the GUI's tooltips)."""
    put(ws, 1, 1, "Definitions of the Summary's figures", font=TITLE)
    # 100 widths print at full size across a landscape page even in a wider substitute
    # font (150, fitted to the width, printed at ~70 % with the definitions' second lines
    # cut off)
    set_width(ws, 1, 100)
    r = 3
    put(ws, r, 1, "Definitions", font=BOLD)
    seen: set[str] = set()
    for kp in book.kpis:
        m = metrics.metric(kp.metric)
        if kp.metric in seen or not m.definition:
            continue
        seen.add(kp.metric)
        r += 1
        note(ws, r, f"{m.label}: {m.definition}.", 1)
    print_setup(ws)
