"""Cell helpers: text that never becomes a formula, formulas, references, notes, print set-up."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Sequence

import numpy as np
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.table import Table

from simulator.excel.styles import MONEY_FORMATS, NOTE, TABLE_STYLE
from simulator.scenario import Scenario


def clean(s: str) -> str:
    """The text without the control characters a worksheet cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", s)


def put(ws, row: int, col: int, value: Any, fmt: str | None = None, font=None, fill=None):
    """Write a value; text is always text (a name like '=1+1' never becomes a formula)."""
    c = ws.cell(row=row, column=col)
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    if isinstance(value, bool):  # printed one way everywhere (Excel would show TRUE/FALSE)
        value = "Yes" if value else "No"
    elif isinstance(value, float) and fmt in MONEY_FORMATS and abs(value) < 0.005:
        value = 0.0  # less than half a fen is averaging residue: never a red "-¥0"
    if isinstance(value, str):
        value = clean(value)
        c.value = value
        if value[:1] in ("=", "+", "-", "@") or c.data_type == "f":
            c.data_type = "s"
            c.quotePrefix = True
    elif value is not None and not isinstance(value, (bool, int, float, _dt.datetime)):
        c.value = clean(str(value))
        c.data_type = "s"
    else:
        c.value = value
    if fmt:
        c.number_format = fmt
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    return c


def formula(ws, row: int, col: int, text: str, fmt: str | None = None):
    """Write a formula (text starting with '=')."""
    assert text.startswith("=")
    c = ws.cell(row=row, column=col, value=text)
    if fmt:
        c.number_format = fmt
    return c


def ref(ws_title: str, col: int, row: int, absolute: bool = False) -> str:
    """An A1 reference to another sheet, e.g. 'Monthly 1'!$H$6."""
    L = get_column_letter(col)
    cell = f"${L}${row}" if absolute else f"{L}{row}"
    return f"{quote_sheetname(ws_title)}!{cell}"


# How much wider text prints than the column widths assume: widths are counted in
# digits of Calibri; LibreOffice without Calibri substitutes a font ~1.4x as wide, and a
# wrapped text then needs ~1.4x the lines (rows sized for Calibri cut the last lines off).
WIDE_FONT = 1.4
WIDE_CM = 0.27  # cm a column width unit takes in that font (0.19 in Calibri)


def print_setup(ws, title_rows: str | None = None, portrait: bool = False) -> None:
    """A4, one page wide, no grid lines; ``title_rows`` repeated on every page.

    Landscape unless ``portrait`` (a narrow, long sheet reads larger on a portrait page).
    """
    ws.page_setup.orientation = "portrait" if portrait else "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def print_sections(ws, title_col: int, ends: Sequence[int], title_rows: str,
                    last_row: int) -> None:
    """Print columns in page-wide sections (columns ..ends[0], ends[0]+1..ends[1], ...).

    Columns 1..title_col repeat at the left of every section, the title rows on every
    page. One scale for the sheet: the widest section fills at most the A4 landscape
    width, and rows 1..last_row fit one page tall unless that needs less than 70 %.
    (Fit-to-page would make LibreOffice ignore the manual column breaks.)
    """
    print_setup(ws, title_rows)
    ws.print_title_cols = f"A:{get_column_letter(title_col)}"
    w = lambda c: ws.column_dimensions[get_column_letter(c)].width or 9  # noqa: E731
    titles = sum(w(c) for c in range(1, title_col + 1))
    starts = [title_col + 1] + [e + 1 for e in ends[:-1]]
    widest = titles + max(sum(w(c) for c in range(a, b + 1)) for a, b in zip(starts, ends))
    tall = sum(ws.row_dimensions[r].height or 15 for r in range(1, last_row + 1))
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    # A4 landscape less the margins: 27.7 cm x 500 pt. A width unit is one digit of the
    # default font, 0.19 cm with Calibri and up to 0.27 cm with a wider substitute
    # (LibreOffice without Calibri): sized for the wider, so every section fits both.
    fit_w = 100 * 27.7 / (widest * WIDE_CM + 0.5)
    fit_h = 100 * 500 / tall
    ws.page_setup.scale = int(max(30, min(100, fit_w, max(fit_h, 70))))
    for e in ends[:-1]:
        ws.col_breaks.append(Break(id=e))


def add_table(ws, name: str, first_row: int, last_row: int, first_col: int, last_col: int):
    """A styled Excel table (filters, stripes) over the given range."""
    t = Table(displayName=name,
              ref=f"{get_column_letter(first_col)}{first_row}:"
                  f"{get_column_letter(last_col)}{max(last_row, first_row + 1)}")
    t.tableStyleInfo = TABLE_STYLE
    ws.add_table(t)
    return t


