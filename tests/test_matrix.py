"""End-to-end matrix over every shipped scenario (issue 10 "How it is checked").

For each ``scenarios/*.toml``: ``run --json`` equals an API run of the same file,
seed and sample; ``export --excel`` writes a workbook whose Summary and Manifest,
read back, equal that run; ``calibrate`` at a small sample runs; ``compare`` of the
scenario against ``xinghe_today`` and against its own base works, and against its
own base gives NPV/ROI/payback vs base equal to the scenario's own figures (its
counterfactual is that base). Small samples keep it fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import openpyxl
import pytest

from simulator.cli import main
from simulator.compare import compare_scenarios, kpi_table
from simulator.loader import load_scenario
from simulator.results import Stat
from simulator.runner import run

ROOT = Path(__file__).resolve().parents[1]
KEYS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
R, N, H = 2, 400, 6
OPTS = ["-r", str(R), "-n", str(N), "--months", str(H)]


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _close(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_every_shipped_scenario_is_in_the_matrix():
    assert len(KEYS) == 10 and "xinghe_today" in KEYS  # incl. the two lifecycle scenarios


@pytest.mark.parametrize("key", KEYS)
def test_run_export_calibrate(key, tmp_path, capsys):
    ld = load_scenario(key)
    api = run(ld.scenario, base=ld.base_scenario, replications=R, agents=N, horizon_months=H)
    # run --json: the CLI's numbers are the API's.
    out_j = tmp_path / "run.json"
    assert main(["run", key, *OPTS, "--json", str(out_j)]) == 0
    js = json.loads(out_j.read_text(encoding="utf-8"))
    assert js["meta"]["scenario_hash"] == ld.scenario_hash
    assert js["meta"]["base_hash"] == ld.base_hash
    for m, st in api.summary.items():
        assert _close(js["summary"][m]["mean"], st.mean), m
    # export --excel: the workbook read back holds the same run.
    out_x = tmp_path / "book.xlsx"
    assert main(["export", key, "--excel", str(out_x), *OPTS]) == 0
    wb = openpyxl.load_workbook(out_x)
    ws = wb["Summary"]
    cols = {c.value: c.column for c in ws[6] if c.value is not None}
    table = compare_scenarios([(ld.scenario, ld.path, api)])
    rows = {ws.cell(r, 1).value.strip(): r for r in range(7, ws.max_row + 1)
            if isinstance(ws.cell(r, 1).value, str)}
    checked = 0
    for row in table[table.section != "vs_base"].itertuples():  # one scenario: no base
        r = rows[row.label.strip()]
        for col, want in (("1 mean", row.mean), ("1 95% low", row.ci95_low),
                          ("1 95% high", row.ci95_high)):
            got = ws.cell(r, cols[col]).value
            if isinstance(got, str):  # an undefined figure is written as words (or blank)
                assert not math.isfinite(want), (key, row.metric, col, got)
                continue
            assert _close(got, want), (key, row.metric, col)
        checked += 1
    assert checked >= 20
    man = wb["Manifest"]
    kv = {man.cell(r, 1).value: man.cell(r, 2).value for r in range(1, man.max_row + 1)}
    assert kv["Scenario hash"] == ld.scenario_hash and kv["Seed"] == ld.scenario.run.seed
    assert (kv["Replications"], kv["Sample size (simulated customers)"],
            kv["Horizon (months)"]) == (R, N, H)
    assert (kv["Base scenario hash"] or None) == ld.base_hash
    # calibrate at a small sample: runs to a verdict (0 met / 1 missed), never a bad input.
    capsys.readouterr()
    assert main(["calibrate", key, "-r", "2", "-n", "500"]) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("key", KEYS)
def test_compare_with_xinghe_today_and_own_base(key, tmp_path):
    ld = load_scenario(key)
    out = tmp_path / "vs_today.json"
    assert main(["compare", "xinghe_today", key, *OPTS, "--json", str(out)]) == 0
    js = json.loads(out.read_text(encoding="utf-8"))
    assert [s["name"] for s in js["scenarios"]] == [load_scenario("xinghe_today").scenario.name,
                                                   ld.scenario.name]
    fig = {(f["scenario_no"], f["metric"]): f for f in js["figures"]}
    assert fig[(2, "npv_vs_base")]["measured_against"].startswith("base scenario [1]")
    if ld.base is None:
        return
    out = tmp_path / "vs_base.json"
    assert main(["compare", str(ld.base.path), str(ld.path), *OPTS, "--json", str(out)]) == 0
    js = json.loads(out.read_text(encoding="utf-8"))
    fig = {(f["scenario_no"], f["metric"]): f for f in js["figures"]}
    # Versus its own base, "vs base" and "vs own counterfactual" are the same question.
    for vb, own in (("npv_vs_base", "npv"), ("roi_vs_base", "roi"),
                    ("payback_vs_base", "payback_month")):
        assert _close(fig[(2, vb)]["mean"], fig[(2, own)]["mean"]), (key, vb)
    assert fig[(2, "npv")]["measured_against"].startswith("own counterfactual: base scenario")
    # And equal to the scenario's own run at the base's seed and the same sample.
    res = run(ld.scenario, base=ld.base_scenario, replications=R, agents=N, horizon_months=H,
              seed=ld.base.scenario.run.seed)
    want = Stat.of(kpi_table(res)["npv"].to_numpy())
    assert _close(fig[(2, "npv_vs_base")]["mean"], want.mean)
