"""Read a transaction log (customer id, date, amount; optional segment, order id).

The log is read in chunks (CSV) so a 10 M-row file stays within memory: each row
keeps a customer code (int32), a day number (int32), the amount (float64) and a
segment code (int16); order ids are kept only as 64-bit hashes for the duplicate
check. Bad rows are never dropped silently: every one is counted by reason and
the first line numbers of each reason are reported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")
CHUNK_ROWS = 500_000
MAX_LINES_SHOWN = 20
# Tried in order on the first FORMAT_SAMPLE values when no --date-format is given; the
# one that parses the most values is used for the whole file. Day/month vs month/day with
# slashes is ambiguous and needs --date-format.
FORMAT_SAMPLE = 5000  # values a format is chosen on
DATE_FORMATS = ("ISO8601", "%Y%m%d", "%Y/%m/%d", "%d.%m.%Y", "%Y.%m.%d")
REASONS = {
    "customer": "missing customer id",
    "date": "unparseable or missing date",
    "amount_missing": "missing or non-numeric amount",
    "amount_negative": "negative amount",
    "duplicate_order": "duplicate order id",
}


class LogError(ValueError):
    """A log that cannot be read, in the planner's words."""


@dataclass
class Columns:
    """Which column holds what: a header name, or a 1-based position (headerless files)."""

    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    segment: str | None = None
    order_id: str | None = None
    date_format: str | None = None
    sep: str = ","          # "whitespace" for space-separated files such as CDNOW
    header: bool = True
    sheet: str | int = 0    # Excel only


@dataclass
class BadRows:
    """Bad rows by reason: counts and the first line numbers (1-based, as in an editor)."""

    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in REASONS})
    lines: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in REASONS})

    def add(self, reason: str, line_numbers: np.ndarray) -> None:
        """Record bad rows of one reason."""
        n = len(line_numbers)
        if not n:
            return
        self.counts[reason] += n
        room = MAX_LINES_SHOWN - len(self.lines[reason])
        if room > 0:
            self.lines[reason].extend(int(x) for x in line_numbers[:room])

    @property
    def total(self) -> int:
        """Rows set aside, all reasons."""
        return sum(self.counts.values())

    def report(self) -> list[str]:
        """One line per reason that occurred."""
        out = []
        for k, n in self.counts.items():
            if n:
                more = " ..." if n > len(self.lines[k]) else ""
                out.append(f"{n:,} rows with {REASONS[k]} (lines "
                           f"{', '.join(map(str, self.lines[k]))}{more})")
        return out


@dataclass
class Log:
    """The valid rows of a log, as compact arrays."""

    customer: np.ndarray      # int32 code per row
    day: np.ndarray           # int32 days since 1970-01-01
    amount: np.ndarray        # float64
    segment: np.ndarray       # int16 code per row (-1: none)
    customer_ids: list[str]
    segment_names: list[str]
    bad: BadRows
    rows_read: int
    source: str
    date_format: str

    def __len__(self) -> int:
        return len(self.day)

    @property
    def first_date(self) -> np.datetime64:
        """The earliest valid date."""
        return EPOCH + int(self.day.min())

    @property
    def last_date(self) -> np.datetime64:
        """The latest valid date."""
        return EPOCH + int(self.day.max())


def _pick(df: pd.DataFrame, spec: str, what: str, header: bool) -> pd.Series:
    if spec in df.columns:
        return df[spec]
    if spec.isdigit() and 1 <= int(spec) <= df.shape[1]:
        return df.iloc[:, int(spec) - 1]
    cols = list(df.columns) if header else [str(i + 1) for i in range(df.shape[1])]
    raise LogError(f"{what} column {spec!r} is not in the log (columns: {cols}); "
                   f"name it with --{what.replace(' ', '-')}")


def _parse_dates(s: pd.Series, fmt: str) -> np.ndarray:
    """Day numbers (int64; NaT -> min int) for one format."""
    txt = s.astype("string").str.strip()
    if fmt == "ISO8601":
        d = pd.to_datetime(txt, format="ISO8601", errors="coerce", utc=False)
    else:
        d = pd.to_datetime(txt, format=fmt, errors="coerce")
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    return d.to_numpy(dtype="datetime64[ns]")


