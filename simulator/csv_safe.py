"""CSV output that a spreadsheet never runs as a formula.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula (or becomes one) when Excel or LibreOffice opens the CSV. As the
xlsx export does, such text is written with a leading apostrophe (OWASP's CSV
injection advice). Numbers are written as they are: ``-5`` stays ``-5``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is written: a pool worker, which
    import pandas as pd  # imports this module for ``neutral``, never pays its ~0.3 s

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: object) -> object:
    """A cell value that cannot start a formula (text only; numbers pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The table with its text cells (and text column names) neutralised."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]) \
                or isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].map(neutral)
    out.columns = [neutral(c) for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(neutral)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a table, safe to open in a spreadsheet."""
    return safe_frame(df).to_csv(index=False).encode("utf-8")
