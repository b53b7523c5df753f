"""The tier review in one compiled pass (population._review) equals its numpy form."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import draws
from simulator.population import _DOWNGRADE, _review


def _numpy_review(tier, q, alive, grace, n, rule, grace_reviews, key, completion, benefits_on):
    """The review as it was written in numpy (the reference)."""
    cur = tier[:n]
    if rule == "immediate":
        new = q
    elif rule == "never":
        new = np.maximum(cur, q)
    elif rule == "grace":
        below = q < cur
        grace[:n] = np.where(below, grace[:n] + 1, 0)
        drop = below & (grace[:n] > grace_reviews)
        new = np.where(drop, q, np.maximum(cur, q))
        grace[:n] = np.where(drop, 0, grace[:n])
    else:
        at_risk = q < cur
        u = draws.uniforms(key, n)
        done = at_risk & (u < completion)
        new = np.where(done, cur, q) if benefits_on else q
    tier[:n] = np.where(alive[:n], new, cur).astype(np.int8)


@pytest.mark.parametrize("rule", sorted(_DOWNGRADE))
@pytest.mark.parametrize("benefits_on", [True, False])
def test_same_tiers_and_grace_counts_as_numpy(rule, benefits_on):
    rng = np.random.default_rng(11)
    cap, n = 5000, 4200
    tier = rng.integers(0, 6, cap).astype(np.int8)
    grace = rng.integers(0, 4, cap).astype(np.int8)
    grace[:5] = 127  # the int8 count wraps alike
    alive = rng.random(cap) < 0.8
    key = np.uint64(987654321)
    t1, g1, t2, g2 = tier.copy(), grace.copy(), tier.copy(), grace.copy()
    for review in range(6):  # reviews in a row: the grace counts build up
        q = rng.integers(0, 6, n).astype(np.int8)
        _numpy_review(t1, q, alive, g1, n, rule, 2, key + np.uint64(review), 0.4, benefits_on)
        _review(t2, q, alive, g2, n, _DOWNGRADE[rule], 2, key + np.uint64(review), 0.4,
                benefits_on)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(g1, g2)
    assert not np.array_equal(t1, tier)
