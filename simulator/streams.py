"""Random streams: one per (replication, month, step, purpose), for common random numbers.

Every draw a customer gets is addressed by what it is for, not by the order in
which the code happens to ask. Agent ``i`` receives element ``i`` of the
stream, so element ``i`` is the same whether 10 or 10 000 agents exist. Static
draws and the warm-start order counts use numpy generators (:meth:`Streams.gen`);
the monthly draws use :meth:`Streams.key`, hashed with the customer's index in
the kernel (:func:`simulator.draws.uniform_at`), so they are computed only
when needed. The scenario and its counterfactual use the
same streams, so the same customer meets the same luck in both arms.
"""

from __future__ import annotations

import numpy as np

# Purposes (stable numbers: changing them changes every result).
STATIC_SEGMENT = 1
STATIC_FRAILTY = 2
STATIC_ANNIVERSARY = 3
STATIC_CHURN = 4  # a customer's own churn probability (churn heterogeneity)
STATIC_ALIVE = 5  # whether a real customer (customer file) is still alive at the start
HISTORY_ORDERS = 10
HISTORY_SPEND = 11
ORDERS = 20
SPEND = 21
QUESTIONS = 22
COMPLAINTS = 23
BOT = 24
WAIT = 25
CHURN = 26
ACQUISITION = 27
TASK = 28
REFERRAL = 29  # rounding of the month's referred new customers
PROMO_REACH = 100  # + promotion index * 2
PROMO_REDEEM = 101


# Keys already derived (Streams.key): bounded, a few arms' worth of months and purposes.
_KEYS: dict[tuple, np.uint64] = {}
_KEYS_MAX = 1 << 16


class Streams:
    """Factory of addressed generators for one replication."""

    def __init__(self, root: np.random.SeedSequence, replication: int):
        self.entropy = root.entropy
        self.replication = replication

    def gen(self, *address: int) -> np.random.Generator:
        """A generator for a purpose address, e.g. ``gen(ORDERS, month, step)``."""
        ss = np.random.SeedSequence(self.entropy, spawn_key=(self.replication, *address))
        return np.random.Generator(np.random.PCG64(ss))

    def key(self, *address: int) -> np.uint64:
        """The 64-bit key of an address; the kernel hashes it with a customer's index.

        A pure function of (seed, replication, address), kept in a process-wide table:
        every arm of a replication (scenario, counterfactual, a sweep's sets) asks for
        the same keys month by month, and a SeedSequence costs ~40 µs.
        """
        entropy = self.entropy
        ck = (entropy if isinstance(entropy, int) or entropy is None else tuple(entropy),
              self.replication, *address)
        hit = _KEYS.get(ck)
        if hit is None:
            ss = np.random.SeedSequence(entropy, spawn_key=(self.replication, *address))
            hit = ss.generate_state(1, dtype=np.uint64)[0]
            if len(_KEYS) >= _KEYS_MAX:
                _KEYS.clear()
            _KEYS[ck] = hit
        return hit

    def uniform(self, n: int, *address: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) for an address (prefix-stable in ``n``)."""
        return self.gen(*address).random(n)


def poisson_inverse(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson draws by inversion of the CDF at ``u`` (one uniform per draw).

    Inversion keeps common random numbers exact: a customer's order count moves
    monotonically with their rate. Rates above 30 use the normal approximation
    with continuity correction.
    """
    from simulator.draws import poisson_array

    u = np.ascontiguousarray(u, dtype=np.float64)
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    return poisson_array(u, np.ascontiguousarray(lam))

