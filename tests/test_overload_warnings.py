"""An overloaded queue is said plainly, in the result, the CLI and the workbook.

Issue 20 item 1: growing Xinghe to 300,000 customers with today's staff used to
report a 0 h wait and 100 % SLA. The queue now carries its backlog (tested in
tests/test_queue_accuracy.py); here the user-facing warning is checked.
"""

from __future__ import annotations

import json

import openpyxl
import pytest

from simulator.cli import main
from simulator.loader import load_scenario
from simulator.runner import run
from simulator.scenario_io import save

SAMPLE = dict(replications=2, agents=600, horizon_months=4, workers=1)


def _grown(customers: int):
    ld = load_scenario("xinghe_today")
    sc = ld.scenario
    pop = sc.population.model_copy(update={"customers": customers})
    return sc.model_copy(update={"population": pop}), ld


def test_overloaded_pool_is_warned_and_normal_one_is_not():
    big, ld = _grown(300_000)
    res = run(big, base=ld.base_scenario, **SAMPLE)
    warnings = res.service_warnings()
    assert warnings, "300,000 customers on today's staff must be flagged"
    assert any("Pool 'General'" in w and "cannot keep up in 4 of 4 months" in w
               for w in warnings), warnings
    assert res.to_json()["warnings"] == warnings
    # The waits it implies are long, not the old 0 h / 100 % SLA.
    assert res.summary["service_wait_mean_hours"].mean > 24
    normal = run(ld.scenario, base=ld.base_scenario, **SAMPLE)
    assert normal.service_warnings() == []
    assert normal.to_json()["warnings"] == []


@pytest.fixture
def overloaded_file(tmp_path):
    big, _ = _grown(300_000)  # xinghe_today's counterfactual is scheme-off
    assert big.run.counterfactual.mode != "base_scenario"
    path = tmp_path / "grown.toml"
    save(big, path)
    return path


def test_cli_and_workbook_show_the_warning(overloaded_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    opts = ["-r", "2", "-n", "600", "--months", "4"]
    out_j = tmp_path / "r.json"
    assert main(["run", str(overloaded_file), *opts, "--json", str(out_j)]) == 0
    printed = capsys.readouterr().out
    assert "warning:" in printed and "cannot keep up" in printed
    assert json.loads(out_j.read_text())["warnings"]
    out_x = tmp_path / "w.xlsx"
    assert main(["export", str(overloaded_file), "--excel", str(out_x), *opts]) == 0
    ws = openpyxl.load_workbook(out_x)["Summary"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Warnings" in texts
    assert any("cannot keep up" in t for t in texts)