def note(ws, row: int, text: str, last_col: int, font=NOTE) -> None:
    """A wrapped note merged across columns 1..last_col, its row tall enough to show it."""
    put(ws, row, 1, text, font=font)
    if last_col > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
    ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    chars = sum((ws.column_dimensions[get_column_letter(c)].width or 9) for c in
                range(1, last_col + 1))
    ws.row_dimensions[row].height = 15 * wrapped_lines(text, chars)


def wrapped_lines(text: str, chars: float) -> int:
    """Lines ``text`` takes wrapped in ``chars`` column widths, in Excel or LibreOffice."""
    return sum(max(1, math.ceil(text_width(part) * WIDE_FONT / max(chars, 1)))
               for part in str(text).split("\n"))


def set_width(ws, col: int, w: float) -> None:
    """Set a column's width (in widths of one digit)."""
    ws.column_dimensions[get_column_letter(col)].width = w


def text_width(s: str) -> float:
    """Rough display width: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def label(i: int, sc: Scenario, base_index: int | None = None) -> str:
    """A scenario's name as the sheets show it: "[2] name", "(base)" after the base."""
    tag = " (base)" if base_index is not None and i == base_index else ""
    return f"[{i + 1}] {sc.name}{tag}"


def shown_number(value: float, number_format: str) -> str:
    """About what a spreadsheet shows for ``value`` under ``number_format`` (for widths).

    Handles the formats the workbook uses: sections ``pos;neg`` (a ``[Red]`` colour
    ignored), quoted text (``"¥"``), thousands separators, trailing commas (thousands
    scaling, ``#,##0.0,,`` shows millions), decimals and ``%``.
    """
    sections = (number_format or "General").split(";")
    sec = sections[1] if value < 0 and len(sections) > 1 else sections[0]
    sign = "-" if value < 0 and len(sections) == 1 else ""
    body = sec.split("]")[-1]  # drop [Red] and the like
    literal = "".join(body.split('"')[1::2])
    digits = "".join(body.split('"')[0::2])
    if digits.strip().lower() == "general":
        return f"{value:.10g}"
    v = abs(value)
    core = digits.rstrip("%")
    scale = len(core) - len(core.rstrip(","))
    v /= 1000.0 ** scale
    if "%" in digits:
        v *= 100.0
    dec = len(core.split(".")[1].rstrip(",")) if "." in core else 0
    text = f"{v:,.{dec}f}" if "," in core.rstrip(",") else f"{v:.{dec}f}"
    minus = "-" if "-" in digits else ""  # a negative section's own sign
    return sign + minus + literal + text + ("%" if "%" in digits else "")


def widen_for_numbers(wb, pad: float = 2.0) -> None:
    """Widen every column whose numbers would not fit it (a spreadsheet shows "#####").

    The Deadweight sheet's 14-digit columns held "¥17,614,279,399" and the Monthly sheet's
    orders total 1,411,556,917 in a 12-digit column. Only widens; a ``=SUM(range)`` of
    values on its own sheet counts as its sum, other formulas (their value is not known
    here) and text are left to the sheet's own widths. Bold figures count a tenth wider.
    """
    for ws in wb.worksheets:
        need: dict[int, float] = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, str) and v.startswith("=SUM("):
                    v = _sum_of(ws, v)  # a column's total: often its widest figure
                if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                        not math.isfinite(v):
                    continue
                w = len(shown_number(float(v), c.number_format)) * (1.1 if c.font.b else 1.0)
                need[c.column] = max(need.get(c.column, 0.0), w + pad)
        for col, w in need.items():
            dim = ws.column_dimensions[get_column_letter(col)]
            if (dim.width or 8.43) < w:  # 8.43: a spreadsheet's default width
                dim.width = round(w, 1)


_SUM = re.compile(r"=SUM\(\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)\)")


def _sum_of(ws, text: str) -> float | None:
    """The value of ``=SUM(A1:B9)`` over plain numbers on ``ws``; None for anything else."""
    m = _SUM.fullmatch(text)
    if not m:
        return None
    c0, r0, c1, r1 = (column_index_from_string(m[1]), int(m[2]),
                      column_index_from_string(m[3]), int(m[4]))
    total = 0.0
    for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1, values_only=True):
        for v in row:
            if isinstance(v, str):
                return None  # a formula (or text) inside: not known here
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                total += float(v)
    return total