def _choose_format(s: pd.Series) -> str:
    best, best_ok = None, -1
    for fmt in DATE_FORMATS:
        try:
            ok = int((~np.isnat(_parse_dates(s, fmt))).sum())
        except (ValueError, TypeError):
            continue
        if ok > best_ok:
            best, best_ok = fmt, ok
    if best is None or not best_ok:  # none parsed (or every format raised)
        sample = s.dropna().astype(str).head(3).tolist()
        raise LogError(f"date column: no value reads as a date in the formats tried "
                       f"({', '.join(DATE_FORMATS)}), e.g. {sample}; give the format with "
                       f"--date-format (e.g. %d/%m/%Y)")
    return best


class _Builder:
    def __init__(self, cols: Columns, source: str):
        self.cols = cols
        self.source = source
        self.cust_index: dict[str, int] = {}
        self.seg_index: dict[str, int] = {}
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.order_hash: list[np.ndarray] = []
        self.order_line: list[np.ndarray] = []
        self.bad = BadRows()
        self.rows = 0
        self.fmt = cols.date_format

    def _codes(self, s: pd.Series, index: dict[str, int]) -> np.ndarray:
        codes, uniq = pd.factorize(s, sort=False)
        glob = np.empty(len(uniq), dtype=np.int64)
        for i, u in enumerate(uniq):
            glob[i] = index.setdefault(str(u), len(index))
        return glob[codes]

    def chunk(self, df: pd.DataFrame, first_line: int) -> None:
        c = self.cols
        n = len(df)
        lines = np.arange(first_line, first_line + n)
        self.rows += n
        cust = _pick(df, c.customer, "customer", c.header).astype("string").str.strip()
        ok = (cust.notna() & (cust != "")).to_numpy(dtype=bool)
        self.bad.add("customer", lines[~ok])
        raw_date = _pick(df, c.date, "date", c.header)
        if self.fmt is None:  # chosen on the first chunk's first values (each format tried)
            self.fmt = _choose_format(raw_date.dropna().head(FORMAT_SAMPLE))
        try:
            dates = _parse_dates(raw_date, self.fmt)
        except ValueError as exc:
            raise LogError(f"date format {self.fmt!r}: {exc}") from None
        dok = ~np.isnat(dates)
        self.bad.add("date", lines[ok & ~dok])
        ok &= dok
        amt = pd.to_numeric(_pick(df, c.amount, "amount", c.header), errors="coerce")
        amt = amt.to_numpy(dtype=float, na_value=np.nan)
        aok = np.isfinite(amt)
        self.bad.add("amount_missing", lines[ok & ~aok])
        ok &= aok
        neg = ok & (amt < 0)
        self.bad.add("amount_negative", lines[neg])
        ok &= ~neg
        if c.order_id:
            oid = _pick(df, c.order_id, "order id", c.header).astype("string").str.strip()
            h = pd.util.hash_array(oid.fillna("").to_numpy(dtype=object))
            self.order_hash.append(h[ok])
            self.order_line.append(lines[ok])
        seg = np.full(n, -1, dtype=np.int64)
        if c.segment:
            sv = _pick(df, c.segment, "segment", c.header).astype("string").str.strip()
            sv = sv.fillna("(none)").mask(sv == "", "(none)")
            seg = self._codes(sv, self.seg_index)
        days = dates[ok].astype("datetime64[D]").astype(np.int64)
        self.parts.append((self._codes(cust[ok], self.cust_index).astype(np.int32),
                           days.astype(np.int32), amt[ok], seg[ok].astype(np.int16),
                           lines[ok]))

    def finish(self) -> Log:
        if not self.parts:
            raise LogError(f"{self.source}: the log has no rows")
        cust, day, amt, seg, line = (np.concatenate(x) for x in zip(*self.parts))
        keep = np.ones(len(day), dtype=bool)
        if self.order_hash:
            h = np.concatenate(self.order_hash)
            oline = np.concatenate(self.order_line)
            order = np.argsort(h, kind="stable")
            dup_sorted = np.zeros(len(h), dtype=bool)
            dup_sorted[1:] = h[order][1:] == h[order][:-1]
            dup = np.zeros(len(h), dtype=bool)
            dup[order] = dup_sorted
            self.bad.add("duplicate_order", np.sort(oline[dup]))
            keep = ~np.isin(line, oline[dup])
        if not keep.any():
            why = "; ".join(self.bad.report()) or "no data rows"
            raise LogError(f"{self.source}: no valid rows ({why})")
        names = [""] * len(self.cust_index)
        for k, v in self.cust_index.items():
            names[v] = k
        segs = [""] * len(self.seg_index)
        for k, v in self.seg_index.items():
            segs[v] = k
        return Log(cust[keep], day[keep], amt[keep], seg[keep], names, segs, self.bad,
                   self.rows, self.source, self.fmt or "")


