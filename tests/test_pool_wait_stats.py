"""A pool's wait statistics compiled (accounting.pool_wait_stats) equal numpy's, bit for bit."""

from __future__ import annotations

import numpy as np

from simulator.accounting import pairwise_sum, pool_wait_stats, pool_wait_stats_numpy


def _cases():
    rng = np.random.default_rng(20261130)
    for t in range(400):
        k = int(rng.integers(1, 7))
        waits, rates = {}, {}
        for c in range(k):
            size = int(rng.choice([1, 2, 7, 8, 9, 127, 128, 129, 1000, 1024]))
            x = rng.exponential(rng.uniform(0.01, 5.0), size)
            if t % 3 == 0:  # waits of zero and repeated values (ties between classes)
                x = np.round(x * 4) / 4
            if t % 5 != 4:  # quantiles: sorted (every fifth case not)
                x = np.sort(x)
            waits[c] = x
            rates[c] = float(rng.choice([0.0, rng.uniform(0.1, 50.0)])) if c else \
                float(rng.uniform(0.1, 50.0))
        if t % 7 == 0:
            rates[99] = 3.0  # a class without waits
        yield waits, rates, float(rng.choice([0.0, 0.25, 1.0, 3.0, 100.0]))


def test_same_numbers_as_numpy():
    """400 pools: 1-6 classes of 1-1024 waits, sorted or not, ties, idle classes."""
    for waits, rates, sla in _cases():
        assert pool_wait_stats(waits, rates, sla) == pool_wait_stats_numpy(waits, rates, sla)


def test_nan_wait_and_no_load_as_numpy():
    waits = {0: np.array([0.0, np.nan, 1.0]), 1: np.array([0.5, 2.0])}
    rates = {0: 1.0, 1: 2.0}
    got, want = pool_wait_stats(waits, rates, 1.0), pool_wait_stats_numpy(waits, rates, 1.0)
    np.testing.assert_array_equal(np.array(got), np.array(want))
    assert pool_wait_stats(waits, {0: 0.0, 1: 0.0}, 1.0) == (0.0, 0.0, 1.0)
    low = {0: np.array([0.5, 1.0000001], dtype=np.float32)}  # float32 waits: numpy's way
    assert pool_wait_stats(low, {0: 1.0}, 1.0000001) == \
        pool_wait_stats_numpy(low, {0: 1.0}, 1.0000001)


def test_pairwise_sum_is_numpys():
    rng = np.random.default_rng(5)
    for n in list(range(0, 300)) + [1023, 1024, 4096, 6144, 8191, 8192, 9000, 20000]:
        a = rng.random(n) * 10 ** rng.uniform(-3, 6)
        assert pairwise_sum(a, 0, n) == a.sum()
        if n > 3:
            assert pairwise_sum(a, 2, n - 3) == a[2:n - 1].sum()
