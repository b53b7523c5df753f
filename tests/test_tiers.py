"""simulator/tiers.py: the benefit cost tables and effect tables the engine reads."""

import numpy as np
import pytest

import scenarios
from simulator.scenario_io import from_dict, to_dict
from simulator.tiers import (
    BENEFIT_KINDS,
    DIMINISHING,
    KIND_INDEX,
    compile_benefits,
    review_months,
)


def _with_benefits(benefits_by_tier: dict[int, list[dict]]):
    d = to_dict(scenarios.load_default())
    for tier in d["tiers"]:
        tier["benefits"] = []
    for t, benefits in benefits_by_tier.items():
        d["tiers"][t]["benefits"] = benefits
    return from_dict(d)


def test_every_cost_model_lands_in_its_column_scaled_by_intensity():
    sc = _with_benefits({
        0: [{"name": "Ship", "kind": "free_shipping", "cost_model": "per_order",
             "cost_cny": 8.0, "intensity": 0.5},
            {"name": "Off", "kind": "discount", "cost_model": "share_of_order_value",
             "cost_share": 0.05, "intensity": 2.0, "price_benefit": True}],
        1: [{"name": "Gift", "kind": "gift", "cost_model": "per_year", "cost_cny": 120.0},
            {"name": "Desk", "kind": "dedicated_service", "cost_model": "per_member_month",
             "cost_cny": 3.0},
            {"name": "Home", "kind": "home_service", "cost_model": "per_use", "cost_cny": 50.0,
             "uses_per_member_month": 0.1, "intensity": 2.0}],
    })
    _, cost = compile_benefits(sc, True)
    T = len(sc.tiers)
    assert cost.share.shape == (len(BENEFIT_KINDS), T)
    k = KIND_INDEX
    assert cost.per_order[k["free_shipping"], 0] == pytest.approx(4.0)  # 8 x 0.5
    assert cost.share[k["discount"], 0] == pytest.approx(0.10)  # 5 % x 2
    assert cost.per_year[k["gift"], 1] == pytest.approx(120.0)
    assert cost.per_month[k["dedicated_service"], 1] == pytest.approx(3.0)
    assert cost.per_month[k["home_service"], 1] == pytest.approx(50.0 * 2.0 * 0.1)
    # Only the price benefit is a price concession.
    assert cost.price_share[0] == pytest.approx(0.10)
    assert cost.price_per_order.sum() == 0.0 and cost.price_per_year.sum() == 0.0
    # Nothing else anywhere: every coefficient is accounted for above.
    assert cost.share.sum() + cost.per_order.sum() == pytest.approx(0.10 + 4.0)
    assert cost.per_month.sum() == pytest.approx(3.0 + 10.0)
    share, per_order, per_month, per_year = cost.totals()
    assert share[0] == pytest.approx(0.10) and per_order[0] == pytest.approx(4.0)
    assert per_month[1] == pytest.approx(13.0) and per_year[1] == pytest.approx(120.0)
    assert per_month[0] == 0.0 and share[1] == 0.0


def test_switched_off_benefits_cost_nothing_and_do_nothing():
    sc = scenarios.load_default()
    eff, cost = compile_benefits(sc, False)
    for table in (cost.share, cost.per_order, cost.per_month, cost.per_year,
                  cost.price_share, cost.price_per_order, cost.price_per_year):
        assert not table.any()
    assert (eff.order == 1).all() and (eff.churn == 1).all() and not eff.sat_shift.any()
    on_eff, on_cost = compile_benefits(sc, True)
    assert sum(t.sum() for t in on_cost.totals()) > 0  # the default scheme has benefits


def test_effects_fold_multiplicatively_with_diminishing_intensity():
    benefit = {"name": "Fast", "kind": "express_logistics", "cost_model": "per_order",
               "cost_cny": 1.0, "effect": {"order_rate": 0.1, "churn": -0.2}}
    one = _with_benefits({0: [benefit]})
    two = _with_benefits({0: [benefit, {**benefit, "name": "Fast 2"}]})
    strong = _with_benefits({0: [{**benefit, "intensity": 4.0}]})
    e1, e2, e4 = (compile_benefits(s, True)[0] for s in (one, two, strong))
    seg = one.segments[0]
    w = seg.sensitivity.benefits  # non-price benefit: valued by benefit sensitivity
    assert e1.order[0, 0] == pytest.approx(1 + 0.1 * w)
    assert e2.order[0, 0] == pytest.approx((1 + 0.1 * w) ** 2)  # two benefits multiply
    assert e4.order[0, 0] == pytest.approx(1 + 0.1 * w * 4.0 ** DIMINISHING)
    assert e1.churn[0, 0] == pytest.approx(1 - 0.2 * w)
    assert (e1.order[1:] == 1).all()  # other tiers untouched


def test_review_months():
    assert review_months("monthly", 3) == [1, 2, 3]
    assert review_months("quarterly", 12) == [3, 6, 9, 12]
    assert review_months("yearly", 36) == [12, 24, 36]
    assert review_months("yearly", 11) == []
    assert np.array_equal(review_months("quarterly", 2), [])
