"""Scenario comparison: same seed for all (common random numbers), paired deltas, input diff."""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
from simulator.compare import compare_scenarios, kpi_table, paired_delta, run_scenarios
from simulator.input_diff import differing_inputs, flatten, input_diff
from simulator.results import Stat
from simulator.scenario_io import load, save


def small(sc):
    sc = sc.model_copy(deep=True)
    sc.run.horizon_months = 6
    sc.run.agents = 400
    sc.run.replications = 3
    return sc


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    """Base, the same base again, and a variant with more service staff."""
    d = tmp_path_factory.mktemp("cmp")
    base = small(scenarios.load_default())
    other = base.model_copy(deep=True)
    other.name = "More staff"
    other.service.pools[0].shifts[0].staff += 15
    paths = [d / "base.toml", d / "other.toml"]
    save(base, paths[0])
    save(other, paths[1])
    base, other = load(paths[0]), load(paths[1])
    res = run_scenarios([(base, paths[0]), (base, paths[0]), (other, paths[1])], workers=1)
    return res, paths


def test_flatten_paths():
    d = {"a": {"b": 1, "c": [1, 2]}, "t": [{"x": 1}, {"x": 2, "y": {}}], "e": []}
    assert flatten(d) == {"a.b": 1, "a.c": "1, 2", "t[0].x": 1, "t[1].x": 2, "t[1].y": "{}",
                          "e": "[]"}


def test_input_diff_lists_exactly_the_changed_inputs():
    base = scenarios.load_default()
    other = base.model_copy(deep=True)
    assert input_diff(base, other).empty
    other.name = "三小时响应"
    other.tiers[2].benefits[0].cost_share = 0.2
    other.run.counterfactual.switch_off = ["benefits"]
    d = input_diff(base, other)
    assert list(d.columns) == ["path", "base", "other"]
    rows = {r.path: (r.base, r.other) for r in d.itertuples()}
    assert rows == {
        "name": (base.name, "三小时响应"),
        "tiers[2].benefits[0].cost_share": (base.tiers[2].benefits[0].cost_share, 0.2),
        "run.counterfactual.switch_off": ("benefits, points, promotions, priority_service",
                                          "benefits"),
    }


def test_input_diff_shows_added_parts_as_missing_on_the_other_side():
    base = scenarios.load_default()
    other = base.model_copy(deep=True)
    other.promotions = []
    d = input_diff(base, other)
    assert (d["other"].isna() | (d["path"] == "promotions")).all()
    assert d.loc[d.path == "promotions", "other"].item() == "[]"
    assert d.loc[d.path == "promotions[0].name", "base"].item() == base.promotions[0].name


def test_all_scenarios_share_seed_and_settings(trio):
    res, _ = trio
    metas = [r.meta for _, _, r in res]
    assert {(m["seed"], m["replications"], m["agents"], m["horizon_months"]) for m in metas} \
        == {(20261122, 3, 400, 6)}
    assert res[0][1] == trio[1][0] and res[0][2].meta["scenario_file"] == str(trio[1][0])


def test_same_scenario_twice_gives_zero_delta_with_zero_width(trio):
    """Common random numbers: the same scenario with the same seed is the same run."""
    res, _ = trio
    t = compare_scenarios(res, base_index=0)
    twin = t[t.scenario_no == 2]
    absolute = twin[twin.section == "absolute"]
    # Every absolute figure the base has is paired: a delta of exactly 0 with zero width.
    has = absolute[np.isfinite(absolute["mean"])]
    assert len(has) > 15 and len(has) >= len(absolute) - 1  # (P90 wait may be undefined)
    assert (has["delta_mean"] == 0).all() and (has["delta_n"] == 3).all()
    assert (has["delta_ci95_low"] == 0).all() and (has["delta_ci95_high"] == 0).all()
    vb = twin[twin.section == "vs_base"].set_index("metric")
    assert vb.loc["npv_vs_base", "mean"] == 0 and vb.loc["npv_vs_base", "n"] == 3
    assert np.isnan(vb.loc["roi_vs_base", "mean"])  # no extra cost: no ROI
    # Figures vs each scenario's own counterfactual are never subtracted.
    assert twin[twin.section != "absolute"]["delta_mean"].isna().all()


