"""Excel workbooks finance can audit: one scenario, or several what-ifs compared.

Public API (no Qt; the GUI and the CLI call the same functions)::

    write_workbook(results, out_path, base_index=0, optimisation=None, *,
                   overwrite=False) -> Path
        results: list of (Scenario, Path | None, RunResult), e.g. from
        simulator.compare.run_scenarios (same seed for all = common random numbers).
        optimisation: None, an OptimisationSheet, or a tuple (DataFrame, dict of
        headline figures) -- the budget optimiser's table and its headline numbers.
    check_output(out_path, overwrite=False) -> Path   # call before a long run
    ExportError (base), OutputExistsError, OutputNotWritableError, OutputLockedError

The workbook: Summary (KPIs side by side, mean and 95 % interval, deltas vs the
base as live formulas), Charts (native Excel charts), Inputs (every parameter,
differences highlighted), Monthly N (per scenario: simulated columns as values,
derived columns as formulas over them), Segments & tiers, Members by tier,
optional Optimisation, Manifest (versions, seed, hashes, the CLI command that
reproduces it). It is written to a temporary file in the target folder and
moved into place with os.replace, so a failed export never leaves a half file.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import AreaChart, BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.table import Table, TableStyleInfo

from simulator import __version__, metrics
from simulator.compare import Kpi, compare_scenarios, flat_inputs, kpi_catalogue, union_paths
from simulator.results import COST_TOL, RunResult
from simulator.scenario import Scenario
from simulator.scenario_io import atomic_write_bytes, file_hash, scenario_hash

# ------------------------------------------------------------------ errors


class ExportError(Exception):
    """The workbook cannot be written; ``str(exc)`` says why and what to do."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = None if path is None else Path(path)


class OutputExistsError(ExportError):
    """The file exists and overwriting was not allowed."""


class OutputNotWritableError(ExportError):
    """The folder does not exist or cannot be written."""


class OutputLockedError(ExportError):
    """The file is open in Excel/LibreOffice (lock file present) or read-only."""


@dataclass
class OptimisationSheet:
    """What the budget optimiser hands over: its table and its headline figures."""

    table: pd.DataFrame
    headline: dict[str, Any] = field(default_factory=dict)
    title: str = "Budget optimisation"


# ------------------------------------------------------------------ formats
# Number formats: the metric display kinds (simulator.metrics) plus cell kinds of their own.
FMT = {
    **metrics.EXCEL_FORMAT,
    "cny": metrics.EXCEL_FORMAT["money"],
    "month": metrics.EXCEL_FORMAT["months"],
    "factor": "0.00000",
    "int": "0",
    "num": "#,##0.00",
}
PER_PAGE = 3  # scenarios side by side on one printed Summary page
MONEY_FORMATS = {FMT["money"], FMT["cny"]}
# Summary money at or above a million: CNY millions, one decimal (the cell keeps the full value).
MONEY_M = '#,##0.0,,;[Red]-#,##0.0,,'
WIDTH = {"money": 17, "cny": 17, "share": 10, "ratio": 10, "hours": 10, "months": 9, "month": 9,
         "count": 12, "score": 10, "factor": 11, "int": 8, "num": 12}

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
NOTE = Font(italic=True, color="555555")
WARN = Font(bold=True, color="B00020")
HEAD_SIM = PatternFill("solid", fgColor="DDEBF7")  # simulated columns (values)
HEAD_FORMULA = PatternFill("solid", fgColor="E2EFDA")  # derived columns (formulas)
HEAD_PLAIN = PatternFill("solid", fgColor="D9D9D9")
DIFF = PatternFill("solid", fgColor="FFEB9C")
WRAP_HEAD = Alignment(wrap_text=True, vertical="top")
WRAP_HEAD_RIGHT = Alignment(wrap_text=True, vertical="top", horizontal="right")
CENTER = Alignment(horizontal="center")
LEFT = Alignment(horizontal="left", vertical="top")
RIGHT = Alignment(horizontal="right")
LEFT_WRAP = Alignment(horizontal="left", vertical="top", wrap_text=True)
TABLE_STYLE = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "scenarios"


# ------------------------------------------------------------------ cells
def _clean(s: str) -> str:
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
        value = _clean(value)
        c.value = value
        if value[:1] in ("=", "+", "-", "@") or c.data_type == "f":
            c.data_type = "s"
            c.quotePrefix = True
    elif value is not None and not isinstance(value, (bool, int, float, _dt.datetime)):
        c.value = _clean(str(value))
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


def _print_setup(ws, title_rows: str | None = None) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def _print_sections(ws, title_col: int, ends: Sequence[int], title_rows: str,
                    last_row: int) -> None:
    """Print columns in page-wide sections (columns ..ends[0], ends[0]+1..ends[1], ...).

    Columns 1..title_col repeat at the left of every section, the title rows on every
    page. One scale for the sheet: the widest section fills at most the A4 landscape
    width, and rows 1..last_row fit one page tall unless that needs less than 70 %.
    (Fit-to-page would make LibreOffice ignore the manual column breaks.)
    """
    _print_setup(ws, title_rows)
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
    fit_w = 100 * 27.7 / (widest * 0.27 + 0.5)
    fit_h = 100 * 500 / tall
    ws.page_setup.scale = int(max(30, min(100, fit_w, max(fit_h, 70))))
    for e in ends[:-1]:
        ws.col_breaks.append(Break(id=e))


def _table(ws, name: str, first_row: int, last_row: int, first_col: int, last_col: int):
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
    lines = max(1, math.ceil(_text_width(text) * 1.1 / max(chars, 1)))
    ws.row_dimensions[row].height = 15 * lines


def _width(ws, col: int, w: float) -> None:
    ws.column_dimensions[get_column_letter(col)].width = w


