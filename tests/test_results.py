"""Unit tests of simulator.results: payback, annual churn, ROI and its 'not defined' state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from simulator import metrics
from simulator.kpi_formulas import (
    NO_CHANGE,
    NO_COUNTERFACTUAL,
    NO_INCREMENTAL_COST,
    NO_PAYBACK,
    _annual,
    _payback,
)
from simulator.runner import run
from simulator.scenario_io import from_dict
from tests.conftest import simple_dict


def test_payback_month():
    cum = np.cumsum([-10.0, -5.0, 8.0, 9.0, 1.0])  # -10 -15 -7 2 3
    assert _payback(cum) == 4.0
    assert _payback(np.cumsum([5.0, 1.0, 1.0])) == 1.0  # never below zero
    assert _payback(np.cumsum([5.0, -6.0, 2.0])) == 3.0  # dips below, recovers in month 3
    assert math.isnan(_payback(np.cumsum([-5.0, 1.0, 1.0])))  # not within the horizon
    assert math.isnan(_payback(np.array([])))


def test_payback_ignores_residue_and_no_change():
    """A cash flow that never leaves zero has nothing to pay back (was 'month 1')."""
    assert math.isnan(_payback(np.zeros(12), tol=1e-6))
    residue = np.cumsum(np.array([1e-9, -2e-9, 1e-9, 3e-10] * 3))
    assert math.isnan(_payback(residue, tol=1e-6))
    # A real cash flow with residue around its zero crossing still pays back.
    assert _payback(np.cumsum([-10.0, 10.0 - 1e-9, 5.0]), tol=1e-6) == 2.0


def test_annual_churn():
    assert _annual(np.array([0.0]), np.array([100.0]))[0] == 0.0
    r = 12.0 / 1000.0  # churned per active customer-month
    assert _annual(np.array([12.0]), np.array([1000.0]))[0] == pytest.approx(1 - (1 - r) ** 12)
    assert math.isnan(_annual(np.array([1.0]), np.array([0.0]))[0])


def _zero_cost(effect: dict | None):
    d = simple_dict()
    d["segments"][0].update(contacts_per_order=0.3, orders_per_month=1.0)
    d["service"]["pools"][0]["cost_per_agent_hour_cny"] = 60.0
    d["service"]["pools"][0]["shifts"][0]["staff"] = 3
    if effect is not None:
        d["tiers"][0]["benefits"] = [{"name": "Thank-you note", "kind": "gift",
                                      "cost_model": "per_member_month", "cost_cny": 0.0,
                                      "effect": effect}]
    d["run"].update(horizon_months=6, agents=1500, replications=3)
    return from_dict(d)


def test_zero_cost_benefit_has_no_roi():
    """An effect at zero cost: incremental cost is floating-point residue (service cost is
    allocated per contact), so ROI is 'not defined', not 7e16."""
    res = run(_zero_cost({"order_rate": 0.1}), workers=1)
    k = res.kpis
    assert np.all(np.abs(k["incremental_cost"]) < 1e-3)  # residue, not money
    assert k["incremental_contribution"].mean() > 0  # the effect is real
    roi = res.summary["roi"]
    assert roi.n == 0 and math.isnan(roi.mean) and roi.not_defined == NO_INCREMENTAL_COST
    js = res.to_json()["summary"]["roi"]
    assert js["mean"] is None and js["not_defined"] == "no incremental cost"
    json.dumps(js, allow_nan=False)
    assert metrics.stat_value(roi, "ratio") == "not defined (no incremental cost)"
    assert res.summary["payback_month"].mean == 1.0  # it gains from month 1 at no cost


def test_zero_change_scheme_has_no_payback():
    """Nothing switched off differs from the scenario: no ROI and no payback (was month 1)."""
    res = run(_zero_cost(None), workers=1)
    assert np.all(np.abs(res.kpis["incremental_contribution"]) < 1e-3)
    pb = res.summary["payback_month"]
    assert pb.n == 0 and pb.not_defined == NO_CHANGE
    assert res.summary["roi"].not_defined == NO_INCREMENTAL_COST
    assert metrics.stat_value(pb, "months") == f"not defined ({NO_CHANGE})"


def test_without_counterfactual_incremental_figures_say_why():
    sc = _zero_cost({"order_rate": 0.1})
    sc = sc.model_copy(update={"run": sc.run.model_copy(
        update={"counterfactual": sc.run.counterfactual.model_copy(update={"mode": "none"})})})
    res = run(sc, workers=1)
    for key in ("roi", "npv", "payback_month", "ltv_uplift"):
        assert res.summary[key].not_defined == NO_COUNTERFACTUAL, key
    assert res.summary["revenue"].not_defined is None


def test_payback_not_reached_is_said():
    """A benefit that costs more than it returns: ROI negative, payback not reached."""
    d = simple_dict()
    d["tiers"][0]["benefits"] = [{"name": "Costly gift", "kind": "gift",
                                  "cost_model": "per_member_month", "cost_cny": 50.0,
                                  "effect": {"churn": -0.01}}]
    d["run"].update(horizon_months=6, agents=800, replications=2)
    res = run(from_dict(d), workers=1)
    assert res.summary["roi"].mean < 0
    pb = res.summary["payback_month"]
    assert pb.n == 0 and pb.not_defined == NO_PAYBACK
    assert metrics.stat_value(pb, "months") == "not reached within the horizon"


def test_share_intervals_stay_within_0_and_100_percent():
    """2 replications at 99-100 % SLA: the t interval ran to 101.5 %; a share's stays in 0-1."""
    from simulator.metrics import interval, value_range
    from simulator.results import Stat

    free = Stat.of([1.0, 0.985])
    assert free.ci95_high > 1.0  # what the Student-t interval alone gives
    s = Stat.of([1.0, 0.985], "share", within=value_range("sla_attainment"))
    assert s.ci95_high == 1.0 and s.ci95_low == free.ci95_low and s.mean == free.mean
    assert "101" not in interval(s.ci95_low, s.ci95_high, "share")
    low = Stat.of([0.0, 0.02], "share", within=value_range("churn_annual"))
    assert low.ci95_low == 0.0
    assert value_range("npv") is None  # money is not bounded


