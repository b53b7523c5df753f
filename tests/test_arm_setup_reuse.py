"""What an arm's set-up reuses in a process: static draws, month uniforms, compiled keys."""

import numpy as np

from simulator import arms, population, runner
from simulator import streams as st
from simulator.engine import Simulation
from tests.support.arms import arm_arrays as _arrays
from tests.support.arms import assert_same_arrays as _same
from tests.support.scenarios import all_features_scenario
from tests.support.spy import record_calls


def _count_static(monkeypatch) -> list:
    return record_calls(monkeypatch, population.Population, "_draw_static", arg=1)


def test_static_draws_of_many_replications_are_kept(monkeypatch):
    # a pool worker runs a sweep's arms replication after replication (20 and more):
    # each replication's static customers are drawn once, not once per arm
    sc = all_features_scenario()
    population._STATIC_CACHE.clear()
    drawn = _count_static(monkeypatch)
    for _ in range(2):
        for rep in range(8):
            Simulation(sc, np.random.SeedSequence(3), rep, 1000, 3)
    assert len(drawn) == 8


def test_static_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(population, "STATIC_CACHE_BYTES", 100_000)
    population._STATIC_CACHE.clear()
    sc = all_features_scenario()
    for rep in range(4):
        Simulation(sc, np.random.SeedSequence(3), rep, 2000, 3)
    total = sum(a.nbytes for e in population._STATIC_CACHE.values() for a in e)
    assert len(population._STATIC_CACHE) == 1 or total <= 100_000
    population._STATIC_CACHE.clear()


def test_a_smaller_capacity_reads_a_larger_draw_with_the_same_numbers(monkeypatch):
    sc = all_features_scenario()
    more = sc.model_copy(deep=True)  # more new customers: a larger capacity
    more.population.acquisition.paid_spend_cny_per_month = \
        3 * sc.population.acquisition.paid_spend_cny_per_month + 2e6
    population._STATIC_CACHE.clear()
    population._HISTORY_CACHE.clear()
    drawn = _count_static(monkeypatch)
    big = Simulation(more, np.random.SeedSequence(3), 0, 2000, 14)
    small = Simulation(sc, np.random.SeedSequence(3), 0, 2000, 14)
    assert len(drawn) == 1 and small.population.capacity < big.population.capacity
    kept = _arrays(small.run())
    population._STATIC_CACHE.clear()
    population._HISTORY_CACHE.clear()
    fresh = _arrays(Simulation(sc, np.random.SeedSequence(3), 0, 2000, 14).run())
    assert len(drawn) == 2
    _same(kept, fresh)


def test_the_second_arm_of_a_replication_makes_no_random_generator(monkeypatch):
    # static draws, history and the months' rounding uniforms are all kept: the
    # counterfactual after its scenario (or a sweep's next set) builds no generator
    sc = all_features_scenario()
    first = _arrays(Simulation(sc, np.random.SeedSequence(5), 1, 1500, 14).run())
    made = []
    real = st.Streams.gen
    monkeypatch.setattr(st.Streams, "gen", lambda self, *a: made.append(a) or real(self, *a))
    again = _arrays(Simulation(sc, np.random.SeedSequence(5), 1, 1500, 14).run())
    assert made == []
    _same(first, again)
    population._MONTH_U.clear()
    once_more = _arrays(Simulation(sc, np.random.SeedSequence(5), 1, 1500, 14).run())
    assert {a[0] for a in made} <= {st.ACQUISITION, st.REFERRAL} and made
    _same(first, once_more)


def test_a_runs_arms_are_compiled_and_hashed_once_per_batch(monkeypatch):
    sc = all_features_scenario()
    compiled = []
    real = arms.compile_scenario
    monkeypatch.setattr(arms, "compile_scenario",
                        lambda *a, **k: compiled.append(a[0]) or real(*a, **k))
    runner.run(sc, replications=4, agents=200, horizon_months=2, workers=1)
    assert len(compiled) == 2  # the scenario arm and its counterfactual, not 2 per replication

