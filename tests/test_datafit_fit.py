"""BG/NBD fit: published CDNOW parameters, recovery of known parameters, holdout check."""

import importlib.metadata

import numpy as np
import pandas as pd
import pytest

from simulator.datafit import bgnbd, holdout
from simulator.datafit.importlog import Columns, read_log

TRUE = (0.8, 6.0, 0.9, 2.5)


def cdnow(name):
    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("the CDNOW data needs `pip install --no-deps Lifetimes==0.11.3` (./run setup)")
    return dist.locate_file(f"lifetimes/datasets/{name}")


def cdnow_sample():
    return read_log(cdnow("CDNOW_sample.txt"),
                    Columns(customer="1", date="3", amount="5", sep="whitespace", header=False))


def synthetic_csv(tmp_path, params, n, seed):
    """A log from known BG/NBD parameters: first purchases over 12 weeks, 78 weeks observed."""
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, 12, n)
    cust, t = bgnbd.simulate(params, n, birth, 78.0, rng)
    day = np.datetime64("2020-01-01") + np.floor(t * 7).astype(int)
    p = tmp_path / "synthetic.csv"
    pd.DataFrame({"customer_id": cust, "date": day.astype(str),
                  "amount": rng.lognormal(3, 0.5, len(t)).round(2)}).to_csv(p, index=False)
    return p


def test_cdnow_sample_reproduces_the_published_parameters():
    log = cdnow_sample()
    days = holdout.daily(log)
    c = holdout.rfm(days, int((np.datetime64("1997-09-30") - np.datetime64("1970-01-01"))
                              .astype(int)))
    f = bgnbd.fit(c.x, c.tx, c.T)
    assert f.customers == 2357 and c.x.sum() == 2457
    assert f.params == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=6e-4)
    assert f.loglik == pytest.approx(-9582.4, abs=0.1)  # Fader, Hardie & Lee (2005)


def test_recovers_known_parameters_within_their_standard_errors(tmp_path):
    log = read_log(synthetic_csv(tmp_path, TRUE, 6000, seed=7))
    days = holdout.daily(log)
    c = holdout.rfm(days, int(days["d"].max()))
    f = bgnbd.fit(c.x, c.tx, c.T)
    z = [(est - true) / se for est, true, se in zip(f.params, TRUE, f.se)]
    assert all(abs(v) < 2.5 for v in z), (f.params, f.se, z)
    assert all(se / est < 0.25 for est, se in zip(f.params, f.se))


def test_expected_repeat_matches_simulation():
    rng = np.random.default_rng(3)
    n = 40_000
    cust, t = bgnbd.simulate(TRUE, n, np.zeros(n), 52.0, rng)
    assert (len(t) - n) / n == pytest.approx(float(bgnbd.expected_repeat(TRUE, 52.0)), rel=0.03)
    dead = 1 - bgnbd.share_alive(TRUE, 52.0)
    assert 0 < dead < 1


def test_holdout_machinery_is_unbiased_on_a_synthetic_log(tmp_path):
    log = read_log(synthetic_csv(tmp_path, TRUE, 8000, seed=11))
    r = holdout.validate(log, "2020-09-30")  # 39 weeks after 2020-01-01
    assert r["holdout_total"]["error"] == pytest.approx(0, abs=0.06)
    assert r["cumulative_at_end"]["error"] == pytest.approx(0, abs=0.04)
    for row in r["by_calibration_frequency"]:
        if row["customers"] >= 200:
            assert row["bgnbd"] == pytest.approx(row["actual"], rel=0.15, abs=0.05), row


def test_cdnow_sample_holdout_39_39_weeks():
    r = holdout.validate(cdnow_sample(), "1997-10-01")
    assert r["calibration_weeks"] == 39 and r["holdout_weeks"] == 39
    assert r["calibration_repeat_transactions"] == 2457
    assert r["holdout_total"]["actual"] == 1882
    # Issue target: cumulative within 5 % at week 78 - met (-4.0 %).
    assert abs(r["cumulative_at_end"]["error"]) < 0.05
    # Issue target: holdout total within 10 % - NOT met by BG/NBD on CDNOW (-11.6 %);
    # the figure in docs/DATA_FIT.md is checked here so a change shows.
    assert r["holdout_total"]["error"] == pytest.approx(-0.116, abs=0.002)
    assert len(r["weekly"]["actual"]) == 78 and sum(r["weekly"]["actual"]) == 4339
    # Holdout transactions per customer by calibration frequency as the R package BTYD
    # reports them for this sample (pnbd.PlotFreqVsConditionalExpectedFrequency): the
    # "actual" side is counted as the field counts it.
    btyd = [0.2367116, 0.6970387, 1.392523, 1.560000, 2.532258, 2.947368, 3.862069, 6.359375]
    got = [row["actual"] for row in r["by_calibration_frequency"]]
    assert got == pytest.approx(btyd, abs=1e-6)
    assert [row["customers"] for row in r["by_calibration_frequency"]][:5] == [1411, 439, 214,
                                                                                100, 62]


