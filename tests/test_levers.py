"""Budget levers: today's spend per lever, default and scenario bounds, applying a split."""

import pytest

from simulator.optimiser.levers import (
    DEFAULT_MAX_FACTOR,
    apply_allocation,
    extract_levers,
    lever_ids,
    service_spend_cny,
    spend_after,
)
from simulator.runner import run
from simulator.scenario_io import from_dict
from simulator.service import DAYS_PER_MONTH
from tests.support.studies import study_b_dict


@pytest.fixture(scope="module")
def shop():
    d = study_b_dict(40_000, extra_levers=True)
    d["service"]["window_contacts"] = 300
    sc = from_dict(d)
    res = run(sc, replications=1, agents=2000, horizon_months=12, workers=1)
    return sc, res, extract_levers(sc, res)


def test_ten_levers_with_ids(shop):
    sc, _, levers = shop
    ids = [lv.id for lv in levers]
    assert ids == lever_ids(sc)
    assert len(ids) == 10
    assert {lv.kind for lv in levers} == {"benefits", "service", "promotion", "acquisition"}


def test_service_spend_is_exact_and_bounds_default(shop):
    sc, _, levers = shop
    cs = next(lv for lv in levers if lv.id == "service:CS")
    assert cs.current_cny == pytest.approx(14 * 2 * DAYS_PER_MONTH * 50.0)
    assert cs.min_cny == 0.0  # the scenario's bound overrides the 25 % default
    vip = next(lv for lv in levers if lv.id == "service:VIP")
    assert vip.min_cny == pytest.approx(0.25 * vip.current_cny)
    assert vip.max_cny == pytest.approx(DEFAULT_MAX_FACTOR * vip.current_cny)


def test_promotion_spend_matches_engine_channel_cost(shop):
    sc, res, levers = shop
    mon = res.monthly[res.monthly["arm"] == "scenario"]
    for lv in levers:
        if lv.kind != "promotion":
            continue
        observed = mon[f"promotion_cost_{lv.channel}"].sum() / 12
        assert lv.current_cny == pytest.approx(observed, rel=1e-6)
        assert lv.max_cny >= lv.current_cny  # full reach is the most it can take


def test_benefit_spend_is_the_tiers_benefit_cost(shop):
    sc, res, levers = shop
    mon = res.monthly[res.monthly["arm"] == "scenario"]
    member = next(lv for lv in levers if lv.id == "benefits:Member")
    assert member.current_cny == pytest.approx(
        mon.loc[mon["tier"] == "Member", "benefit_cost"].sum() / 12)
    assert member.current_cny > 0


def test_apply_moves_each_lever_and_nothing_else(shop):
    sc, _, levers = shop
    by = {lv.id: lv for lv in levers}
    new = apply_allocation(sc, levers, {
        "benefits:Gold": 2 * by["benefits:Gold"].current_cny,
        "service:CS": 1.5 * by["service:CS"].current_cny,
        "promotion:Price-sensitive sms": 1234.0,
        "acquisition": 777.0,
    })
    assert new.tiers[1].benefits[0].intensity == pytest.approx(2.0)
    assert new.tiers[0].benefits[0].intensity == 1.0
    assert new.service.pools[0].shifts[0].staff == 3
    assert spend_after(by["service:CS"], new, 0) == pytest.approx(service_spend_cny(
        new.service.pools[0]))
    p = next(q for q in new.promotions if q.name == "Price-sensitive sms")
    assert p.budget_cny == pytest.approx(1234.0) and p.reach_share == 1.0  # monthly runs
    assert new.population.acquisition.paid_spend_cny_per_month == 777.0
    assert sc.population.acquisition.paid_spend_cny_per_month == 20_000.0  # original untouched
    same = apply_allocation(sc, levers, {lv.id: lv.current_cny for lv in levers})
    assert same == sc


