"""An arm's set-up (static draws, warm start) looks at the cancel flag and stops within a second."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from simulator import population
from simulator.engine import Simulation
from simulator.outputs import Cancelled
from tests.support.scenarios import all_features_scenario


class _Flag:
    """A cancel flag that counts how often it is looked at; set from the k-th look on."""

    def __init__(self, k: int | None = None):
        self.k = k
        self.looks = 0

    def is_set(self) -> bool:
        self.looks += 1
        return self.k is not None and self.looks >= self.k


def test_a_cancel_before_the_set_up_stops_it():
    # Before: the set-up ran to the end and only the first month looked at the flag.
    flag = _Flag(k=1)
    with pytest.raises(Cancelled):
        Simulation(all_features_scenario(), np.random.SeedSequence(1), 0, 5_000, 12, cancel=flag)


def test_the_set_up_looks_at_the_flag_every_chunk_of_customers():
    agents = 5 * population.POLL_CHUNK
    flag = _Flag()
    sim = Simulation(all_features_scenario(), np.random.SeedSequence(1), 0, agents, 12,
                     cancel=flag)
    W = sim.cs.window_months
    # frailty over the capacity, then each warm-start month chunk by chunk
    assert flag.looks >= (sim.population.capacity // population.POLL_CHUNK) + W * 5
    # a cancel at any of those looks stops the set-up (drawn afresh, not from the caches)
    population._STATIC_CACHE.clear()
    population._HISTORY_CACHE.clear()
    with pytest.raises(Cancelled):
        Simulation(all_features_scenario(), np.random.SeedSequence(1), 0, agents, 12,
                   cancel=_Flag(k=flag.looks // 2))


def test_chunked_set_up_gives_the_same_customers(monkeypatch):
    sc = all_features_scenario()
    whole = Simulation(sc, np.random.SeedSequence(3), 1, 30_000, 12).population
    population._STATIC_CACHE.clear()
    population._HISTORY_CACHE.clear()
    monkeypatch.setattr(population, "POLL_CHUNK", 997)  # many chunks, none aligned
    chunked = Simulation(sc, np.random.SeedSequence(3), 1, 30_000, 12).population
    for name in ("segment", "frailty", "churn_step", "alive", "tier", "satisfaction",
                 "spend_hist", "rolling_spend", "idle_months"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name), name)
    assert whole.rolling_spend.sum() > 0


def test_a_cancel_during_a_large_set_up_stops_it_within_a_second():
    population._STATIC_CACHE.clear()
    population._HISTORY_CACHE.clear()
    cancel = threading.Event()
    out: dict = {}

    def work():
        try:
            Simulation(all_features_scenario(), np.random.SeedSequence(7), 0, 1_500_000, 24,
                       cancel=cancel)
            out["finished"] = time.perf_counter()
        except Cancelled:
            out["cancelled"] = time.perf_counter()

    th = threading.Thread(target=work)
    th.start()
    time.sleep(0.5)  # inside the static draws or the warm start (several seconds at this size)
    t0 = time.perf_counter()
    cancel.set()
    th.join(timeout=60)
    assert "cancelled" in out, out
    assert out["cancelled"] - t0 < 1.0


def test_set_up_on_two_threads_gives_the_same_customers():
    # The static draws' chunks run on the kernel's threads at once: same customers.
    import numba

    from simulator.threads import configure_threads

    sc = all_features_scenario()
    for seg in sc.segments:
        seg.churn_heterogeneity = 0.5  # the beta draws too
    got = []
    for n in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        population._STATIC_CACHE.clear()
        population._HISTORY_CACHE.clear()
        numba.set_num_threads(n)
        pop = Simulation(sc, np.random.SeedSequence(4), 0, 3 * population.POLL_CHUNK + 5,
                         3).population
        got.append((pop.frailty.copy(), pop.churn_step.copy()))
    configure_threads(1)
    for a, b in zip(*got):
        assert a.tobytes() == b.tobytes()
