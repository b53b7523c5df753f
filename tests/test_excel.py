"""The audit workbook: values equal the engine's, formulas compute the engine's numbers.

Formulas are checked twice: by a small Excel-formula evaluator (tests/support/formulas.py: the
arithmetic is verified without any spreadsheet program) and by recalculating
the workbook in headless LibreOffice (skipped only when soffice is missing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import scenarios
from simulator import excel
from simulator import metrics as metrics_mod
from simulator.compare import kpi_table, run_scenarios
from simulator.excel import (
    ExportError,
    OutputExistsError,
    OutputLockedError,
    OutputNotWritableError,
    build_workbook,
    write_workbook,
)
from simulator.metrics import kind_of, label_of
from simulator.results import Stat
from simulator.runner import run
from simulator.scenario_io import file_hash, load, save, scenario_hash
from tests.support.formulas import Formula

AGENTS, REPS, H = 2000, 3, 12
EVIL_TIER = "=白银"
EVIL_NAME = '=HYPERLINK("http://x") 三小时响应'


def test_evaluator_itself():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S 1"
    ws["A1"], ws["A2"], ws["A3"] = 2, 3, "=A1^A2-4/2*-1"
    ws["B1"] = '=IF(SUM(A1:A2)>4,(1+A1)^(-A2/12),"")'
    ws["B2"] = '=IF(AND(ISNUMBER(A1),ISNUMBER(C9)),A1-C9,"")'
    ev = Formula(wb)
    assert ev.cell("S 1", "A3") == 10.0
    assert ev.cell("S 1", "B1") == pytest.approx(3 ** -0.25)
    assert ev.cell("S 1", "B2") == ""
    assert ev.eval("='S 1'!$A$1*-2", "S 1") == -4.0


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Two scenarios (base + a variant with hostile names and another discount rate)."""
    d = tmp_path_factory.mktemp("book")
    base = scenarios.load_default()
    base_path = scenarios.shipped_path("xinghe_today")
    other = base.model_copy(deep=True)
    other.name = EVIL_NAME
    other.tiers[1].name = EVIL_TIER
    other.service.pools[0].shifts[0].staff += 10
    other.run.discount_rate_annual = 0.12
    other_path = d / "other.toml"
    save(other, other_path)
    other = load(other_path)
    results = run_scenarios([(base, base_path), (other, other_path)], agents=AGENTS,
                            replications=REPS, horizon_months=H, workers=1)
    out = d / "compare.xlsx"
    write_workbook(results, out)
    wb = openpyxl.load_workbook(out)
    return {"results": results, "path": out, "wb": wb, "ev": Formula(wb), "dir": d}


def header_cols(ws, row):
    return {c.value: c.column for c in ws[row] if c.value is not None}


def find_row(ws, col, value, start=1):
    for r in range(start, ws.max_row + 1):
        if ws.cell(row=r, column=col).value == value:
            return r
    raise KeyError(value)


# ----------------------------------------------------------------- Summary
def test_sheets_present(book):
    assert book["wb"].sheetnames == ["Summary", "Charts", "Inputs", "Monthly 1", "Monthly 2",
                                     "Segments & tiers", "Members by tier", "Deadweight",
                                     "Definitions", "Manifest"]


