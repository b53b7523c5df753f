"""Workbook sheets of issue 15: Deadweight, Points liability, Attribution, Why different.

Their numbers are the CLI's: the same frames and JSON ``run --csv``/``--json`` and
``attribute``/``explain --json`` write.
"""

from __future__ import annotations

import openpyxl
import pytest

import scenarios
from simulator.attribution import attribute, explain
from simulator.deadweight import deadweight
from simulator.excel import write_workbook
from simulator.excel.attribution import _stack, write_analysis_workbook
from simulator.points_ledger import COLUMNS, of_scenario
from simulator.runner import run
from simulator.scenario_io import from_dict, load, save, to_dict


def _rows(ws, first_col_value):
    for r in range(1, ws.max_row + 1):
        if ws.cell(row=r, column=1).value == first_col_value:
            return r
    raise KeyError(first_col_value)


def test_deadweight_and_points_sheets_equal_the_cli_numbers(tmp_path):
    d = to_dict(load(scenarios.shipped_path("loyalty_playbook")))
    d["run"]["counterfactual"] = {"mode": "scheme_off"}
    sc = from_dict(d)
    f = tmp_path / "pts.toml"
    save(sc, f)
    sc = load(f)
    res = run(sc, replications=2, agents=600, horizon_months=12, workers=1)
    out = write_workbook([(sc, f, res)], tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(out)
    assert "Deadweight" in wb.sheetnames and "Points liability" in wb.sheetnames
    ws = wb["Deadweight"]
    frame = deadweight(res).frame()
    r = _rows(ws, "All customers")
    head = r - 1
    cols = {ws.cell(row=head, column=c).value: c for c in range(1, ws.max_column + 1)}
    total = frame.iloc[0]
    assert ws.cell(row=r, column=cols["Deadweight share"]).value == pytest.approx(
        total["deadweight_share"], rel=1e-12)
    assert ws.cell(row=r, column=cols["Incremental orders"]).value == pytest.approx(
        total["incremental_orders"], rel=1e-12)
    ws = wb["Points liability"]
    table = of_scenario(res, sc).table()
    r1 = _rows(ws, 1)
    for k in range(len(table)):
        for j, c in enumerate(COLUMNS):
            got = ws.cell(row=r1 + k, column=2 + j).value
            want = table.iloc[k][c]
            # put() writes less than half a fen as 0
            assert got == pytest.approx(want, rel=1e-12, abs=0.005), (k, c)
    assert ws._charts, "the liability chart"


def test_attribution_and_why_different_workbooks(tmp_path):
    sc = load(scenarios.shipped_path("xinghe_today"))
    att = attribute(sc, by="group", replications=2, agents=300, horizon_months=4)
    data = att.to_json()
    p = write_analysis_workbook(data, tmp_path / "att.xlsx")
    ws = openpyxl.load_workbook(p)["Attribution"]
    for k, part in enumerate(data["parts"]):
        r = _rows(ws, part["part"])
        assert ws.cell(row=r, column=2 + 3 * 3).value == pytest.approx(part["npv"]["mean"],
                                                                        rel=1e-12)
    assert ws._charts
    # a file that exists is refused without --force
    from simulator.excel import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_analysis_workbook(data, p)

    other = sc.model_copy(deep=True)
    other.name = "more staff, 8 % off"
    other.service.pools[0].shifts[0].staff *= 2
    for t in other.tiers:
        for b in t.benefits:
            if b.kind == "discount":
                b.cost_share = 0.08
    wf = explain(sc, other, replications=2, agents=300, horizon_months=4)
    js = wf.to_json()
    p = write_analysis_workbook(js, tmp_path / "why.xlsx")
    ws = openpyxl.load_workbook(p)["Why different"]
    for b in js["bars"]:
        r = _rows(ws, b["group"])
        assert ws.cell(row=r, column=2).value == pytest.approx(b["mean"], rel=1e-12)
        assert ws.cell(row=r, column=5).value == ("within noise" if b["within_noise"] else None)
    # the stacked helper columns draw a waterfall: each step starts where the last ended
    cum = js["start"]["mean"]
    for b in js["bars"]:
        base, above, below = _stack(cum, b["mean"], False)
        lo, hi = sorted((cum, cum + b["mean"]))
        assert (base + above if above else base + below if below else base) in (
            pytest.approx(hi), pytest.approx(lo))
        cum += b["mean"]
    assert cum == pytest.approx(js["end"]["mean"], rel=1e-9)
    assert ws._charts


@pytest.mark.parametrize("cum,v,want", [(0, 5, (0, 5, 0)), (10, -4, (6, 4, 0)),
                                        (-10, 4, (-6, 0, -4)), (-2, 5, (0, 3, -2))])
def test_waterfall_bars_stack_from_the_running_sum(cum, v, want):
    assert _stack(cum, v, False) == pytest.approx(want)
