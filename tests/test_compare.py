"""Scenario comparison: same seed for all (common random numbers), paired deltas, input diff."""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
from simulator.compare import (
    compare_scenarios,
    flatten,
    input_diff,
    kpi_table,
    paired_delta,
    run_scenarios,
)
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
    assert (twin["delta_mean"] == 0).all() or twin["delta_mean"].isna().any()
    finite = twin.dropna(subset=["delta_mean"])
    assert len(finite) > 15
    assert (finite["delta_mean"] == 0).all()
    assert (finite["delta_ci95_low"] == 0).all() and (finite["delta_ci95_high"] == 0).all()


def test_deltas_are_paired_per_replication(trio):
    res, _ = trio
    t = compare_scenarios(res, base_index=0)
    kb, ko = kpi_table(res[0][2]), kpi_table(res[2][2])
    for metric in ("npv", "service_wait_mean_hours", "revenue", "churn_annual", "members_end"):
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
    assert "KPI deltas vs base" in text and "More staff" in text
    assert "service.pools[0].shifts[0].staff" in text
    assert "NPV of incremental contribution" in text
    assert out.exists()
    # An existing file without --force: exit 2 before any simulation, file untouched.
    before = out.read_bytes()
    assert main(["compare", str(bp), str(op), "--excel", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    assert out.read_bytes() == before