def test_summary_means_intervals_and_delta_formulas(book):
    ws, ev = book["wb"]["Summary"], book["ev"]
    (_, _, r0), (_, _, r1) = book["results"][0], book["results"][1]
    cols = header_cols(ws, 6)
    k0, k1 = kpi_table(r0), kpi_table(r1)
    checked = 0
    for metric in ("npv_net_contribution", "revenue", "churn_annual", "members_end",
                   "service_wait_mean_hours", "net_contribution"):
        r = find_row(ws, 1, label_of(metric), 7)  # rows are labelled from the catalogue
        for n, res in ((1, r0), (2, r1)):
            s = res.summary[metric]
            assert ws.cell(r, cols[f"{n} mean"]).value == pytest.approx(s.mean, rel=1e-12)
            assert ws.cell(r, cols[f"{n} 95% low"]).value == pytest.approx(s.ci95_low, rel=1e-12)
            assert ws.cell(r, cols[f"{n} 95% high"]).value == pytest.approx(s.ci95_high,
                                                                            rel=1e-12)
        dcell = ws.cell(r, cols["2 Δ vs 1"])
        assert dcell.data_type == "f"
        m2 = openpyxl.utils.get_column_letter(cols["2 mean"])
        m1 = openpyxl.utils.get_column_letter(cols["1 mean"])
        assert f"{m2}{r}-{m1}{r}" in dcell.value  # refers to the cells beside it
        want = r1.summary[metric].mean - r0.summary[metric].mean
        # money differences are rounded to the fen (no float residue printing as -¥0)
        fen = 0.005 if kind_of(metric) == "money" else 1e-9
        assert ev.cell("Summary", dcell.coordinate) == pytest.approx(want, rel=1e-9, abs=fen)
        # The delta's interval is paired per replication (common random numbers).
        paired = Stat.of(k1[metric].to_numpy() - k0[metric].to_numpy())
        assert ws.cell(r, cols["2 Δ 95% low"]).value == pytest.approx(paired.ci95_low, rel=1e-9)
        assert ws.cell(r, cols["2 Δ 95% high"]).value == pytest.approx(paired.ci95_high,
                                                                       rel=1e-9)
        checked += 1
    assert checked == 6
    # Figures vs each scenario's own counterfactual are shown, labelled, never subtracted.
    r = find_row(ws, 1, "NPV vs own counterfactual", 7)
    assert ws.cell(r, cols["1 mean"]).value == pytest.approx(r0.summary["npv"].mean, rel=1e-12)
    assert ws.cell(r, cols["2 mean"]).value == pytest.approx(r1.summary["npv"].mean, rel=1e-12)
    assert ws.cell(r, cols["2 Δ vs 1"]).value is None
    assert "own counterfactual" in ws.cell(r, cols["Measured against"]).value
    # NPV vs base: paired, from the absolute monthly net contribution, discounted at the
    # base's rate (the variant has another rate: its own discounted figure is not used).
    r = find_row(ws, 1, "NPV vs base (Δ discounted net contribution)", 7)
    assert ws.cell(r, cols["1 mean"]).value is None
    d_net = r1.totals("net_contribution") - r0.totals("net_contribution")
    want = Stat.of((d_net * r0.discount).sum(axis=1))
    assert ws.cell(r, cols["2 mean"]).value == pytest.approx(want.mean, rel=1e-9)
    assert "the base" in ws.cell(r, cols["Measured against"]).value
    # Number formats: money of a million or more shown in CNY millions (the cell keeps the
    # full value), smaller money in yuan with thousands separators, shares in percent.
    r = find_row(ws, 1, "Gross revenue", 7)
    assert ws.cell(r, cols["1 mean"]).number_format == excel.MONEY_M
    assert ws.cell(r, cols["Unit"]).value == "CNY M"
    r = find_row(ws, 1, label_of("ltv_per_customer"), 7)
    assert ws.cell(r, cols["1 mean"]).number_format.startswith('"¥"#,##0')
    assert ws.cell(r, cols["Unit"]).value == "CNY"
    assert ws.cell(find_row(ws, 1, "Churn (annualised)", 7), cols["1 mean"]).number_format \
        == "0.0%"


# ----------------------------------------------------------------- Monthly
def test_monthly_values_equal_engine_bands(book):
    wb = book["wb"]
    for i, (_, _, res) in enumerate(book["results"]):
        ws = wb[f"Monthly {i + 1}"]
        cols = header_cols(ws, 5)
        for header, metric in [("Active customers", "active_customers"),
                               ("New customers", "new_customers"), ("Orders", "orders"),
                               ("Gross revenue", "gross_revenue"),
                               ("Gross margin", "gross_margin"),
                               ("Benefit cost", "benefit_cost"),
                               ("Promotion cost", "promotion_cost"),
                               ("Service cost", "service_cost"),
                               ("Acquisition cost", "acquisition_cost")]:
            got = [ws.cell(6 + k, cols[header]).value for k in range(H)]
            np.testing.assert_allclose(got, res.band(metric)["mean"], rtol=1e-12)
        cf = [ws.cell(6 + k, cols["Counterfactual net contribution"]).value for k in range(H)]
        np.testing.assert_allclose(cf, res.band("net_contribution", arm="counterfactual")["mean"],
                                   rtol=1e-12)
        assert [ws.cell(6 + k, 1).value for k in range(H)] == list(range(1, H + 1))


