"""The warm-start buying history is drawn once per (static draws, segments' buying, window)."""

import numpy as np

from simulator import population
from simulator.engine import Simulation
from tests.support.arms import arm_arrays as _arrays
from tests.support.arms import assert_same_arrays as _same
from tests.support.scenarios import all_features_scenario
from tests.support.spy import record_calls


def test_second_arm_reuses_the_history_with_the_same_numbers(monkeypatch):
    sc = all_features_scenario()
    population._HISTORY_CACHE.clear()
    drawn = record_calls(monkeypatch, population, "history_month")
    first = _arrays(Simulation(sc, np.random.SeedSequence(3), 0, 3000, 14).run())
    n_first = len(drawn)
    assert n_first > 0
    again = _arrays(Simulation(sc, np.random.SeedSequence(3), 0, 3000, 14).run())
    assert len(drawn) == n_first  # not drawn again
    _same(first, again)
    population._HISTORY_CACHE.clear()
    fresh = _arrays(Simulation(sc, np.random.SeedSequence(3), 0, 3000, 14).run())
    assert len(drawn) > n_first
    _same(first, fresh)


def test_other_replication_or_spend_draws_its_own_history():
    sc = all_features_scenario()
    population._HISTORY_CACHE.clear()
    a = Simulation(sc, np.random.SeedSequence(3), 0, 2000, 3).population.spend_hist.copy()
    b = Simulation(sc, np.random.SeedSequence(3), 1, 2000, 3).population.spend_hist
    assert not np.array_equal(a, b)
    sc2 = sc.model_copy(deep=True)
    sc2.segments[0].spend_per_order_cny *= 2
    c = Simulation(sc2, np.random.SeedSequence(3), 0, 2000, 3).population
    seg0 = c.segment[:2000] == 0
    assert not np.array_equal(a[:, :2000][:, seg0], c.spend_hist[:, :2000][:, seg0])
    assert len(population._HISTORY_CACHE) == 3


def test_history_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(population, "HISTORY_CACHE_BYTES", 200_000)
    population._HISTORY_CACHE.clear()
    sc = all_features_scenario()
    for rep in range(4):
        Simulation(sc, np.random.SeedSequence(3), rep, 2000, 3)
    total = sum(x.nbytes for e in population._HISTORY_CACHE.values() for x in e if x is not None)
    assert total <= 200_000 and len(population._HISTORY_CACHE) >= 1
    population._HISTORY_CACHE.clear()


def test_history_values_come_from_the_months_order_value_table():
    """The warm start's order values are the months' (draws.order_values on the segment's
    table), and a window of them has the lognormal's mean value per order."""
    from simulator import draws
    from simulator import streams as st

    sc = all_features_scenario()
    population._HISTORY_CACHE.clear()
    p = Simulation(sc, np.random.SeedSequence(5), 0, 20_000, 3).population
    cs, n0 = p.cs, p.n0
    seg = p.segment[:n0]
    lam = cs.base_rate[seg] * p.frailty[:n0]
    hist = np.stack([st.poisson_inverse(p.rs.uniform(n0, st.HISTORY_ORDERS, k), lam)
                     for k in range(cs.window_months)])  # the window's order counts
    k = cs.window_months - 1
    key = p.rs.key(st.HISTORY_SPEND, k)
    for i in np.flatnonzero(hist[k] > 0)[:200]:
        s = seg[i]
        want = draws.order_values(key, i, int(hist[k, i]), cs.spend_mu[s], cs.spend_sigma[s],
                                  cs.value_table, np.uint64(s))
        assert p.spend_hist[k, i] == np.float32(want)
    assert np.array_equal(p.spend_hist[:, :n0] > 0, hist > 0)
    for s in range(cs.n_segments):
        m = seg == s
        n_orders = hist[:, m].sum(dtype=np.int64)
        mean = p.spend_hist[:, :n0][:, m].sum(dtype=np.float64) / n_orders
        expect = np.exp(cs.spend_mu[s] + cs.spend_sigma[s] ** 2 / 2)
        cv = np.sqrt(np.expm1(cs.spend_sigma[s] ** 2))
        assert abs(mean / expect - 1) < 4 * cv / np.sqrt(n_orders)