def read_log(path: str | Path, cols: Columns | None = None, *,
             progress: Callable[[int, float], None] | None = None,
             cancel: threading.Event | None = None,
             chunk_rows: int = CHUNK_ROWS) -> Log:
    """Read a log file; ``progress(rows, fraction_of_file)`` after each chunk.

    Raises LogError for a file that cannot be read or has no valid rows, and
    InterruptedError when ``cancel`` is set (checked between chunks).
    """
    cols = cols or Columns()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"transaction log {str(p)!r} not found")
    b = _Builder(cols, p.name)
    suffix = p.suffix.lower()
    header_lines = 1 if cols.header else 0
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            df = pd.read_excel(p, sheet_name=cols.sheet, dtype=object,
                               header=0 if cols.header else None)
        except (ValueError, OSError, KeyError) as exc:
            raise LogError(f"{p.name}: cannot read as Excel ({exc})") from None
        df.columns = [str(x) if cols.header else str(i + 1) for i, x in enumerate(df.columns)]
        b.chunk(df, header_lines + 1)
        if progress:
            progress(len(df), 1.0)
        return b.finish()
    if suffix == ".parquet":
        return _read_parquet(p, cols, b, progress, cancel, chunk_rows)
    size = max(p.stat().st_size, 1)
    sep = r"\s+" if cols.sep in ("whitespace", " ", r"\s+") else cols.sep
    try:
        reader = pd.read_csv(p, sep=sep, dtype=str, header=0 if cols.header else None,
                             chunksize=chunk_rows, skip_blank_lines=False,
                             keep_default_na=False, na_values=[""], encoding_errors="replace",
                             engine="c")
        line = header_lines + 1
        with reader:
            for df in reader:
                if cancel is not None and cancel.is_set():
                    raise InterruptedError("import cancelled")
                if not cols.header:
                    df.columns = [str(i + 1) for i in range(df.shape[1])]
                b.chunk(df, line)
                line += len(df)
                if progress:
                    try:
                        pos = reader.handles.handle.tell() / size
                    except (AttributeError, OSError, ValueError):
                        pos = float("nan")
                    progress(b.rows, min(pos, 1.0))
    except pd.errors.EmptyDataError:
        raise LogError(f"{p.name}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise LogError(f"{p.name}: cannot read as CSV ({exc})") from None
    return b.finish()


def _read_parquet(p: Path, cols: Columns, b: _Builder,
                  progress: Callable[[int, float], None] | None,
                  cancel: threading.Event | None, chunk_rows: int) -> Log:
    """Parquet in row batches of the mapped columns only (pyarrow, the 'parquet' extra).

    Bad rows are reported by row number (1 = the first row of data).
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise LogError("Parquet logs need the 'pyarrow' package (pip install "
                       "'benefit-sim[parquet]', about 170 MB), which is not installed; "
                       "save the log as CSV or install it") from None
    try:
        f = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError kinds
        raise LogError(f"{p.name}: cannot read as Parquet ({exc})") from None
    names = [str(x) for x in f.schema_arrow.names]
    wanted = [c for c in (cols.customer, cols.date, cols.amount, cols.segment, cols.order_id)
              if c]
    use = []
    for spec in wanted:  # a name, or a 1-based position
        if spec in names:
            use.append(spec)
        elif spec.isdigit() and 1 <= int(spec) <= len(names):
            use.append(names[int(spec) - 1])
        else:
            what = {cols.customer: "customer", cols.date: "date", cols.amount: "amount",
                    cols.segment: "segment", cols.order_id: "order id"}[spec]
            raise LogError(f"{what} column {spec!r} is not in the log (columns: {names}); "
                           f"name it with --{what.replace(' ', '-')}")
    total = max(f.metadata.num_rows, 1)
    row = 1
    for batch in f.iter_batches(batch_size=chunk_rows, columns=sorted(set(use)) or None):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("import cancelled")
        df = batch.to_pandas()
        df.columns = [str(x) for x in df.columns]
        for spec in wanted:  # a position refers to the file's columns, not the batch's
            if spec not in df.columns:
                df[spec] = df[names[int(spec) - 1]]
        b.chunk(df, row)
        row += len(df)
        if progress:
            progress(b.rows, min(b.rows / total, 1.0))
    if not b.parts and f.metadata.num_rows == 0:
        raise LogError(f"{p.name}: the file has no rows")
    return b.finish()


@dataclass
class Preview:
    """The first rows of a log as mapped: the file's columns, the mapped table, bad rows."""

    columns: list[str]
    table: pd.DataFrame  # customer, date (as read), day, amount[, segment, order id]
    bad: BadRows
    rows: int
    date_format: str


def _head(p: Path, cols: Columns, rows: int) -> pd.DataFrame:
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        df = pd.read_excel(p, sheet_name=cols.sheet, dtype=object, nrows=rows,
                           header=0 if cols.header else None)
    elif suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise LogError("Parquet logs need the 'pyarrow' package (pip install "
                           "'benefit-sim[parquet]'), which is not installed") from None
        batch = next(pq.ParquetFile(p).iter_batches(batch_size=rows), None)
        df = batch.to_pandas() if batch is not None else pd.DataFrame()
    else:
        sep = r"\s+" if cols.sep in ("whitespace", " ", r"\s+") else cols.sep
        df = pd.read_csv(p, sep=sep, dtype=str, nrows=rows, header=0 if cols.header else None,
                         keep_default_na=False, na_values=[""], encoding_errors="replace",
                         engine="python" if sep == r"\s+" else "c")
    if cols.header:
        df.columns = [str(x) for x in df.columns]
    else:
        df.columns = [str(i + 1) for i in range(df.shape[1])]
    return df


def preview(path: str | Path, cols: Columns, rows: int = 200) -> Preview:
    """Read the first ``rows`` rows and map them as :func:`read_log` would.

    The file's columns are always returned; the mapped table and bad-row counts are
    empty when a mapped column is missing (the message says which) — raises LogError.
    """
    p = Path(path)
    if not p.is_file():
        raise LogError(f"transaction log {str(p)!r} not found")
    try:
        df = _head(p, cols, rows)
    except (ValueError, OSError, KeyError, pd.errors.ParserError) as exc:
        raise LogError(f"{p.name}: cannot read ({exc})") from None
    b = _Builder(cols, p.name)
    first = 2 if cols.header and p.suffix.lower() not in (".parquet",) else 1
    b.chunk(df, first)
    table = pd.DataFrame({
        "customer": _pick(df, cols.customer, "customer", cols.header).astype("string"),
        "date": _pick(df, cols.date, "date", cols.header).astype("string"),
        "amount": _pick(df, cols.amount, "amount", cols.header).astype("string")})
    if cols.segment:
        table["segment"] = _pick(df, cols.segment, "segment", cols.header).astype("string")
    if cols.order_id:
        table["order id"] = _pick(df, cols.order_id, "order id", cols.header).astype("string")
    return Preview(list(df.columns), table, b.bad, len(df), b.fmt or "")


def guess_columns(names: list[str]) -> dict[str, str | None]:
    """Likely customer/date/amount/segment/order-id columns by their header names."""
    low = {n.lower().replace(" ", "_"): n for n in names}
    used: set[str] = set()

    def find(*keys: str) -> str | None:
        for k in keys:
            for ln, n in low.items():
                if k in ln and n not in used:
                    used.add(n)
                    return n
        return None
    out = {"customer": find("customer", "client", "buyer", "user", "member"),
           "date": find("date", "time", "day")}
    out["amount"] = find("amount", "value", "revenue", "total", "price", "spend", "sales")
    out["segment"] = find("segment")
    out["order_id"] = find("order_id", "orderid", "order_no", "order_number", "invoice",
                           "transaction_id")
    return out