def test_monthly_formulas_compute_engine_numbers(book):
    wb, ev = book["wb"], book["ev"]
    for i, (_, _, res) in enumerate(book["results"]):
        title = f"Monthly {i + 1}"
        ws = wb[title]
        cols = header_cols(ws, 5)

        def column(header):
            c = cols[header]
            assert all(ws.cell(6 + k, c).data_type == "f" for k in range(H)), header
            return np.array([ev.cell(title, ws.cell(6 + k, c).coordinate) for k in range(H)],
                            dtype=float)

        net = res.band("net_contribution")["mean"].to_numpy()
        np.testing.assert_allclose(column("Total cost"), res.band("total_cost")["mean"],
                                   rtol=1e-9)
        np.testing.assert_allclose(column("Net contribution"), net, rtol=1e-9)
        np.testing.assert_allclose(column("Cumulative cash flow"), np.cumsum(net), rtol=1e-9)
        # The discount factor follows the rate cell on Inputs: the engine's factors.
        np.testing.assert_allclose(column("Discount factor"), res.discount, rtol=1e-12)
        np.testing.assert_allclose(column("Discounted cash flow"), net * res.discount, rtol=1e-9)
        inc = res.incremental_band(cumulative=False)["mean"].to_numpy()
        np.testing.assert_allclose(column("Incremental contribution"), inc, rtol=1e-9, atol=1e-3)
        np.testing.assert_allclose(column("Cumulative incremental"),
                                   res.incremental_band()["mean"], rtol=1e-9, atol=1e-3)
        npv = column("NPV to date (incremental)")
        assert npv[-1] == pytest.approx(res.summary["npv"].mean, rel=1e-9)
        inc_cost = column("Incremental cost")
        assert inc_cost.sum() == pytest.approx(res.summary["incremental_cost"].mean, rel=1e-9)
        roi = column("ROI to date")
        assert roi[-1] == pytest.approx(inc.sum() / inc_cost.sum(), rel=1e-9)
        # Totals row ties to the Summary means.
        tr = 6 + H
        assert ws.cell(tr, 1).value == "Total"

        def total(header):
            return ev.cell(title, ws.cell(tr, cols[header]).coordinate)

        assert total("Gross revenue") == pytest.approx(res.summary["revenue"].mean, rel=1e-9)
        assert total("Net contribution") == pytest.approx(res.summary["net_contribution"].mean,
                                                          rel=1e-9)
        assert total("Discounted cash flow") == pytest.approx(
            res.summary["npv_net_contribution"].mean, rel=1e-9)
        assert total("Incremental contribution") == pytest.approx(
            res.summary["incremental_contribution"].mean, rel=1e-9)
    # The variant's discount rate (12 %) is read from its own Inputs column.
    assert ev.cell("Monthly 2", "D3") == pytest.approx(0.12)
    assert ev.cell("Monthly 1", "D3") == pytest.approx(0.08)


