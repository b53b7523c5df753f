"""The queue window's cache file: what is written is read back exactly, or refused."""

import numpy as np
import pytest

from simulator import window_cache
from simulator.window_cache import WindowResult


def _window() -> WindowResult:
    rng = np.random.default_rng(3)
    return WindowResult({0: np.sort(rng.exponential(0.3, 1024)), 2: np.sort(rng.random(7)),
                         1: np.zeros(1)}, 0.87, 412.5, 0.31, 9, 48_113, 17.25)


def test_a_window_reads_back_exactly():
    res = _window()
    back = window_cache.from_bytes(("k", 1), window_cache.to_bytes(("k", 1), res))
    assert sorted(back.waits) == [0, 1, 2]
    for p, w in res.waits.items():
        np.testing.assert_array_equal(back.waits[p], w)
        assert back.waits[p].dtype == np.float64 and back.waits[p].flags.writeable
    assert (back.utilisation, back.contacts_per_hour, back.waited_share, back.days,
            back.simulated_contacts, back.queue_length) == (0.87, 412.5, 0.31, 9, 48_113, 17.25)
    assert isinstance(back.days, int) and isinstance(back.simulated_contacts, int)


@pytest.mark.parametrize("damage", ["other key", "magic", "cut", "one bit", "extra"])
def test_a_damaged_or_foreign_file_is_refused(damage):
    data = bytearray(window_cache.to_bytes(("k", 1), _window()))
    key = ("k", 1)
    if damage == "other key":
        key = ("k", 2)
    elif damage == "magic":
        data[5] ^= 1
    elif damage == "cut":
        data = data[:-8]
    elif damage == "one bit":
        data[len(data) // 2] ^= 4
    else:
        data += bytes(8)
    with pytest.raises(ValueError):
        window_cache.from_bytes(key, bytes(data))


def test_clearing_the_disk_removes_old_format_and_leftover_files(tmp_path, monkeypatch):
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path))
    d = tmp_path / "cache" / "windows"
    d.mkdir(parents=True)
    for name in ("old.npz", ".a.win.1.1.tmp", "keep.txt"):
        (d / name).write_bytes(b"x")
    window_cache.store(("k", 1), _window())
    (new,) = (f for f in window_cache.disk_files(d) if f.suffix == window_cache.SUFFIX)
    assert new.parent.parent == d  # in its shard folder
    assert len(window_cache.disk_files(d)) == 3  # with the old and the leftover file
    window_cache.clear_cache(disk=True)
    assert sorted(p.name for p in d.iterdir() if p.is_file()) == ["keep.txt"]
    assert not window_cache.disk_files(d)
