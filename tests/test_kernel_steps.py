"""The kernel's per-customer steps written for speed give exactly the plain rules' answers."""

from __future__ import annotations

import numpy as np

from simulator.kernel import qualified


def _qualified_plain(spend, orders, thresholds, min_orders, track_orders):
    """The tier rule as the scheme states it, written from the sets it names: the last
    tier whose spend threshold is met (tier 0 when none is), then the highest tier at or
    below it whose order threshold is met too (tier 0 needs none)."""
    met = [k for k in range(thresholds.shape[0]) if thresholds[k] <= spend]
    t = met[-1] if met else 0
    if track_orders:
        t = max(k for k in range(t + 1) if k == 0 or orders >= min_orders[k])
    return t


def test_qualified_tier_is_the_plain_rule():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n_tiers = int(rng.integers(1, 8))
        thresholds = np.sort(rng.choice([0.0, 100.0, 500.0, 2000.0, 5000.0, 1e4, 5e4],
                                        n_tiers))
        if rng.random() < 0.3:  # not required to be sorted
            rng.shuffle(thresholds)
        min_orders = rng.integers(0, 6, n_tiers)
        track = bool(rng.random() < 0.6)
        spend = np.concatenate([rng.choice(thresholds, 50), rng.uniform(0, 6e4, 50),
                                [np.nan, -1.0, np.inf]])
        orders = rng.integers(0, 8, spend.shape[0]).astype(np.int32)
        got = qualified(spend, orders, thresholds, min_orders, track)
        want = [_qualified_plain(s, o, thresholds, min_orders, track)
                for s, o in zip(spend, orders)]
        assert got.tolist() == want