def test_segments_tiers_and_members_sheets(book):
    wb, ev = book["wb"], book["ev"]
    ws = wb["Segments & tiers"]
    detail = ws.tables["SegmentsTiers"].ref  # the monthly detail, below the horizon totals
    head = int(re.match(r"A(\d+):", detail).group(1))
    cols = header_cols(ws, head)
    assert "Scenario" not in cols  # named by its number; the key is at the top
    # Every month x segment x tier with something in it; empty combinations are left out.
    sim = [k for k in metrics_mod.MONTHLY] + ["members_end"]
    n_rows = sum((~(excel.breakdown_means(r)[sim].abs() < 0.005).all(axis=1)).sum()
                 for _, _, r in book["results"])
    assert ws.max_row - head == n_rows
    _, _, r1 = book["results"][1]
    m = r1.monthly
    sel = (m.arm == "scenario") & (m.segment == r1.segments[1]) & (m.tier == EVIL_TIER)
    want = m[sel & (m.month == 7)][["gross_revenue", "net_contribution"]].mean()
    for r in range(head + 1, ws.max_row + 1):
        if (ws.cell(r, cols["No"]).value == 2 and ws.cell(r, cols["Month"]).value == 7
                and ws.cell(r, cols["Segment"]).value == r1.segments[1]
                and ws.cell(r, cols["Tier"]).value == EVIL_TIER):
            assert ws.cell(r, cols["Tier"]).data_type == "s"
            assert ws.cell(r, cols["Gross revenue"]).value == pytest.approx(
                want["gross_revenue"], rel=1e-12)
            net = ev.cell("Segments & tiers", ws.cell(r, cols["Net contribution"]).coordinate)
            assert net == pytest.approx(want["net_contribution"], rel=1e-9, abs=0.005)  # to the fen
            break
    else:
        raise AssertionError("row not found")
    # The printed horizon totals are live sums over the detail.
    tot = ws.tables["SegmentsTiersTotals"].ref
    th = int(re.match(r"A(\d+):", tot).group(1))
    tc = header_cols(ws, th)
    end_col, end_row = re.match(r"([A-Z]+)(\d+)$", tot.split(":")[1]).groups()
    assert ws.print_area == f"'Segments & tiers'!$A$1:${end_col}${end_row}"  # totals only
    per_rep = m[sel].groupby("replication")[["gross_revenue", "net_contribution"]].sum().mean()
    for r in range(th + 1, head):
        if (ws.cell(r, tc["No"]).value == 2 and ws.cell(r, tc["Segment"]).value == r1.segments[1]
                and ws.cell(r, tc["Tier"]).value == EVIL_TIER):
            assert ws.cell(r, tc["Gross revenue"]).data_type == "f"
            for key, h in (("gross_revenue", "Gross revenue"),
                           ("net_contribution", "Net contribution")):
                got = ev.cell("Segments & tiers", ws.cell(r, tc[h]).coordinate)
                assert got == pytest.approx(per_rep[key], rel=1e-9), key
            break
    else:
        raise AssertionError("totals row not found")
    wm = wb["Members by tier"]
    r = find_row(wm, 1, "Month", 1)
    band = book["results"][0][2].band_by("members_end", by="tier")
    bronze = band[band.tier == "Bronze"]["mean"].to_numpy()
    got = [wm.cell(r + 1 + k, 2).value for k in range(H)]
    np.testing.assert_allclose(got, bronze, rtol=1e-12)
    assert ev.cell("Members by tier", wm.cell(r + H, 2 + len(book["results"][0][2].tiers))
                   .coordinate) == pytest.approx(
        band.groupby("month")["mean"].sum().iloc[-1], rel=1e-9)


# ----------------------------------------------------------------- text safety
def test_names_starting_with_equals_stay_text(book):
    wb = book["wb"]
    seen_name = seen_tier = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value == EVIL_TIER or (isinstance(c.value, str) and "HYPERLINK" in c.value):
                    assert c.data_type == "s", (ws.title, c.coordinate)
                    seen_tier += c.value == EVIL_TIER
                    seen_name += "HYPERLINK" in c.value
                elif c.data_type == "f":
                    assert "白银" not in c.value and "HYPERLINK" not in c.value
    assert seen_tier >= 3 and seen_name >= 3
    # Chinese text intact.
    inputs = wb["Inputs"]
    r = find_row(inputs, 1, "name", 5)
    assert inputs.cell(r, 3).value == EVIL_NAME


# ----------------------------------------------------------------- Inputs
def _shown(v):
    """How the workbook writes an input value: booleans as Yes/No."""
    return ("Yes" if v else "No") if isinstance(v, bool) else v


def test_inputs_every_parameter_and_differences_highlighted(book):
    from simulator.input_diff import flat_inputs

    ws = book["wb"]["Inputs"]
    (b, bp, _), (o, op, _) = book["results"]
    fb, fo = flat_inputs(b), flat_inputs(o)
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1)}
    assert set(fb) | set(fo) <= set(rows)
    differing = set()
    for path in set(fb) | set(fo):
        r = rows[path]
        assert ws.cell(r, 2).value == _shown(fb.get(path))
        assert ws.cell(r, 3).value == _shown(fo.get(path))
        marked = ws.cell(r, 3).fill.fgColor.rgb.endswith("FFEB9C")
        assert marked == (fb.get(path) != fo.get(path)), path
        assert (ws.cell(r, 4).value == "Yes") == marked
        if marked:
            differing.add(path)
    assert {"name", "tiers[1].name", "run.discount_rate_annual",
            "service.pools[0].shifts[0].staff"} <= differing
    assert ws.cell(rows["(file SHA-256, 16 hex)"], 3).value == file_hash(op)
    assert ws.cell(rows["(scenario hash)"], 2).value == scenario_hash(b)
    assert ws.cell(rows["(file)"], 2).value == "xinghe_today.toml"


