"""Shapley values from coalition values: exact over all subsets, or sampled permutations."""

from __future__ import annotations

from math import factorial
from typing import Any, Callable

import numpy as np

EXACT_MAX = 8  # parts up to which every subset is run (2^8 = 256 sets)
PERMUTATIONS = 32  # sampled permutations above EXACT_MAX


def _weights(n: int) -> np.ndarray:
    """Shapley weight of a coalition of size k not containing the player: k!(n-k-1)!/n!."""
    return np.array([factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)])


def shapley_exact(v: dict[int, np.ndarray], n: int) -> np.ndarray:
    """Shapley values of n players from the values of all 2^n coalitions (bit masks).

    ``v[mask]`` is an array (e.g. [R, Q]); the result is [n, *shape].
    """
    w = _weights(n)
    shape = np.shape(v[0])
    phi = np.zeros((n, *shape))
    for i in range(n):
        bit = 1 << i
        for mask in range(1 << n):
            if mask & bit:
                continue
            phi[i] += w[bin(mask).count("1")] * (v[mask | bit] - v[mask])
    return phi


def permutation_marginals(value: Callable[[int], np.ndarray], n: int, perms: list[list[int]]
                          ) -> np.ndarray:
    """Marginal contributions along each permutation: [P, n, *shape] (a telescoping sum)."""
    out: list[np.ndarray] = []
    for order in perms:
        rows: list[Any] = [None] * n
        mask = 0
        prev = value(0)
        for i in order:
            mask |= 1 << i
            cur = value(mask)
            rows[i] = cur - prev
            prev = cur
        out.append(np.stack(rows))
    return np.stack(out)


def _masks_needed(n: int, perms: list[list[int]] | None) -> list[int]:
    if perms is None:
        return list(range(1 << n))
    seen = {0}
    for order in perms:
        m = 0
        for i in order:
            m |= 1 << i
            seen.add(m)
    return sorted(seen)



def _check_sample(n: int, permutations: int | None) -> None:
    if permutations is not None and not 1 <= permutations <= 10_000:
        raise ValueError(f"permutations: {permutations} must be between 1 and 10000")


def _permutations(n: int, count: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng([seed, 0x5A4B])
    return [list(rng.permutation(n)) for _ in range(count)]
