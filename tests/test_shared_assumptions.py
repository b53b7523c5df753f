"""Shared assumptions: one range named once, referred to by several fields, drawn once."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import scenario_io as io
from simulator import uncertainty as u
from simulator.runner import run
from simulator.sensitivity import get_value, tornado, uncertain_inputs, with_value
from tests.conftest import simple_dict

LIFT = {"low": 0.3, "mode": 0.5, "high": 0.9}
A = ("segments", u.Item("A"), "orders_per_month")
B = ("segments", u.Item("B"), "orders_per_month")


def two_segments(a, b, assumptions=None) -> dict:
    """Two equal halves of the customers, each with its own orders per month."""
    d = simple_dict()
    s0 = d["segments"][0]
    d["segments"] = [{**s0, "name": "A", "share": 0.5, "orders_per_month": a},
                     {**s0, "name": "B", "share": 0.5, "orders_per_month": b}]
    if assumptions is not None:
        d["assumptions"] = assumptions
    return d


def shared(scale_b: float | None = None) -> dict:
    ref_b = {"assumption": "orders"} if scale_b is None else \
        {"assumption": "orders", "scale": scale_b}
    return two_segments({"assumption": "orders"}, ref_b, {"orders": dict(LIFT)})


def problems_of(d: dict) -> list[str]:
    with pytest.raises(io.ScenarioError) as e:
        io.from_dict(d)
    return [str(i) for i in e.value.issues]


# ------------------------------------------------------------------ the file
def test_fields_referring_to_an_assumption_hold_its_scaled_nominal_value():
    sc = io.from_dict(shared(scale_b=0.5))
    assert (sc.segments[0].orders_per_month, sc.segments[1].orders_per_month) == (0.5, 0.25)
    assert u.references_of(sc) == {A: u.Ref("orders"), B: u.Ref("orders", 0.5)}
    assert u.assumptions_of(sc)["orders"].kind == "triangular"
    assert not u.uncertain_of(sc)  # no field has a range of its own
    inputs = u.inputs_of(sc)
    assert list(inputs) == [("assumptions", "orders")]  # one input, two fields
    assert inputs[("assumptions", "orders")].targets == ((A, 1.0), (B, 0.5))
    assert not io.check(sc)


def test_save_load_round_trip_keeps_the_assumption_and_its_references(tmp_path):
    sc = io.from_dict(shared(scale_b=0.5))
    f = tmp_path / "s.toml"
    io.save(sc, f)
    text = f.read_text()
    assert "schema_version = 4" in text
    assert "[assumptions]\norders = { low = 0.3, mode = 0.5, high = 0.9 }\n" in text
    assert text.index("[assumptions]") < text.index("[population]")
    assert 'orders_per_month = { assumption = "orders", scale = 0.5 }' in text
    back = io.load(f)
    assert u.assumptions_of(back) == u.assumptions_of(sc)
    assert u.references_of(back) == u.references_of(sc)
    assert io.dumps(back) == io.dumps(sc)
    assert io.scenario_hash(back) == io.scenario_hash(sc)
    assert u.distributions_hash(back) == u.distributions_hash(sc) is not None


def test_the_hash_sees_the_sharing():
    own = io.from_dict(two_segments(dict(LIFT), dict(LIFT)))
    one = io.from_dict(shared())
    half = io.from_dict(shared(scale_b=0.5))
    assert len({io.scenario_hash(x) for x in (own, one, half)}) == 3
    assert len({u.distributions_hash(x) for x in (own, one, half)}) == 3


def test_a_schema_3_file_with_ranges_keeps_its_version_and_hash():
    sc = io.from_dict(two_segments(dict(LIFT), 0.5))
    assert io.to_dict(sc)["schema_version"] == 3
    assert "assumptions" not in io.to_dict(sc)


@pytest.mark.parametrize("ref, words", [
    ({"assumption": "ordres"}, "Segments ▸ Segment 'B' ▸ Orders per month — refers to "
     "assumption “ordres”, which is not in [assumptions] (there are “orders”)"),
    ({"assumption": "orders", "low": 0.1}, "'low' does not belong beside assumption: a field "
     "either refers to a shared assumption"),
    ({"assumption": "orders", "scale": 0}, "scale of assumption “orders” must be a finite "
     "number other than 0"),
    ({"assumption": 3}, "assumption must name an entry of [assumptions]"),
    ({"assumption": "orders", "scale": -1.0}, "Assumptions ▸ orders — low 0.3 orders/month "
     "(× -1 there: -0.3 orders/month) is outside what Segments ▸ Segment 'B' ▸ Orders per "
     "month allows (between 0 and 100 orders/month), which refers to it"),
])
def test_a_bad_reference_names_the_field_and_the_assumption(ref, words):
    found = problems_of(two_segments({"assumption": "orders"}, ref, {"orders": dict(LIFT)}))
    assert any(words in f for f in found), found
    assert all("Segment 'B'" in f for f in found), found


def test_a_bad_assumption_is_named_once_at_its_value():
    found = problems_of(two_segments({"assumption": "orders"}, {"assumption": "orders"},
                                     {"orders": {"low": 0.9, "mode": 0.5, "high": 0.3}}))
    assert found == ["Assumptions ▸ orders — range: low 0.9 orders/month is above high 0.3 "
                     "orders/month"], found
    found = problems_of(two_segments({"assumption": "orders"}, {"assumption": "orders"},
                                     {"orders": {"low": -5, "mode": 0.5, "high": 0.9}}))
    assert found == ["Assumptions ▸ orders — low -5 orders/month is outside what Segments ▸ "
                     "Segment 'A' ▸ Orders per month allows (between 0 and 100 orders/month), "
                     "which refers to it (and 1 more field referring to it)"], found
    found = problems_of(two_segments(0.5, 0.5, {"orders": 3}))
    assert found[0].startswith("Assumptions — must be a table of named ranges"), found


def test_a_missing_assumption_table_is_said():
    found = problems_of(two_segments({"assumption": "orders"}, 0.5))
    assert found == ["Segments ▸ Segment 'A' ▸ Orders per month — refers to assumption "
                     "“orders”, which is not in [assumptions] (the file has no [assumptions] "
                     "table)"]


def test_fields_that_cannot_be_ranges_cannot_refer_either():
    d = shared()
    d["segments"][0]["share"] = {"assumption": "orders"}
    found = problems_of(d)
    assert any("cannot refer to an assumption: segment shares must add up" in f
               for f in found), found


def test_an_unbounded_normal_assumption_is_truncated_to_every_field_it_sets():
    sc = io.from_dict(two_segments({"assumption": "x"}, {"assumption": "x", "scale": 2.0},
                                   {"x": {"mean": 0.5, "sd": 1.0}}))
    d = u.assumptions_of(sc)["x"]
    assert d.lo == pytest.approx(0.0) and d.hi == pytest.approx(50.0)  # 100 / 2 for B


def test_an_edit_of_a_referring_field_is_a_problem_naming_the_assumption():
    sc = io.from_dict(shared())
    sc.segments[1].orders_per_month = 0.7
    found = [str(i) for i in io.check(sc)]
    assert found == ["Segments ▸ Segment 'B' ▸ Orders per month: 0.7 orders/month — differs "
                     "from the nominal value of the shared assumption “orders” (triangular 0.3 "
                     "orders/month – 0.5 orders/month – 0.9 orders/month: 0.5 orders/month); "
                     "the assumption decides a run: change it, or write a plain number"]


# ------------------------------------------------------------------ drawing
def test_one_column_per_assumption_sets_every_field_from_one_draw():
    sc = io.from_dict(shared(scale_b=0.5))
    plan = u.plan_for(sc, sc, seed=4, replications=20, per_draw=1)
    assert plan.keys == (("assumptions", "orders"),)
    seen = set()
    for r in range(20):
        a, _ = plan.arms(sc, sc, r)
        x, y = a.segments[0].orders_per_month, a.segments[1].orders_per_month
        assert y == pytest.approx(0.5 * x)
        seen.add(x)
    assert len(seen) == 20
    assert plan.table(20)["inputs"] == ["assumptions.orders"]
    low, high = u.corners(sc)
    assert (low.segments[0].orders_per_month, low.segments[1].orders_per_month) == \
        pytest.approx((0.3, 0.15), rel=1e-4)  # the ends of the range (quantile 1e-9 in)
    assert (high.segments[0].orders_per_month, high.segments[1].orders_per_month) == \
        pytest.approx((0.9, 0.45), rel=1e-4)


def test_a_base_with_plain_numbers_borrows_the_assumption_where_they_are_nominal():
    sc = io.from_dict(shared())
    base = io.from_dict(two_segments(0.5, 0.8))  # A at the nominal value, B not
    plan = u.plan_for(sc, base, seed=4, replications=6, per_draw=1)
    for r in range(6):
        a, b = plan.arms(sc, base, r)
        assert b.segments[0].orders_per_month == a.segments[0].orders_per_month
        assert b.segments[1].orders_per_month == 0.8


SAMPLE = dict(agents=600, horizon_months=4, workers=1)


def test_a_shared_draw_carries_more_kpi_variance_than_independent_draws():
    """Revenue ≈ c·(x_A + x_B): one shared draw gives Var = 4σ²c², two independent 2σ²c².

    The variance due to the assumptions (the split's between-draw part) doubles. Over
    100 Latin-hypercube draws each margin is near exact, but two independent columns
    still have a sample correlation (here −0.14, so their sum's variance is 14 % below
    2σ²): the KPI's ratio follows the drawn inputs' ratio.
    """
    sigma2 = (0.3**2 + 0.5**2 + 0.9**2 - 0.3 * 0.5 - 0.3 * 0.9 - 0.5 * 0.9) / 18
    own = io.from_dict(two_segments(dict(LIFT), dict(LIFT)))
    one = io.from_dict(shared())
    split, inputs = {}, {}
    for name, sc in (("independent", own), ("shared", one)):
        res = run(sc, replications=200, assumptions="sample", **SAMPLE)
        meta = res.meta["uncertainty"]
        assert meta["draws"] == 100
        split[name] = u.variance_split(res.kpis["revenue"], 2)
        x = np.asarray(meta["drawn"]["values"], dtype=float)[::2]
        inputs[name] = (x.sum(axis=1) if x.shape[1] == 2 else 2 * x[:, 0]).var(ddof=1)
    assert inputs["shared"] == pytest.approx(4 * sigma2, rel=0.05)
    assert inputs["independent"] == pytest.approx(2 * sigma2, rel=0.3)
    ratio = split["shared"].var_assumptions / split["independent"].var_assumptions
    assert 1.6 < ratio < 3.0, ratio
    assert ratio == pytest.approx(inputs["shared"] / inputs["independent"], rel=0.15)
    # the engine's noise is the same either way and small beside the assumptions
    assert split["shared"].var_noise < 0.05 * split["shared"].var_assumptions


def test_one_tornado_bar_and_one_rank_correlation_per_assumption():
    sc = io.from_dict(shared(scale_b=0.5))
    assert list(uncertain_inputs(sc)) == ["assumptions.orders"]
    assert uncertain_inputs(sc)["assumptions.orders"][:2] == (0.3, 0.9)
    assert get_value(sc, "assumptions.orders") == 0.5
    hi = with_value(sc, "assumptions.orders", 0.9)
    assert (hi.segments[0].orders_per_month, hi.segments[1].orders_per_month) == (0.9, 0.45)
    t = tornado(sc, "npv", replications=2, **SAMPLE)
    assert [b.input for b in t.bars] == ["assumptions.orders"]
    assert t.bars[0].label.startswith("Assumption “orders” (Segments ▸ Segment 'A' ▸ Orders per "
                                      "month and 1 more)")
    assert (t.bars[0].low, t.bars[0].high) == (0.3, 0.9)
    res = run(sc, replications=8, assumptions="sample", **SAMPLE)
    meta = res.meta["uncertainty"]
    assert [i["input"] for i in meta["inputs"]] == ["assumptions.orders"]
    assert meta["inputs"][0]["fields"] == 2
    g = u.global_measures(meta["drawn"], res.kpis["revenue"], 2)
    assert [r["input"] for r in g["inputs"]] == ["assumptions.orders"]
    assert np.isfinite(g["inputs"][0]["rank_correlation"])


def test_a_base_stating_the_same_range_on_a_field_shares_the_assumptions_draw():
    sc = io.from_dict(shared())
    base = io.from_dict(two_segments(dict(LIFT), 0.5))  # A: its own range, equal; B: plain
    plan = u.plan_for(sc, base, seed=4, replications=6, per_draw=1)
    assert plan.table(6)["inputs"] == ["assumptions.orders"]
    for r in range(6):
        a, b = plan.arms(sc, base, r)
        assert b.segments[0].orders_per_month == a.segments[0].orders_per_month
        assert b.segments[1].orders_per_month == a.segments[1].orders_per_month  # borrowed
    other = io.from_dict(two_segments({"low": 0.3, "mode": 0.5, "high": 1.0}, 0.5))
    plan = u.plan_for(sc, other, seed=4, replications=6, per_draw=1)
    a, b = plan.arms(sc, other, 0)
    assert b.segments[0].orders_per_month != a.segments[0].orders_per_month  # its own range


# ------------------------------------------------------------------ ranges in list items, inline
def test_ranges_inside_list_items_are_saved_inline_and_read_back_the_same(tmp_path):
    """A benefit's effect in [[tiers.benefits]] was saved as [tiers.benefits.effect.order_rate]."""
    import tomli_w

    from simulator.library import shipped_path
    from simulator.scenario_io.toml_text import dumps as toml_dumps

    sc = io.load(shipped_path("hnw_deep_service"))  # ranges of their own in list items
    f = tmp_path / "h.toml"
    io.save(sc, f)
    text = f.read_text(encoding="utf-8")
    assert "[tiers.benefits.effect.order_rate]" not in text and "\nlow = " not in text
    assert "order_rate = { low = 0.015, mode = 0.03, high = 0.045 }\n" in text
    assert "complaints = { low = -0.6, mode = -0.4, high = -0.2 }\n" in text
    back = io.load(f)
    assert u.all_of(back) == u.all_of(sc)
    assert io.dumps(back) == text and io.scenario_hash(back) == io.scenario_hash(sc)
    shared = io.load(shipped_path("xinghe_today"))
    text = io.dumps(shared)
    assert 'order_rate = { assumption = "free_shipping_order_rate" }\n' in text
    assert "free_shipping_order_rate = { low = 0.015, mode = 0.03, high = 0.045 }\n" in text
    assert u.all_of(io.loads(text)) == u.all_of(shared)
    # a normal range with its dist and bounds, and a scenario without ranges: as tomli_w
    d = two_segments({"dist": "lognormal", "mean": 0.5, "sd": 0.1, "high": 2.0}, 0.5)
    text = io.dumps(io.from_dict(d))
    assert 'orders_per_month = { dist = "lognormal", mean = 0.5, sd = 0.1, high = 2.0 }' in text
    plain = io.to_dict(io.from_dict(two_segments(0.5, 0.5)))
    assert toml_dumps(plain) == tomli_w.dumps(plain)


def test_share_a_range_then_link_another_field_round_trips_through_the_file():
    """The editing calls behind the GUI's "new shared assumption" and "take assumption":
    the file then states one assumption and two references (one scaled)."""
    from simulator.library import shipped_path

    sc = io.load(shipped_path("xinghe_today"))
    price = ("segments", 0, "sensitivity", "price")
    other = ("segments", 1, "sensitivity", "price")
    table = u.uncertain_of(sc)[u.key_of(price, sc)].to_table()
    assert u.name_problem(sc, "p_s") is None
    assert u.name_problem(sc, "free_shipping_order_rate").startswith("an assumption")
    assert "letters, digits" in u.name_problem(sc, "1bad")
    with pytest.raises(u.EditRefused):
        u.share_range(sc, price, "has space", table)
    ranges, values = u.share_range(sc, price, "p_s", table)
    u.set_uncertain(sc, ranges)
    ranges, values = u.link_to_assumption(sc, other, "p_s", 0.5)
    u.set_uncertain(sc, ranges)
    assert set(values) == {other}
    sc.segments[1].sensitivity.price = values[other]
    back = io.loads(io.dumps(sc))
    assert u.assumptions_of(back)["p_s"].mode == pytest.approx(table["mode"])
    refs = u.references_of(back)
    assert (refs[u.key_of(price, back)].scale, refs[u.key_of(other, back)].scale) == (1.0, 0.5)
    assert back.segments[1].sensitivity.price == pytest.approx(0.5 * table["mode"])
    with pytest.raises(u.EditRefused, match="Churn annual allows"):
        u.link_to_assumption(back, ("segments", 0, "churn_annual"), "p_s", 5.0)