def test_run_and_comparison_share_intervals_are_bounded():
    import scenarios
    from simulator.compare import compare_scenarios, run_scenarios
    from simulator.metrics import METRICS, value_range

    sc = scenarios.load_default()
    sc.service.pools[0].shifts[0].staff *= 4  # SLA near 100 %
    res = run_scenarios([(sc, None), (sc, None)], replications=2, agents=500,
                        horizon_months=6, workers=1)
    for key, st in res[0][2].summary.items():
        r = value_range(key)
        if r is not None and st.n > 1:
            assert r[0] <= st.ci95_low and st.ci95_high <= r[1], (key, st)
    table = compare_scenarios(res, base_index=0)
    ranged = table[table["metric"].map(lambda k: k in METRICS and
                                       value_range(k) is not None)]
    ranged = ranged[ranged["section"] == "absolute"]
    assert len(ranged)
    for row in ranged.itertuples():
        lo, hi = value_range(row.metric)
        if math.isfinite(row.ci95_low):
            assert lo <= row.ci95_low and row.ci95_high <= hi, row


def test_a_month_no_replication_defines_is_a_gap_without_warnings():
    # the lifecycle and service charts asked numpy for the mean of all-NaN months and
    # printed "Mean of empty slice" / "Degrees of freedom <= 0" warnings
    import warnings

    import numpy as np

    from simulator.results import RunResult

    a = np.array([[1.0, np.nan, 3.0], [2.0, np.nan, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = RunResult._band_frame(None, a)  # type: ignore[arg-type]
    assert f["mean"].tolist()[0] == 1.5 and np.isnan(f["mean"][1]) and f["mean"][2] == 4.0
    assert np.isnan(f["ci95_low"][1]) and f["ci95_low"][0] < 1.5 < f["ci95_high"][0]


def test_service_bands_stay_where_the_figures_can_lie():
    """With 2 replications a month's mean wait band ran below 0 h (the chart's axis went to
    −1 hours) and the SLA band above 100 %; the bands are cut at 0 and at 1 for shares,
    as the KPIs' intervals are (Stat.of ``within``)."""
    from simulator.loader import load_scenario

    ld = load_scenario("hnw_deep_service")
    res = run(ld.scenario, base=ld.base_scenario, replications=2, agents=1000,
              horizon_months=12)
    wait = res.service_band("wait_mean_hours")
    sla = res.service_band("sla_attainment")
    assert (wait["ci95_low"] >= 0).all() and (sla["ci95_high"] <= 1).all()
    # the cut mattered here: some months' bands end exactly at the bound
    assert ((wait["ci95_low"] == 0) & (wait["mean"] > 0)).any()
    assert (sla["ci95_high"] == 1).any()
    for b in (wait, sla):
        assert (b["ci95_low"] <= b["mean"]).all() and (b["mean"] <= b["ci95_high"]).all()