# ----------------------------------------------------------------- layout
def test_formats_tables_frozen_headers_print_setup_and_charts(book):
    wb = book["wb"]
    for name in ("Summary", "Inputs", "Monthly 1", "Monthly 2", "Segments & tiers", "Manifest"):
        ws = wb[name]
        assert ws.tables, name
        for t in ws.tables.values():
            assert t.autoFilter is not None
    for ws in wb.worksheets:  # (the Summary's and Monthly sheets' layout: test_workbook_print)
        # Inputs, a long narrow list, prints portrait; Members by tier (4 tiers) too
        # (test_workbook_print)
        assert ws.page_setup.orientation == ("portrait" if ws.title in (
            "Inputs", "Members by tier") else "landscape"), ws.title
        if ws.title in ("Summary", "Members by tier") or ws.title.startswith("Monthly"):
            continue
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb["Monthly 1"].freeze_panes == "B6"
    assert wb["Summary"].freeze_panes == "C7"
    assert wb["Inputs"].freeze_panes == "B5"
    ws = wb["Monthly 1"]
    cols = header_cols(ws, 5)
    assert ws.cell(6, cols["Gross revenue"]).number_format.startswith('"¥"#,##0')
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(cols["Gross revenue"])].width \
        >= 15
    # Charts: native charts, lines not smoothed, every series pointing at filled cells.
    charts = wb["Charts"]._charts
    kinds = [type(c).__name__ for c in charts]
    assert kinds.count("BarChart") == 1 and kinds.count("AreaChart") == 2
    assert kinds.count("LineChart") == 2 + 2
    for ch in charts:
        for s in ch.series:
            if type(ch).__name__ == "LineChart":
                assert s.smooth is False
            ref = s.val.numRef.f
            sheet, rng = ref.rsplit("!", 1)
            cells = wb[sheet.strip("'")][rng.replace("$", "")]
            vals = [c.value for row in cells for c in row]
            assert len(vals) in (4, H) and all(v is not None for v in vals), ref


def test_manifest_states_how_to_reproduce(book):
    ws = book["wb"]["Manifest"]
    kv = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    _, _, r0 = book["results"][0]
    assert kv["Seed"] == r0.meta["seed"] and kv["Replications"] == REPS
    assert kv["Sample size (simulated customers)"] == AGENTS
    assert kv["Horizon (months)"] == H
    cmd = kv["Reproduce with"]
    assert cmd.startswith("benefit-sim compare xinghe_today ")
    assert str(book["results"][1][1]) in cmd
    assert f"--seed {r0.meta['seed']} --replications {REPS} --agents {AGENTS}" in cmd
    assert kv["Scenario hash"] == r0.meta["scenario_hash"]
    assert "scheme off" in kv["Counterfactual"]


def test_optimisation_sheet_accepts_dataframe_and_headline(book):
    df = pd.DataFrame({"lever": ["promotions.email", "=acquisition"],
                       "budget_cny": [120000.0, 80000.0], "marginal_return": [1.4, 0.9]})
    wb = build_workbook(book["results"][:1], optimisation=(df, {"objective": "npv",
                                                                "npv_cny": 1.5e6}))
    ws = wb["Optimisation"]
    kv = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, 5)}
    assert kv == {"objective": "npv", "npv_cny": 1.5e6}
    r = find_row(ws, 1, "lever")
    assert [ws.cell(r + 1 + k, 2).value for k in range(2)] == [120000.0, 80000.0]
    assert ws.cell(r + 2, 1).data_type == "s" and ws.cell(r + 2, 1).value == "=acquisition"
    assert "¥" in ws.cell(r + 1, 2).number_format
    assert wb.sheetnames[-1] == "Manifest" and "Monthly" in wb.sheetnames


