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
