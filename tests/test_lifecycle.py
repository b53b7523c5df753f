"""Customer lifecycle (issue 18): dormancy, win-back / recall campaigns, word of mouth.

Closed forms with behaviour otherwise off (one segment, no service contacts, no
scheme, satisfaction constant): the active / dormant / churned split of the
equivalent monthly Markov chain, referrals as a branching process, negative word of
mouth cutting acquisition by the configured share; and properties (recall budget 0:
no reactivations and no recall cost; referral rate 0: no referred customers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import library, scenario_io
from simulator.engine import Simulation
from simulator.outputs import MI


def _plain(**seg) -> dict:
    """One segment, satisfaction and service off, no scheme, no new customers."""
    d = scenario_io.to_dict(library.load_default())
    s = d["segments"][0]
    s.update(name="All", share=1.0, contacts_per_order=0.0, complaints_per_order=0.0,
             order_rate_cv=0.0, churn_heterogeneity=0.0)
    s.update(seg)
    d["segments"] = [s]
    d["population"]["acquisition"] = {"organic_per_month": 0.0}
    d["tier_rules"]["enabled"] = False
    d["promotions"] = []
    d["service"]["churn_per_satisfaction_point"] = 0.0
    d["run"]["steps_per_month"] = 1
    for t in d["tiers"]:
        t["benefits"] = []
    return d


def _run(d: dict, n: int, H: int, seed: int = 5):
    sc = scenario_io.from_dict(d, "lifecycle test")
    out = Simulation(sc, np.random.SeedSequence(seed), 0, n, H).run()
    w = sc.population.customers / n
    return sc, out, w


def _col(out, name: str, w: float = 1.0) -> np.ndarray:
    """A monthly column summed over segments and tiers, in agents (divided by w)."""
    return out.monthly[..., MI[name]].sum(axis=(1, 2)) / w


def _idle_chain(lam: float, fo: float, fc: float, h: float, k: int) -> np.ndarray:
    """Monthly transition matrix over idle months 0..k-1, dormant (k), churned (k+1).

    A customer buys in a month with probability 1 - exp(-rate) (rate lam, or fo*lam
    when dormant) and churns at its end with h (fc*h when dormant); a buyer's idle
    count returns to 0, a non-buyer's grows by one (k and more: dormant).
    """
    P = np.zeros((k + 2, k + 2))
    for j in range(k + 1):
        rate, hz = (lam * fo, min(1.0, h * fc)) if j == k else (lam, h)
        buy = 1 - math.exp(-rate)
        P[j, 0] += (1 - hz) * buy
        P[j, min(j + 1, k)] += (1 - hz) * (1 - buy)
        P[j, k + 1] = hz
    P[k + 1, k + 1] = 1.0
    return P


@pytest.mark.parametrize("k", [1, 3])
def test_dormancy_follows_the_monthly_markov_chain(k):
    """Closed cohort: active / dormant / churned by month equal x0 P^m (k = 1: 3 states)."""
    lam, fo, fc, annual = 0.6, 0.3, 2.5, 0.45
    d = _plain(orders_per_month=lam, churn_annual=annual, dormant_after_months=k,
               dormant_order_factor=fo, dormant_churn_factor=fc)
    n, H = 60_000, 30
    sc, out, w = _run(d, n, H)
    h = 1 - (1 - annual) ** (1 / 12)
    P = _idle_chain(lam, fo, fc, h, k)
    q = math.exp(-lam)  # warm start: idle j with prob (1-q) q^j, dormant from k on
    x = np.zeros(k + 2)
    x[:k] = [(1 - q) * q**j for j in range(k)]
    x[k] = q**k
    x *= n
    active, dormant, churned = (_col(out, c, w) for c in
                                ("active_customers", "dormant_customers", "churned_customers"))
    for m in range(H):
        alive, dor = x[: k + 1].sum(), x[k]
        exp_churn = h * x[:k].sum() + min(1.0, h * fc) * x[k]
        assert abs(active[m] - alive) < 4 * math.sqrt(alive) + 1, (m, active[m], alive)
        assert abs(dormant[m] - dor) < 4 * math.sqrt(dor) + 1, (m, dormant[m], dor)
        assert abs(churned[m] - exp_churn) < 4 * math.sqrt(exp_churn) + 1, (m, churned[m])
        x = x @ P
    # The split among the living tends to the chain's quasi-stationary one.
    Q = P[: k + 1, : k + 1]
    vals, vecs = np.linalg.eig(Q.T)
    pi = np.real(vecs[:, np.argmax(np.real(vals))])
    pi /= pi.sum()
    assert dormant[-1] / active[-1] == pytest.approx(pi[k], abs=0.02)


def test_dormancy_stationary_split_with_steady_inflow():
    """Open shop, N new customers a month: counts settle at N e_A (I - Q)^-1 (3 states)."""
    lam, fo, fc, annual, N = 0.5, 0.4, 3.0, 0.7, 2000.0
    d = _plain(orders_per_month=lam, churn_annual=annual, dormant_after_months=1,
               dormant_order_factor=fo, dormant_churn_factor=fc)
    d["population"]["customers"] = 20_000
    d["population"]["acquisition"] = {"organic_per_month": N}
    n, H = 20_000, 72  # weight 1: agents are customers
    sc, out, w = _run(d, n, H)
    h = 1 - (1 - annual) ** (1 / 12)
    Q = _idle_chain(lam, fo, fc, h, 1)[:2, :2]
    x = np.array([N, 0.0]) @ np.linalg.inv(np.eye(2) - Q)  # at a month's start, new included
    churn = h * x[0] + min(1.0, h * fc) * x[1]
    late = slice(48, H)  # the start population has decayed to < 1 %
    act = _col(out, "active_customers")[late].mean()
    dor = _col(out, "dormant_customers")[late].mean()
    chu = _col(out, "churned_customers")[late].mean()
    assert act == pytest.approx(x.sum(), rel=0.02)
    assert dor == pytest.approx(x[1], rel=0.03)
    assert chu == pytest.approx(churn, rel=0.03)
    # active (not dormant) : dormant : churned per month
    assert (act - dor) / dor == pytest.approx(x[0] / x[1], rel=0.04)


def test_dormancy_off_by_default_counts_nobody_dormant():
    d = _plain(orders_per_month=0.3, churn_annual=0.3)
    _, out, w = _run(d, 5000, 6)
    assert _col(out, "dormant_customers").sum() == 0.0
    assert scenario_io.from_dict(d, "x").segments[0].dormant_after_months == 0


def test_old_file_without_lifecycle_fields_loads_with_them_off():
    d = scenario_io.to_dict(library.load_default())
    for s in d["segments"]:
        for f in ("dormant_after_months", "dormant_order_factor", "dormant_churn_factor",
                  "referrals_per_month"):
            s.pop(f)
    d["service"].pop("negative_wom_share")
    d["population"]["acquisition"].pop("lost_per_negative_wom")
    for p in d["promotions"]:
        p.pop("target_lifecycle")
        p.pop("cost_per_reactivation_cny")
    sc = scenario_io.from_dict(d, "old file")
    assert sc == library.load_default()


def _recall(d: dict, **promo) -> dict:
    """A monthly win-back campaign at dormant customers (SMS, cost per contact)."""
    p = dict(name="Win-back", kind="coupon", start_month=1, repeat_every_months=1,
             duration_days=30.0, channel="sms", cost_per_contact_cny=2.0, reach_share=1.0,
             redemption_share=0.25, discount_share=0.0, pull_forward_share=0.0,
             effect={"order_rate": 0.0}, target_lifecycle="dormant",
             cost_per_reactivation_cny=345.0)
    p.update(promo)
    d["promotions"] = [p]
    d["segments"][0]["coupon_use"] = 0.5  # coupon redemption at the stated share
    d["segments"][0]["sensitivity"]["promotions"] = 1.0
    return d


def test_recall_reactivates_dormant_customers_at_the_redemption_share():
    d = _recall(_plain(orders_per_month=0.4, churn_annual=0.3, dormant_after_months=2,
                       dormant_order_factor=0.2, dormant_churn_factor=2.0))
    _, out, w = _run(d, 20_000, 12)
    contacts = _col(out, "recall_contacts", w)
    react = _col(out, "reactivated_customers", w)
    dormant = _col(out, "dormant_customers", w)
    np.testing.assert_array_equal(contacts, dormant)  # reach 100 %: every dormant one
    assert react.sum() / contacts.sum() == pytest.approx(0.25, abs=0.01)
    cost = out.monthly[..., MI["promotion_reactivation_cost"]].sum()
    assert cost == pytest.approx(345.0 * react.sum() * w, rel=1e-9)
    sms = out.monthly[..., MI["promotion_cost_sms"]].sum()
    assert sms == pytest.approx(2.0 * contacts.sum() * w, rel=1e-9)
    promo = out.monthly[..., MI["promotion_cost"]].sum()
    assert promo == pytest.approx(cost + sms, rel=1e-9)
    # Reactivated customers buy at the active rate: fewer dormant than without recall.
    _, base, _ = _run(_plain(orders_per_month=0.4, churn_annual=0.3, dormant_after_months=2,
                             dormant_order_factor=0.2, dormant_churn_factor=2.0), 20_000, 12)
    assert dormant[-1] < 0.9 * _col(base, "dormant_customers", w)[-1]


def test_recall_budget_zero_means_no_reactivations_and_no_recall_cost():
    d = _recall(_plain(orders_per_month=0.4, churn_annual=0.3, dormant_after_months=2),
                budget_cny=0.0)
    _, out, w = _run(d, 10_000, 8)
    for col in ("recall_contacts", "reactivated_customers", "promotion_reactivation_cost",
                "promotion_cost_sms", "promotion_cost"):
        assert out.monthly[..., MI[col]].sum() == 0.0, col
    assert _col(out, "dormant_customers").sum() > 0  # there was somebody to recall


def test_recall_budget_caps_contacts_and_reactivation_cost():
    budget = 200_000.0
    d = _recall(_plain(orders_per_month=0.4, churn_annual=0.3, dormant_after_months=2),
                budget_cny=budget)
    _, out, w = _run(d, 20_000, 10)
    per_month = (out.monthly[..., MI["promotion_cost_sms"]]
                 + out.monthly[..., MI["promotion_reactivation_cost"]]).sum(axis=(1, 2))
    # A hard cap on the realised spend (contacts and reactivation rewards), short of it by
    # less than one agent's contact and reward (it was the expected cost: up to +13 %).
    assert per_month.max() <= budget * (1 + 1e-12)
    assert per_month.min() > budget - (2.0 + 345.0) * w


def test_at_risk_campaign_reaches_customers_one_month_before_dormancy():
    d = _recall(_plain(orders_per_month=0.4, churn_annual=0.3, dormant_after_months=3),
                target_lifecycle="at_risk")
    _, out, w = _run(d, 20_000, 6)
    lam = 0.4
    q = math.exp(-lam)
    # Idle months exactly 2 at a month's start (from the second month: after a campaign
    # month its redeemers restart their count).
    contacts = _col(out, "recall_contacts", w)
    alive = _col(out, "active_customers", w)
    assert contacts[0] == pytest.approx(alive[0] * (1 - q) * q**2, rel=0.05)


def test_referrals_grow_as_a_branching_process():
    """Referred customers next month = rate x active this month; A_m = N0 (1 - h + r)^(m-1)."""
    r, annual = 0.04, 0.5
    d = _plain(orders_per_month=0.8, churn_annual=annual, referrals_per_month=r)
    n, H = 50_000, 24
    _, out, w = _run(d, n, H)
    h = 1 - (1 - annual) ** (1 / 12)
    active = _col(out, "active_customers", w)
    referred = _col(out, "referral_customers", w)
    made = _col(out, "referrals_made", w)
    np.testing.assert_allclose(made, r * active, rtol=1e-5)  # satisfaction stays at start
    assert referred[0] == 0
    assert np.all(np.abs(referred[1:] - made[:-1]) <= 1.0)  # randomised rounding only
    expected = n * (1 - h + r) ** np.arange(H)
    assert np.all(np.abs(active - expected) < 4 * np.sqrt(expected) + 1)
    grow = (1 - h + r)
    direct = n * r * sum(grow**m for m in range(H - 1))
    assert referred.sum() == pytest.approx(direct, rel=0.03)
    assert _col(out, "new_customers", w).sum() == referred.sum()


def test_referrals_per_customer_are_rate_times_expected_lifetime():
    """Each customer refers R = r x (1/h) others; the whole tree N0 (R + R^2 + ...)."""
    r, annual = 0.05, 0.9
    d = _plain(orders_per_month=0.8, churn_annual=annual, referrals_per_month=r)
    n, H = 50_000, 72
    _, out, w = _run(d, n, H)
    h = 1 - (1 - annual) ** (1 / 12)
    R = r / h  # a customer is active 1/h months on average, referring r a month
    referred = _col(out, "referral_customers", w).sum()
    assert referred == pytest.approx(n * R / (1 - R), rel=0.03)


def test_referral_rate_zero_means_no_referral_customers():
    d = _plain(orders_per_month=0.8, churn_annual=0.3, dormant_after_months=2)
    d["population"]["acquisition"] = {"organic_per_month": 5000.0}
    _, out, w = _run(d, 5000, 8)
    assert _col(out, "referrals_made").sum() == 0.0
    assert _col(out, "referral_customers").sum() == 0.0
    assert _col(out, "new_customers").sum() > 0


def test_referral_reward_is_a_benefit_cost_per_referred_customer():
    d = _plain(orders_per_month=0.8, churn_annual=0.3, referrals_per_month=0.02)
    d["tier_rules"]["enabled"] = True
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [
        {"name": "Refer a friend", "kind": "referral_reward", "cost_model": "per_use",
         "cost_cny": 50.0}]}]
    _, out, w = _run(d, 10_000, 6)
    made = out.monthly[..., MI["referrals_made"]].sum()
    cost = out.monthly[..., MI["benefit_cost_referral_reward"]].sum()
    assert cost == pytest.approx(50.0 * made, rel=1e-9)
    assert out.monthly[..., MI["benefit_cost"]].sum() == pytest.approx(cost, rel=1e-9)
    d["tiers"][0]["benefits"][0]["cost_model"] = "per_member_month"
    with pytest.raises(scenario_io.ScenarioError, match="per referred customer"):
        scenario_io.from_dict(d, "bad reward")


def _slow_complaints(share: float, lost: float) -> dict:
    """Every customer complains about every order and every complaint is slow."""
    d = _plain(orders_per_month=1.0, churn_annual=0.2, complaints_per_order=1.0)
    d["service"]["slow_resolution_hours"] = 0.0
    d["service"]["slow_resolution_penalty"] = 0.0
    d["service"]["negative_wom_share"] = share
    d["population"]["customers"] = 100_000
    d["population"]["acquisition"] = {"organic_per_month": 4000.0, "cac_cny": 300.0,
                                      "paid_spend_cny_per_month": 300_000.0,
                                      "lost_per_negative_wom": lost}
    return d


def test_negative_word_of_mouth_cuts_acquisition_by_the_configured_share():
    """New customers next month = N (1 - min(1, L x spreaders / N)), organic and paid alike."""
    share, lost = 0.3, 0.1
    _, out, w = _run(_slow_complaints(share, lost), 10_000, 8)
    spreaders = _col(out, "negative_wom_spreaders")
    # P(a complaint in the month): orders O ~ Poisson(1), complaints ~ Poisson(O):
    # 1 - E[exp(-O)] = 1 - exp(exp(-1) - 1).
    buyers = 1 - math.exp(math.exp(-1.0) - 1.0)
    active = _col(out, "active_customers")
    np.testing.assert_allclose(spreaders, share * active * buyers, rtol=0.03)
    N = 4000.0 + 300_000.0 / 300.0 / (1 + 300_000.0 / 1e9)
    lost_share = np.minimum(1.0, lost * spreaders[:-1] / N)
    new = _col(out, "new_customers")
    assert new[0] == pytest.approx(N, abs=w)
    np.testing.assert_allclose(new[1:], N * (1 - lost_share), atol=w + 1e-6)
    np.testing.assert_allclose(_col(out, "new_customers_lost_wom")[1:], N * lost_share)
    paid = _col(out, "new_customers_paid")
    np.testing.assert_allclose(paid / new, (N - 4000.0) / N, rtol=1e-9)
    # Nobody spreads: acquisition as configured.
    _, calm, _ = _run(_slow_complaints(0.0, lost), 10_000, 8)
    assert np.all(np.abs(_col(calm, "new_customers") - N) <= w)
    assert _col(calm, "new_customers_lost_wom").sum() == 0.0


def test_recall_campaign_is_an_optimiser_lever_priced_with_its_reactivations():
    from simulator.optimiser.levers import apply_allocation, extract_levers
    from simulator.runner import run

    d = _recall(_plain(orders_per_month=0.4, churn_annual=0.3, dormant_after_months=2),
                repeat_every_months=2)
    sc = scenario_io.from_dict(d, "recall lever")
    kw = dict(replications=2, agents=8000, horizon_months=12, workers=1)
    res = run(sc, **kw)
    lv = next(x for x in extract_levers(sc, res) if x.id == "promotion:Win-back")
    mon = res.monthly[res.monthly["arm"] == "scenario"]
    spent = float((mon["promotion_cost_sms"] + mon["promotion_reactivation_cost"]).sum()) / 2
    assert lv.current_cny == pytest.approx(spent / 12, rel=0.05)
    half = apply_allocation(sc, [lv], {lv.id: lv.current_cny / 2})
    assert half.promotions[0].budget_cny == pytest.approx(lv.current_cny / 2 * 12 / 6)
    mon2 = run(half, **kw).monthly
    mon2 = mon2[mon2["arm"] == "scenario"]
    spent2 = float((mon2["promotion_cost_sms"] + mon2["promotion_reactivation_cost"]).sum()) / 2
    assert spent2 / 12 == pytest.approx(lv.current_cny / 2, rel=0.12)
    kpis = res.summary
    assert kpis["recall_success"].mean == pytest.approx(0.25, abs=0.02)
    assert "dormant_share_end" in kpis and "cost_per_acquired_customer" in kpis


def test_lifecycle_figures_join_the_summary_only_when_a_mechanism_acts():
    from simulator.metrics import METRICS
    from simulator.runner import run

    kw = dict(replications=1, agents=2000, horizon_months=3, workers=1)
    off = run(scenario_io.from_dict(_plain(orders_per_month=0.4, churn_annual=0.3), "off"),
              **kw).summary
    on = run(scenario_io.from_dict(_plain(orders_per_month=0.4, churn_annual=0.3,
                                          dormant_after_months=1), "on"), **kw).summary
    extra = set(on) - set(off)
    assert "dormant_share_end" in extra and "recall_success" in extra
    assert not {k for k in off if k.startswith("dormant")}
    assert all(k in METRICS for k in extra)
    # Ratios without a denominator say why (no recall campaign, no paid or referred customers).
    assert on["recall_success"].not_defined == "no recall contacts"
    assert on["cost_per_referred_customer"].not_defined == "no referred customers"


def test_compare_lists_the_lifecycle_figures_when_a_scenario_has_them():
    from simulator.compare import compare_scenarios, kpi_catalogue
    from simulator.metrics import LIFECYCLE_HEADLINE

    on = scenario_io.from_dict(_plain(orders_per_month=0.4, churn_annual=0.3,
                                      dormant_after_months=2), "dormancy on")
    off = scenario_io.from_dict(_plain(orders_per_month=0.4, churn_annual=0.3), "off")
    from simulator.compare import run_scenarios

    results = run_scenarios([(off, None), (on, None)], replications=2, agents=2000,
                            horizon_months=4, workers=1)
    keys = [k.metric for k in kpi_catalogue(results)]
    assert all(k in keys for k in LIFECYCLE_HEADLINE)
    assert not any(k in [x.metric for x in kpi_catalogue(results[:1])]
                   for k in LIFECYCLE_HEADLINE)
    table = compare_scenarios(results)
    on_row = table["scenario_no"] == 2  # 1-based: the second scenario
    row = table[(table["metric"] == "dormant_customers_end") & on_row]
    assert float(row["mean"].iloc[0]) > 0
