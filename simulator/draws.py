"""Addressed random draws, compiled with numba: a customer's luck is a hash of (purpose, index).

The uniform a customer gets for a purpose is a hash of the purpose's 64-bit key
(derived from the seed, replication, month, step and purpose by
:class:`simulator.streams.Streams`) and the customer's index (SplitMix64's
finaliser applied to ``key + (i + 1) * golden_gamma``). On top of it: normals
(Box-Muller), Poisson counts by inversion, and the sum of a customer's order
values from a per-segment table of the lognormal's quantiles (:func:`order_values`,
:func:`value_table`), in the simulated months and in the warm start's history alike;
the exact sum by Box-Muller (:func:`compound_value`, :func:`compound_values`) is the
reference the tests hold the table to. Integer arithmetic makes the draws identical
on every machine; :mod:`simulator.kernel` and the warm start use them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from scipy.special import ndtri

from simulator import threads as _threads  # noqa: F401 - picks the threading layer first

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11, _S32 = (np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11),
                                np.uint64(32))
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_PI = 2.0 * math.pi
_TWO_M53 = 1.0 / 9007199254740992.0
_SQRT2 = math.sqrt(2.0)


@njit(cache=True, inline="always")
def _hash(key, i):
    z = key + (np.uint64(i) + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def uniform_at(key, i):
    """Customer ``i``'s uniform in [0, 1) for a purpose key (53-bit resolution)."""
    return float(_hash(key, i) >> _S11) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def normal_at(key, i):
    """Customer ``i``'s standard normal for a purpose key (Box-Muller on one hash)."""
    h = _hash(key, i)
    u1 = (float(h >> _S32) + 1.0) * (1.0 / 4294967296.0)  # (0, 1]
    u2 = float(h & _LOW32) * (1.0 / 4294967296.0)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


# Orders in one step up to this many get one value each; above it (no real shop)
# their sum is one three-moment-matched shifted lognormal (see compound_value).
EXACT_ORDERS = 4096
_PAIR_SALT = np.uint64(0xD1B54A32D192ED03)


