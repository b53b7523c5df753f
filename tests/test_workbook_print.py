"""The workbook prints as finance expects (issue 13): page layout, not numbers.

A 3-scenario comparison of shipped scenarios at a small sample: the Summary on
one landscape page, Monthly sheets in readable page-wide sections with live
formulas, Segments & tiers printing its horizon totals, booleans as Yes/No, no
money residues, charts in order. With LibreOffice installed the sheets are
rendered to PDF and their pages counted.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

import scenarios
from simulator import excel
from simulator.compare import run_scenarios
from simulator.loader import load_scenario

KEYS = ("xinghe_today", "xinghe_3h_golden_response", "xinghe_yinhe_6tier")
A4_LANDSCAPE_CM = 27.7  # printable width with the workbook's 0.4" side margins


@pytest.fixture(scope="module")
def cmp(tmp_path_factory):
    d = tmp_path_factory.mktemp("print")
    lds = [load_scenario(k) for k in KEYS]
    results = run_scenarios([(ld.scenario, ld.path) for ld in lds], agents=300,
                            replications=2, workers=1, bases=[ld.base_scenario for ld in lds])
    out = d / "cmp.xlsx"
    excel.write_workbook(results, out)
    return {"path": out, "wb": openpyxl.load_workbook(out), "results": results, "dir": d}


def _width(ws, first: int, last: int) -> float:
    return sum(ws.column_dimensions[get_column_letter(c)].width or 9
               for c in range(first, last + 1))


def test_summary_is_set_to_print_on_one_landscape_page(cmp):
    ws = cmp["wb"]["Summary"]
    ps = ws.page_setup
    assert ps.orientation == "landscape" and int(ps.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ps.fitToWidth, ps.fitToHeight) == (1, 1)
    assert not ws.col_breaks.brk  # no scenario pushed onto a second page
    assert ws.print_title_rows == "$6:$6"
    # Narrow enough to be readable at one page: under 250 character widths in all
    # (was 15 x 16 + 34 + 10 + 44 = 328 for three scenarios).
    last = column_index_from_string(re.search(r":\$([A-Z]+)\$\d+$", ws.print_area).group(1))
    assert _width(ws, 1, last) < 250
    # Its notes are inside the print area; the definitions have a sheet of their own.
    texts = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert "Notes" in texts and "Definitions" not in texts
    assert int(ws.print_area.rsplit("$", 1)[1]) == ws.max_row
    assert "Definitions" in cmp["wb"]["Definitions"]["A3"].value


def test_more_than_three_scenarios_print_three_a_page(cmp):
    """Five scenarios on one page would be ~4 pt: base + 2, then the next ones, KPIs repeated."""
    res = cmp["results"]
    wb = excel.build_workbook(res + res[1:3])
    ws = wb["Summary"]
    assert not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_cols == "$A:$B"
    heads = {c.value: c.column for c in ws[6] if c.value}
    assert [b.id for b in ws.col_breaks.brk] == [heads["3 Δ 95% high"]]
    assert ws.page_setup.scale >= 40


def test_monthly_sheets_print_in_readable_sections_with_live_formulas(cmp):
    for i in range(len(KEYS)):
        ws = cmp["wb"][f"Monthly {i + 1}"]
        ps = ws.page_setup
        assert ps.orientation == "landscape"
        # Manual column breaks (fit-to-page would make LibreOffice ignore them).
        assert not ws.sheet_properties.pageSetUpPr.fitToPage
        breaks = [b.id for b in ws.col_breaks.brk]
        heads = {c.value: c.column for c in ws[5] if c.value}
        assert breaks == [heads["Gross margin"], heads["Counterfactual total cost"],
                          heads["Discounted cash flow"]]
        assert ws.print_title_cols == "$A:$A" and ws.print_title_rows == "$5:$5"
        # Each section fits the page width at the sheet's scale, even with a wide substitute
        # font (0.27 cm a width unit), at 70 % or more (was 23 columns on one page, ~4-5 pt).
        assert ps.scale >= 70
        ends = breaks + [ws.max_column]
        starts = [2] + [b + 1 for b in breaks]
        for a, b in zip(starts, ends):
            cm = (_width(ws, 1, 1) + _width(ws, a, b)) * 0.27 * ps.scale / 100
            assert cm <= A4_LANDSCAPE_CM, (ws.title, a, b, cm)
        # The sections' titles sit in their own columns, so none is cut off in print.
        assert ws["A1"].value is None and "Monthly projection" in ws["B1"].value
        for b in breaks:
            assert ws.cell(1, b + 1).value.startswith(f"[{i + 1}]")
        # Formulas stay live.
        for h in ("Total cost", "Net contribution", "NPV to date (incremental)", "ROI to date"):
            assert ws.cell(6, heads[h]).data_type == "f", h


def test_segments_and_tiers_prints_its_horizon_totals(cmp):
    ws = cmp["wb"]["Segments & tiers"]
    tot = ws.tables["SegmentsTiersTotals"].ref
    first, last = tot.split(":")
    last_row = int(last.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    assert ws.print_area.endswith(f"${last_row}")
    n_combos = sum(len(r.segments) * len(r.tiers) for _, _, r in cmp["results"])
    assert last_row - int(first[1:]) <= n_combos
    # The scenario is named once, in the key; rows carry its number.
    names = [sc.name for sc, _, _ in cmp["results"]]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for name in names:
        assert sum(name in v for v in cells) == 1, name
    # Totals are live sums over the detail.
    assert any(c.data_type == "f" and c.value.startswith("=SUM(") for c in ws[last_row])


def test_no_boolean_prints_as_true_or_false(cmp):
    for ws in cmp["wb"].worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not isinstance(c.value, bool), (ws.title, c.coordinate)
                assert c.data_type != "b", (ws.title, c.coordinate)
                if isinstance(c.value, str):
                    assert c.value.strip().lower() not in ("true", "false"), (ws.title,
                                                                              c.coordinate)
    inputs = cmp["wb"]["Inputs"]
    vals = {inputs.cell(r, 2).value for r in range(5, inputs.max_row + 1)}
    assert {"Yes", "No"} <= vals


def test_money_residues_are_written_as_zero(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    fmt = excel.FMT["money"]
    assert excel.put(ws, 1, 1, -0.004, fmt).value == 0.0  # would print as a red "-¥0"
    assert excel.put(ws, 2, 1, -0.6, fmt).value == -0.6  # real money stays
    assert excel.put(ws, 3, 1, 0.004, "0.0%").value == 0.004  # not money: untouched
    assert excel.put(ws, 4, 1, True).value == "Yes" and excel.put(ws, 5, 1, False).value == "No"


def test_no_money_cell_holds_a_residue(cmp):
    money = {excel.FMT["money"], excel.FMT["cny"], excel.MONEY_M}
    for ws in cmp["wb"].worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.number_format in money and isinstance(c.value, float):
                    assert c.value == 0 or abs(c.value) >= 0.005, (ws.title, c.coordinate)


def test_summary_money_totals_share_one_unit(cmp):
    """A Δ row under ¥1 M read "CNY" between rows in "CNY M": totals now share one unit."""
    from simulator.metrics import METRICS

    ws = cmp["wb"]["Summary"]
    by_label = {m.label: m for m in METRICS.values()}
    units = {}
    for r in range(7, ws.max_row + 1):
        m = by_label.get(str(ws.cell(r, 1).value or "").strip())
        if m is not None and m.kind == "money":
            units.setdefault(m.unit, set()).add(ws.cell(r, 2).value)
    assert units["CNY"] == {"CNY M"}, units


def test_money_differences_are_rounded_to_the_fen(cmp):
    """Float residue of two equal amounts never prints as a red −¥0 / −¥1."""
    wb = cmp["wb"]
    ws = wb["Summary"]
    money = {excel.FMT["money"], excel.MONEY_M}
    deltas = [c for row in ws.iter_rows(min_row=7) for c in row
              if isinstance(c.value, str) and c.value.startswith("=IF(AND(ISNUMBER")]
    assert deltas
    for c in deltas:
        assert ("ROUND(" in c.value) == (c.number_format in money), (c.coordinate, c.value)
    mon = wb["Monthly 1"]
    heads = {mon.cell(5, j).value: j for j in range(1, mon.max_column + 1)}
    for h in ("Net contribution", "Incremental contribution", "Incremental cost"):
        col = heads[h]
        assert mon.cell(6, col).value.startswith("=ROUND("), (h, mon.cell(6, col).value)


def test_inputs_print_compactly(cmp):
    ws = cmp["wb"]["Inputs"]
    assert ws.page_setup.orientation == "portrait"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.cell(10, 1).font.sz == 8 and ws.cell(10, 2).font.sz == 8
    widths = [ws.column_dimensions[get_column_letter(c)].width for c in range(2, 5)]
    assert max(widths) <= 20  # was 50-character columns, mostly empty


def test_charts_compare_first_then_one_row_per_scenario(cmp):
    ws = cmp["wb"]["Charts"]
    anchors = [(ch.anchor._from.row, ch.anchor._from.col, ch.title.tx.rich.p[0].r[0].t)
               for ch in ws._charts]
    titles = [t for _, _, t in anchors]
    n_cmp = 3  # KPI bars, cumulative cash flow, cumulative incremental
    assert not any(t.startswith("[") for t in titles[:n_cmp])
    per = anchors[n_cmp:]
    assert len(per) == 2 * len(KEYS)
    for i in range(len(KEYS)):
        (r1, c1, t1), (r2, c2, t2) = per[2 * i], per[2 * i + 1]
        assert t1.startswith(f"[{i + 1}] revenue") and t2.startswith(f"[{i + 1}] members")
        assert r1 == r2 and c1 < c2  # side by side, on a row of their own
    assert per[0][0] > anchors[n_cmp - 1][0]  # not beside a comparison chart


# ----------------------------------------------------------------- rendered
def _pages_per_sheet(book, sheets, out_dir):
    """Render each sheet alone (the others removed) to PDF with LibreOffice; count pages."""
    files = {}
    for k, name in enumerate(sheets):
        wb = openpyxl.load_workbook(book)
        for other in list(wb.sheetnames):
            if other != name:
                del wb[other]
        f = out_dir / f"s{k}.xlsx"
        wb.save(f)
        files[name] = f
    profile = out_dir / "lo_profile"
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out_dir)]
                   + [str(f) for f in files.values()], capture_output=True, timeout=300)
    pages = {}
    for name, f in files.items():
        pdf = f.with_suffix(".pdf")
        assert pdf.exists(), name
        pages[name] = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf.read_bytes()))
    return pages


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_rendered_page_counts(cmp):
    """Before: Summary 4 pages, Monthly 1 page at ~4-5 pt, Segments & tiers 12 pages."""
    pages = _pages_per_sheet(cmp["path"], ["Summary", "Monthly 1", "Segments & tiers",
                                           "Inputs"], cmp["dir"])
    assert pages["Summary"] == 1
    assert pages["Monthly 1"] == 4  # four readable sections, each one page tall
    assert pages["Segments & tiers"] == 1
    # Compact: at least 75 parameters a page (landscape, 11 pt, 50-character columns
    # gave 64: 509 parameters on 8 pages; now 509 on 6, 658 on 8)
    rows = cmp["wb"]["Inputs"].max_row
    assert pages["Inputs"] <= -(-rows // 75), (pages["Inputs"], rows)


def test_single_scenario_summary_keeps_its_notes_on_the_page(tmp_path):
    sc = scenarios.load_default()
    res = run_scenarios([(sc, scenarios.shipped_path("xinghe_today"))], agents=300,
                        replications=2, horizon_months=12, workers=1)
    out = excel.write_workbook(res, tmp_path / "one.xlsx")
    ws = openpyxl.load_workbook(out)["Summary"]
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 1)
    # one scenario's ~100 widths: portrait (landscape, its height shrank it to ~60 %)
    assert ws.page_setup.orientation == "portrait"
    notes = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Notes"][0]
    assert int(ws.print_area.rsplit("$", 1)[1]) >= notes + 1
    if shutil.which("soffice"):
        assert _pages_per_sheet(out, ["Summary"], tmp_path)["Summary"] == 1


def _sheet_pdf_text(book, name, out_dir) -> str:
    """The text LibreOffice prints for one sheet (pdftotext), words joined by spaces."""
    _pages_per_sheet(book, [name], out_dir)
    pdf = out_dir / "s0.pdf"
    txt = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                         timeout=60).stdout
    return " ".join(txt.split())


needs_lo = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is
                              None, reason="LibreOffice and pdftotext needed")


@needs_lo
def test_definitions_print_whole(cmp, tmp_path):
    """Rows sized for Calibri cut the second line of a wrapped definition off in
    LibreOffice's wider substitute font ("…by segment and tier at the sta")."""
    text = _sheet_pdf_text(cmp["path"], "Definitions", tmp_path)
    ws = cmp["wb"]["Definitions"]
    defs = [ws.cell(r, 1).value for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value]
    assert len(defs) > 20
    for d in defs:
        assert " ".join(d.split()[-3:]) in text, d
    assert ws.page_setup.orientation == "landscape"


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    """A one-scenario workbook (36 months)."""
    d = tmp_path_factory.mktemp("one")
    sc = scenarios.load_default()
    res = run_scenarios([(sc, scenarios.shipped_path("xinghe_today"))], agents=300,
                        replications=2, horizon_months=36, workers=1)
    return excel.write_workbook(res, d / "one.xlsx")