def test_first_year_churn_two_ways():
    from simulator.datafit import toscenario

    lam, cv, churn, _ = toscenario._band_figures(TRUE, 0.0, 1.0)
    assert lam == pytest.approx(TRUE[0] / TRUE[1], rel=1e-6)
    assert cv == pytest.approx(TRUE[0] ** -0.5, rel=1e-6)
    assert churn == pytest.approx(1 - bgnbd.share_alive(TRUE, 365.25 / 7), abs=2e-3)
    bands = [toscenario._band_figures(TRUE, i / 4, (i + 1) / 4) for i in range(4)]
    assert sum(b[0] for b in bands) / 4 == pytest.approx(lam, rel=1e-6)
    assert sum(b[2] for b in bands) / 4 == pytest.approx(churn, rel=1e-6)


def test_factored_likelihood_equals_the_direct_one():
    rng = np.random.default_rng(4)
    T = rng.integers(1, 400, 5000) / 7.0
    x = rng.poisson(2, 5000).astype(float)
    tx = np.where(x > 0, np.floor(rng.random(5000) * T * 7) / 7, 0.0)
    for params in (TRUE, (0.2426, 4.414, 0.793, 2.426), (3.0, 0.5, 40.0, 900.0)):
        np.testing.assert_allclose(bgnbd._Factored(x, tx, T).terms(params),
                                   bgnbd.loglik_terms(params, x, tx, T), rtol=1e-9, atol=1e-9)


def test_cdnow_sample_rfm_equals_the_published_summary():
    """Our (x, t_x, T) per customer are FHL's: lifetimes ships their summary of the sample.

    The published file counts one transaction per customer-day, ends the calibration on
    1997-09-30 (T = 38.86 weeks for a first purchase on 1997-01-01) and measures in weeks;
    a row count (6,919 rows, several per customer-day) or another calibration end would
    differ here.
    """
    log = read_log(cdnow("CDNOW_sample.txt"),  # column 2: the sample's id 1..2357
                   Columns(customer="2", date="3", amount="5", sep="whitespace", header=False))
    days = holdout.daily(log)
    c = holdout.rfm(days, holdout._day("1997-09-30"))
    ref = pd.read_csv(cdnow("cdnow_customers_summary_with_transactions.csv"))
    order = np.argsort([int(log.customer_ids[k]) for k in np.sort(days["c"].unique())])
    assert len(order) == len(ref) == 2357
    assert np.array_equal(c.x[order], ref["x"].to_numpy())
    assert np.abs(c.tx[order] - ref["t_x"].to_numpy()).max() < 0.005  # published to 2 decimals
    assert np.abs(c.T[order] - ref["T"].to_numpy()).max() < 0.005
    assert len(log) == 6919 and len(days) == 6696  # rows vs customer-days


def test_fit_and_holdout_count_the_same_transactions():
    """Several rows of one customer on one day are one transaction in the fit AND the holdout."""
    rows = [("a", "2020-01-01"), ("a", "2020-01-01"), ("a", "2020-01-05"), ("a", "2020-01-05"),
            ("a", "2020-03-02"), ("a", "2020-03-02"), ("a", "2020-03-02"), ("b", "2020-01-02"),
            ("b", "2020-03-03"), ("b", "2020-03-03")]
    log = _log_of(rows)
    r = holdout.validate(log, "2020-02-01")
    assert r["calibration_repeat_transactions"] == 1  # a: 01-05 (01-01 is the first)
    assert r["holdout_total"]["actual"] == 2  # a: 03-02, b: 03-03, once each
    assert sum(r["weekly"]["actual"]) == 3
    freq = {row["x"]: row["actual"] for row in r["by_calibration_frequency"]}
    assert freq == {"0": 1.0, "1": 1.0}


def _log_of(rows):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "log.csv"
        p.write_text("customer_id,date,amount\n"
                     + "".join(f"{c},{day},10\n" for c, day in rows), encoding="utf-8")
        return read_log(p)


@pytest.mark.parametrize("params", [(0.243, 4.414, 0.793, 2.426), (1.7, 0.6, 3.0, 0.4)])
def test_analytic_gradient_equals_numerical_differences(params):
    rng = np.random.default_rng(2)
    n = 3000
    T = rng.integers(0, 273, n) / 7.0
    x = rng.poisson(2.0, n).astype(float)
    tx = np.where(x > 0, rng.random(n) * T, 0.0)
    gx, gtx, gT, w = bgnbd._grouped(x, tx, T)
    f = bgnbd._Factored(gx, gtx, gT)
    value, grad = f.value_grad(np.array(params), w)
    assert value == pytest.approx(np.dot(w, f.terms(params)), rel=1e-12)
    for k in range(4):
        h = 1e-6 * params[k]
        up, down = np.array(params, dtype=float), np.array(params, dtype=float)
        up[k] += h
        down[k] -= h
        num = (np.dot(w, f.terms(up)) - np.dot(w, f.terms(down))) / (2 * h)
        assert grad[k] == pytest.approx(num, rel=1e-5, abs=1e-6)
