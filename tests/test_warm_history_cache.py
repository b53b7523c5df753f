"""The warm-start buying history is drawn once per (static draws, segments' buying, window)."""

import numpy as np

from simulator import population
from simulator.engine import Simulation
from tests.support.arms import arm_arrays as _arrays
from tests.support.arms import assert_same_arrays as _same
from tests.support.scenarios import all_features_scenario


def test_second_arm_reuses_the_history_with_the_same_numbers(monkeypatch):
    sc = all_features_scenario()
    population._HISTORY_CACHE.clear()
    drawn = []
    real = population.draws.compound_values
    monkeypatch.setattr(population.draws, "compound_values",
                        lambda *a, **k: drawn.append(1) or real(*a, **k))
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
