"""Hypothesis properties of the engine (STYLE.md: zero in -> zero out)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from simulator.runner import run
from simulator.scenario_io import from_dict, to_dict

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _base() -> dict:
    d = to_dict(scenarios.load_default())
    d["run"].update(horizon_months=4, agents=600, replications=1)
    return d


def _run(d, seed):
    return run(from_dict(d), seed=seed, workers=1)


@SETTINGS
@given(seed=st.integers(0, 2**31), staff=st.integers(1, 50), share=st.floats(0.0, 0.5))
def test_no_benefits_means_zero_benefit_cost(seed, staff, share):
    d = _base()
    for t in d["tiers"]:
        t["benefits"] = []
    d["tier_rules"]["points"] = {"enabled": False}
    d["service"]["pools"][0]["shifts"][0]["staff"] = staff
    d["segments"][0]["coupon_use"] = share
    res = _run(d, seed)
    m = res.monthly
    assert (m.benefit_cost == 0).all()
    assert res.summary["benefit_cost"].mean == 0


@SETTINGS
@given(seed=st.integers(0, 2**31), contacts=st.floats(0.01, 1.0))
def test_unlimited_staff_means_zero_wait(seed, contacts):
    d = _base()
    d["segments"][0]["contacts_per_order"] = contacts
    d["service"]["pools"][0]["shifts"] = [{"start_hour": 0, "end_hour": 24, "staff": 100000}]
    res = _run(d, seed)
    assert res.summary["service_wait_mean_hours"].mean == 0
    assert (res.service.wait_p90_hours == 0).all()


@SETTINGS
@given(seed=st.integers(0, 2**31), reach=st.floats(0.0, 1.0), depth=st.floats(0.0, 0.5))
def test_zero_promotion_budget_means_zero_promotion_cost(seed, reach, depth):
    d = _base()
    d["promotions"] = [{
        "name": "Sale", "kind": "percent_off", "start_month": 1, "duration_days": 10,
        "repeat_every_months": 1, "discount_share": depth, "channel": "sms",
        "cost_per_contact_cny": 0.3, "reach_share": reach, "budget_cny": 0.0,
    }]
    res = _run(d, seed)
    assert (res.monthly.promotion_cost == 0).all()


def _budget_run(seed, budget):
    d = _base()
    d["promotions"] = [{
        "name": "Sale", "kind": "coupon", "start_month": 2, "duration_days": 7,
        "channel": "email", "cost_per_contact_cny": 5.76, "reach_share": 1.0,
        "budget_cny": budget,
    }]
    m = _run(d, seed).monthly
    m = m[m.arm == "scenario"]
    spent = m.groupby("month").promotion_channel_cost.sum()
    targeted = m.groupby("month").active_customers.sum()[2]
    return spent, targeted


AGENT_CONTACT = 5.76 * 100  # one agent stands for 100 real customers (60,000 / 600)


@SETTINGS
@given(seed=st.integers(0, 2**31), budget=st.floats(1000.0, 1e6))
def test_promotion_spend_never_exceeds_budget(seed, budget):
    """A budget is a hard cap: spent up to it, short of it by less than one agent's contacts."""
    spent, targeted = _budget_run(seed, budget)
    assert spent[2] <= budget * (1 + 1e-12)
    assert spent[2] > min(budget, 5.76 * targeted) - AGENT_CONTACT - 1e-6
    assert spent.drop(2).sum() == 0


def test_promotion_budget_binds_in_a_small_sample():
    """Hypothesis found it: 600 agents, budget 24,189 CNY spent 31,680 (55 agents reached
    where the budget pays for 41: the reach share was right only on average)."""
    spent, _ = _budget_run(99332790, 24189.0)
    assert spent[2] == pytest.approx(41 * AGENT_CONTACT)


@SETTINGS
@given(seed=st.integers(0, 2**31))
def test_accounting_identities(seed):
    res = _run(_base(), seed)
    m = res.monthly
    parts = m.benefit_cost + m.promotion_cost + m.service_cost + m.acquisition_cost
    assert np.allclose(m.total_cost, parts)
    assert np.allclose(m.net_contribution, m.gross_margin - m.total_cost)
    kinds = [c for c in m.columns if c.startswith("benefit_cost_")]
    assert np.allclose(m[kinds].sum(axis=1), m.benefit_cost)
    assert (m.churned_customers <= m.active_customers + 1e-9).all()


def test_discount_depth_scales_its_effect_when_the_observed_depth_is_given():
    """5 % off (vs 10 % observed) does ~71 % of the effect; without effect_at_share, all of it."""
    from simulator.tiers import compile_benefits

    d = to_dict(scenarios.load_default())
    silver = d["tiers"][1]["benefits"]
    disc = next(b for b in silver if b["cost_model"] == "share_of_order_value")
    assert disc["effect_at_share"] == disc["cost_share"] == 0.10
    full = compile_benefits(from_dict(d), True)[0]
    disc["cost_share"] = 0.05
    half = compile_benefits(from_dict(d), True)[0]
    disc["effect_at_share"] = 0.0
    blind = compile_benefits(from_dict(d), True)[0]
    base_order = compile_benefits(from_dict(d), False)[0].order[1]
    up_full = full.order[1] / base_order - 1
    up_half = half.order[1] / base_order - 1
    assert (up_half < up_full).all() and (up_half > 0.5 * up_full).all()
    np.testing.assert_allclose(blind.order[1], full.order[1])


def test_reach_threshold_is_the_kth_smallest_uniform_of_the_targets():
    """The budget's compiled selection equals sorting the targets' uniforms (any threads)."""
    import numba

    from simulator.draws import reach_threshold, uniforms

    rng = np.random.default_rng(5)
    n, n_seg = 200_003, 3
    alive = rng.random(n) < 0.8
    tier = rng.integers(0, 4, n).astype(np.int8)
    seg = rng.integers(0, n_seg, n).astype(np.int8)
    target = rng.random(4 * n_seg) < 0.6
    key = np.uint64(0x1234ABCD5678)
    u = uniforms(key, n)
    mask = alive & target[tier.astype(np.int64) * n_seg + seg]
    inside = np.sort(u[mask][u[mask] < 0.7])
    for k in (0, 1, 17, inside.size // 3, inside.size - 1):
        got = []
        before = numba.get_num_threads()
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            got.append(reach_threshold(key, alive, tier, seg, n, target, n_seg, 0.7, k))
        numba.set_num_threads(before)
        assert got[0] == got[-1] == inside[k]
        assert (u[mask] < got[0]).sum() == k
    assert reach_threshold(key, alive, tier, seg, n, target, n_seg, 0.7, inside.size) == 0.7
