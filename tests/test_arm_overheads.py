"""An arm's work outside the kernel: cheaper routes that must give the very same numbers."""

from __future__ import annotations

import numpy as np

from simulator import accounting
from simulator.service import ServiceStage


def _wait_stats_reference(waits: dict, rates: dict, sla_hours: float):
    """pool_wait_stats as it was: every class's waits with its weight, pooled in the
    order the rates list them, then accounting's stable-argsort route."""
    live = [p for p, r in rates.items() if r > 0 and p in waits]
    total = sum(rates[p] for p in live)
    if total <= 0:
        return 0.0, 0.0, 1.0
    live = [p for p in live if waits[p].size]
    v = np.concatenate([waits[p] for p in live])
    w = np.concatenate([np.full(waits[p].size, rates[p] / total / waits[p].size)
                        for p in live])
    return accounting._argsort_stats(v, w, sla_hours)


def test_pool_wait_stats_merge_equals_the_argsort_formula_bit_for_bit():
    rng = np.random.default_rng(15)
    for trial in range(600):
        k = int(rng.integers(1, 5))
        waits, rates = {}, {}
        for p in rng.permutation(6)[:k]:
            n = int(rng.choice([1, 3, 1024]))
            x = np.round(rng.exponential(rng.uniform(0.01, 3.0), n), int(rng.integers(0, 3)))
            if rng.random() < 0.25:
                x[: n // 2] = 0.0  # many ties at zero, across classes too
                if rng.random() < 0.3:
                    x[: n // 4] = -0.0  # equal to 0.0: a stable sort keeps their order
                if rng.random() < 0.2:
                    x[: n // 3] = x[n // 3] if n > 1 else x[0]  # the smallest is not zero
            if rng.random() < 0.85:
                x = np.sort(x)  # quantiles come sorted; sometimes they do not
            if rng.random() < 0.03:
                x[-1] = np.nan
            waits[int(p)] = x
            rates[int(p)] = float(rng.choice([0.0, rng.uniform(0.1, 50.0)], p=[0.1, 0.9]))
        if rng.random() < 0.1:
            rates[99] = 1.0  # a class without waits
        sla = float(rng.choice([0.0, 0.05, 0.5, 2.0]))
        got = accounting.pool_wait_stats(waits, rates, sla)
        want = _wait_stats_reference(waits, rates, sla)
        assert np.array(got).tobytes() == np.array(want).tobytes(), (trial, got, want)


def test_month_unanswered_share_equals_np_average():
    # ServiceStage.month weights the classes' unanswered shares by arrivals as
    # np.average does, with its operations: compare a month with several classes.
    from simulator.queue_window import PoolSpec

    spec = PoolSpec("p", ((0.0, 24.0, 12),), 0.25, "exponential", 0.0)
    stage = ServiceStage({"p": spec}, 3, 1500)
    rates = {0: 20.0, 1: 15.0, 2: 9.0}
    hours = 730.5
    month = stage.month("p", rates, hours)
    win = stage.window("p", rates)
    from simulator.service import _U, _late_share

    t = _U * hours
    shares = [_late_share(t, win.waits[p], hours) for p in sorted(rates, reverse=True)]
    weights = [rates[p] for p in sorted(rates, reverse=True)]
    assert month.unanswered_share == float(np.average(shares, weights=weights))


def test_compiled_sum_is_numpys_sum_bit_for_bit():
    # pool_wait_stats' compiled route sums as numpy does (pairwise); any change in numpy's
    # summation shows here first.
    rng = np.random.default_rng(7)
    for _ in range(3000):
        n = int(rng.integers(0, 9000)) if rng.random() < 0.5 else int(rng.integers(0, 300))
        a = rng.standard_normal(n) * np.exp(rng.uniform(-30, 30, n))
        if rng.random() < 0.1:
            a[:] = -0.0
        assert np.array(accounting._np_sum(a)).tobytes() == np.array(a.sum()).tobytes()


def test_pool_figures_kept_per_pool_are_each_pools_own():
    # A pool's largest staff and capacity are kept on its specification (computed once):
    # pools that differ in any field (staff, shifts, handle time) each get their own.
    from simulator.queue_window import PoolSpec

    def walked(spec):  # the figures as the shifts give them, not the kept ones
        return (PoolSpec.max_staff.func(spec), PoolSpec.capacity_per_hour.func(spec))

    base = PoolSpec("p", ((8.0, 16.0, 10), (16.0, 24.0, 4)), 0.25, "exponential", 0.0)
    others = [base,
              PoolSpec("p", ((8.0, 16.0, 11), (16.0, 24.0, 4)), 0.25, "exponential", 0.0),
              PoolSpec("p", ((8.0, 16.0, 10), (12.0, 24.0, 4)), 0.25, "exponential", 0.0),
              PoolSpec("p", ((8.0, 16.0, 10), (16.0, 24.0, 4)), 0.5, "exponential", 0.0),
              PoolSpec("q", ((0.0, 24.0, 0),), 0.25, "lognormal", 1.0)]
    for _ in range(2):  # computed, then kept
        for spec in others:
            assert (spec.max_staff, spec.capacity_per_hour) == walked(spec)
    assert len({(s.max_staff, s.capacity_per_hour) for s in others}) == len(others)
