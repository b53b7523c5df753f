"""Per-customer spend (gamma-gamma): published CDNOW figures, synthetic recovery, engine."""

import numpy as np
import pandas as pd
import pytest

from simulator import customer_base as cbm
from simulator.datafit import bgnbd, customers, holdout, spend
from simulator.datafit.importlog import read_log
from tests.test_churn_heterogeneity import _closed_cohort
from tests.test_datafit_fit import cdnow

HEAD = "customer_id,segment,p_alive,order_rate_mean,order_rate_shape,dropout_a,dropout_b"


def test_cdnow_sample_reproduces_the_published_gamma_gamma():
    """FHL (2005, RFM and CLV): p 6.25, q 3.74, gamma 15.44 on the sample's 946 repeat buyers."""
    ref = pd.read_csv(cdnow("cdnow_customers_summary_with_transactions.csv"))
    gg = spend.fit(ref["zbar"], ref["x"])
    assert gg.customers == 946
    assert (gg.p, gg.q, gg.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)
    # A customer's estimate lies between their own mean and the population's (shrinkage).
    e = gg.expected(np.array([100.0, 10.0, 0.0]), np.array([1, 20, 0]))
    assert gg.mean < e[0] < 100 and 10 < e[1] < 11.5 and e[2] == pytest.approx(gg.mean)


def _synthetic_log(tmp_path, n=6000, seed=5):
    """BG/NBD purchases; order values gamma(p, nu) around each customer's own mean p/nu."""
    rng = np.random.default_rng(seed)
    cust, t = bgnbd.simulate((0.8, 6.0, 0.9, 2.5), n, rng.uniform(0, 12, n), 78.0, rng)
    p, q, g = 6.0, 4.0, 15.0
    nu = rng.gamma(q, 1 / g, n)
    true_mean = p / nu
    value = rng.gamma(p, 1 / nu[cust])
    day = np.datetime64("2020-01-01") + np.floor(t * 7).astype(int)
    # One purchase a day per customer, so a day's sum is one order's value.
    df = pd.DataFrame({"customer_id": cust, "date": day.astype(str), "amount": value.round(4)})
    df = df.drop_duplicates(["customer_id", "date"])
    path = tmp_path / "log.csv"
    df.to_csv(path, index=False)
    return path, true_mean, (p, q, g)


def test_high_spenders_are_recovered_on_a_synthetic_log(tmp_path):
    path, true_mean, (p, q, g) = _synthetic_log(tmp_path)
    log = read_log(path)
    days = holdout.daily(log)
    end = int(days["d"].max())
    codes = np.sort(days["c"].unique())
    level = customers.spend_levels(days, end, codes)
    assert level is not None
    truth = true_mean[np.array([int(log.customer_ids[c]) for c in codes])]
    m_x, x = spend.repeat_mean(days, end, codes)
    gg = spend.fit(m_x, x)
    assert gg.mean == pytest.approx(p * g / (q - 1), rel=0.1)
    # The top tenth of true spenders among customers with 3+ repeat purchases: their
    # estimates average within 10 % of their true mean, far above the population's,
    # and closer to the truth than the population mean or their raw mean.
    known = x >= 3
    top = known & (truth >= np.quantile(truth[known], 0.9))
    assert top.sum() > 50
    assert level[top].mean() == pytest.approx(truth[top].mean(), rel=0.1)
    assert level[top].mean() > 1.5 * gg.mean
    err_shrunk = np.abs(level[known] - truth[known]).mean()
    assert err_shrunk < np.abs(m_x[known] - truth[known]).mean()
    assert err_shrunk < np.abs(gg.mean - truth[known]).mean()
    assert np.corrcoef(level[known], truth[known])[0, 1] > 0.8


def test_customer_file_carries_spend_per_order():
    text = (HEAD + ",spend_per_order\nc1,VIP,0.9,1.5,2.0,0.7,3.0,120.5\n"
            "c2,Regular,1,0.2,0.5,0.7,2,8\n")
    cb = cbm.parse(text, ["Regular", "VIP"], "shop.csv")
    assert cb.spend_level.tolist() == [120.5, 8.0]
    again = cbm.parse(cbm.to_csv(cb, ["Regular", "VIP"]), ["Regular", "VIP"])
    assert again.spend_level.tolist() == [120.5, 8.0]
    assert cbm.parse(HEAD + "\nc1,VIP,1,1,1,1,1\n", ["Regular", "VIP"]).spend_level is None
    with pytest.raises(cbm.CustomerFileError, match="column 'spend_per_order': line.s. 2 — "
                                                    "must be a number more than 0"):
        cbm.parse(HEAD + ",spend_per_order\nc1,VIP,1,1,1,1,1,0\n", ["Regular", "VIP"])


def test_engine_orders_average_each_customers_spend_level():
    """Half the customers at 4x the segment's order value: their engine orders average that."""
    from simulator.engine import Simulation

    sc = _closed_cohort(0.2, 0.0)
    seg_mean = sc.segments[0].spend_per_order_cny
    n = 20_000
    rows = [f"c{i},All,1,2.0,50,1,1000,{seg_mean * (4 if i % 2 else 1):.4f}" for i in range(n)]
    cb = cbm.parse("\n".join([HEAD + ",spend_per_order", *rows]), ["All"])
    sim = Simulation(sc, np.random.SeedSequence(4), 0, n, 12, customers=cb)
    sim.run()
    pop = sim.population
    odd = np.arange(n) % 2 == 1
    per_order = [pop.y1_gross[m].sum() / pop.y1_orders[:n][m].sum() for m in (odd, ~odd)]
    assert per_order[0] == pytest.approx(4 * seg_mean, rel=0.03)
    assert per_order[1] == pytest.approx(seg_mean, rel=0.03)
    # Without the column every customer averages the segment's order value.
    plain = cbm.parse("\n".join([HEAD, *(r.rsplit(",", 1)[0] for r in rows)]), ["All"])
    sim2 = Simulation(sc, np.random.SeedSequence(4), 0, n, 12, customers=plain)
    sim2.run()
    p2 = sim2.population
    assert p2.y1_gross[odd].sum() / p2.y1_orders[:n][odd].sum() == pytest.approx(seg_mean,
                                                                                  rel=0.03)
