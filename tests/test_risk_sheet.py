"""Issue 14: `benefit-sim risk` and the workbook's Risk sheet (its numbers are the CLI's)."""

import json

import openpyxl
import pytest

from simulator.cli import main
from simulator.scenario_io import from_dict, save
from tests.conftest import simple_dict


def _file(tmp_path, seg_name="All"):
    d = simple_dict()
    d["segments"][0].update(name=seg_name, churn_annual={"low": 0.1, "mode": 0.2, "high": 0.4})
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [{
        "name": "Club", "kind": "other", "cost_model": "per_member_month",
        "cost_cny": {"low": 0.5, "mode": 1.0, "high": 2.0},
        "effect": {"order_rate": {"low": 0.02, "mode": 0.2, "high": 0.4}}}]}]
    d["run"].update(horizon_months=3, agents=300, replications=4)
    f = tmp_path / "r.toml"
    save(from_dict(d), f)
    return f


def test_risk_sheet_numbers_equal_the_clis(tmp_path):
    f = _file(tmp_path, seg_name="=1+1")  # text that must never become a formula
    js_path, xl = tmp_path / "r.json", tmp_path / "r.xlsx"
    assert main(["risk", str(f), "--workers", "1", "--json", str(js_path),
                 "--excel", str(xl)]) == 0
    js = json.loads(js_path.read_text())
    wb = openpyxl.load_workbook(xl)
    assert "Risk" in wb.sheetnames
    ws = wb["Risk"]
    cells = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    risk = js["risk"]
    assert cells["P(NPV > 0)"] == pytest.approx(risk["p_npv_positive"])
    assert cells["NPV P50"] == pytest.approx(risk["kpis"]["npv"]["p50"])
    assert cells["NPV variance from assumptions"] == pytest.approx(
        risk["kpis"]["npv"]["share_assumptions"])
    assert cells["Break-even k (share of the assumed effects for NPV = 0)"] == pytest.approx(
        js["breakeven"]["value"])
    # the tornado table: one row per bar, in the CLI's order, swing as the CLI's
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for b in js["tornado"]["bars"]:
        r = rows[b["label"]]
        assert ws.cell(r, 9).value == pytest.approx(b["swing"]["mean"])
        assert ws.cell(r, 7).value == pytest.approx(b["delta_low"]["mean"])
    # the input ranges, and the tornado as a native bar chart
    assert any(str(ws.cell(r, 9).value) == "segments[=1+1].churn_annual"
               for r in range(1, ws.max_row + 1))
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f", c.coordinate  # no formula from text
    wb2 = openpyxl.load_workbook(xl, rich_text=False)
    assert wb2["Risk"] is not None
    import zipfile

    with zipfile.ZipFile(xl) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        risk_chart = [n for n in charts if b'barDir val="bar"' in z.read(n)]
    assert risk_chart, charts


def test_risk_without_ranges_uses_the_levers(tmp_path):
    d = simple_dict()
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [{
        "name": "Club", "kind": "other", "cost_model": "per_member_month", "cost_cny": 1.0,
        "effect": {"order_rate": 0.1}}]}]
    d["run"].update(horizon_months=3, agents=300, replications=2)
    f = tmp_path / "p.toml"
    save(from_dict(d), f)
    js_path = tmp_path / "p.json"
    assert main(["risk", str(f), "--workers", "1", "--json", str(js_path)]) == 0
    js = json.loads(js_path.read_text())
    assert js["risk"] is None
    assert "benefits:Member" in {b["input"] for b in js["tornado"]["bars"]}
