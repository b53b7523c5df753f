"""Points liability (IFRS 15) and deadweight from the engine's recorded flows (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
from simulator.deadweight import deadweight
from simulator.points_ledger import ledger, of_scenario
from simulator.runner import run
from simulator.scenario_io import from_dict, load, to_dict

PLAYBOOK = scenarios.shipped_path("loyalty_playbook")


def _points_scenario(redemption_share: float, churn: float | None = None, months: int = 24,
                     expiry: int = 12):
    d = to_dict(load(PLAYBOOK))
    pts = d["tier_rules"]["points"]
    pts["redemption_share"] = redemption_share
    pts["expiry_months"] = expiry
    if churn is not None:
        for s in d["segments"]:
            s["churn_annual"] = churn
        d["population"]["acquisition"] = {"organic_per_month": 0.0,
                                          "paid_spend_cny_per_month": 0.0}
    d["run"]["horizon_months"] = months
    d["run"]["counterfactual"] = {"mode": "scheme_off"}
    for t in d["tiers"]:  # benefits of kind "points" (bonus points) cost apart from redemptions
        t["benefits"] = [b for b in t.get("benefits", []) if b["kind"] != "points"]
    return from_dict(d)


def test_points_roll_forward_closes_every_month():
    sc = _points_scenario(0.6)
    res = run(sc, replications=2, agents=1500, workers=1)
    led = of_scenario(res, sc)
    assert led is not None and led.horizon == 24
    v = led.values
    # closing balances are the customers' stored balances, summed by the engine; the
    # flows are booked separately: opening + issued - redeemed - expired = closing
    gap = (v["points_opening"] + v["points_issued"] - v["points_redeemed"]
           - v["points_expired"] - v["points_outstanding"])
    assert np.abs(gap).max() <= 1e-6 * v["points_issued"].max()
    assert led.roll_forward_gap() <= 1e-6
    assert np.all(v["points_issued"] > 0) and np.all(v["points_redeemed"] > 0)
    # everything expires at months 12 and 24 (calendar expiry)
    assert v["points_outstanding"][:, 11] == pytest.approx(0.0, abs=1e-6)
    assert v["points_outstanding"][:, 23] == pytest.approx(0.0, abs=1e-6)
    # churn forfeits balances in the other months too
    assert np.all(v["points_expired"][:, :11] > 0)
    # the cash cost of redemptions is the engine's points cost (no second formula)
    from simulator.outputs import MI

    pcost = res._stack("scenario")[..., MI["benefit_cost_points"]].sum(axis=(2, 3))
    assert v["redemption_cash_cny"] == pytest.approx(pcost, rel=1e-9)
    # deferred revenue rolls forward too, and never goes negative
    d = v["deferred_revenue_cny"]
    opening = np.concatenate([np.zeros((2, 1)), d[:, :-1]], axis=1)
    assert opening + v["revenue_deferred_cny"] - v["revenue_recognised_cny"] == \
        pytest.approx(d, rel=1e-9, abs=1e-6)
    assert np.all(d >= -1e-6)
    # liability at expected redemption value
    assert v["liability_cny"] == pytest.approx(
        v["points_outstanding"] * led.point_value * (1 - v["breakage_estimate"]))


@pytest.mark.parametrize("r", [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
def test_long_run_breakage_approaches_one_minus_redemption_share(r):
    # Before: the monthly rate 1 - (1-r)^(2/E) (redeemed by a "half life" of E/2) gave
    # 0.26 at r = 0.8 and 0.18 at r = 0.9; now the rate solves the expiry windows exactly.
    sc = _points_scenario(r, churn=0.0, months=60)
    res = run(sc, replications=2, agents=800, workers=1)
    led = of_scenario(res, sc)
    b = led.realised_breakage().mean
    assert b == pytest.approx(1.0 - r, abs=0.01)
    # the running estimate settles on the realised breakage
    assert led.values["breakage_estimate"][:, -1].mean() == pytest.approx(b, rel=1e-9)
    # before the first expiry date the estimate is the scenario's own assumption
    assert led.values["breakage_estimate"][:, :11] == pytest.approx(1.0 - r)


@pytest.mark.parametrize("expiry", [1, 3, 12, 24, 60])
def test_points_redemption_rate_redeems_the_stated_share(expiry):
    from simulator.theory import points_never_redeemed, points_redemption_rate

    rates = []
    for r in np.linspace(0.05, 0.99, 20):
        q = points_redemption_rate(r, expiry)
        assert points_never_redeemed(q, expiry) == pytest.approx(1.0 - r, abs=1e-12)
        rates.append(q)
    assert np.all(np.diff(rates) > 0)  # more redemption, a higher monthly rate
    assert points_redemption_rate(0.0, expiry) == 0.0
    assert points_redemption_rate(1.0, expiry) == 1.0
    if expiry == 1:  # one month to redeem in: the monthly rate is the share itself
        assert points_redemption_rate(0.37, 1) == pytest.approx(0.37, abs=1e-15)
    # a closed form checked by simulation: points earned evenly, expiring every E months
    q = points_redemption_rate(0.8, expiry)
    bal, issued, redeemed = 0.0, 0.0, 0.0
    for m in range(1, 10 * expiry + 1):
        bal += 1.0
        issued += 1.0
        redeemed += bal * q
        bal -= bal * q
        if m % expiry == 0:
            bal = 0.0
    assert redeemed / issued == pytest.approx(0.8, abs=1e-9)


def test_ledger_allocates_by_relative_standalone_selling_price():
    flows = np.array([[1000.0, 100.0, 0.0, 900.0], [0.0, 90.0, 810.0, 0.0]])
    v = ledger(flows, np.array([10_000.0, 0.0]), point_value=1.0, redemption_share=0.5,
               expiry_months=2)
    ssp = 1000.0 * 1.0 * 0.5  # issued x value x (1 - prior breakage)
    assert v["revenue_deferred_cny"][0] == pytest.approx(10_000 * ssp / (10_000 + ssp))
    # month 1: 100 of 1000 points resolved -> 10 % of the pool recognised
    assert v["revenue_recognised_cny"][0] == pytest.approx(0.1 * v["revenue_deferred_cny"][0])
    # month 2: everything resolved -> the pool is empty
    assert v["deferred_revenue_cny"][1] == pytest.approx(0.0, abs=1e-9)
    assert v["breakage_estimate"][1] == pytest.approx(810 / 1000)


def test_points_off_has_no_ledger_and_golden_outputs_unchanged():
    sc = load(scenarios.shipped_path("xinghe_today"))
    res = run(sc, replications=1, agents=300, horizon_months=3, workers=1)
    assert of_scenario(res, sc) is None


# ------------------------------------------------------------------ deadweight
def _benefits_only(effect: dict, churn: float | None = None):
    """Xinghe's tiers and benefits; the first benefit of a tier has ``effect``, others none."""
    d = to_dict(load(scenarios.shipped_path("xinghe_today")))
    d["promotions"] = []
    for t in d["tiers"]:
        for j, b in enumerate(t.get("benefits", [])):
            b["effect"] = dict(effect) if j == 0 else {}
    for s in d["segments"]:
        s.setdefault("sensitivity", {})["price"] = 1.0
        s["sensitivity"]["benefits"] = 1.0
        if churn is not None:
            s["churn_annual"] = churn
    d["run"]["counterfactual"] = {"mode": "scheme_off", "switch_off": ["benefits"]}
    d["run"]["horizon_months"] = 6
    return from_dict(d)