# ----------------------------------------------------------------- LibreOffice
def _recalculate(src: Path, out_dir: Path) -> Path:
    """Convert with headless LibreOffice (own profile, recalculation on load)."""
    profile = out_dir / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
        '</oor:items>\n', encoding="utf-8")
    conv = out_dir / "conv"
    conv.mkdir()
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", 'xlsx:Calc MS Excel 2007 XML', "--outdir", str(conv), str(src)],
        capture_output=True, text=True, timeout=120)
    out = conv / src.name
    assert out.exists() and out.stat().st_size > 0, (proc.returncode, proc.stdout, proc.stderr)
    return out


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_recalculates_the_same_numbers(book, tmp_path):
    out = _recalculate(book["path"], tmp_path)
    lo = openpyxl.load_workbook(out, data_only=True)
    wb, ev = book["wb"], book["ev"]
    n = 0
    for name in ("Summary", "Monthly 1", "Monthly 2", "Members by tier", "Segments & tiers"):
        ws = wb[name]
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                want = ev.cell(name, c.coordinate)
                got = lo[name][c.coordinate].value
                if want == "" or want is None:
                    assert got in (None, ""), (name, c.coordinate, got)
                else:
                    assert got == pytest.approx(want, rel=1e-9, abs=1e-6), (name, c.coordinate)
                n += 1
    assert n > 500
    # Text that looks like a formula is still text after LibreOffice has read it.
    lw = lo["Segments & tiers"]
    assert EVIL_TIER in {lw.cell(r, 4).value for r in range(5, lw.max_row + 1)}
    assert lo["Inputs"].cell(find_row(lo["Inputs"], 1, "name", 5), 3).value == EVIL_NAME


# ----------------------------------------------------------------- bad paths
def test_existing_file_needs_overwrite_and_is_left_intact(book, tmp_path):
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"old")
    with pytest.raises(OutputExistsError, match="exists"):
        write_workbook(book["results"][:1], out)
    assert out.read_bytes() == b"old"
    write_workbook(book["results"][:1], out, overwrite=True)
    assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"


def test_missing_or_unwritable_folder_and_wrong_suffix(book, tmp_path, monkeypatch):
    with pytest.raises(OutputNotWritableError, match="does not exist"):
        write_workbook(book["results"][:1], tmp_path / "nope" / "x.xlsx")
    with pytest.raises(ExportError, match=r"\.xlsx"):
        write_workbook(book["results"][:1], tmp_path / "x.xls")

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    import simulator.scenario_io.atomic as sio

    monkeypatch.setattr(sio.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputNotWritableError, match="cannot write"):
        write_workbook(book["results"][:1], tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_locked_file_is_reported(book, tmp_path):
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"old")
    (tmp_path / ".~lock.x.xlsx#").write_text("someone,host,...")
    with pytest.raises(OutputLockedError, match="open in another program"):
        write_workbook(book["results"][:1], out, overwrite=True)
    assert out.read_bytes() == b"old"


def test_failed_export_leaves_no_truncated_file(book, tmp_path, monkeypatch):
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"old")

    import simulator.scenario_io.atomic as sio

    def disk_full(tmp, data):
        Path(tmp).write_bytes(data[:100])  # half a zip, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sio, "_write_file", disk_full)
    with pytest.raises(OutputNotWritableError, match="the disk is full"):
        write_workbook(book["results"][:1], out, overwrite=True)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xlsx"]


# ----------------------------------------------------------------- CLI
@pytest.fixture
def small_scenario(tmp_path):
    sc = scenarios.load_default()
    sc.run.horizon_months = 6
    sc.run.agents = 300
    sc.run.replications = 2
    p = tmp_path / "small.toml"
    save(sc, p)
    return p


