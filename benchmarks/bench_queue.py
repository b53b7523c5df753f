"""Queue-window benchmark: the SimPy reference vs its compiled twin (simulator/queue_fast.py).

For a small, a medium and two study-B-scale windows it prints the time of one
window in SimPy and in the twin (after compilation: numba caches it on disk)
and whether the two agree exactly (waits per class and utilisation). Asserts
nothing. Run with ``.venv/bin/python benchmarks/bench_queue.py [--quick]``
(``--quick`` skips the study-B-scale windows, whose SimPy run takes a while).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.queue_window import PoolSpec, draw_window, simulate_pool_window  # noqa: E402

CASES = [
    # name, pool, rates per hour, window_contacts
    ("small: 10 agents, rho 0.84", PoolSpec("s", ((0.0, 24.0, 10),), 0.2, "exponential", 1.0),
     {0: 42.0}, 4000),
    ("medium: 60 agents day / 10 night, 3 classes",
     PoolSpec("m", ((0.0, 8.0, 10), (8.0, 22.0, 60), (22.0, 24.0, 25)), 0.1, "lognormal", 0.9),
     {0: 300.0, 5: 100.0, 10: 30.0}, 4000),
    ("study B: 240 agents, base load (rho 0.66)",
     PoolSpec("Human CS", ((0.0, 24.0, 240),), 0.1, "exponential", 1.0), {0: 1583.4}, 4000),
    ("study B: 420 agents, 100k contacts/day (rho 0.99)",
     PoolSpec("Human CS", ((0.0, 24.0, 420),), 0.1, "exponential", 1.0), {0: 4150.0}, 4000),
    ("study B: 240 agents under-staffed (rho 1.08)",
     PoolSpec("Human CS", ((0.0, 24.0, 240),), 0.1, "exponential", 1.0), {0: 2600.0}, 4000),
]


def main() -> None:
    quick = "--quick" in sys.argv
    warm_pool = PoolSpec("w", ((0.0, 24.0, 2),), 0.2, "exponential", 1.0)
    t0 = time.perf_counter()
    simulate_pool_window(warm_pool, {0: 5.0}, 0, 100, engine="fast")  # compile / load the cache
    print(f"twin first call (numba compile or cache load): {time.perf_counter() - t0:.2f} s")
    print(f"{'window':<52} {'contacts':>9} {'SimPy s':>8} {'twin s':>8} {'speed-up':>9} identical")
    for name, pool, rates, wc in CASES[:2] if quick else CASES:
        n = draw_window(pool, rates, 1, wc).times.size
        t0 = time.perf_counter()
        a = simulate_pool_window(pool, rates, 1, wc, engine="simpy")
        t1 = time.perf_counter()
        b = simulate_pool_window(pool, rates, 1, wc, engine="fast")
        t2 = time.perf_counter()
        same = (all(np.array_equal(a.waits[p], b.waits[p]) for p in rates)
                and a.utilisation == b.utilisation)
        print(f"{name:<52} {n:>9,} {t1 - t0:>8.2f} {t2 - t1:>8.3f} {(t1 - t0) / (t2 - t1):>8.0f}x"
              f" {same}")


if __name__ == "__main__":
    main()
