"""The engine against closed forms (MODEL.md, 'Checks against theory')."""


import numpy as np
import pytest

from simulator.queue_window import DAYS_PER_MONTH, PoolSpec, simulate_pool_window
from simulator.runner import run
from simulator.scenario_io import from_dict
from simulator.theory import (
    erlang_c,
    geometric_ltv,
    geometric_survivors,
    mmc_mean_wait_hours,
    mmc_wait_exceeds,
    monthly_hazard,
    monthly_rate,
)
from tests.conftest import simple_dict


def test_erlang_c_known_values():
    # Textbook: c=2, a=1 Erlang -> C = 1/3.
    assert erlang_c(2, 1.0, 1.0) == pytest.approx(1 / 3)
    # M/M/1: C = rho, Wq = rho/(mu - lambda).
    assert erlang_c(1, 0.5, 1.0) == pytest.approx(0.5)
    assert mmc_mean_wait_hours(1, 0.5, 1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("servers,lam,mu", [(10, 42.0, 5.0), (3, 2.0, 1.0), (50, 230.0, 5.0)])
def test_queue_window_matches_erlang_c(servers, lam, mu):
    """Mean wait and P(W > t) of the SimPy queue vs Erlang C, within the replications' 99 % CI."""
    pool = PoolSpec("A", ((0.0, 24.0, servers),), 1.0 / mu, "exponential", 1.0)
    means, tails = [], []
    t = 0.5 / mu
    for seed in range(30):
        w = simulate_pool_window(pool, {0: lam}, seed, 3000).waits[0]
        means.append(w.mean())
        tails.append((w > t).mean())
    for sample, theory in ((means, mmc_mean_wait_hours(servers, lam, mu)),
                           (tails, mmc_wait_exceeds(servers, lam, mu, t))):
        x = np.array(sample)
        half = 2.76 * x.std(ddof=1) / np.sqrt(x.size)  # t(29) 99.5 %
        assert abs(x.mean() - theory) <= half + 0.02 * theory, (x.mean(), theory, half)


def test_priority_class_waits_less():
    pool = PoolSpec("A", ((0.0, 24.0, 10),), 0.2, "exponential", 1.0)
    r = simulate_pool_window(pool, {0: 35.0, 10: 10.0}, 3, 4000)
    assert r.waits[10].mean() < 0.5 * r.waits[0].mean()


def test_scale_matters_same_load():
    """200 agents at 85 % load wait far less than 2 agents at 85 % load (MODEL.md)."""
    small = PoolSpec("s", ((0.0, 24.0, 2),), 0.2, "exponential", 1.0)
    big = PoolSpec("b", ((0.0, 24.0, 200),), 0.2, "exponential", 1.0)
    ws = simulate_pool_window(small, {0: 0.85 * 2 * 5}, 1, 3000).waits[0].mean()
    wb = simulate_pool_window(big, {0: 0.85 * 200 * 5}, 1, 3000).waits[0].mean()
    assert wb < ws / 20


def test_closed_hours_create_overnight_waits():
    pool = PoolSpec("day", ((9.0, 18.0, 10),), 0.25, "exponential", 1.0)
    w = simulate_pool_window(pool, {0: 5.0}, 2, 3000).waits[0]
    # Contacts arriving 18:00-09:00 wait until opening: mean wait of several hours.
    assert 3.0 < w.mean() < 10.0


def test_engine_queue_is_erlang_c_with_behaviour_off():
    """Through the whole engine: contacts -> real-scale queue -> reported waits."""
    d = simple_dict()
    seg = d["segments"][0]
    seg["contacts_per_order"] = 0.2
    seg["churn_annual"] = 0.0
    d["population"]["customers"] = 200_000
    d["service"]["pools"][0]["handle_minutes"] = 12.0
    d["service"]["pools"][0]["shifts"][0]["staff"] = 10
    d["service"]["window_contacts"] = 3000
    d["run"].update(horizon_months=2, agents=2000, replications=8)
    sc = from_dict(d)
    res = run(sc, workers=1)
    lam = 200_000 * 0.5 * 0.2 / (DAYS_PER_MONTH * 24)  # contacts per hour
    theory = mmc_mean_wait_hours(10, lam, 5.0)  # exact rate: windows interpolate the grid
    w = res.service[res.service.arm == "scenario"].groupby("replication").wait_mean_hours.mean()
    half = 3.5 * w.std(ddof=1) / np.sqrt(len(w))
    assert abs(w.mean() - theory) <= half + 0.05 * theory, (w.mean(), theory)


@pytest.mark.parametrize("steps", [1, 4])
def test_group_waits_match_the_shop_with_steps(steps):
    """By-tier and by-segment waits are contact-weighted means of the same queue's
    waits, so with one pool they equal the shop-level figure at any steps per month
    (they were summed over steps and divided by customers: x1.3 here at 4 steps)."""
    d = simple_dict()
    seg = d["segments"][0]
    seg.update(orders_per_month=2.0, contacts_per_order=0.5, churn_annual=0.0, spend_cv=0.6)
    d["segments"].append({**seg, "name": "Other", "contacts_per_order": 0.3})
    d["segments"][0]["share"] = d["segments"][1]["share"] = 0.5
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0},
                  {"name": "Gold", "threshold_cny": 2 * 12 * 200.0}]
    d["population"]["customers"] = 200_000
    d["service"]["pools"][0]["handle_minutes"] = 12.0
    d["service"]["pools"][0]["shifts"][0]["staff"] = 45
    d["service"]["window_contacts"] = 3000
    d["run"].update(horizon_months=2, agents=20000, replications=3, steps_per_month=steps)
    d["run"]["counterfactual"] = {"mode": "none"}
    res = run(from_dict(d), workers=1)
    shop = res.summary["service_wait_mean_hours"].mean
    assert shop > 0.05  # a queue that waits
    groups = {**{f"tier {t}": v for t, v in res.by_tier.items()},
              **{f"segment {s}": v for s, v in res.by_segment.items()}}
    for name, block in groups.items():
        got = block["service_wait_mean_hours"].mean
        assert got == pytest.approx(shop, rel=0.06), (name, got, shop)


