"""The compiled queue twin (simulator/queue_fast.py) against the SimPy reference.

Equality is exact (``assert_array_equal``, ``==`` on the busy hours): the twin
replays SimPy's event order with the same floating-point operations, so there
is no tolerance to grant. Two families of cases:

* real windows (``simulate_pool_window`` with ``engine="simpy"`` vs ``"fast"``):
  1–3 classes, exponential and lognormal handling, flat staffing, day shifts
  with nobody at night, overlapping shifts; light to overloaded queues;
* tie-heavy windows: arrival and handle times on a coarse grid, so many events
  share a time stamp — arrivals, completions, grants and shift changes at the
  same instant. Here only SimPy's tie-breaking (URGENT before NORMAL, then
  scheduling order; one grant per ``_trigger_put``; releases granting later
  through their ``Release`` event) gives the same answer, so these cases check
  that the twin mirrors it (a twin that grants at completion or treats process
  starts as NORMAL events fails them).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator import queue_window
from simulator.queue_window import (
    PoolSpec,
    WindowDraws,
    queue_fast,
    queue_simpy,
    simulate_pool_window,
)
from tests.support.spy import record_calls

SHIFTS = {
    "flat": ((0.0, 24.0, 8),),
    "day_only": ((8.0, 20.0, 8),),  # nobody from 20:00 to 08:00
    "three": ((0.0, 7.0, 2), (7.0, 19.0, 8), (10.0, 16.0, 4), (19.0, 24.0, 3)),
    "night_zero": ((0.0, 6.0, 0), (6.0, 14.0, 6), (14.0, 23.5, 9)),
}
MIXES = [{0: 1.0}, {0: 0.7, 10: 0.3}, {-2: 0.5, 3: 0.3, 7: 0.2}]


def _assert_same(a, b, classes):
    for p in classes:
        np.testing.assert_array_equal(a.waits[p], b.waits[p])
    assert a.utilisation == b.utilisation
    assert a.waited_share == b.waited_share
    assert a.days == b.days and a.simulated_contacts == b.simulated_contacts
    assert a.queue_length == b.queue_length


def _cases():
    out = []
    i = 0
    for shift in SHIFTS:
        for dist, cv in (("exponential", 1.0), ("lognormal", 0.6), ("lognormal", 1.8)):
            for mix in MIXES:
                for load in (0.3, 0.9, 1.4):  # offered load / agent-hours on duty
                    i += 1
                    out.append((shift, dist, cv, mix, load, i))
    return out


@pytest.mark.parametrize("shift,dist,cv,mix,load,seed", _cases())
def test_twin_equals_simpy_on_real_windows(shift, dist, cv, mix, load, seed):
    pool = PoolSpec("p", SHIFTS[shift], 0.25, dist, cv)
    total = load * pool.agent_hours_per_day / 24.0 / pool.handle_hours
    rates = {p: total * s for p, s in mix.items()}
    a = simulate_pool_window(pool, rates, seed, 600, engine="simpy")
    b = simulate_pool_window(pool, rates, seed, 600, engine="fast")
    _assert_same(a, b, rates)


def _tie_case(seed: int):
    rng = np.random.default_rng(1000 + seed)
    k = int(rng.integers(1, 4))
    classes = sorted(rng.choice([-3, 0, 1, 5, 10], size=k, replace=False).tolist())
    staff = int(rng.integers(1, 6))
    shifts = [((0.0, 24.0, staff),),
              ((0.0, 6.0, 0), (6.0, 18.0, staff), (18.0, 24.0, 1)),
              ((8.0, 20.0, staff + 2), (12.0, 14.0, 3))][seed % 3]
    pool = PoolSpec("p", shifts, 0.5, "exponential", 1.0)
    days = 1 + seed % 2
    horizon = 24.0 * (days + 1)
    n = int(rng.integers(0, 150 * (days + 1)))
    step = (1.0, 0.5, 0.25)[seed % 3]  # arrival grid; shift changes fall on it
    times = np.sort(np.floor(rng.uniform(0.0, horizon, n) / step) * step)
    labels = np.array(classes)[rng.integers(0, k, n)] if n else np.zeros(0, int)
    handle = np.maximum(1.0, np.round(rng.exponential(2.0, n) / step)) * step
    handle *= (1.0, 0.5, 0.1)[seed % 3 if seed % 2 else 0]
    return pool, classes, WindowDraws(days, horizon, times, labels, handle)


@pytest.mark.parametrize("seed", range(90))
def test_twin_equals_simpy_with_simultaneous_events(seed):
    pool, classes, d = _tie_case(seed)
    a, busy_a = queue_simpy(pool, classes, d)
    b, busy_b = queue_fast(pool, classes, d)
    assert busy_a == busy_b
    np.testing.assert_array_equal(a, b)  # every contact's wait, warm-up included
    assert not np.isnan(a).any()  # the run-out answers every contact, night closures too


def test_twin_equals_simpy_on_a_big_window():
    """A window of ~21,600 contacts (many agents, 3 classes, shifts): what auto runs."""
    pool = PoolSpec("big", ((0.0, 8.0, 20), (8.0, 22.0, 60), (22.0, 24.0, 30)), 0.1,
                    "lognormal", 0.9)
    rates = {0: 300.0, 5: 120.0, 10: 30.0}  # ~21.6k contacts over warm-up + one day
    d = queue_window.draw_window(pool, rates, 7, 4000)
    assert d.times.size > 20_000
    a = simulate_pool_window(pool, rates, 7, 4000, engine="simpy")
    b = simulate_pool_window(pool, rates, 7, 4000)  # auto: the twin
    _assert_same(a, b, rates)


def test_auto_uses_the_twin_whenever_it_models_the_classes(monkeypatch):
    calls = record_calls(monkeypatch, queue_window, "queue_fast", "fast")
    record_calls(monkeypatch, queue_window, "queue_simpy", "simpy", into=calls)
    pool = PoolSpec("p", ((0.0, 24.0, 5),), 0.2, "exponential", 1.0)
    simulate_pool_window(pool, {0: 10.0}, 1, 500)
    # classes at or above the off-duty priority are outside the twin's model
    simulate_pool_window(pool, {10**9: 10.0}, 1, 500)
    assert calls == ["fast", "simpy"]


def test_unknown_engine_is_an_error():
    pool = PoolSpec("p", ((0.0, 24.0, 5),), 0.2, "exponential", 1.0)
    with pytest.raises(ValueError):
        simulate_pool_window(pool, {0: 10.0}, 1, 500, engine="turbo")


def test_disk_window_names_hash_every_module_of_the_queue_model():
    """A change to any module that simulates or mixes windows renames the disk cache files."""
    import sys
    from pathlib import Path

    from simulator import queue_fast, service, theory, window_cache

    # theory.erlang_c decides whether a window starts with a queue (queue_window.py)
    for obj in (queue_window.simulate_pool_window, queue_window.draw_window,
                queue_fast.run_queue, service.ServiceStage, window_cache.store,
                theory.erlang_c):
        source = sys.modules[obj.__module__].__file__
        assert Path(source).name in window_cache._SOURCES, obj
