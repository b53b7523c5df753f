"""A result knows what it came from; exports refuse results of other inputs (issue 10 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

import scenarios
from simulator.excel import write_workbook
from simulator.loader import load_scenario
from simulator.provenance import Provenance, ResultMismatch, check_matches, check_same_sample
from simulator.runner import run
from simulator.scenario_io import load, save, scenario_hash

SHIPPED = Path(scenarios.SHIPPED_DIR)
SMALL = dict(replications=2, agents=300, horizon_months=3, workers=1)


@pytest.fixture(scope="module")
def with_base(tmp_path_factory):
    """A copy of the 3-hour scenario and its base in a folder of their own, and its run."""
    d = tmp_path_factory.mktemp("prov")
    for k in ("xinghe_today", "xinghe_3h_golden_response"):
        save(load(SHIPPED / f"{k}.toml"), d / f"{k}.toml")
    ld = load_scenario(d / "xinghe_3h_golden_response.toml")
    res = run(ld.scenario, base=ld.base_scenario, **SMALL)
    return d, ld, res


def test_meta_records_every_input(with_base):
    _, ld, res = with_base
    pv = Provenance.of(res)
    assert pv.scenario_hash == ld.scenario_hash and pv.base_hash == ld.base_hash
    assert pv.base_scenario == ld.base.scenario.name
    assert pv.sample() == (ld.scenario.run.seed, 2, 300, 3)
    assert pv.counterfactual.startswith("base scenario")
    assert check_matches(res, ld.scenario, ld.base_scenario) == pv


def test_scheme_off_run_has_no_base_hash():
    sc = load(SHIPPED / "xinghe_today.toml")
    res = run(sc, **SMALL)
    assert res.meta["base_hash"] is None and res.meta["base_scenario"] is None
    check_matches(res, sc)
    # A base passed but unused (scheme off) is not recorded as the base.
    res2 = run(sc, base=load(SHIPPED / "xinghe_today.toml"), **SMALL)
    assert res2.meta["base_hash"] is None


def test_preview_override_keeps_the_hash_of_the_inputs():
    sc = load(SHIPPED / "xinghe_today.toml")
    res = run(sc, window_contacts=300, **SMALL)
    assert res.meta["scenario_hash"] == scenario_hash(sc)
    assert res.meta["window_contacts"] == 300


def test_edited_scenario_is_refused(with_base, tmp_path):
    """Before: the workbook was written with the new inputs beside the old run's results."""
    _, ld, res = with_base
    edited = ld.scenario.model_copy(deep=True)
    edited.service.pools[0].shifts[0].staff += 1
    out = tmp_path / "stale.xlsx"
    with pytest.raises(ResultMismatch, match="run it again"):
        write_workbook([(edited, ld.path, res)], out)
    assert not out.exists() and not list(tmp_path.glob("*.xlsx*"))


def test_other_scenario_is_refused(with_base, tmp_path):
    _, ld, res = with_base
    other = load(SHIPPED / "xinghe_yinhe_6tier.toml")
    with pytest.raises(ResultMismatch, match="computed for scenario"):
        write_workbook([(other, SHIPPED / "xinghe_yinhe_6tier.toml", res)], tmp_path / "x.xlsx")


def test_changed_base_on_disk_is_refused(with_base, tmp_path):
    d, ld, res = with_base
    out = tmp_path / "ok.xlsx"
    write_workbook([(ld.scenario, ld.path, res)], out)  # matches: written
    assert out.exists()
    base = load(d / "xinghe_today.toml")
    base.tiers[1].benefits[0].cost_share = 0.5 if base.tiers[1].benefits[0].cost_share != 0.5 \
        else 0.4
    save(base, d / "xinghe_today.toml")
    try:
        with pytest.raises(ResultMismatch, match="base changed"):
            write_workbook([(ld.scenario, ld.path, res)], tmp_path / "stale_base.xlsx")
    finally:
        save(load(SHIPPED / "xinghe_today.toml"), d / "xinghe_today.toml")
    with pytest.raises(ResultMismatch, match="no base"):
        check_matches(res, ld.scenario, None)


def test_counterfactual_mode_changed_is_refused(with_base):
    _, ld, res = with_base
    sc = ld.scenario.model_copy(deep=True)
    sc.run.counterfactual.mode = "scheme_off"
    with pytest.raises(ResultMismatch):
        check_matches(res, sc)


def test_results_of_different_samples_are_not_compared():
    sc = load(SHIPPED / "xinghe_today.toml")
    a = run(sc, **SMALL)
    b = run(sc, **{**SMALL, "agents": 400})
    check_same_sample([a, a])
    with pytest.raises(ResultMismatch, match="common random numbers"):
        check_same_sample([a, b])
    from simulator.compare import compare_scenarios

    with pytest.raises(ResultMismatch):
        compare_scenarios([(sc, None, a), (sc, None, b)])


def test_result_without_record_is_refused():
    class Bare:
        meta: dict = {}

    with pytest.raises(ResultMismatch, match="no record"):
        check_matches(Bare(), load(SHIPPED / "xinghe_today.toml"))
