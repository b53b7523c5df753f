"""Sheet "Optimisation" (optional): the budget optimiser's table and headline figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.excel.cells import add_table, print_setup, put, set_width, text_width
from simulator.excel.styles import BOLD, FMT, HEAD_PLAIN, TITLE

if TYPE_CHECKING:
    from simulator.excel.book import Book


@dataclass
class OptimisationSheet:
    """What the budget optimiser hands over: its table and its headline figures."""

    table: pd.DataFrame
    headline: dict[str, Any] = field(default_factory=dict)
    title: str = "Budget optimisation"


def write(book: Book, ws, opt) -> None:
    """Fill the Optimisation sheet from an :class:`OptimisationSheet` or a (DataFrame, dict)."""
    if isinstance(opt, tuple):
        opt = OptimisationSheet(*opt)
    if not isinstance(opt, OptimisationSheet):
        raise TypeError("optimisation must be an OptimisationSheet or (DataFrame, dict)")
    put(ws, 1, 1, opt.title, font=TITLE)
    r = 3
    for k, v in opt.headline.items():
        put(ws, r, 1, str(k), font=BOLD)
        c = put(ws, r, 2, v)
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
            c.number_format = _fmt_for_name(str(k))
        r += 1
    r += 1
    head = r
    df = opt.table.reset_index(drop=True)
    for j, name in enumerate(df.columns, start=1):
        put(ws, head, j, str(name), font=BOLD, fill=HEAD_PLAIN)
        set_width(ws, j, max(14, min(text_width(str(name)) + 2, 30)))
    for row in range(len(df)):
        for j, name in enumerate(df.columns, start=1):
            v = df.iat[row, j - 1]
            c = put(ws, head + 1 + row, j, v)
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                c.number_format = _fmt_for_name(str(name))
    if len(df.columns):
        add_table(ws, "Optimisation", head, head + max(len(df), 1), 1, len(df.columns))
    set_width(ws, 1, max(30, ws.column_dimensions["A"].width or 0))
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    print_setup(ws, f"{head}:{head}")


def _fmt_for_name(name: str) -> str:
    n = name.lower()
    if "cny" in n or "budget" in n or "cost" in n or "npv" in n or "¥" in n:
        return FMT["cny"]
    if "share" in n or "roi" in n or "rate" in n or "%" in n:
        return FMT["share"]
    return FMT["num"]
