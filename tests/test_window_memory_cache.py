"""The queue windows kept in memory: a whole sweep's windows, least recently used dropped."""

import numpy as np

from simulator import window_cache
from simulator.queue_window import QUANTILES
from simulator.window_cache import WindowResult


def _window(i: int) -> WindowResult:
    return WindowResult({0: np.full(QUANTILES, float(i)), 1: np.full(QUANTILES, i + 0.5)}, 0.5)


def test_a_sweeps_windows_all_stay_in_memory(monkeypatch):
    # an attribution's replication reads ~175 windows: 20 replications are ~3,500, which a
    # pool worker meets again set after set (they were read from disk every arm beyond 2,000)
    monkeypatch.setenv("BENEFIT_SIM_WINDOW_CACHE", "0")  # memory only
    window_cache.clear_cache()
    for i in range(3500):
        window_cache.store(("w", i), _window(i))
    assert all(window_cache.lookup(("w", i)) is not None for i in range(3500))
    window_cache.clear_cache()


def test_the_least_recently_used_window_goes_first(monkeypatch):
    monkeypatch.setenv("BENEFIT_SIM_WINDOW_CACHE", "0")
    window_cache.clear_cache()
    monkeypatch.setattr(window_cache, "CACHE_BYTES", 3 * window_cache._nbytes(_window(0)))
    for i in range(3):
        window_cache.store(("w", i), _window(i))
    assert window_cache.lookup(("w", 0)) is not None  # used again: kept
    window_cache.store(("w", 3), _window(3))
    assert window_cache.lookup(("w", 1)) is None  # the least recently used went
    assert [window_cache.lookup(("w", i)) is not None for i in (0, 2, 3)] == [True] * 3
    window_cache.clear_cache()
    assert window_cache._CACHE_SIZE[0] == 0