@njit(cache=True)
def compound_value(key, i, n, mu, sigma, exact=EXACT_ORDERS):
    """Sum of ``n`` independent lognormal(mu, sigma) order values for customer ``i``.

    Order ``j`` gets its own standard normal: pair ``j // 2`` of orders shares one
    hash (Box-Muller gives a cosine and a sine normal, independent), so the draw of
    order ``j`` is addressed by (key, j, i) and does not depend on ``n``. Up to
    ``exact`` orders (:data:`EXACT_ORDERS`) the sum is exact. Above, it is one
    shifted lognormal with the sum's exact mean, variance and skewness (three-moment
    match): tests/test_spend.py checks that its tail shares stay within 0.5
    percentage point of exact sums already just above 64 orders.
    """
    if n <= 0:
        return 0.0
    if n > exact:
        return _sum_approx(n, mu, sigma, normal_at(key, i))
    total = 0.0
    pair_key = key
    r = 0.0
    a = 0.0
    for j in range(n):
        if j % 2 == 0:
            if j > 0:
                pair_key = _hash(key ^ _PAIR_SALT, j // 2)
            h = _hash(pair_key, i)
            u1 = (float(h >> _S32) + 1.0) * (1.0 / 4294967296.0)  # (0, 1]
            r = math.sqrt(-2.0 * math.log(u1))
            a = _TWO_PI * float(h & _LOW32) * (1.0 / 4294967296.0)
            z = r * math.cos(a)
        else:
            z = r * math.sin(a)
        total += math.exp(mu + sigma * z)
    return total


# A month's order values (issue 17): order j of customer i has the uniform u of its own
# hash and the value exp(mu + sigma * Phi^-1(u)), read from the segment's table of that
# function at u = k / VALUE_CELLS with linear interpolation. In the outer VALUE_EDGE
# cells at each end (u below 1/128 or above 1 - 1/128), where the quantile curves too
# fast for a straight line, the value is computed exactly. Against the exact formula: at
# most 8e-5 relative error per value and a bias of the mean below 3e-6 for order-value
# CVs up to 1.5 (sigma 1.0); tests/test_spend.py checks means and tail shares.
VALUE_CELLS = 4096
VALUE_EDGE = 32


def value_table(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Order values ``exp(mu + sigma * Phi^-1(k / VALUE_CELLS))``, k = 0..VALUE_CELLS.

    One row per segment (``mu``, ``sigma`` of its lognormal), read-only. The end knots
    (u = 0 and 1, infinite quantiles) are never read: their cells use the exact formula.
    """
    z = ndtri(np.arange(VALUE_CELLS + 1) / VALUE_CELLS)
    z[0], z[-1] = z[1], z[-2]
    t = np.exp(np.asarray(mu, dtype=np.float64)[:, None]
               + np.asarray(sigma, dtype=np.float64)[:, None] * z[None, :])
    t.setflags(write=False)
    return t


@njit(cache=True)
def normal_ppf(u: float) -> float:
    """Phi^-1(u) for u in (0, 1), to a few units in the last place also far in the tails.

    By the complementary error function: z = -sqrt(2) erfcinv(2 min(u, 1 - u)) (with
    the sign of u - 1/2), from Giles' initial value refined by three Newton steps on
    log erfc, which keeps its relative accuracy where erf would cancel and converges
    from Giles' value even where that is poor (below u ~ 1e-8): within 1e-14 relative
    down to u = 1e-14, 1e-10 at u = 1e-16.
    """
    p = u if u < 0.5 else 1.0 - u
    q = 2.0 * p  # erfc(x) = q, x >= 0: x = erfinv(1 - q), Giles' value from q itself
    x = _giles(-math.log(q * (2.0 - q))) * (1.0 - q)
    log_q = math.log(q)
    for _ in range(3):
        e = math.erfc(x)
        x += (math.log(e) - log_q) * e / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
    z = -_SQRT2 * x
    return z if u < 0.5 else -z


@njit(cache=True, inline="always")
def _value_at(key, i, mu, sigma, values, row):
    """Customer ``i``'s order value for a key: row ``row`` of ``values`` at its uniform."""
    u = (float(_hash(key, i) >> _S11) + 0.5) * _TWO_M53  # (0, 1), never 0
    x = u * VALUE_CELLS
    c = int(x)
    if c < VALUE_EDGE or c >= VALUE_CELLS - VALUE_EDGE:
        return math.exp(mu + sigma * normal_ppf(u))
    cell = np.uint64(c)  # unsigned: no negative-index test
    lo = values[row, cell]
    return lo + (x - c) * (values[row, cell + np.uint64(1)] - lo)


@njit(cache=True)
def order_values(key, i, n, mu, sigma, values, row, exact=EXACT_ORDERS):
    """Sum of ``n`` independent lognormal(mu, sigma) order values for customer ``i``.

    ``values``: :func:`value_table`, read at the segment's row ``row`` (np.uint64; the
    table is passed whole because a row view would be reference counted on every call).
    Order 0's value is addressed by ``key``, order j's by the hash of (``key``, j), so
    order j's draw does not depend on ``n`` (common random numbers). Above ``exact``
    orders the sum is one three-moment matched shifted lognormal (as
    :func:`compound_value`).
    """
    if n <= 0:
        return 0.0
    if n > exact:
        return _sum_approx(n, mu, sigma, normal_at(key, i))
    total = _value_at(key, i, mu, sigma, values, row)
    salted = key ^ _PAIR_SALT
    for j in range(1, n):
        total += _value_at(_hash(salted, j), i, mu, sigma, values, row)
    return total


@njit(cache=True)
def _sum_approx(n, mu, sigma, z):
    """Approximate a sum of ``n`` lognormals at normal ``z`` by a shifted lognormal.

    c + A * lognormal(-s^2/2, s) with the sum's exact mean, variance and skewness.
    """
    w1 = math.expm1(sigma * sigma)  # CV^2 of one value
    mean = n * math.exp(mu + 0.5 * sigma * sigma)
    if w1 <= 0.0:
        return mean
    sd = mean * math.sqrt(w1 / n)
    g = (w1 + 3.0) * math.sqrt(w1) / math.sqrt(n)  # skewness of the sum
    # exp(s^2) of the lognormal with skewness g: u + 1/u - 1, u the cube root below.
    u = (1.0 + 0.5 * g * g + g * math.sqrt(1.0 + 0.25 * g * g)) ** (1.0 / 3.0)
    s2 = math.log(u + 1.0 / u - 1.0)
    scale = sd / math.sqrt(math.expm1(s2))
    return mean - scale + scale * math.exp(-0.5 * s2 + math.sqrt(s2) * z)


@njit(cache=True, parallel=True)
def compound_values(key, n, mu, sigma, exact=EXACT_ORDERS, offset=0):
    """``compound_value(key, offset + i, n[i], mu[i], sigma[i])`` for every i (the exact reference).

    In parallel over i (each element is its own addressed draw: the result does not
    depend on the thread count). ``offset``: the customer index of element 0, so a
    population can be filled chunk by chunk with the same numbers.
    """
    out = np.empty(n.shape[0])
    for i in prange(n.shape[0]):
        out[i] = compound_value(key, offset + i, n[i], mu[i], sigma[i], exact)
    return out


@njit(cache=True)
def uniforms(key, n):
    """``uniform_at(key, i)`` for i = 0..n-1."""
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform_at(key, i)
    return out


@njit(cache=True, inline="always")
def _poisson(u: float, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        # Normal approximation with continuity correction (rates this high are rare).
        z = math.sqrt(2.0) * _erfinv(2.0 * min(max(u, 1e-12), 1 - 1e-12) - 1.0)
        k = math.floor(lam + math.sqrt(lam) * z + 0.5)
        return int(k) if k > 0 else 0
    # No order unless u exceeds exp(-lam) >= 1 - lam: below 1 - lam (less a margin far
    # above the rounding of exp and of the subtraction) the answer is 0 without the exp.
    if u < (1.0 - lam) - 1e-15:
        return 0
    if lam <= 1.0:
        # The same answer without the exp where the series of exp(-lam) settles it: its
        # partial sums to lam^4 and to lam^5 bound exp(-lam) from above and below (an
        # alternating series of falling terms), so u at most the lower bound is k = 0 and
        # u between the upper bound and the lower bound of P(k <= 1) = exp(-lam)(1 + lam)
        # is k = 1. The relative margin 1e-12 is far above the rounding of the bounds,
        # of exp and of the cumulative sums below (a few units of 1e-16).
        l2 = lam * lam
        hi = ((1.0 - lam) + 0.5 * l2) - l2 * lam * (1.0 / 6.0) + l2 * l2 * (1.0 / 24.0)
        lo = hi - l2 * l2 * lam * (1.0 / 120.0)
        if u <= lo * (1.0 - 1e-12):
            return 0
        if u > hi * (1.0 + 1e-12) and u <= lo * (1.0 + lam) * (1.0 - 1e-12):
            return 1
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 200:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True, parallel=True)
def poisson_array(u, lam):
    """Poisson draws by inversion at uniforms ``u`` with rates ``lam`` (arrays, in parallel)."""
    out = np.empty(u.shape[0], dtype=np.int32)
    for i in prange(u.shape[0]):
        out[i] = _poisson(u[i], lam[i])
    return out


@njit(cache=True)
def _erfinv(y: float) -> float:
    # Giles (2010) single-precision-quality approximation, refined by two Newton steps.
    x = _giles(-math.log((1.0 - y) * (1.0 + y))) * y
    for _ in range(2):
        err = math.erf(x) - y
        x -= err / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


@njit(cache=True)
def _giles(w: float) -> float:
    """Giles' erfinv(y) / y at w = -log((1 - y)(1 + y)) (single-precision quality)."""
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            p = c + p * w
    return p


_REACH_BLOCK = 65536  # customers per block of reach_threshold (fixed: not the thread count)
_REACH_BUCKETS = 4096


@njit(cache=True, inline="always")
def _reach_bucket(key, alive, tier, segment, target, n_seg, reach, i):
    """Customer i's bucket of [0, reach) if a target with a uniform below it, else -1."""
    if not (alive[i] and target[np.int64(tier[i]) * n_seg + np.int64(segment[i])]):
        return -1, 0.0
    u = uniform_at(key, i)
    if u >= reach:
        return -1, u
    return min(int(u * (_REACH_BUCKETS / reach)), _REACH_BUCKETS - 1), u


@njit(cache=True, parallel=True)
def reach_threshold(key, alive, tier, segment, n, target, n_seg, reach, k):
    """The reach threshold that reaches exactly ``k`` of a campaign's targets (a budget cap).

    Targets: customers ``i < n`` alive and in a targeted (tier, segment) group
    (``target[tier * n_seg + segment]``); a target is reached when ``uniform_at(key, i)``
    is below the threshold. Returns ``reach`` if at most ``k`` targets have their uniform
    below it, else the (k+1)-th smallest such uniform: a bucket count over blocks of
    customers in parallel, then the one bucket holding it sorted (no sort of millions;
    integer counts and block order make it the same for any number of threads).
    """
    n_blocks = (n + _REACH_BLOCK - 1) // _REACH_BLOCK
    counts = np.zeros((n_blocks, _REACH_BUCKETS), dtype=np.int64)
    for blk in prange(n_blocks):
        for i in range(blk * _REACH_BLOCK, min(n, (blk + 1) * _REACH_BLOCK)):
            b, _ = _reach_bucket(key, alive, tier, segment, target, n_seg, reach, i)
            if b >= 0:
                counts[blk, b] += 1
    per_bucket = counts.sum(axis=0)
    if per_bucket.sum() <= k:
        return reach
    below = 0
    b_k = 0
    while below + per_bucket[b_k] <= k:
        below += per_bucket[b_k]
        b_k += 1
    start = np.zeros(n_blocks + 1, dtype=np.int64)
    for blk in range(n_blocks):
        start[blk + 1] = start[blk] + counts[blk, b_k]
    vals = np.empty(start[n_blocks])
    for blk in prange(n_blocks):
        j = start[blk]
        for i in range(blk * _REACH_BLOCK, min(n, (blk + 1) * _REACH_BLOCK)):
            b, u = _reach_bucket(key, alive, tier, segment, target, n_seg, reach, i)
            if b == b_k:
                vals[j] = u
                j += 1
    vals.sort()
    return vals[k - below]
