"""A new customer's extra order rate fading with tenure: fit, scenario field, engine (issue 16)."""

import numpy as np
import pandas as pd
import pytest

from simulator import customer_base as cbm
from simulator import library
from simulator.datafit import bgnbd, seasonal
from simulator.scenario_io import ScenarioError, dumps, from_dict, loads, to_dict
from tests.test_churn_heterogeneity import _closed_cohort
from tests.test_datafit_fit import TRUE
from tests.test_datafit_seasonal import START, seasonal_days


def boosted_days(boost, decay_days, n, seed, weeks=52, birth_weeks=12):
    """One row per customer and purchase day, drawn from BG/NBD in each customer's own
    operational time: rate lambda (1 + boost exp(-tenure/decay)), no season."""
    rng = np.random.default_rng(seed)
    start = int(START.astype(int))
    last = start + weeks * 7
    k = np.arange(weeks * 7 + 2)
    op = (k + boost * decay_days * (1 - np.exp(-k / decay_days))) / 7.0  # at day starts
    birth = rng.integers(0, birth_weeks * 7, n)
    end_op = op[weeks * 7 - birth]  # each customer's operational weeks to the log's end
    cust, t = bgnbd.simulate(TRUE, n, np.zeros(n), float(end_op.max()), rng)
    keep = t <= end_op[cust]
    cust, t = cust[keep], t[keep]
    day = start + birth[cust] + np.searchsorted(op, t, side="right") - 1
    df = pd.DataFrame({"c": cust, "d": np.minimum(day, last)}).drop_duplicates()
    return df.sort_values(["c", "d"]).reset_index(drop=True)


def test_fit_recovers_a_known_boost_and_finds_no_season_in_it():
    """Drawn with x 1.8 at the first purchase fading over 30 days, entry staggered over 12
    weeks: the boost and its decay are recovered, (r, alpha, a, b) within 3 standard
    errors, and the season is not used (the boost explains the first weeks)."""
    days = boosted_days(0.8, 30.0, 12000, seed=21)
    s = seasonal.fit(days, int(days["d"].min()) + 39 * 7)
    assert s.boost == pytest.approx(0.8, abs=0.2) and s.decay_days == pytest.approx(30, rel=0.35)
    assert s.tenure_p_value < 1e-6 and s.used and not s.significant
    for est, se, truth in zip(s.params, s.fit.se, TRUE, strict=True):
        assert abs(est - truth) < 3 * se + 0.02 * truth, (est, se, truth)


def test_a_stationary_log_gets_no_boost():
    days = seasonal_days((1.0,) * 12, 8000, seed=7)
    s = seasonal.fit(days, int(days["d"].min()) + 39 * 7)
    assert s.boost == 0.0 and not s.used
    assert s.tenure_fitted[0] < seasonal.MIN_EFFECT or s.tenure_p_value >= seasonal.P_VALUE


def test_scenario_field_schema_and_messages():
    d = to_dict(library.load_default())
    assert d["schema_version"] <= 4 and "new_customer_boost" not in d["population"]
    d["population"]["new_customer_boost"] = 0.5
    with pytest.raises(ScenarioError) as e:
        from_dict(d)
    assert "New customers' extra rate fades over (months)" in str(e.value)
    d["population"]["new_customer_boost_months"] = 1.5
    sc = from_dict(d)
    assert to_dict(sc)["schema_version"] == 6
    again = loads(dumps(sc)).population
    assert (again.new_customer_boost, again.new_customer_boost_months) == (0.5, 1.5)
    d["population"]["new_customer_boost"] = -0.1
    with pytest.raises(ScenarioError) as e:
        from_dict(d)
    assert "New customers' extra order rate" in str(e.value)
    # A seasonal file without the boost stays version 5.
    d = to_dict(library.load_default())
    d["population"].update(seasonality={"Nov": 1.4}, first_month="Oct")
    assert to_dict(from_dict(d))["schema_version"] == 5


def test_customer_file_tenure_column():
    head = "customer_id,segment,p_alive,order_rate_mean,order_rate_shape,tenure_months"
    cb = cbm.parse(head + "\nc1,All,1,1,1,0.5\nc2,All,1,1,1,30\n", ["All"])
    assert cb.tenure_months.tolist() == [0.5, 30.0]
    assert cbm.parse(cbm.to_csv(cb, ["All"]), ["All"]).tenure_months.tolist() == [0.5, 30.0]
    assert cbm.parse(head.rsplit(",", 1)[0] + "\nc1,All,1,1,1\n", ["All"]).tenure_months is None
    with pytest.raises(cbm.CustomerFileError, match="column 'tenure_months': line.s. 3 — must "
                                                    "be a number from 0"):
        cbm.parse(head + "\nc1,All,1,1,1,0\nc2,All,1,1,1,-1\n", ["All"])


