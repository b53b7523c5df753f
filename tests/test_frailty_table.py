"""The rate frailty read from a per-shape quantile table (population.gamma_frailty).

Against scipy's exact inversion gammaincinv(a, u) / a: relative error below float32's
rounding everywhere (random uniforms, every cell's middle, the far tails), and the
frailty's moments and tails those of the gamma with mean 1 and shape a.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaincinv

from simulator.population import FRAILTY_CELLS, FRAILTY_TOL, frailty_table, gamma_frailty

# order_rate_cv 0.05 .. 5 (the schema allows up to 5), the shipped 0.5 and 1.0 among them
SHAPES = [1 / cv**2 for cv in (0.05, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0)]


def _grid() -> np.ndarray:
    rng = np.random.default_rng(7)
    n = FRAILTY_CELLS
    return np.concatenate([
        rng.random(200_000),
        (np.arange(8 * n) + 0.5) / (8 * n),  # eight points a cell
        (np.arange(n) + 0.5) / n,  # the cells' middles, where Hermite's error peaks
        np.array([1e-12, 1e-9, 1e-6, 1e-4, 1 - 1e-4, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12]),
    ])


@pytest.mark.parametrize("shape", SHAPES)
def test_table_matches_exact_inversion(shape):
    u = _grid()
    seg = np.zeros(u.size, dtype=np.int8)
    got = gamma_frailty(np.array([shape]), seg, u)
    exact = gammaincinv(shape, u) / shape
    pos = exact > 0
    rel = np.abs(got[pos] - exact[pos]) / exact[pos]
    assert rel.max() <= 1.5 * FRAILTY_TOL  # 3e-8: below float32's half-ulp (6e-8)
    assert np.array_equal(got[~pos], exact[~pos])
    # most cells are read from the table (the speed-up), the steep tails computed
    assert frailty_table(shape)[2].mean() > 0.85


def test_segments_read_their_own_shape():
    shapes = np.array([4.0, 1.0, 0.25])
    rng = np.random.default_rng(3)
    u = rng.random(30_000)
    seg = rng.integers(0, 3, u.size).astype(np.int8)
    got = gamma_frailty(shapes, seg, u)
    exact = gammaincinv(shapes[seg], u) / shapes[seg]
    assert np.max(np.abs(got - exact) / exact) <= 1.5 * FRAILTY_TOL


@pytest.mark.parametrize("shape", [4.0, 1.0, 0.25])
def test_frailty_is_gamma_with_mean_one(shape):
    """Mean 1, variance 1/a, and the 1 % / 99.9 % tails of Gamma(a, 1/a)."""
    u = (np.arange(400_000) + 0.5) / 400_000  # a stratified sample: tight moments
    x = gamma_frailty(np.array([shape]), np.zeros(u.size, dtype=np.int8), u).astype(np.float32)
    assert x.mean(dtype=np.float64) == pytest.approx(1.0, rel=2e-3)
    assert x.var(dtype=np.float64) == pytest.approx(1.0 / shape, rel=2e-2)
    dist = stats.gamma(shape, scale=1.0 / shape)
    for p in (0.01, 0.999):
        assert np.mean(x <= dist.ppf(p)) == pytest.approx(p, abs=2e-4)