def _ltv_scenario(agents=20000, reps=6):
    d = simple_dict()
    d["run"].update(horizon_months=24, agents=agents, replications=reps,
                    discount_rate_annual=0.1)
    d["run"]["counterfactual"] = {"mode": "none"}
    return from_dict(d)


def test_closed_form_ltv_and_survivors():
    sc = _ltv_scenario()
    res = run(sc, workers=1)
    seg = sc.segments[0]
    r = 1 - monthly_hazard(seg.churn_annual)
    i = monthly_rate(0.1)
    theory = geometric_ltv(seg.orders_per_month, seg.spend_per_order_cny, seg.gross_margin, r, i,
                           24)
    s = res.summary["ltv_per_customer"]
    assert s.ci95_low - 0.005 * theory <= theory <= s.ci95_high + 0.005 * theory, (s, theory)
    band = res.band("active_customers")
    for month in (1, 6, 12, 24):
        expected = geometric_survivors(10000, r, month)
        row = band[band.month == month].iloc[0]
        tol = max(3 * (row.ci95_high - row.ci95_low), 0.01 * expected)
        assert abs(row["mean"] - expected) <= tol, (month, row["mean"], expected)


def test_doubling_sample_halves_variance():
    """Per-customer figures stay put; the variance of the estimates halves."""
    def ltvs(agents):
        sc = _ltv_scenario(agents=agents, reps=40)
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"horizon_months": 6})})
        return run(sc, workers=1).kpis["ltv_per_customer"].to_numpy()

    a, b = ltvs(1000), ltvs(2000)
    assert abs(a.mean() - b.mean()) < 3 * np.sqrt(a.var(ddof=1) / 40 + b.var(ddof=1) / 40)
    ratio = a.var(ddof=1) / b.var(ddof=1)
    assert 1.05 < ratio < 4.0, ratio  # F(39, 39) 95 % band around the expected 2
