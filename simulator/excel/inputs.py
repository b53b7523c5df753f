"""Sheet "Inputs": every parameter of every scenario, differences from the base highlighted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.compare import flat_inputs, union_paths
from simulator.excel.cells import add_table, label, print_setup, put, ref, set_width, text_width
from simulator.excel.styles import BOLD, DIFF, HEAD_PLAIN, LEFT, LEFT_WRAP, NOTE, TITLE
from simulator.scenario_io import file_hash, scenario_hash

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Inputs sheet; record each scenario's discount-rate cell in ``book``."""
    n = len(book.results)
    put(ws, 1, 1, "Inputs: every parameter of every scenario", font=TITLE)
    put(ws, 2, 1, f"Flattened scenario files. Highlighted cells differ from the base "
                  f"{label(book.base, book.results[book.base][0])}.", font=NOTE)
    head = 4
    put(ws, head, 1, "Parameter", font=BOLD, fill=HEAD_PLAIN)
    for i, (sc, _, _) in enumerate(book.results):
        put(ws, head, 2 + i, label(i, sc, book.base), font=BOLD, fill=HEAD_PLAIN)
    put(ws, head, 2 + n, "Differs from base", font=BOLD, fill=HEAD_PLAIN)
    flats = [flat_inputs(sc) for sc, _, _ in book.results]
    meta_rows = []
    for sc, p, res in book.results:
        meta_rows.append({
            "(file)": "(not saved)" if p is None else Path(p).name,
            "(file SHA-256, 16 hex)": (file_hash(p) if p is not None and Path(p).exists()
                                       else ""),
            "(scenario hash)": scenario_hash(sc),
        })
    paths = list(meta_rows[0]) + union_paths(flats)
    r = head
    max_w = [12.0] * (n + 1)
    for path in paths:
        r += 1
        vals = [(mr[path] if path in mr else f.get(path)) for mr, f in zip(meta_rows, flats)]
        put(ws, r, 1, path).alignment = LEFT
        max_w[0] = max(max_w[0], text_width(path))
        bv = vals[book.base]
        differs = False
        lines = 1
        for i, v in enumerate(vals):
            c = put(ws, r, 2 + i, v)
            multi = isinstance(v, str) and ("\n" in v or text_width(v) > 48)
            c.alignment = LEFT_WRAP if multi else LEFT
            if multi and isinstance(v, str):
                lines = max(lines, min(20, sum(max(1, math.ceil(text_width(x) / 44))
                                               for x in v.split("\n"))))
            if v is not None:
                max_w[i + 1] = max(max_w[i + 1], min(text_width(str(v)), 48))
            if i != book.base and not _eq(v, bv):
                c.fill = DIFF
                differs = True
        if lines > 1:
            ws.row_dimensions[r].height = 15 * lines
        if differs:
            put(ws, r, 2 + n, "Yes")
        if path == "run.discount_rate_annual":
            book.rate_cells = [ref("Inputs", 2 + i, r, absolute=True) for i in range(n)]
    set_width(ws, 1, min(max_w[0] + 2, 60))
    for i in range(n):
        set_width(ws, 2 + i, max(min(max_w[i + 1] + 2, 50), 16))
    set_width(ws, 2 + n, 12)
    add_table(ws, "Inputs", head, r, 1, 2 + n)
    ws.freeze_panes = ws.cell(row=head + 1, column=2)
    print_setup(ws, f"{head}:{head}")


def _eq(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b