def _text_width(s: str) -> float:
    """Rough display width: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def _label(i: int, sc: Scenario, base_index: int | None = None) -> str:
    tag = " (base)" if base_index is not None and i == base_index else ""
    return f"[{i + 1}] {sc.name}{tag}"


# ------------------------------------------------------------------ output paths
def _lock_files(p: Path) -> list[Path]:
    """Lock files LibreOffice and Excel leave beside an open workbook."""
    return [p.parent / f".~lock.{p.name}#", p.parent / f"~${p.name}"]


def check_output(out_path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Raise an :class:`ExportError` subclass if the workbook cannot be written there."""
    p = Path(out_path)
    if p.suffix.lower() != ".xlsx":
        raise ExportError(f"{p}: the file name must end in .xlsx", p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputNotWritableError(f"{p}: folder {parent} does not exist", p)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputNotWritableError(f"{p}: folder {parent} is not writable", p)
    for lock in _lock_files(p):
        if lock.exists():
            raise OutputLockedError(
                f"{p} is open in another program (lock file {lock.name}); close it and retry", p)
    if p.exists():
        if p.is_dir():
            raise ExportError(f"{p} is a folder", p)
        if not overwrite:
            raise OutputExistsError(f"{p} exists; use --force (or choose to overwrite) to "
                                    "replace it", p)
        if not os.access(p, os.W_OK):
            raise OutputLockedError(f"{p} is read-only", p)
    return p


def _save_atomic(wb: Workbook, p: Path) -> None:
    """Serialise in memory, then write atomically (mode kept, temp locked, stale temps cleaned).

    Building the zip in memory means a full disk fails in one place, as an
    OutputNotWritableError, with no half-written ZipFile left to complain at exit.
    """
    import errno
    import io

    buf = io.BytesIO()
    wb.save(buf)
    try:
        atomic_write_bytes(p, buf.getvalue())
    except PermissionError as exc:
        if p.exists():
            raise OutputLockedError(f"{p} cannot be replaced: it may be open in another "
                                    f"program ({exc.strerror})", p) from exc
        raise OutputNotWritableError(f"{p}: cannot write in {p.parent} ({exc.strerror})",
                                     p) from exc
    except OSError as exc:
        why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise OutputNotWritableError(f"{p}: writing failed ({why}); nothing was written",
                                     p) from exc


# ------------------------------------------------------------------ data
MONTHLY_SIM = [  # (key, header, kind): mean over replications of the monthly totals
    (k, metrics.label_of(k), metrics.kind_of(k)) for k in metrics.MONTHLY]
CF_SIM = [("cf_net_contribution", "Counterfactual net contribution", "cny"),
          ("cf_total_cost", "Counterfactual total cost", "cny")]


def monthly_means(res: RunResult) -> pd.DataFrame:
    """Month rows: mean over replications of the monthly totals (all segments and tiers)."""
    m = res.monthly
    cols = [k for k, _, _ in MONTHLY_SIM] + ["net_contribution", "total_cost", "members_end"]
    g = (m.groupby(["arm", "replication", "month"])[cols].sum()
         .groupby(["arm", "month"]).mean())
    out = g.loc["scenario"].copy()
    if "counterfactual" in g.index.get_level_values(0):
        cf = g.loc["counterfactual"]
        out["cf_net_contribution"] = cf["net_contribution"]
        out["cf_total_cost"] = cf["total_cost"]
    return out.reset_index()


def breakdown_means(res: RunResult) -> pd.DataFrame:
    """Month x segment x tier rows of the scenario arm, mean over replications."""
    m = res.monthly
    m = m[m["arm"] == "scenario"]
    cols = [k for k, _, _ in MONTHLY_SIM] + ["members_end"]
    g = m.groupby(["month", "segment", "tier"], sort=False)[cols].mean().reset_index()
    g["segment"] = pd.Categorical(g["segment"], res.segments, ordered=True)
    g["tier"] = pd.Categorical(g["tier"], res.tiers, ordered=True)
    g = g.sort_values(["month", "segment", "tier"]).reset_index(drop=True)
    g["segment"] = g["segment"].astype(str)
    g["tier"] = g["tier"].astype(str)
    return g


def members_by_tier(res: RunResult) -> pd.DataFrame:
    """Month rows, one column per tier: members at the end of the month (mean)."""
    b = res.band_by("members_end", by="tier")
    return b.pivot(index="month", columns="tier", values="mean").reindex(columns=res.tiers)


# ------------------------------------------------------------------ builder
class _Book:
    """Builds the workbook; remembers where things are so formulas can refer to them."""

    def __init__(self, results: Sequence[tuple[Scenario, Path | None, RunResult]],
                 base_index: int, out_name: str):
        self.results = list(results)
        self.base = base_index
        self.out_name = out_name
        self.wb = Workbook()
        self.kpis: list[Kpi] = [k for k in kpi_catalogue(self.results)  # vs base: 2+ scenarios
                                 if len(self.results) > 1 or k.section != "vs_base"]
        self.monthly_titles: list[str] = []
        self.monthly_cols: list[dict[str, int]] = []  # key -> column on each Monthly sheet
        self.monthly_first = 6  # first data row on Monthly sheets
        self.rate_cells: list[str] = []  # Inputs cell of each scenario's discount rate
        self.summary_rows: dict[str, int] = {}
        self.summary_mean_col: list[int] = []
        self.tier_blocks: list[tuple[int, int, int]] = []  # (header row, first col, n tiers)

    # -------------------------------------------------------------- sheets
    def build(self, optimisation) -> Workbook:
        wb = self.wb
        ws_sum = wb.active
        ws_sum.title = "Summary"
        ws_charts = wb.create_sheet("Charts")
        self.inputs(wb.create_sheet("Inputs"))
        for i in range(len(self.results)):
            title = "Monthly" if len(self.results) == 1 else f"Monthly {i + 1}"
            self.monthly(wb.create_sheet(title), i)
        self.breakdown(wb.create_sheet("Segments & tiers"))
        self.members(wb.create_sheet("Members by tier"))
        ws_defs = wb.create_sheet("Definitions")
        if optimisation is not None:
            self.optimisation(wb.create_sheet("Optimisation"), optimisation)
        self.manifest(wb.create_sheet("Manifest"))
        self.summary(ws_sum)
        self.definitions(ws_defs)
        self.charts(ws_charts)
        return wb

    # -------------------------------------------------------------- Summary
    def summary(self, ws) -> None:
        res0 = self.results[self.base][2]
        R = res0.meta.get("replications", res0.replications)
        seed = res0.meta.get("seed")
        multi = len(self.results) > 1
        put(ws, 1, 1, "Summary: KPIs over the horizon", font=TITLE)
        text = (f"Mean over {R} replications with its 95 % interval (Student t). "
                f"Money in CNY over {res0.horizon} months (unit CNY M: millions); NPV and LTV "
                "discounted. Each figure's definition: sheet Definitions.")
        if multi:
            text += (" Δ = scenario − base: the Δ column is a live formula over the means "
                     "beside it; its 95 % interval comes from the per-replication differences, "
                     f"because all scenarios ran with seed {seed} (common random numbers).")
        put(ws, 3, 1, f"{'Base' if multi else 'Scenario'}: "
                      f"{_label(self.base, self.results[self.base][0])}", font=BOLD)
        table = compare_scenarios(self.results, self.base, self.kpis)
        head, grp = 6, 5
        put(ws, head, 1, "KPI", font=BOLD, fill=HEAD_PLAIN)
        put(ws, head, 2, "Unit", font=BOLD, fill=HEAD_PLAIN)
        _width(ws, 1, 40)
        _width(ws, 2, 9)
        col = 3
        first_row = head + 1
        # Money rows of a million or more print in CNY millions, so that every scenario's
        # columns fit one landscape page at a readable size.
        big = set()
        for kp in self.kpis:
            if kp.kind != "money":
                continue
            vals = pd.to_numeric(table.loc[table["metric"] == kp.metric,
                                           ["mean", "ci95_low", "ci95_high"]].stack(),
                                 errors="coerce").abs()
            if vals.max() >= 1e6:
                big.add(kp.metric)
        for k, kp in enumerate(self.kpis):
            r = first_row + k
            self.summary_rows[kp.metric] = r
            put(ws, r, 1, kp.label.strip() if not kp.label.startswith("  ") else kp.label)
            unit = metrics.excel_unit(kp.metric)
            put(ws, r, 2, f"{unit} M" if kp.metric in big else unit)
        base_mean_col = None
        order = [self.base] + [i for i in range(len(self.results)) if i != self.base]
        self.summary_mean_col = [0] * len(self.results)
        group_ends: list[int] = []
        for i in order:
            sc = self.results[i][0]
            n = i + 1
            heads = [f"{n} mean", f"{n} 95% low", f"{n} 95% high"]
            if i != self.base:
                heads += [f"{n} Δ vs {self.base + 1}", f"{n} Δ 95% low", f"{n} Δ 95% high"]
            c0 = col
            put(ws, grp, c0, _label(i, sc, self.base if multi else None), font=BOLD)
            ws.merge_cells(start_row=grp, start_column=c0, end_row=grp,
                           end_column=c0 + len(heads) - 1)
            ws.cell(row=grp, column=c0).alignment = Alignment(horizontal="center",
                                                              wrap_text=True)
            for j, h in enumerate(heads):
                put(ws, head, c0 + j, h, font=BOLD,
                    fill=HEAD_FORMULA if "Δ vs" in h else HEAD_PLAIN)
            self.summary_mean_col[i] = c0
            if i == self.base:
                base_mean_col = c0
            rows = table[table["scenario_no"] == n].set_index("metric")
            for k, kp in enumerate(self.kpis):
                r = first_row + k
                f = MONEY_M if kp.metric in big else FMT[kp.kind]
                x = rows.loc[kp.metric]
                put(ws, r, c0, metrics.not_defined(x) or x["mean"], f)
                put(ws, r, c0 + 1, x["ci95_low"], f)
                put(ws, r, c0 + 2, x["ci95_high"], f)
                if i != self.base and kp.section == "absolute":
                    me = get_column_letter(c0)
                    bs = get_column_letter(base_mean_col)
                    formula(ws, r, c0 + 3, f'=IF(AND(ISNUMBER({me}{r}),ISNUMBER({bs}{r})),'
                                           f'{me}{r}-{bs}{r},"")', f)
                    put(ws, r, c0 + 4, x["delta_ci95_low"], f)
                    put(ws, r, c0 + 5, x["delta_ci95_high"], f)
            for j in range(len(heads)):
                _width(ws, c0 + j, 10)
            col = c0 + len(heads)
            group_ends.append(col - 1)
        put(ws, head, col, "Measured against", font=BOLD, fill=HEAD_PLAIN)
        against = {"vs_base": "the base (paired)",
                   "absolute": "absolute figure",
                   "own_counterfactual": "own counterfactual"}
        for k, kp in enumerate(self.kpis):
            put(ws, first_row + k, col, against[kp.section]).alignment = Alignment(
                horizontal="left", indent=1)
        _width(ws, col, 19)
        last_col = col
        last_row = first_row + len(self.kpis) - 1
        _table(ws, "SummaryKPIs", head, last_row, 1, last_col)
        base_name = _label(self.base, self.results[self.base][0], self.base if multi else None)
        r = last_row + 2
        # A queue that cannot keep up is said on the first page, not only in the waits.
        warnings = [(f"{_label(i, self.results[i][0])}: " if multi else "") + w
                    for i in order for w in self.results[i][2].service_warnings()]
        notes = [
            "Measured against: 'absolute figure' is the scenario's own total"
            + (f"; its Δ is scenario − base ({base_name}), paired by replication. 'the base "
               "(paired)': figures of the difference to the base, computed per replication "
               "pair" if multi else "") + ". 'own counterfactual': scenario − its own "
            "counterfactual (Manifest) — different scenarios may have different "
            "counterfactuals, so these are never subtracted across scenarios.",
            "Versus the base: NPV = Σ months of the base's discount factor × (scenario − base) "
            "net contribution; ROI = Δ net contribution / Δ total cost; payback month = first "
            "month from which the cumulative Δ net contribution stays ≥ 0 — all per "
            "replication pair, then averaged." if multi else
            "Versus the counterfactual: ROI = incremental contribution / incremental cost, per "
            "replication, then averaged. ROI to date on the Monthly sheet is the ratio of the "
            "mean totals, so it can differ slightly from the mean ROI.",
            "ROI reads 'not defined (no incremental cost)' when the scheme adds no cost (amounts "
            "within a billionth of the cost scale are rounding residue, not money); payback "
            "reads 'not reached within the horizon' if the cumulative cash flow ends below 0 "
            "and 'not defined (no change from the counterfactual)' if nothing changed.",
            "Monthly sheets: blue headers are simulated values, green headers are formulas "
            "over them; their totals equal the means here (up to rounding).",
        ]
        # Notes as wide as the first printed page.
        note_w = last_col if len(group_ends) <= PER_PAGE else group_ends[PER_PAGE - 1]
        note(ws, 2, text, note_w)
        if warnings:
            put(ws, r, 1, "Warnings", font=WARN)
            for j, t in enumerate(warnings):
                note(ws, r + 1 + j, t, note_w, font=WARN)
            r += len(warnings) + 2
        put(ws, r, 1, "Notes", font=BOLD)
        for j, t in enumerate(notes):
            note(ws, r + 1 + j, t, note_w)
        ws.freeze_panes = ws.cell(row=head + 1, column=3)
        ws.row_dimensions[head].height = 30
        ws.row_dimensions[grp].height = 30
        for c in range(1, col + 1):
            ws.cell(row=head, column=c).alignment = WRAP_HEAD
        ws.print_area = f"A1:{get_column_letter(last_col)}{r + len(notes)}"
        if len(group_ends) <= PER_PAGE:
            # One landscape page: every scenario's columns side by side with the notes.
            _print_setup(ws, f"{head}:{head}")
            ws.page_setup.fitToHeight = 1
        else:
            # More would be unreadable on one page: three scenarios a page, as wide as the
            # 3-scenario page, the KPI names repeated on each.
            ends = group_ends[PER_PAGE - 1::PER_PAGE]
            ends = [e for e in ends if e != group_ends[-1]] + [last_col]
            _print_sections(ws, 2, ends, f"{head}:{head}", r + len(notes))

    # -------------------------------------------------------------- Definitions
    def definitions(self, ws) -> None:
        """Each Summary figure's definition, from the metric catalogue (as the GUI's tooltips)."""
        put(ws, 1, 1, "Definitions of the Summary's figures", font=TITLE)
        _width(ws, 1, 150)
        r = 3
        put(ws, r, 1, "Definitions", font=BOLD)
        seen: set[str] = set()
        for kp in self.kpis:
            m = metrics.metric(kp.metric)
            if kp.metric in seen or not m.definition:
                continue
            seen.add(kp.metric)
            r += 1
            note(ws, r, f"{m.label}: {m.definition}.", 1)
        _print_setup(ws)

    # -------------------------------------------------------------- Inputs
    def inputs(self, ws) -> None:
        n = len(self.results)
        put(ws, 1, 1, "Inputs: every parameter of every scenario", font=TITLE)
        put(ws, 2, 1, f"Flattened scenario files. Highlighted cells differ from the base "
                      f"{_label(self.base, self.results[self.base][0])}.", font=NOTE)
        head = 4
        put(ws, head, 1, "Parameter", font=BOLD, fill=HEAD_PLAIN)
        for i, (sc, _, _) in enumerate(self.results):
            put(ws, head, 2 + i, _label(i, sc, self.base), font=BOLD, fill=HEAD_PLAIN)
        put(ws, head, 2 + n, "Differs from base", font=BOLD, fill=HEAD_PLAIN)
        flats = [flat_inputs(sc) for sc, _, _ in self.results]
        meta_rows = []
        for sc, p, res in self.results:
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
            max_w[0] = max(max_w[0], _text_width(path))
            bv = vals[self.base]
            differs = False
            lines = 1
            for i, v in enumerate(vals):
                c = put(ws, r, 2 + i, v)
                multi = isinstance(v, str) and ("\n" in v or _text_width(v) > 48)
                c.alignment = LEFT_WRAP if multi else LEFT
                if multi and isinstance(v, str):
                    lines = max(lines, min(20, sum(max(1, math.ceil(_text_width(x) / 44))
                                                   for x in v.split("\n"))))
                if v is not None:
                    max_w[i + 1] = max(max_w[i + 1], min(_text_width(str(v)), 48))
                if i != self.base and not _eq(v, bv):
                    c.fill = DIFF
                    differs = True
            if lines > 1:
                ws.row_dimensions[r].height = 15 * lines
            if differs:
                put(ws, r, 2 + n, "Yes")
            if path == "run.discount_rate_annual":
                self.rate_cells = [ref("Inputs", 2 + i, r, absolute=True) for i in range(n)]
        _width(ws, 1, min(max_w[0] + 2, 60))
        for i in range(n):
            _width(ws, 2 + i, max(min(max_w[i + 1] + 2, 50), 16))
        _width(ws, 2 + n, 12)
        _table(ws, "Inputs", head, r, 1, 2 + n)
        ws.freeze_panes = ws.cell(row=head + 1, column=2)
        _print_setup(ws, f"{head}:{head}")

    # -------------------------------------------------------------- Monthly
    def monthly(self, ws, i: int) -> None:
        sc, _, res = self.results[i]
        title = ws.title
        self.monthly_titles.append(title)
        df = monthly_means(res)
        has_cf = "cf_net_contribution" in df
        H = len(df)
        multi = len(self.results) > 1
        # Column A repeats on every printed section: the titles start in column B, so
        # that no section page shows them cut off.
        name = _label(i, sc, self.base if multi else None)
        put(ws, 1, 2, f"Monthly projection: {name}", font=TITLE)
        put(ws, 2, 2, f"Mean over {res.replications} replications of the monthly totals (real "
                      "customers, CNY). Blue headers: simulated values. Green headers: formulas "
                      "over them.", font=NOTE)
        put(ws, 3, 2, "Annual discount rate", font=BOLD)
        put(ws, 4, 2, "Counterfactual", font=BOLD)
        for rr in (3, 4):
            ws.merge_cells(start_row=rr, start_column=2, end_row=rr, end_column=3)
        rate = self.rate_cells[i] if self.rate_cells else None
        if rate:
            formula(ws, 3, 4, f"={rate}", "0.00%")
        else:
            put(ws, 3, 4, sc.run.discount_rate_annual, "0.00%")
        put(ws, 3, 5, "← from Inputs (run.discount_rate_annual); discount factor of month m "
                      "= (1 + rate)^(−m/12)", font=NOTE)
        put(ws, 4, 4, res.meta.get("counterfactual", "none" if not has_cf else ""))
        head = 5
        first = head + 1
        last = first + H - 1
        self.monthly_first = first
        cols: dict[str, int] = {}
        spec = [("month", "Month", "int")] + MONTHLY_SIM + (CF_SIM if has_cf else [])
        for j, (key, h, kind) in enumerate(spec, start=1):
            cols[key] = j
            put(ws, head, j, h, font=BOLD, fill=HEAD_SIM)
            _width(ws, j, WIDTH[kind])
            vals = df[key].to_numpy() if key != "month" else df["month"].to_numpy()
            f = FMT[kind]
            for k in range(H):
                put(ws, first + k, j, vals[k], f)
        derived = [("total_cost", "Total cost", "cny"), ("net", "Net contribution", "cny"),
                   ("cum_cash", "Cumulative cash flow", "cny"),
                   ("df", "Discount factor", "factor"),
                   ("dcf", "Discounted cash flow", "cny")]
        if has_cf:
            derived += [("incr", "Incremental contribution", "cny"),
                        ("cum_incr", "Cumulative incremental", "cny"),
                        ("npv", "NPV to date (incremental)", "cny"),
                        ("inc_cost", "Incremental cost", "cny"),
                        ("roi", "ROI to date", "ratio")]
        j0 = len(spec) + 1
        for j, (key, h, kind) in enumerate(derived, start=j0):
            cols[key] = j
            put(ws, head, j, h, font=BOLD, fill=HEAD_FORMULA)
            _width(ws, j, WIDTH[kind] - (1 if kind == "cny" else 0))
        L = {k: get_column_letter(c) for k, c in cols.items()}
        for k in range(H):
            r = first + k
            fc = {key: cols[key] for key, _, _ in derived}

            def w(key, text, kind):
                formula(ws, r, fc[key], text, FMT[kind])

            w("total_cost", f"=SUM({L['benefit_cost']}{r}:{L['acquisition_cost']}{r})", "cny")
            w("net", f"={L['gross_margin']}{r}-{L['total_cost']}{r}", "cny")
            w("cum_cash", f"={L['net']}{r}" if k == 0 else f"={L['cum_cash']}{r - 1}+{L['net']}{r}",
              "cny")
            w("df", f"=(1+$D$3)^(-{L['month']}{r}/12)", "factor")
            w("dcf", f"={L['net']}{r}*{L['df']}{r}", "cny")
            if has_cf:
                w("incr", f"={L['net']}{r}-{L['cf_net_contribution']}{r}", "cny")
                w("cum_incr", f"={L['incr']}{r}" if k == 0
                  else f"={L['cum_incr']}{r - 1}+{L['incr']}{r}", "cny")
                w("npv", f"={L['incr']}{r}*{L['df']}{r}" if k == 0
                  else f"={L['npv']}{r - 1}+{L['incr']}{r}*{L['df']}{r}", "cny")
                w("inc_cost", f"={L['total_cost']}{r}-{L['cf_total_cost']}{r}", "cny")
                ic, inc = L["inc_cost"], L["incr"]
                # As results.roi_and_payback: a cost within a billionth of the cost scale
                # (both arms' costs, the margin) is rounding residue: no ROI (blank).
                scale = ",".join(f"ABS(SUM({L[c]}${first}:{L[c]}{r}))"
                                 for c in ("total_cost", "cf_total_cost", "gross_margin"))
                w("roi", f"=IF(SUM({ic}${first}:{ic}{r})>{COST_TOL:.0E}*MAX({scale}),"
                         f"SUM({inc}${first}:{inc}{r})/SUM({ic}${first}:{ic}{r}),\"\")", "ratio")
        _table(ws, f"Monthly{i + 1}", head, last, 1, j0 + len(derived) - 1)
        # Totals below the table (flows only), so an auditor can tie them to Summary.
        tr = last + 1
        put(ws, tr, 1, "Total", font=BOLD)
        flows = (["new_customers", "churned_customers", "orders", "gross_revenue", "gross_margin",
                  "benefit_cost", "promotion_cost", "service_cost", "acquisition_cost",
                  "total_cost", "net", "dcf"]
                 + (["cf_net_contribution", "cf_total_cost", "incr", "inc_cost"]
                    if has_cf else []))
        kinds = {k: kd for k, _, kd in spec + derived}
        for key in flows:
            c = formula(ws, tr, cols[key], f"=SUM({L[key]}{first}:{L[key]}{last})",
                        FMT[kinds[key]])
            c.font = BOLD
        ws.row_dimensions[head].height = 32
        for c in range(1, j0 + len(derived)):
            ws.cell(row=head, column=c).alignment = WRAP_HEAD
        ws.freeze_panes = ws.cell(row=first, column=2)
        # Printed in page-wide sections, the month column and the headers repeated:
        # customers and revenue; costs (and the counterfactual's); cash flow; incremental.
        ends = [cols["gross_margin"], len(spec), cols["dcf"]] + ([cols["roi"]] if has_cf else [])
        captions = ["costs" + (" (and the counterfactual's)" if has_cf else ""),
                    "cash flow (formulas)", "incremental, vs the counterfactual (formulas)"]
        for e, cap in zip(ends[:-1], captions):  # each later section's own title
            put(ws, 1, e + 1, f"{name}: {cap}", font=BOLD)
        # The notes wrap within the first section.
        for rr, c0 in ((2, 2), (3, 5), (4, 4)):
            ws.merge_cells(start_row=rr, start_column=c0, end_row=rr, end_column=ends[0])
            ws.cell(row=rr, column=c0).alignment = LEFT_WRAP
        ws.row_dimensions[2].height = 30
        ws.row_dimensions[3].height = 30
        _print_sections(ws, 1, ends, f"{head}:{head}", tr)
        self.monthly_cols.append(cols)

    # -------------------------------------------------------------- breakdown
    def breakdown(self, ws) -> None:
        put(ws, 1, 1, "Segments & tiers: figures by segment and current tier", font=TITLE)
        put(ws, 2, 1, "Mean over replications (scenario arm). Total cost and net contribution "
                      "are formulas over the simulated columns; the horizon totals are sums "
                      "over the monthly detail below them.", font=NOTE)
        spec: list[tuple[str, str, str | None]] = (
                [("no", "No", "int"), ("month", "Month", "int"),
                 ("segment", "Segment", None), ("tier", "Tier", None)]
                + MONTHLY_SIM + [("members_end", "Members (end of month)", "count")])
        derived: list[tuple[str, str, str | None]] = [
            ("total_cost", "Total cost", "cny"), ("net", "Net contribution", "cny")]
        heads = spec + derived
        ncol = len(heads)
        col = {k: j for j, (k, _, _) in enumerate(heads, start=1)}
        L = {k: get_column_letter(c) for k, c in col.items()}
        for j, (_, _, kind) in enumerate(heads, start=1):
            _width(ws, j, WIDTH.get(kind, 14) if kind else 14)
        _width(ws, col["no"], 6)
        _width(ws, col["month"], 7)
        sim_keys = [k for k, _, _ in MONTHLY_SIM] + ["members_end"]
        kinds: dict[str, Any] = {k: kind for k, _, kind in heads}
        frames = []
        for i, (sc, _, res) in enumerate(self.results):
            df = breakdown_means(res)
            df = df.sort_values(["segment", "tier", "month"], kind="stable", key=lambda s: (
                s.map({v: n for n, v in enumerate(res.segments)}) if s.name == "segment" else
                s.map({v: n for n, v in enumerate(res.tiers)}) if s.name == "tier" else s))
            # A segment with nobody in a tier that month has nothing to show.
            empty = (df[sim_keys].abs() < 0.005).all(axis=1)
            frames.append((df[~empty].reset_index(drop=True), res.horizon))

        def header(r, title_month: str):
            for j, (key, h, kind) in enumerate(heads, start=1):
                h = title_month if j == col["month"] else h
                put(ws, r, j, h, font=BOLD,
                    fill=HEAD_FORMULA if (key, h, kind) in derived else HEAD_SIM)
                # Figures' headers right-aligned, over their numbers.
                ws.cell(row=r, column=j).alignment = (
                    WRAP_HEAD if kind is None or key in ("no", "month") else WRAP_HEAD_RIGHT)
            ws.row_dimensions[r].height = 45

        # Scenario key: the detail names each scenario by its number only.
        r = 4
        put(ws, r, 1, "No", font=BOLD)
        put(ws, r, 2, "Scenario", font=BOLD)
        for i, (sc, _, _) in enumerate(self.results):
            r += 1
            put(ws, r, 1, i + 1, FMT["int"]).alignment = CENTER
            put(ws, r, 2, _label(i, sc, self.base if len(self.results) > 1 else None))
        # Horizon totals (printed), then the monthly detail they sum (a filterable table).
        r += 2
        put(ws, r, 1, "Totals over the horizon", font=BOLD)
        tot_head = r + 1
        n_groups = sum(len(df.groupby(["segment", "tier"], sort=False)) for df, _ in frames)
        det_title = tot_head + 1 + n_groups + 2
        det_head = det_title + 1
        header(tot_head, "Months")
        header(det_head, "Month")
        put(ws, det_title, 1, "Monthly detail (not in the print area: filter the table and "
                              "print the selection)", font=BOLD)
        rt, rd = tot_head, det_head
        flows = [k for k in sim_keys if k not in ("active_customers", "members_end")]
        for i, (df, H) in enumerate(frames):
            arrays = {k: df[k].to_numpy() for k, _, _ in spec[1:]}
            start = rd + 1
            for k in range(len(df)):
                rd += 1
                put(ws, rd, col["no"], i + 1, FMT["int"]).alignment = CENTER
                for key, _, kind in spec[1:]:
                    put(ws, rd, col[key], arrays[key][k], FMT[kind] if kind else None)
                formula(ws, rd, col["total_cost"],
                        f"=SUM({L['benefit_cost']}{rd}:{L['acquisition_cost']}{rd})",
                        FMT["cny"])
                formula(ws, rd, col["net"], f"={L['gross_margin']}{rd}-{L['total_cost']}{rd}",
                        FMT["cny"])
            # Rows of one segment and tier are consecutive: their totals are plain SUMs.
            keys = list(zip(df["segment"], df["tier"]))
            a = 0
            while a < len(keys):
                b = a
                while b + 1 < len(keys) and keys[b + 1] == keys[a]:
                    b += 1
                rt += 1
                r0, r1 = start + a, start + b
                put(ws, rt, col["no"], i + 1, FMT["int"]).alignment = CENTER
                put(ws, rt, col["month"], f"1–{H}").alignment = CENTER
                put(ws, rt, col["segment"], keys[a][0])
                put(ws, rt, col["tier"], keys[a][1])
                for key in flows + ["total_cost", "net"]:
                    formula(ws, rt, col[key], f"=SUM({L[key]}{r0}:{L[key]}{r1})",
                            FMT[kinds[key]])
                months = df["month"].to_numpy()
                if int(months[b]) == H:
                    formula(ws, rt, col["members_end"], f"={L['members_end']}{r1}",
                            FMT["count"])
                else:
                    put(ws, rt, col["members_end"], 0, FMT["count"])
                a = b + 1
        _table(ws, "SegmentsTiersTotals", tot_head, rt, 1, ncol)
        _table(ws, "SegmentsTiers", det_head, rd, 1, ncol)
        _print_setup(ws, f"{tot_head}:{tot_head}")
        ws.print_area = f"A1:{get_column_letter(ncol)}{rt}"

    # -------------------------------------------------------------- members by tier
    def members(self, ws) -> None:
        put(ws, 1, 1, "Members by tier (end of month, mean over replications)", font=TITLE)
        r = 3
        widest = 0
        for i, (sc, _, res) in enumerate(self.results):
            pv = members_by_tier(res)
            put(ws, r, 1, _label(i, sc, self.base if len(self.results) > 1 else None), font=BOLD)
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
            self.tier_blocks.append((head, 1, len(res.tiers)))
            widest = max(widest, tot)
            r = head + len(pv) + 3
        _width(ws, 1, 10)
        for c in range(2, widest + 1):
            _width(ws, c, 13)
        _print_setup(ws)

    # -------------------------------------------------------------- optimisation
    def optimisation(self, ws, opt) -> None:
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
            _width(ws, j, max(14, min(_text_width(str(name)) + 2, 30)))
        for row in range(len(df)):
            for j, name in enumerate(df.columns, start=1):
                v = df.iat[row, j - 1]
                c = put(ws, head + 1 + row, j, v)
                if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                    c.number_format = _fmt_for_name(str(name))
        if len(df.columns):
            _table(ws, "Optimisation", head, head + max(len(df), 1), 1, len(df.columns))
        _width(ws, 1, max(30, ws.column_dimensions["A"].width or 0))
        ws.freeze_panes = ws.cell(row=head + 1, column=1)
        _print_setup(ws, f"{head}:{head}")

    # -------------------------------------------------------------- manifest
    def manifest(self, ws) -> None:
        res0 = self.results[self.base][2]
        m = res0.meta
        put(ws, 1, 1, "Manifest: how these numbers were produced", font=TITLE)
        rows = [
            ("Product", f"benefit-sim {m.get('version', __version__)}"),
            ("Excel export version", __version__),
            ("Created", _dt.datetime.now().replace(microsecond=0)),
            ("Seed", m.get("seed")),
            ("Replications", m.get("replications")),
            ("Sample size (simulated customers)", m.get("agents")),
            ("Horizon (months)", m.get("horizon_months")),
            ("Python packages", _package_versions()),
            ("Common random numbers", "yes: every scenario ran with the same seed, "
             "replications and sample" if len(self.results) > 1 else
             "scenario and counterfactual share their random streams"),
        ]
        r = 3
        for k, v in rows:
            put(ws, r, 1, k, font=BOLD)
            c = put(ws, r, 2, v)
            if isinstance(v, _dt.datetime):
                c.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(v, int):
                c.number_format = "0" if k == "Seed" else "#,##0"
            c.alignment = Alignment(horizontal="left")
            r += 1
        r += 1
        put(ws, r, 1, "Reproduce with", font=BOLD)
        cmd, caveats = self.command()
        put(ws, r, 2, cmd, font=Font(name="DejaVu Sans Mono", size=10))
        for j, cv in enumerate(caveats):
            put(ws, r + 1 + j, 2, cv, font=NOTE)
        r += 2 + len(caveats)
        head = r
        n = len(self.results)
        put(ws, head, 1, "Scenario", font=BOLD, fill=HEAD_PLAIN)
        for i, (sc, _, _) in enumerate(self.results):
            put(ws, head, 2 + i, _label(i, sc, self.base if n > 1 else None), font=BOLD,
                fill=HEAD_PLAIN)
        fields = [("File", None), ("File SHA-256 (16 hex)", None), ("Scenario hash", None),
                  ("Counterfactual", None), ("Base scenario hash", None),
                  ("Annual discount rate", "0.00%"),
                  ("Customers", "#,##0"), ("Customers per simulated customer", "#,##0.0"),
                  ("Replications", "0"), ("Run time (s)", "0.00")]
        for i, (sc, p, res) in enumerate(self.results):
            mm = res.meta
            vals = ["(not saved)" if p is None else str(p),
                    file_hash(p) if p is not None and Path(p).exists() else "",
                    mm.get("scenario_hash") or scenario_hash(sc), mm.get("counterfactual", ""),
                    mm.get("base_hash") or "",
                    sc.run.discount_rate_annual, mm.get("customers", sc.population.customers),
                    mm.get("customers_per_agent"), mm.get("replications", res.replications),
                    mm.get("elapsed_seconds")]
            for j, ((_, f), v) in enumerate(zip(fields, vals)):
                c = put(ws, head + 1 + j, 2 + i, v, f)
                c.alignment = LEFT
        for j, (k, _) in enumerate(fields):
            put(ws, head + 1 + j, 1, k)
        _table(ws, "Scenarios", head, head + len(fields), 1, 1 + n)
        _width(ws, 1, 34)
        for i in range(n):
            _width(ws, 2 + i, 48)
        _print_setup(ws)

    def command(self) -> tuple[str, list[str]]:
        """The CLI command that reproduces the workbook, and caveats."""
        res0 = self.results[self.base][2]
        m = res0.meta
        caveats = []
        args = []
        order = [self.base] + [i for i in range(len(self.results)) if i != self.base]
        for i in order:
            sc, p, _ = self.results[i]
            if p is None:
                args.append(shlex.quote(f"<save scenario {i + 1} first>"))
                caveats.append(f"Scenario [{i + 1}] {sc.name} was not saved to a file.")
            elif Path(p).resolve().parent == SHIPPED_DIR:
                args.append(Path(p).stem)
            else:
                args.append(shlex.quote(str(p)))
        verb = "export" if len(self.results) == 1 else "compare"
        cmd = (f"benefit-sim {verb} {' '.join(args)} --excel {shlex.quote(self.out_name)} "
               f"--seed {m.get('seed')} --replications {m.get('replications')} "
               f"--agents {m.get('agents')}")
        H = m.get("horizon_months")
        if H is not None and H != self.results[self.base][0].run.horizon_months:
            cmd += f" --months {H}"
        return cmd, caveats

    # -------------------------------------------------------------- charts
    def charts(self, ws) -> None:
        put(ws, 1, 1, "Charts (native Excel charts over the workbook's cells)", font=TITLE)
        anchors: list[str] = []
        W, Hh = 17.0, 8.5  # cm
        row = 3

        slot = 0

        def place(chart):
            nonlocal row, slot
            k = slot
            slot += 1
            col = "A" if k % 2 == 0 else "K"
            if chart is not None:
                chart.width, chart.height = W, Hh
                anchor = f"{col}{row}"
                ws.add_chart(chart, anchor)
                anchors.append(anchor)
            if k % 2 == 1:
                row += 18
                if k % 4 == 3:  # two rows of charts per printed page
                    ws.row_breaks.append(Break(id=row - 1))
                    row += 1

        # 1. KPI comparison bars (the money KPIs at the top of Summary).
        ssum = self.wb["Summary"]
        # Absolute figures (comparable across scenarios), consecutive rows of the Summary.
        money = ["net_contribution", "npv_net_contribution", "total_cost", "revenue"]
        rows = [self.summary_rows[k] for k in money]
        bc = BarChart()
        bc.type = "col"
        bc.grouping = "clustered"
        bc.title = "KPI comparison (mean, CNY)"
        for i, (sc, _, _) in enumerate(self.results):
            c = self.summary_mean_col[i]
            bc.add_data(Reference(ssum, min_col=c, min_row=rows[0], max_row=rows[-1]),
                        titles_from_data=False)
            bc.series[-1].tx = SeriesLabel(v=_clean(_label(i, sc)))
        bc.set_categories(Reference(ssum, min_col=1, min_row=rows[0], max_row=rows[-1]))
        self._axes(bc, money=True)
        place(bc)

        # 2. Cumulative cash flow by scenario; 3. cumulative incremental.
        for key, title in (("cum_cash", "Cumulative cash flow by scenario (CNY)"),
                           ("cum_incr", "Cumulative incremental contribution (CNY)")):
            lc = LineChart()
            lc.title = title
            for i, (sc, _, res) in enumerate(self.results):
                cols = self.monthly_cols[i]
                if key not in cols:
                    continue
                wsm = self.wb[self.monthly_titles[i]]
                first = self.monthly_first
                lc.add_data(Reference(wsm, min_col=cols[key], min_row=first,
                                      max_row=first + res.horizon - 1), titles_from_data=False)
                lc.series[-1].tx = SeriesLabel(v=_clean(_label(i, sc)))
            if not lc.series:
                continue
            wsm0 = self.wb[self.monthly_titles[self.base]]
            lc.set_categories(Reference(wsm0, min_col=1, min_row=self.monthly_first,
                                        max_row=self.monthly_first
                                        + self.results[self.base][2].horizon - 1))
            self._axes(lc, money=True)
            place(lc)

        # Per scenario, on a row of its own: revenue / cost / contribution, members by tier.
        wsmem = self.wb["Members by tier"]
        for i, (sc, _, res) in enumerate(self.results):
            if slot % 2 == 1:  # leave the right-hand place beside a lone comparison empty
                place(None)
            wsm = self.wb[self.monthly_titles[i]]
            cols = self.monthly_cols[i]
            first = self.monthly_first
            last = first + res.horizon - 1
            lc = LineChart()
            lc.title = _clean(f"[{i + 1}] revenue, cost and net contribution (CNY/month)")
            for key in ("gross_revenue", "total_cost", "net"):
                lc.add_data(Reference(wsm, min_col=cols[key], min_row=first - 1, max_row=last),
                            titles_from_data=True)
            lc.set_categories(Reference(wsm, min_col=1, min_row=first, max_row=last))
            self._axes(lc, money=True)
            place(lc)

            head, c0, nt = self.tier_blocks[i]
            ac = AreaChart()
            ac.grouping = "stacked"
            ac.title = _clean(f"[{i + 1}] members by tier (end of month)")
            ac.add_data(Reference(wsmem, min_col=c0 + 1, max_col=c0 + nt, min_row=head,
                                  max_row=head + res.horizon), titles_from_data=True)
            ac.set_categories(Reference(wsmem, min_col=c0, min_row=head + 1,
                                        max_row=head + res.horizon))
            self._axes(ac, money=False)
            place(ac)
        _print_setup(ws)

    @staticmethod
    def _axes(ch, money: bool) -> None:
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.y_axis.number_format = '#,##0,," M"' if money else "#,##0"
        ch.legend.position = "b"
        ch.x_axis.tickLblPos = "low"  # month labels below the plot, also for negative values
        if isinstance(ch, LineChart):
            ch.x_axis.title = "Month"
            for s in ch.series:
                s.smooth = False
                s.marker.symbol = "none"
        elif isinstance(ch, AreaChart):
            ch.x_axis.title = "Month"


def _package_versions() -> str:
    import importlib.metadata as md
    import platform

    out = [f"Python {platform.python_version()}"]
    for name in ("numpy", "pandas", "simpy", "scipy", "openpyxl"):
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(out)


def _eq(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _fmt_for_name(name: str) -> str:
    n = name.lower()
    if "cny" in n or "budget" in n or "cost" in n or "npv" in n or "¥" in n:
        return FMT["cny"]
    if "share" in n or "roi" in n or "rate" in n or "%" in n:
        return FMT["share"]
    return FMT["num"]


# ------------------------------------------------------------------ public
def build_workbook(results: Sequence[tuple[Scenario, Path | None, RunResult]],
                   base_index: int = 0, optimisation=None,
                   out_name: str = "out.xlsx") -> Workbook:
    """The workbook object (not saved); see :func:`write_workbook`."""
    if not results:
        raise ValueError("results: at least one scenario is required")
    if not 0 <= base_index < len(results):
        raise ValueError(f"base_index: {base_index} must be in 0..{len(results) - 1}")
    check_results(results)
    return _Book(results, base_index, out_name).build(optimisation)


def check_results(results: Sequence[tuple[Scenario, Path | None, RunResult]]) -> None:
    """Refuse (ResultMismatch) results that do not belong to the scenarios shown beside them.

    Each result must come from its scenario's current inputs and from the base
    scenario that scenario names now (resolved by :mod:`simulator.loader`, as a
    run does); several results must share seed, replications, sample and horizon.
    """
    from simulator.loader import base_of
    from simulator.provenance import check_matches, check_same_sample

    for sc, p, res in results:
        check_matches(res, sc, base_of(sc, p))
    check_same_sample([res for _, _, res in results])


def write_workbook(results: Sequence[tuple[Scenario, Path | None, RunResult]],
                   out_path: str | os.PathLike, base_index: int = 0, optimisation=None, *,
                   overwrite: bool = False) -> Path:
    """Write the audit workbook atomically; return its path.

    Raises an :class:`ExportError` subclass for a bad target (exists without
    ``overwrite``, folder missing or not writable, file open elsewhere); the
    existing file, if any, is then left as it was.
    """
    check_results(results)  # before touching the target
    p = check_output(out_path, overwrite=overwrite)
    wb = build_workbook(results, base_index, optimisation, out_name=p.name)
    _save_atomic(wb, p)
    return p
