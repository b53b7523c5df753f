"""Churn heterogeneity: the schema field, its beta distribution and its survival curve."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import library, scenario_io, theory
from simulator.scenario_io import ScenarioError


def test_default_off_and_old_files_load_unchanged():
    sc = library.load_default()
    assert all(s.churn_heterogeneity == 0.0 for s in sc.segments)
    d = scenario_io.to_dict(sc)
    for s in d["segments"]:
        s.pop("churn_heterogeneity")  # a file written before the field existed
    again = scenario_io.from_dict(d, "old file")
    assert again == sc


@pytest.mark.parametrize("bad, allowed", [(1.5, "must be between 0 and 0.95"),
                                          (-0.1, "must be between 0 and 0.95"),
                                          ("high", "must be a number")])
def test_bad_value_in_the_planners_words(bad, allowed):
    d = scenario_io.to_dict(library.load_default())
    d["segments"][0]["churn_heterogeneity"] = bad
    with pytest.raises(ScenarioError) as e:
        scenario_io.from_dict(d, "shop.toml")
    text = str(e.value)
    name = d["segments"][0]["name"]
    assert f"Segments ▸ Segment '{name}' ▸ Churn heterogeneity: " in text
    assert allowed in text


def test_round_trip_keeps_the_value():
    sc = library.load_default()
    sc.segments[0].churn_heterogeneity = 0.25
    back = scenario_io.loads(scenario_io.dumps(sc))
    assert back.segments[0].churn_heterogeneity == 0.25


@pytest.mark.parametrize("annual, phi", [(0.3, 0.2), (0.05, 0.5), (0.8, 0.05), (0.45, 0.9)])
def test_beta_keeps_first_year_loss_and_polarisation(annual, phi):
    a, b = theory.churn_beta(annual, phi)
    assert 1 / (a + b + 1) == pytest.approx(phi, rel=1e-9)
    assert 1 - theory.sbg_survival(a, b, 12) == pytest.approx(annual, rel=1e-9)
    # Heterogeneity bends retention: later years lose fewer than the first.
    s = theory.sbg_survival(a, b, [12, 24, 36])
    assert 1 - s[1] / s[0] < annual
    assert 1 - s[2] / s[1] < 1 - s[1] / s[0]


def test_no_heterogeneity_is_the_constant_hazard():
    assert theory.churn_beta(0.3, 0.0) is None
    assert theory.churn_beta(0.0, 0.4) is None
    # A tiny polarisation tends to the homogeneous monthly hazard.
    a, b = theory.churn_beta(0.3, 1e-7)
    assert a / (a + b) == pytest.approx(theory.monthly_hazard(0.3), rel=1e-4)


def test_survival_curve_against_drawn_customers():
    a, b = theory.churn_beta(0.35, 0.3)
    rng = np.random.default_rng(7)
    p = rng.beta(a, b, 400_000)
    life = rng.geometric(p)  # month of churn: survival after t months is (1-p)^t
    months = np.arange(0, 37, 6)
    mc = np.array([(life > t).mean() for t in months])
    np.testing.assert_allclose(mc, theory.sbg_survival(a, b, months), atol=0.003)


def _closed_cohort(annual: float, phi: float, steps: int = 1):
    """One segment, satisfaction and service off, no scheme, no new customers."""
    d = scenario_io.to_dict(library.load_default())
    seg = d["segments"][0]
    seg.update(name="All", share=1.0, churn_annual=annual, churn_heterogeneity=phi,
               contacts_per_order=0.0, complaints_per_order=0.0)
    d["segments"] = [seg]
    d["population"]["acquisition"] = {"organic_per_month": 0.0}
    d["tier_rules"]["enabled"] = False
    d["promotions"] = []
    d["service"]["churn_per_satisfaction_point"] = 0.0
    d["run"]["steps_per_month"] = steps
    for t in d["tiers"]:
        t["benefits"] = []  # the entry tier's benefits act even with the scheme off
    return scenario_io.from_dict(d, "closed cohort")


@pytest.mark.parametrize("steps", [1, 4])
def test_engine_cohort_retention_is_the_shifted_beta_geometric_curve(steps):
    from simulator.engine import Simulation

    sc = _closed_cohort(0.35, 0.3, steps)
    n, H = 100_000, 36
    out = Simulation(sc, np.random.SeedSequence(11), 0, n, H).run()
    weight = sc.population.customers / n
    alive = out.cohort_alive[0] / weight  # alive at the start of months 1..H
    months = np.arange(H)  # months of churn behind each
    a, b = theory.churn_beta(0.35, 0.3)
    expected = theory.sbg_survival(a, b, months) * n
    sd = np.sqrt(expected * (1 - expected / n))
    assert np.all(np.abs(alive - expected) < 4 * sd + 1), (alive - expected) / sd
    flat = n * (1 - 0.35) ** (months / 12)
    assert alive[-1] - flat[-1] > 20 * sd[-1]  # it does bend: year 3 keeps far more


def test_engine_without_heterogeneity_keeps_the_constant_hazard():
    from simulator.engine import Simulation

    sc = _closed_cohort(0.35, 0.0)
    n, H = 100_000, 24
    out = Simulation(sc, np.random.SeedSequence(11), 0, n, H).run()
    alive = out.cohort_alive[0] / (sc.population.customers / n)
    expected = n * (1 - 0.35) ** (np.arange(H) / 12)
    sd = np.sqrt(expected * (1 - expected / n))
    assert np.all(np.abs(alive - expected) < 4 * sd + 1)


def test_engine_starts_from_real_customers_with_their_own_draws():
    from simulator import customer_base as cbm
    from simulator.engine import Simulation

    sc = _closed_cohort(0.35, 0.0)
    n = 40_000
    head = "customer_id,segment,p_alive,order_rate_mean,order_rate_shape,dropout_a,dropout_b"
    rows = [f"c{i},All,{0.25 if i % 2 else 1.0},{3.0 if i % 2 else 0.5},2.0,1.0,9.0"
            for i in range(n)]
    cb = cbm.parse("\n".join([head, *rows]), ["All"])
    sim = Simulation(sc, np.random.SeedSequence(3), 0, n, 2, customers=cb)
    pop = sim.population
    assert pop.n0 == n  # one agent per real customer
    # Fewer agents than customers: a weighted sample of them (customer_base.sample).
    assert Simulation(sc, np.random.SeedSequence(3), 0, 123, 2, customers=cb).population.n0 \
        == 123
    odd = np.arange(n) % 2 == 1
    assert pop.alive[:n][odd].mean() == pytest.approx(0.25, abs=0.015)
    assert pop.alive[:n][~odd].all()
    rate = sim.cs.base_rate[0] * pop.frailty[:n]
    assert rate[odd].mean() == pytest.approx(3.0, rel=0.03)
    assert rate[~odd].mean() == pytest.approx(0.5, rel=0.03)
    # Monthly churn 1 - exp(-rate p), p ~ Beta(1, 9): faster buyers leave sooner.
    assert pop.churn_step[:n][odd].mean() > 2 * pop.churn_step[:n][~odd].mean()
    again = Simulation(sc, np.random.SeedSequence(3), 0, n, 2, customers=cb)
    assert np.array_equal(again.population.alive, pop.alive)  # addressed: same customers