def test_cli_export_writes_and_refuses_to_overwrite(small_scenario, tmp_path, capsys):
    from simulator.cli import main

    out = tmp_path / "out.xlsx"
    assert main(["export", str(small_scenario), "--excel", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["Summary", "Charts", "Inputs", "Monthly"]
    cmd = {wb["Manifest"].cell(r, 1).value: wb["Manifest"].cell(r, 2).value
           for r in range(1, 20)}["Reproduce with"]
    assert cmd.startswith(f"benefit-sim export {small_scenario} --excel out.xlsx --seed ")
    before = out.read_bytes()
    capsys.readouterr()
    assert main(["export", str(small_scenario), "--excel", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    assert out.read_bytes() == before
    assert main(["export", str(small_scenario), "--excel", str(tmp_path / "no" / "o.xlsx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(small_scenario), "--excel", str(out), "--force", "-r", "1"]) == 0
    assert openpyxl.load_workbook(out)["Manifest"]


def test_roi_to_date_is_blank_without_incremental_cost():
    """A benefit with an effect and no cost: the incremental cost is rounding residue
    (about 1e-9 CNY), so 'ROI to date' stays blank instead of dividing by it."""
    from tests.test_results import _zero_cost

    sc = _zero_cost({"order_rate": 0.1})
    res = run(sc, workers=1, seed=1)  # a seed whose residue is positive (ROI was 1e14)
    assert np.all(np.abs(res.kpis["incremental_cost"]) < 1e-3)
    wb = excel.build_workbook([(sc, None, res)])
    ev = Formula(wb)
    ws = wb["Monthly"]  # one scenario: one monthly sheet
    cols = header_cols(ws, 5)
    months = sc.run.horizon_months
    roi = [ev.cell("Monthly", ws.cell(6 + k, cols["ROI to date"]).coordinate)
           for k in range(months)]
    assert roi == [""] * months, roi
    summary = wb["Summary"]
    r = find_row(summary, 1, label_of("roi") + " vs own counterfactual", 7)
    assert summary.cell(r, header_cols(summary, 6)["1 mean"]).value == \
        "not defined (no incremental cost)"


def test_no_figure_is_wider_than_its_column(book):
    """A spreadsheet shows "#####" for a number wider than its column: the Deadweight
    sheet's 14-digit columns held "¥17,614,279,399" (xinghe at 20 M customers)."""
    from openpyxl.utils import get_column_letter

    from simulator.excel.cells import shown_number, widen_for_numbers
    from simulator.excel.styles import FMT

    for ws in book["wb"].worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    width = ws.column_dimensions[get_column_letter(c.column)].width or 8.43
                    assert len(shown_number(float(c.value), c.number_format)) <= width, \
                        (ws.title, c.coordinate, c.value, c.number_format, width)
    # the widening itself, on a column made too narrow
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["B"].width = 14
    ws["B2"] = 17_614_279_399.0
    ws["B2"].number_format = FMT["money"]
    ws["B3"] = -0.5
    ws["B3"].number_format = FMT["share"]
    widen_for_numbers(wb)
    assert shown_number(17_614_279_399.0, FMT["money"]) == "¥17,614,279,399"
    assert shown_number(-0.5, FMT["share"]) == "-50.0%"
    assert ws.column_dimensions["B"].width >= len("¥17,614,279,399") + 1


def test_a_large_shops_figures_fit_their_columns(tmp_path):
    """Study B's shop (12.5 M customers) over 3 years: deadweight and points figures in the
    tens of billions of yuan; every number fits its column."""
    from openpyxl.utils import get_column_letter

    from simulator.excel.cells import _sum_of, shown_number
    from simulator.loader import load_scenario

    ld = load_scenario("lifecycle_recall_referrals")
    res = run(ld.scenario, base=ld.base_scenario, replications=2, agents=300)
    out = write_workbook([(ld.scenario, ld.path, res)], tmp_path / "big.xlsx")
    wb = openpyxl.load_workbook(out)
    sums = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("=SUM("):
                    # a total (the Monthly sheet's orders: 1,411,556,917 in 12 digits)
                    total = _sum_of(ws, c.value)
                    if total is not None:
                        sums += 1
                        width = ws.column_dimensions[get_column_letter(c.column)].width
                        shown = shown_number(total, c.number_format)
                        assert len(shown) * (1.1 if c.font.b else 1.0) <= width, \
                            (ws.title, c.coordinate, shown, width)
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    width = ws.column_dimensions[get_column_letter(c.column)].width or 8.43
                    assert len(shown_number(float(c.value), c.number_format)) <= width, \
                        (ws.title, c.coordinate, c.value, c.number_format, width)
    assert sums > 30
