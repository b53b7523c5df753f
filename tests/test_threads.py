"""The parallel month step: same numbers on any thread count, and the thread policy."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from simulator import kernel, threads
from simulator.engine import Simulation
from tests.support.scenarios import all_features_scenario


def _arm(sc, threads_n: int, agents: int):
    numba.set_num_threads(threads_n)
    try:
        return Simulation(sc, np.random.SeedSequence(11), 0, agents, 8, ("benefits",)).run(), \
            Simulation(sc, np.random.SeedSequence(11), 0, agents, 8).run()
    finally:
        numba.set_num_threads(threads.threads_for(1))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_one_and_two_threads_give_identical_results():
    sc = all_features_scenario()
    agents = 3 * kernel.BLOCK + 1234  # several blocks, the last one partial
    one = _arm(sc, 1, agents)
    two = _arm(sc, 2, agents)
    for a, b in zip(one, two):
        for name in ("monthly", "service", "ltv_sum", "ltv_n", "cohort_alive", "cohort_size",
                     "migration"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert a.y1.keys() == b.y1.keys()
        for k in a.y1:
            np.testing.assert_array_equal(a.y1[k], b.y1[k], err_msg=k)
        assert a.monthly.sum() != 0.0


def test_thread_policy_divides_the_cores_among_workers(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 8)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 8)
    assert [threads.threads_for(w) for w in (1, 2, 3, 4, 8, 16)] == [8, 4, 2, 2, 1, 1]
    assert threads.threads_for(0) == 8


def test_configure_threads_sets_numba(monkeypatch):
    n = threads.configure_threads(1)
    try:
        assert n == numba.get_num_threads() == threads.threads_for(1)
        assert threads.configure_threads(10**6) == numba.get_num_threads() == 1
    finally:
        threads.configure_threads(1)