def test_deltas_are_paired_per_replication(trio):
    res, _ = trio
    t = compare_scenarios(res, base_index=0)
    kb, ko = kpi_table(res[0][2]), kpi_table(res[2][2])
    for metric in ("npv_net_contribution", "service_wait_mean_hours", "revenue", "churn_annual",
                   "members_end"):
        row = t[(t.scenario_no == 3) & (t.metric == metric)].iloc[0]
        d = ko[metric].to_numpy() - kb[metric].to_numpy()
        want = Stat.of(d)
        assert row["delta_mean"] == pytest.approx(want.mean, rel=1e-12)
        assert row["delta_ci95_low"] == pytest.approx(want.ci95_low, rel=1e-12)
        assert row["delta_ci95_high"] == pytest.approx(want.ci95_high, rel=1e-12)
        assert row["mean"] == pytest.approx(res[2][2].summary[metric].mean, rel=1e-12)
        assert row["delta_mean"] == pytest.approx(row["mean"] - res[0][2].summary[metric].mean,
                                                  rel=1e-9, abs=1e-9)
    # More staff must shorten the wait in every replication (same demand, same streams).
    w = (ko["service_wait_mean_hours"] - kb["service_wait_mean_hours"]).to_numpy()
    assert (w < 0).all()
    base_rows = t[t.is_base]
    assert base_rows["delta_mean"].isna().all() and (base_rows["scenario_no"] == 1).all()


def test_paired_delta_ignores_unpaired_nans():
    s = paired_delta(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, 5.0]))
    assert s.n == 2 and s.mean == pytest.approx(1.5)


def test_base_index_is_validated(trio):
    with pytest.raises(ValueError, match="base_index"):
        compare_scenarios(trio[0], base_index=5)


