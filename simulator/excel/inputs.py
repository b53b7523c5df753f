"""Sheet "Inputs": every parameter of every scenario, differences from the base highlighted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.excel.cells import add_table, label, print_setup, put, ref, set_width, text_width
from simulator.excel.styles import (
    BOLD,
    DIFF,
    HEAD_PLAIN,
    LEFT,
    LEFT_WRAP,
    NOTE,
    SMALL,
    TITLE,
    WRAP_HEAD,
)
from simulator.input_diff import flat_inputs, same_value, union_paths
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
    # Printed compactly (A4 portrait, 8 pt, columns as wide as a short value, long texts
    # wrapped): 509 parameters of a 3-scenario comparison took 8 landscape pages at 11 pt
    # with 50-character columns that were mostly empty.
    val_w = 18.0 if n >= 3 else (26.0 if n == 2 else 40.0)
    per_line = val_w * 1.3  # characters of 8 pt text in a column of that width
    r = head
    path_w = 12.0
    for path in paths:
        r += 1
        vals = [(mr[path] if path in mr else f.get(path)) for mr, f in zip(meta_rows, flats)]
        put(ws, r, 1, path, font=SMALL).alignment = LEFT
        path_w = max(path_w, text_width(path))
        bv = vals[book.base]
        differs = False
        lines = 1
        for i, v in enumerate(vals):
            c = put(ws, r, 2 + i, v, font=SMALL)
            multi = isinstance(v, str) and ("\n" in v or text_width(v) > val_w)
            c.alignment = LEFT_WRAP if multi else LEFT
            if multi and isinstance(v, str):
                lines = max(lines, min(40, sum(max(1, math.ceil(text_width(x) / per_line))
                                               for x in v.split("\n"))))
            if i != book.base and not same_value(v, bv):
                c.fill = DIFF
                differs = True
        ws.row_dimensions[r].height = 11 * lines
        if differs:
            put(ws, r, 2 + n, "Yes", font=SMALL)
        if path == "run.discount_rate_annual":
            book.rate_cells = [ref("Inputs", 2 + i, r, absolute=True) for i in range(n)]
    set_width(ws, 1, min(path_w * 0.8 + 2, 40))
    for i in range(n):
        set_width(ws, 2 + i, val_w)
    set_width(ws, 2 + n, 8)
    for c in range(1, n + 3):
        ws.cell(row=head, column=c).alignment = WRAP_HEAD
    ws.row_dimensions[head].height = 15 * max(3, max(
        math.ceil(text_width(str(ws.cell(row=head, column=2 + i).value)) / val_w)
        for i in range(n)))
    add_table(ws, "Inputs", head, r, 1, 2 + n)
    ws.freeze_panes = ws.cell(row=head + 1, column=2)
    print_setup(ws, f"{head}:{head}")
    ws.page_setup.orientation = "portrait"
