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


def _poisson_plain(u, lam):
    """Inversion as written before the no-order shortcut (the reference)."""
    import math

    if lam <= 0.0:
        return 0
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 200:
        k += 1
        p *= lam / k
        cdf += p
    return k


def test_poisson_no_order_shortcut_gives_the_same_counts():
    # The shortcut answers 0 below 1 - lam without exp(-lam); at and around that bound,
    # and at exp(-lam) itself, it must give exactly what plain inversion gives.
    from simulator.draws import _poisson

    rng = np.random.default_rng(3)
    lams = np.concatenate([[1e-300, 1e-12, 1e-8, 1e-4, 0.01, 0.2, 0.5, 1.0, 2.0, 29.9],
                           rng.exponential(0.3, 200)])
    for lam in lams:
        edges = [1.0 - lam, np.exp(-lam)]
        us = [np.nextafter(e, d) for e in edges for d in (-1.0, 2.0) for _ in range(1)]
        us += [e + k * 1e-16 for e in edges for k in range(-40, 41)]
        us += list(rng.random(50))
        for u in us:
            if 0.0 <= u < 1.0:
                assert _poisson(u, lam) == _poisson_plain(u, lam), (u, lam)


def test_poisson_series_bounds_give_the_same_counts():
    # Below rate 1 the count 0 or 1 is decided from bounds of exp(-lam) without computing
    # it; at and around every cumulative sum inversion compares u with (P(0), P(<= 1),
    # ..., as plain inversion computes them) and the bounds, the count must be plain
    # inversion's.
    from simulator.draws import _poisson

    rng = np.random.default_rng(7)
    lams = np.concatenate([[1e-300, 1e-9, 1e-3, 0.05, 0.3, 0.7, 1.0, 2.5, 7.0, 29.99, 30.0],
                           rng.uniform(0.0, 1.0, 100), rng.uniform(1.0, 30.0, 100)])
    for lam in lams:
        p = np.exp(-lam)
        cdfs = [p]
        for k in range(1, 12 + int(2 * lam)):
            p *= lam / k
            cdfs.append(cdfs[-1] + p)
        edges = [c for c in cdfs if c < 1.0]
        l2 = lam * lam
        hi = ((1.0 - lam) + 0.5 * l2) - l2 * lam / 6.0 + l2 * l2 / 24.0
        lo = hi - l2 * l2 * lam / 120.0
        edges += [hi * (1.0 + 1e-12), lo * (1.0 - 1e-12), lo * (1.0 + lam) * (1.0 - 1e-12)]
        us = [e + k * 2.0 ** -53 for e in edges for k in range(-12, 13)]
        us += [e * (1.0 + k * 3e-12) for e in edges for k in range(-6, 7)]
        us += list(rng.random(100))
        for u in us:
            if 0.0 <= u < 1.0:
                assert _poisson(u, lam) == _poisson_plain(u, lam), (u, lam)


def test_churn_decision_is_that_of_the_exact_hazard():
    # The kernel skips the exp where (1 - x/16)^-16 bounds the hazard: at and around the
    # hazard and the bound it must decide exactly as u < base * exp(x).
    import math

    from simulator.kernel import _churns

    rng = np.random.default_rng(11)
    for _ in range(3000):
        base = rng.choice([0.0, 1e-6, rng.uniform(0.0, 0.05), rng.uniform(0.0, 0.5)])
        x = rng.choice([0.0, rng.uniform(-4.0, 4.0), rng.uniform(-40.0, 6.0), 30.0, -30.0])
        hz = base * math.exp(x)
        us = [hz + k * 2.0 ** -53 for k in range(-8, 9)] + list(rng.random(4))
        us += [hz * (1.0 + k * 3e-12) for k in range(-6, 7)]
        if x < 16.0:
            bound = base * (1.0 + 1e-12) / (1.0 - x / 16.0) ** 16
            us += [bound * (1.0 + k * 1e-15) for k in range(-5, 6)]
        for u in us:
            if 0.0 <= u < 1.0:
                assert _churns(u, base, x) == (u < hz), (u, base, x)


def test_keys_are_remembered_and_stay_those_of_the_seed_sequence():
    s = _streams(seed=11, replication=3)
    first = s.key(st.ORDERS, 4, 0)
    fresh = np.random.SeedSequence(11, spawn_key=(3, st.ORDERS, 4, 0)).generate_state(
        1, dtype=np.uint64)[0]
    assert first == fresh
    assert _streams(seed=11, replication=3).key(st.ORDERS, 4, 0) == fresh  # from the table
    assert _streams(seed=11, replication=4).key(st.ORDERS, 4, 0) != fresh
    assert st.Streams(np.random.SeedSequence([11, 2]), 3).key(st.ORDERS, 4, 0) != fresh