@pytest.mark.parametrize("book", ["cmp", "one"])
def test_manifest_texts_stay_in_their_columns(book, request):
    """The reproduce command (150 characters in a 48-wide column, not wrapped) ran on
    into the empty columns, so fitting the sheet to the page width shrank all of it."""
    from openpyxl.utils import get_column_letter

    from simulator.excel.cells import text_width

    path = request.getfixturevalue(book)
    path = path["path"] if isinstance(path, dict) else path
    ws = openpyxl.load_workbook(path)["Manifest"]
    spans = {}
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = rng.max_col
    table = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Scenario")
    for row in ws.iter_rows(min_row=3, max_row=table - 1):
        for c in row:
            if not isinstance(c.value, str) or c.alignment.wrap_text or c.column == 1:
                continue
            last = spans.get((c.row, c.column), c.column)
            room = sum(ws.column_dimensions[get_column_letter(k)].width or 9
                       for k in range(c.column, last + 1))
            assert text_width(c.value) <= room, (c.coordinate, c.value)


@needs_lo
def test_members_by_tier_one_page_per_scenario_with_its_header(cmp, one, tmp_path):
    """Landscape printed 30 of 36 months, the last six on a page without the header."""
    pages = _pages_per_sheet(cmp["path"], ["Members by tier"], tmp_path)["Members by tier"]
    assert pages == len(KEYS)  # each scenario's block on its own page
    ws = openpyxl.load_workbook(one)["Members by tier"]
    assert ws.page_setup.orientation == "portrait" and ws.print_title_rows
    assert _pages_per_sheet(one, ["Members by tier"], tmp_path)["Members by tier"] == 1
