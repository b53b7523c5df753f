"""simulator/streams.py: addressed random streams (common random numbers) and Poisson inversion."""

import numpy as np
import pytest
from scipy import stats

from simulator import streams as st


def _streams(seed=7, replication=0):
    return st.Streams(np.random.SeedSequence(seed), replication)


def test_same_address_same_numbers_and_prefix_stable():
    a, b = _streams(), _streams()
    assert np.array_equal(a.uniform(100, st.ORDERS, 3, 0), b.uniform(100, st.ORDERS, 3, 0))
    # Element i does not depend on how many agents exist.
    assert np.array_equal(a.uniform(10, st.ORDERS, 3, 0), a.uniform(1000, st.ORDERS, 3, 0)[:10])
    assert a.key(st.SPEND, 5) == b.key(st.SPEND, 5)


def test_different_purpose_month_replication_or_seed_differ():
    s = _streams()
    base = s.uniform(50, st.ORDERS, 1)
    for other in (s.uniform(50, st.SPEND, 1), s.uniform(50, st.ORDERS, 2),
                  _streams(replication=1).uniform(50, st.ORDERS, 1),
                  _streams(seed=8).uniform(50, st.ORDERS, 1)):
        assert not np.array_equal(base, other)
    keys = {s.key(p, m) for p in (st.ORDERS, st.SPEND, st.CHURN) for m in range(12)}
    assert len(keys) == 36


def test_uniforms_are_uniform():
    u = _streams().uniform(20_000, st.QUESTIONS, 0)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("lam", [0.3, 4.0, 80.0])  # 80: the normal approximation branch
def test_poisson_inversion_matches_the_distribution(lam):
    u = _streams().uniform(40_000, st.HISTORY_ORDERS, 0)
    k = st.poisson_inverse(u, np.full(u.size, lam))
    assert k.min() >= 0
    assert k.mean() == pytest.approx(lam, rel=0.03, abs=0.01)
    assert k.var() == pytest.approx(lam, rel=0.06, abs=0.02)
    if lam < 30:  # exact inversion: the empirical CDF is Poisson's
        for x in range(int(lam) + 3):
            assert (k <= x).mean() == pytest.approx(stats.poisson.cdf(x, lam), abs=0.01)


def test_poisson_inversion_is_monotone_in_rate_and_uniform():
    u = np.linspace(0.001, 0.999, 500)
    low = st.poisson_inverse(u, np.full(u.size, 2.0))
    high = st.poisson_inverse(u, np.full(u.size, 2.5))
    assert (high >= low).all()  # a higher rate never gives fewer orders (common random numbers)
    assert (np.diff(low) >= 0).all()