def test_engine_applies_the_boost_to_each_customers_tenure():
    """Customers at tenure 0 with x 2 fading over a month buy 1 + (1 - 1/e) times the
    established customers' rate in month 1 and 1 + (1/e - 1/e^2) in month 2; the
    established (tenure 100 months, or no tenure column) are unchanged; new customers
    start at tenure 0 in the month they join."""
    from simulator.engine import Simulation

    d = to_dict(_closed_cohort(0.0, 0.0))
    d["population"].update(new_customer_boost=1.0, new_customer_boost_months=1.0)
    sc = from_dict(d)
    n = 20_000
    head = "customer_id,segment,p_alive,order_rate_mean,order_rate_shape,tenure_months"
    rows = [f"c{i},All,1,2.0,10000,{0 if i % 2 else 100}" for i in range(n)]
    cb = cbm.parse("\n".join([head, *rows]), ["All"])
    odd = np.arange(n) % 2 == 1
    per_month = []
    for months in (1, 2):
        sim = Simulation(sc, np.random.SeedSequence(5), 0, n, months, customers=cb)
        sim.run()
        per_month.append([sim.population.y1_orders[:n][m].mean() for m in (odd, ~odd)])
    e1, e2 = 1 - np.exp(-1), np.exp(-1) - np.exp(-2)
    assert per_month[0][0] / per_month[0][1] == pytest.approx(1 + e1, rel=0.02)
    second = [per_month[1][k] - per_month[0][k] for k in (0, 1)]  # month 2's orders
    assert second[0] / second[1] == pytest.approx(1 + e2, rel=0.03)
    # No tenure column: established, the same draws as without a boost.
    plain = cbm.parse("\n".join([head.rsplit(",", 1)[0], *(r.rsplit(",", 1)[0] for r in rows)]),
                      ["All"])
    a = Simulation(sc, np.random.SeedSequence(5), 0, n, 1, customers=plain)
    a.run()
    b = Simulation(_closed_cohort(0.0, 0.0), np.random.SeedSequence(5), 0, n, 1,
                   customers=plain)
    b.run()
    assert np.array_equal(a.population.y1_orders[:n], b.population.y1_orders[:n])
    # New customers: tenure 0 in their first month.
    pop = sim.population
    pop.join_month[n:n + 3] = 2
    pop.n = max(pop.n, n + 3)
    f = pop.new_boost(2)
    assert f[n:n + 3] == pytest.approx(1 + e1) and f[(~odd).nonzero()[0]] == pytest.approx(1.0)


def test_first_year_churn_counts_the_new_customers_extra_purchases():
    """BG/NBD's dropout follows purchases: with the boost a new cohort's first year holds
    t + B D (1 - e^(-t/D)) operational weeks, so more of it is lost (Monte Carlo check)."""
    from simulator.datafit.toscenario import WEEKS_PER_YEAR, churn_figures

    params, boost = (0.28, 6.9, 0.51, 1.92), (0.72, 5.0)
    rng = np.random.default_rng(3)
    lam = rng.gamma(params[0], 1 / params[1], 400_000)
    p = rng.beta(params[2], params[3], 400_000)
    tau = WEEKS_PER_YEAR + boost[0] * boost[1] * (1 - np.exp(-WEEKS_PER_YEAR / boost[1]))
    lost = 1 - np.exp(-lam * p * tau).mean()
    annual, _ = churn_figures(params, boost=boost)
    assert annual == pytest.approx(lost, abs=0.002)
    assert annual > churn_figures(params)[0] + 0.005  # 18.9 % against 18.2 %


def test_boost_fields_shown_in_their_units():
    # 0.7165 is +71.7 % orders at the first purchase; the label said "×", with no unit
    from simulator.labels import shown
    from simulator.scenario import Scenario

    assert shown(Scenario, "population.new_customer_boost", 0.7165) == "71.65 % more orders"
    assert shown(Scenario, "population.new_customer_boost_months", 1.1515) == "1.1515 months"