def test_bad_lever_names_are_errors(shop):
    sc, res, levers = shop
    with pytest.raises(ValueError, match="alloc"):
        apply_allocation(sc, levers, {"service:Nope": 1.0})
    d = study_b_dict(40_000)
    d["budget"]["bounds"].append({"lever": "benefits:Nope", "max_cny": 5.0})
    with pytest.raises(ValueError, match="budget.bounds"):
        extract_levers(from_dict(d), res)


def test_pinned_lever_has_no_room():
    d = study_b_dict(40_000)
    sc = from_dict(d)
    res = run(sc, replications=1, agents=1000, horizon_months=3, workers=1)
    levers = {lv.id: lv for lv in extract_levers(sc, res)}
    cs = levers["service:CS"]
    assert cs.pinned and cs.min_cny == cs.max_cny == cs.current_cny and not cs.free


def test_benefit_lever_writes_the_discount_depth_not_a_hidden_multiplier():
    """Cutting a tier's benefit spend to 8 %: a "10 % off" discount becomes 0.8 % off (its
    depth and name), other benefits get a funding level; cost and effect tables are those of
    the old intensity rule (same model, now visible in the planner's terms)."""
    import numpy as np

    from simulator.optimiser.levers import Lever, describe_changes
    from simulator.tiers import compile_benefits

    d = study_b_dict(40_000)
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [
        {"name": "10 % off", "kind": "discount", "cost_model": "share_of_order_value",
         "cost_share": 0.10, "effect_at_share": 0.10, "price_benefit": True,
         "effect": {"order_rate": 0.06, "churn": -0.06}},
        {"name": "Member price 2 %", "kind": "member_price",
         "cost_model": "share_of_order_value", "cost_share": 0.02, "price_benefit": True,
         "effect": {"order_rate": 0.03}},  # effect stated without a depth
        {"name": "Free shipping", "kind": "free_shipping", "cost_model": "per_order",
         "cost_cny": 18.0, "effect": {"order_rate": 0.03, "churn": -0.03}}]}]
    sc = from_dict(d)
    lever = Lever("benefits:Member", "benefits", "Member tier benefits", 1000.0, 0.0, 1e9)
    new = apply_allocation(sc, [lever], {"benefits:Member": 80.0})
    disc, member, ship = new.tiers[0].benefits
    assert disc.cost_share == pytest.approx(0.008) and disc.intensity == 1.0
    assert disc.name == "0.8 % off"
    assert member.cost_share == pytest.approx(0.0016) and member.effect_at_share == 0.02
    assert member.name == "Member price 0.2 %"
    assert ship.cost_cny == 18.0 and ship.intensity == pytest.approx(0.08)
    # The same cost and effect as funding every benefit at intensity 0.08.
    old_rule = sc.model_copy(deep=True)
    for b in old_rule.tiers[0].benefits:
        b.intensity = 0.08
    e_new, c_new = compile_benefits(new, True)
    e_old, c_old = compile_benefits(old_rule, True)
    for name in ("order", "spend", "churn", "sat_shift", "complaints"):
        np.testing.assert_allclose(getattr(e_new, name), getattr(e_old, name), rtol=1e-12)
    for name in ("share", "per_order", "per_month", "per_year", "price_share"):
        np.testing.assert_allclose(getattr(c_new, name), getattr(c_old, name), rtol=1e-12)
    text = "\n".join(describe_changes(sc, new))
    assert "depth 10.00 % → 0.80 %" in text and "(now “0.8 % off”)" in text
    assert "intensity) ×1.00 → ×0.08" in text
    # A depth never exceeds 100 %: the lever's physical cap is the deepest discount's.
    res = run(sc, replications=1, agents=500, horizon_months=2, workers=1)
    cap = next(lv for lv in extract_levers(sc, res) if lv.id == "benefits:Member")
    assert cap.max_cny <= cap.current_cny * (1 / 0.10) * (1 + 1e-9)