def test_cli_compare_prints_deltas_and_differences(trio, tmp_path, capsys, monkeypatch):
    from simulator.cli import main

    monkeypatch.setenv("COLUMNS", "200")

    _, (bp, op) = trio
    out = tmp_path / "cmp.xlsx"
    assert main(["compare", str(bp), str(op), "--excel", str(out)]) == 0
    text = capsys.readouterr().out
    assert "common random numbers" in text
    assert "Versus the base scenario" in text and "More staff" in text
    assert "Absolute figures (Δ = scenario − base, paired)" in text
    assert "vs its own counterfactual" in text and "not subtracted" in text
    assert "Service ▸ Pool 'General' ▸ Shift 1 ▸ Staff" in text  # the form's words
    assert "NPV vs base" in text and "NPV vs own counterfactual" in text
    assert out.exists()
    # An existing file without --force: exit 2 before any simulation, file untouched.
    before = out.read_bytes()
    assert main(["compare", str(bp), str(op), "--excel", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    assert out.read_bytes() == before


# ---------------------------------------------------------- compare semantics (issue 10 item 4)
@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """X = base + one change, with the base as X's own counterfactual: the answer is known."""
    d = tmp_path_factory.mktemp("known")
    base = small(scenarios.load_default())  # its own counterfactual: scheme off
    x = base.model_copy(deep=True)
    x.name = "Base + 10 staff"
    x.service.pools[0].shifts[0].staff += 10
    x.run.counterfactual.mode = "base_scenario"
    x.run.counterfactual.base_scenario = "base.toml"
    save(base, d / "base.toml")
    save(x, d / "x.toml")
    from simulator.loader import load_scenario

    lb, lx = load_scenario(d / "base.toml"), load_scenario(d / "x.toml")
    res = run_scenarios([(lb.scenario, lb.path), (lx.scenario, lx.path)],
                        bases=[None, lx.base_scenario], workers=1)
    return d, res


def test_delta_npv_vs_base_equals_the_npv_of_the_change(known):
    """Δ NPV of X vs base = NPV of the change computed directly (X run against the base)."""
    _, res = known
    t = compare_scenarios(res, base_index=0)
    x = t[t.scenario_no == 2].set_index("metric")
    direct = kpi_table(res[1][2])  # X's own figures: its counterfactual IS the base
    for vb, own in (("npv_vs_base", "npv"), ("roi_vs_base", "roi"),
                    ("payback_vs_base", "payback_month")):
        want = Stat.of(direct[own].to_numpy())
        assert x.loc[vb, "mean"] == pytest.approx(want.mean, rel=1e-9), vb
        assert x.loc[vb, "ci95_low"] == pytest.approx(want.ci95_low, rel=1e-9, abs=1e-6), vb
        assert x.loc[vb, "measured_against"].startswith("base scenario [1]")
    # The base's own NPV (vs scheme off) is shown, but the comparison never subtracts it.
    assert x.loc["npv", "measured_against"] == "own counterfactual: base scenario " \
        f"{res[0][0].name!r}"
    assert np.isnan(x.loc["npv", "delta_mean"])
    b = t[t.scenario_no == 1].set_index("metric")
    assert "scheme off" in b.loc["npv", "measured_against"]
    # Same discount rate: NPV vs base is also the paired Δ of the discounted net contribution.
    assert x.loc["npv_vs_base", "mean"] == pytest.approx(
        x.loc["npv_net_contribution", "delta_mean"], rel=1e-9)
    assert abs(x.loc["npv_vs_base", "mean"]) > 0


def test_compare_json_equals_table_and_workbook(known, tmp_path, monkeypatch):
    import json

    import openpyxl

    from simulator.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    d, res = known
    out_j, out_x = tmp_path / "cmp.json", tmp_path / "cmp.xlsx"
    assert main(["compare", str(d / "base.toml"), str(d / "x.toml"), "--json", str(out_j),
                 "--excel", str(out_x)]) == 0
    js = json.loads(out_j.read_text(encoding="utf-8"))
    assert js["format"] == "benefit-sim-comparison/1" and js["base_no"] == 1
    assert js["sample"] == {"seed": res[0][2].meta["seed"], "replications": 3, "agents": 400,
                            "horizon_months": 6}
    assert [s["name"] for s in js["scenarios"]] == [sc.name for sc, _, _ in res]
    assert js["scenarios"][1]["base_hash"] == res[1][2].meta["base_hash"]
    t = compare_scenarios(res, base_index=0)  # same seed and sample: the same numbers
    assert len(js["figures"]) == len(t)
    for f, (_, row) in zip(js["figures"], t.iterrows()):
        assert (f["scenario_no"], f["metric"], f["section"]) == (
            row.scenario_no, row.metric, row.section)
        assert f["measured_against"] == row.measured_against and f["measured_against"]
        if np.isfinite(row["mean"]):
            assert f["mean"] == pytest.approx(row["mean"], rel=1e-12)
        else:
            assert f["mean"] is None
        if row.section == "absolute" and row.scenario_no == 2:
            assert f["delta"]["mean"] == pytest.approx(row.delta_mean, rel=1e-12, abs=1e-9)
            assert f["delta"]["measured_against"].startswith("base scenario [1]")
        else:
            assert f["delta"] is None
    # The workbook's Summary holds the same figures.
    ws = openpyxl.load_workbook(out_x)["Summary"]
    cols = {c.value: c.column for c in ws[6] if c.value is not None}
    labels = {ws.cell(r, 1).value.strip(): r for r in range(7, ws.max_row + 1)
              if isinstance(ws.cell(r, 1).value, str)}
    for f in js["figures"]:
        r = labels[f["label"]]
        v = ws.cell(r, cols[f"{f['scenario_no']} mean"]).value
        if f["mean"] is None:  # blank, or why there is no value (as the JSON says)
            assert v == f["not_defined"], (f, v)
        else:
            assert v == pytest.approx(f["mean"], rel=1e-12)
        if f["delta"] is not None:
            assert ws.cell(r, cols[f"{f['scenario_no']} Δ 95% low"]).value == pytest.approx(
                f["delta"]["ci95_low"], rel=1e-12, abs=1e-9)


def test_shown_input_diff_uses_labels_units_and_words():
    """Compare's "Inputs that differ": labels, % and Yes/No, not paths, fractions, True."""
    from simulator.input_diff import shown_input_diff

    base = scenarios.load_default()
    other = base.model_copy(deep=True)
    third = base.model_copy(deep=True)
    gold = base.tiers[2]
    other.tiers[2].benefits[0].cost_share = 0.08
    third.tiers[2].benefits[0].cost_share = 0.15
    other.tiers[1].benefits[0].price_benefit = not base.tiers[1].benefits[0].price_benefit
    other.service.sla_hours = 3.0
    other.run.counterfactual.switch_off = ["priority_service"]
    rows = dict(shown_input_diff([base, other, third]))
    share = f"Tiers & benefits ▸ Tier '{gold.name}' ▸ Benefit '{gold.benefits[0].name}' ▸ " \
        "Cost share"
    assert rows[share][1:] == ["8 %", "15 %"]
    price = next(v for k, v in rows.items() if k.endswith("Price benefit"))
    assert sorted(price[:2]) == ["No", "Yes"]
    assert rows["Service ▸ SLA hours"][:2] == [f"{base.service.sla_hours:g} h", "3 h"]
    assert rows["Run settings ▸ Counterfactual ▸ Switch off"][1] == "priority service"
    assert not any("[" in k or "_" in k for k in rows)  # no paths
    # the same rows as the raw diff, one function
    assert len(rows) == len(differing_inputs([base, other, third]))
