"""A scenario and a base with different tier lists (issue 10 item 3).

Before: the monthly table, the workbook and compare crashed ("Shape of passed
values is (5760, 39), indices imply (8640, 39)") and ``run`` reported per-tier
"incremental" figures of base tiers that do not exist (the whole net contribution).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.compare import compare_scenarios, run_scenarios
from simulator.excel import write_workbook
from simulator.loader import load_scenario
from simulator.runner import run

SMALL = dict(replications=2, agents=400, horizon_months=4, workers=1)


@pytest.fixture(scope="module")
def six():
    ld = load_scenario("xinghe_yinhe_6tier")
    return ld, run(ld.scenario, base=ld.base_scenario, **SMALL)


def test_arms_keep_their_own_tiers(six):
    ld, res = six
    assert res.tiers == [t.name for t in ld.scenario.tiers] and len(res.tiers) == 6
    assert res.tiers_of("counterfactual") == [t.name for t in ld.base.scenario.tiers]
    assert not res.tiers_shared
    m = res.monthly
    assert set(m.loc[m.arm == "counterfactual", "tier"]) == set(res.tiers_of("counterfactual"))
    assert set(m.loc[m.arm == "scenario", "tier"]) == set(res.tiers)
    ltv = res.ltv
    assert set(ltv.loc[ltv.arm == "counterfactual", "tier"]) == set(res.tiers_of("counterfactual"))


def test_no_tier_increment_against_a_tier_the_base_lacks(six):
    _, res = six
    for t, d in res.by_tier.items():
        assert math.isnan(d["incremental_contribution"].mean), t
        assert math.isnan(d["npv"].mean) and math.isnan(d["ltv_uplift"].mean)
        assert math.isfinite(d["net_contribution"].mean)
    # Segments are shared: their increments exist and add up to the total.
    seg = sum(d["incremental_contribution"].mean for d in res.by_segment.values())
    assert seg == pytest.approx(res.summary["incremental_contribution"].mean, rel=1e-9)


def test_each_arm_reports_its_tiers_and_they_add_up(six):
    _, res = six
    cf = res.by_tier_counterfactual
    assert list(cf) == res.tiers_of("counterfactual")
    scn_total = sum(d["net_contribution"].mean for d in res.by_tier.values())
    cf_total = sum(d["net_contribution"].mean for d in cf.values())
    assert scn_total - cf_total == pytest.approx(
        res.summary["incremental_contribution"].mean, rel=1e-9)
    assert all(math.isnan(d["incremental_contribution"].mean) for d in cf.values())
    js = res.to_json()
    assert js["counterfactual_tiers"] == res.tiers_of("counterfactual")
    assert set(js["by_tier_counterfactual"]) == set(cf)


def test_shared_tiers_keep_tier_increments():
    ld = load_scenario("xinghe_3h_golden_response")
    res = run(ld.scenario, base=ld.base_scenario, **SMALL)
    assert res.tiers_shared
    inc = [d["incremental_contribution"].mean for d in res.by_tier.values()]
    assert all(np.isfinite(inc))
    assert sum(inc) == pytest.approx(res.summary["incremental_contribution"].mean, rel=1e-9)
    assert "by_tier_counterfactual" not in res.to_json()


def test_workbook_and_compare_of_different_tiers(six, tmp_path):
    ld, res = six
    out = write_workbook([(ld.scenario, ld.path, res)], tmp_path / "six.xlsx")
    assert out.exists()
    items = [load_scenario(k) for k in ("xinghe_today", "xinghe_3h_golden_response",
                                        "xinghe_yinhe_6tier")]
    results = run_scenarios([(x.scenario, x.path) for x in items],
                            bases=[x.base_scenario for x in items], **SMALL)
    t = compare_scenarios(results)
    assert set(t.scenario_no) == {1, 2, 3}
    assert write_workbook(results, tmp_path / "cmp.xlsx").exists()