def test_zero_effect_discount_is_all_deadweight():
    sc = _benefits_only({})
    res = run(sc, replications=2, agents=1000, workers=1)
    dw = deadweight(res)
    assert dw is not None
    tot = dw.stats("total")["all customers"]
    assert tot["deadweight_share"].mean == pytest.approx(1.0, abs=1e-12)
    assert tot["incremental_orders"].mean == 0.0
    assert tot["cost_incremental"].mean == 0.0
    assert tot["cost_matched"].mean > 0
    assert tot["concessions_matched"].mean > 0  # the 10 % off is a price concession
    for label, st in dw.stats("tier").items():
        if st["cost_matched"].mean > 0:
            assert st["deadweight_share"].mean == pytest.approx(1.0, abs=1e-12), label


def test_incremental_orders_equal_the_known_uplift():
    sc = _benefits_only({"order_rate": 0.3}, churn=0.0)
    res = run(sc, replications=2, agents=12000, workers=1)
    dw = deadweight(res)
    x = dw.stats("total")["all customers"]
    orders_s = res.totals("orders", "scenario").sum(axis=1)
    orders_cf = res.totals("orders", "counterfactual").sum(axis=1)
    # Poisson by inversion with the same uniform: more rate, never fewer orders, so every
    # counterfactual order is matched and the incremental orders are exactly the increment
    inc = dw.sums[:, 1].sum(axis=(1, 2))
    assert inc == pytest.approx(orders_s - orders_cf, rel=1e-9)
    assert dw.sums[:, 0].sum(axis=(1, 2)) == pytest.approx(orders_cf, rel=1e-9)
    # per tier, incremental / matched orders = the order-rate multiplier the benefit
    # gives (+30 % valued by each segment: simulator.tiers), matched-order weighted
    from simulator.tiers import compile_benefits

    eff, _ = compile_benefits(sc, True)
    matched = dw.sums[:, 0].mean(axis=0)  # [S, T]
    incr = dw.sums[:, 1].mean(axis=0)
    for j, tier in enumerate(dw.tiers):
        if matched[:, j].sum() <= 0:
            continue
        want = float((matched[:, j] * (eff.order[j, :] - 1.0)).sum() / matched[:, j].sum())
        got = float(incr[:, j].sum() / matched[:, j].sum())
        assert got == pytest.approx(want, abs=0.03), tier
    assert max(eff.order.max() - 1.0, 0) == pytest.approx(0.3, abs=0.05)
    assert 0 < x["deadweight_share"].mean < 1
    assert x["cost_per_incremental_order"].mean == pytest.approx(
        x["scheme_cost"].mean / x["incremental_orders"].mean, rel=0.05)


