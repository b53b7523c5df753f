"""The fitter's churn heterogeneity: recovered from a synthetic log, written with comments."""

import numpy as np
import pytest

from simulator import theory
from simulator.datafit import toscenario
from simulator.datafit.importlog import Columns, read_log
from tests.test_datafit_fit import TRUE, cdnow, synthetic_csv


def _delta_se(fit, f) -> np.ndarray:
    """Standard errors of f(params) by the delta method (central-difference gradient)."""
    p = np.array(fit.params)
    grads = []
    for i in range(4):
        h = np.zeros(4)
        h[i] = 1e-4 * p[i]
        grads.append((np.array(f(p + h)) - np.array(f(p - h))) / (2 * h[i]))
    g = np.array(grads).T  # [outputs, 4]
    return np.sqrt(np.diag(g @ np.array(fit.cov) @ g.T))


def test_recovers_the_churn_of_known_parameters_within_standard_errors(tmp_path):
    log = read_log(synthetic_csv(tmp_path, TRUE, 8000, seed=5))
    segs, _ = toscenario.fit_segments(log)
    (seg,) = segs
    truth = np.array(toscenario.churn_figures(TRUE))
    est = np.array([seg.churn_annual, seg.churn_heterogeneity])
    se = _delta_se(seg.fit, toscenario.churn_figures)
    assert truth[1] > 0.05  # the known parameters do bend retention: the check can fail
    assert np.all(np.abs(est - truth) < 3 * se), (est, truth, se)
    assert np.all(se < [0.03, 0.05])  # and the standard errors are not vacuous


def test_fitted_heterogeneity_reproduces_the_bgnbd_retention_curve():
    params = (0.2516, 4.789, 0.7234, 2.161)  # CDNOW master, weeks 1-39
    annual, phi = toscenario.churn_figures(params)
    months = np.arange(1, 37)
    bg = toscenario.band_survival(params, 0.0, 1.0, months * toscenario.WEEKS_PER_MONTH)
    sbg = theory.sbg_survival(*theory.churn_beta(annual, phi), months)
    flat = (1 - annual) ** (months / 12)
    assert np.abs(sbg - bg).max() < 0.01  # within a point of the model's curve
    assert np.abs(flat - bg).max() > 0.15  # where a constant hazard misses by 15+ points
    assert 1 - bg[11] == pytest.approx(annual)


def test_cdnow_fit_writes_heterogeneity_with_its_comment(tmp_path):
    log = read_log(cdnow("CDNOW_sample.txt"),
                   Columns(customer="1", date="3", amount="5", sep="whitespace", header=False))
    sc, text = toscenario.build(log, "1997-10-01")
    seg = sc.segments[0]
    assert 0.1 < seg.churn_heterogeneity < 0.4
    line = next(x for x in text.splitlines() if x.startswith("churn_heterogeneity"))
    assert "fitted: beta polarisation" in line
    bands, _ = toscenario.build(log, "1997-10-01", segments=3, segment_by="bands")
    annual = [s.churn_annual for s in bands.segments]
    assert annual == sorted(annual)  # faster buyers drop out sooner (BG/NBD)


def test_fitted_baseline_has_no_benefit_acting():
    """With the scheme off everyone is in the entry tier: its benefits would act on the log's
    baseline (the default's free shipping lowered churn 3 % and cost money)."""
    from simulator.tiers import compile_benefits

    log = read_log(cdnow("CDNOW_sample.txt"),
                   Columns(customer="1", date="3", amount="5", sep="whitespace", header=False))
    sc, _ = toscenario.build(log, "1997-10-01")
    eff, cost = compile_benefits(sc, True)
    assert np.all(eff.churn[0] == 1.0) and np.all(eff.order[0] == 1.0)  # the entry tier
    assert all(np.asarray(x)[0] == 0 for x in cost.totals())


def test_rfm_clusters_are_todays_customers_by_their_posterior(tmp_path):
    """--segments N without a segment column: k-means on RFM (fixed seed), each cluster
    described by its customers' BG/NBD posterior and counted by P(alive)."""
    from simulator.datafit import bgnbd, holdout

    log = read_log(cdnow("CDNOW_sample.txt"),
                   Columns(customer="1", date="3", amount="5", sep="whitespace", header=False))
    segs, facts = toscenario.fit_segments(log, "1997-10-01", 3)
    again, _ = toscenario.fit_segments(log, "1997-10-01", 3)
    assert [s.orders_per_month for s in segs] == [s.orders_per_month for s in again]
    assert sum(s.share for s in segs) == pytest.approx(1.0)
    days = holdout.daily(log)
    c = holdout.rfm(days, int((np.datetime64("1997-09-30") - np.datetime64("1970-01-01"))
                              .astype(int)), facts["seasonal"])  # in its operational time
    pa = bgnbd.p_alive(segs[0].fit.params, c.x, c.tx, c.T)
    assert facts["expected_alive"] == pytest.approx(pa.sum())
    # Expected orders of today's customers: the segments add up to the posterior total.
    r, alpha = segs[0].fit.r, segs[0].fit.alpha
    total = np.sum(pa * (r + c.x) / (alpha + c.T)) * toscenario.WEEKS_PER_MONTH
    assert sum(s.share * s.orders_per_month for s in segs) * pa.sum() == pytest.approx(total)
    rates = [s.orders_per_month for s in segs]
    assert rates == sorted(rates)  # ordered by frequency
    sc, text = toscenario.build(log, "1997-10-01", 3, fitted=(segs, facts))
    assert sc.population.customers == round(pa.sum())
    assert "k-means clusters of today's customers" in text