def test_base_scenario_counterfactual_is_paired_like_scheme_off():
    """Issue 15: a run against a base scenario pairs its arms customer by customer too.

    The base file here is the scenario with its scheme taken out (no benefits, points,
    campaigns or service priority): the same arm as the scheme switched off, so its
    deadweight must be exactly the scheme-off run's (it was None before).
    """
    from simulator.compiled import SWITCHES

    d = to_dict(load(PLAYBOOK))
    d["run"]["counterfactual"] = {"mode": "scheme_off", "switch_off": list(SWITCHES)}
    x = from_dict(d)
    b = to_dict(x)
    for t in b["tiers"]:
        t["benefits"] = []
        t.pop("pool", None)
        t["service_priority"] = 0
    b["promotions"] = []
    b["tier_rules"]["points"]["enabled"] = False
    b["service"].setdefault("escalation", {})["complaints_to_escalate"] = 0
    b["name"] = "the scheme taken out"
    base = from_dict(b)
    d["run"]["counterfactual"] = {"mode": "base_scenario", "base_scenario": "base.toml"}
    x_vs_base = from_dict(d)
    kw = dict(replications=2, agents=600, horizon_months=6, workers=1)
    want = deadweight(run(x, **kw))
    got = deadweight(run(x_vs_base, base=base, **kw))
    assert want is not None and got is not None
    assert want.sums.sum() > 0
    assert np.array_equal(got.sums, want.sums)
    # customers retained come from the arms' member counts (summed in another order)
    np.testing.assert_allclose(got.retained, want.retained, rtol=1e-12)
    import pandas as pd

    pd.testing.assert_frame_equal(got.frame(), want.frame(), rtol=1e-12)


# ------------------------------------------------------------------ CLI
def test_run_prints_and_writes_points_and_deadweight(tmp_path, capsys):
    import json

    from simulator.cli import main
    from simulator.scenario_io import save

    sc = _points_scenario(0.6, months=12)
    f = tmp_path / "pts.toml"
    save(sc, f)
    out_json, out_csv = tmp_path / "r.json", tmp_path / "csv"
    assert main(["run", str(f), "-r", "2", "-n", "800", "--json", str(out_json),
                 "--csv", str(out_csv)]) == 0
    text = capsys.readouterr().out
    assert "Points liability (IFRS 15)" in text and "Deadweight" in text
    js = json.loads(out_json.read_text(encoding="utf-8"))
    res = run(sc, replications=2, agents=800, workers=1)
    led = of_scenario(res, sc)
    got = js["points_liability"]["monthly"][-1]
    want = led.table().iloc[-1]
    assert got["points_issued"] == pytest.approx(want["points_issued"], rel=1e-9)
    assert got["revenue_recognised_cny"] == pytest.approx(want["revenue_recognised_cny"],
                                                          rel=1e-9)
    dw = deadweight(res)
    share = js["deadweight"]["total"]["all customers"]["deadweight_share"]["mean"]
    assert share == pytest.approx(dw.stats()["all customers"]["deadweight_share"].mean,
                                  rel=1e-9)
    import pandas as pd

    p = pd.read_csv(out_csv / "points_liability.csv")
    assert list(p["month"]) == list(range(1, 13))
    d = pd.read_csv(out_csv / "deadweight.csv")
    assert set(d["by"]) == {"total", "segment", "tier"}


def test_retained_customers_within_rounding_are_none():
    """The same customers in other tiers sum to counts that differ in the last bits:
    that is no retained customer (it gave a cost per retained customer of ~1e15)."""
    from simulator.deadweight import retained_difference

    w = 10000 / 600 * 2500  # real customers per agent
    a = np.array([[w * 1 + w * 5, 2 * w]])  # 1 + 5 agents in two tiers
    b = np.array([[w * 6, w]])  # the same 6 in one
    assert (a - b)[0, 0] != 0.0  # the rounding this is about
    np.testing.assert_array_equal(retained_difference(a, b), [[0.0, w]])
