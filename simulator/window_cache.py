"""The queue-window cache: simulated windows kept in memory and on disk.

A window (:class:`WindowResult`) is a pure function of its key (pool
specification, load grid point, class mix, window size, scenario seed, variant;
see :class:`simulator.service.ServiceStage`), so it can be shared by every run
in the process, by the process pool's workers, later runs and the app. Memory
holds the most recently used windows up to ``CACHE_BYTES``; the disk copy lives in the user's
cache folder (``BENEFIT_SIM_HOME``/cache/windows, or off with
``BENEFIT_SIM_WINDOW_CACHE=0``), bounded to ``DISK_MAX_FILES`` files.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator import sizing
from simulator.cache_home import cache_folder


@dataclass
class WindowResult:
    """What one simulated window says about a pool's classes."""

    waits: dict[int, np.ndarray]  # priority -> sorted wait sample, hours
    utilisation: float
    contacts_per_hour: float = 0.0
    waited_share: float = 0.0  # share of the window's contacts that waited at all
    days: int = 0
    simulated_contacts: int = 0
    queue_length: float = 0.0  # time-average contacts waiting in the measured days


# Process-wide, least recently used first: the key holds everything the window depends on.
# Each replication has its own windows (a sweep's replication ~25-175 of them, ~25 KB each),
# and a pool worker runs a sweep's sets replication after replication: the budget holds a
# standard 20-replication sweep's windows, so they are read from disk once, not every arm.
_CACHE: OrderedDict = OrderedDict()
CACHE_BYTES = sizing.cache_budget() // 6  # 256 MiB on a machine of 24 GB and more
_CACHE_SIZE = [0]
log = logging.getLogger(__name__)


def clear_cache(disk: bool = False) -> None:
    """Forget every simulated window in this process (and on disk with ``disk=True``)."""
    _CACHE.clear()
    _CACHE_SIZE[0] = 0
    if disk:
        d = _disk_dir()
        if d is not None:
            for f in disk_files(d):
                f.unlink(missing_ok=True)


def disk_files(d: Path | None = None) -> list[Path]:
    """This cache's files in folder ``d`` (default: the cache folder), shards included."""
    d = _disk_dir() if d is None else d
    return [] if d is None else [Path(e.path) for e in _entries(d)]


def _entries(d: Path) -> list[os.DirEntry]:
    """The cache's files: in the shard folders, and older versions' in ``d`` itself."""
    out: list[os.DirEntry] = []
    try:
        with os.scandir(d) as it:
            subs = []
            for e in it:
                if e.name.endswith(_OUR_FILES):
                    out.append(e)
                elif len(e.name) == 2 and e.is_dir():
                    subs.append(e.path)
        for sub in subs:
            with os.scandir(sub) as it:
                out.extend(e for e in it if e.name.endswith(_OUR_FILES))
    except OSError:
        pass
    return out


# Windows are also kept on disk (the user's cache folder), so the workers of the
# process pool, later runs and the app share them. The file name hashes the key
# and the queue's source (_SOURCES: the modules that simulate a window, mix windows and
# store them), so a change to the queue model never reads an old file. Each file carries
# a checksum of its key and its content: an empty, truncated, foreign or edited file is
# discarded (with a log line) and the window simulated again.
_HERE = Path(__file__).parent
_SOURCES = ("service.py", "queue_window.py", "queue_fast.py", "theory.py", "window_cache.py")
_SOURCE_DIGEST = hashlib.sha256(
    b"".join((_HERE / f).read_bytes() for f in _SOURCES)
).hexdigest()[:16]


def _disk_dir() -> Path | None:
    """The window cache folder, or None when disabled (``BENEFIT_SIM_WINDOW_CACHE=0``)."""
    return cache_folder("windows")


def _disk_key(key: tuple) -> bytes:
    return repr((_SOURCE_DIGEST, key)).encode()


def _disk_name(key: tuple) -> str:
    """The file of ``key``, ``ab/cdef….win``: in one of 256 shard folders.

    Creating a file in a folder that once held ~15,000 windows cost ~0.2 ms CPU (ext4
    never shrinks a folder), in a small one 0.05 ms.
    """
    h = hashlib.sha256(_disk_key(key)).hexdigest()
    return f"{h[:2]}/{h[2:32]}{SUFFIX}"


# A window file: MAGIC, the SHA-256 of the key and the payload, then the payload: one
# little-endian float64 array [n, priorities (n), sample sizes (n), the six figures of
# WindowResult, every class's sorted waits one after the other]. Written and read in one
# piece: 0.12-0.16 ms CPU to write a window and 0.05 ms to read it (numpy's .npz, the
# format before: 0.33-0.55 ms and 0.50 ms).
MAGIC = b"BSWIN\x00\x01\n"  # the format's version is its last two bytes
SUFFIX = ".win"
# files of this cache: windows, older versions' (.npz: never read, pruned oldest first
# like any), and temporary files a killed process left
_OUR_FILES = (SUFFIX, ".npz", ".tmp")
_HEAD = len(MAGIC) + 32
_FIGURES = 6


def _digest(key: tuple, payload: bytes | memoryview) -> bytes:
    h = hashlib.sha256(_disk_key(key))
    h.update(payload)
    return h.digest()


def to_bytes(key: tuple, res: WindowResult) -> bytes:
    """A window as the bytes of its cache file (checksummed with its key)."""
    prios = sorted(res.waits)
    waits = [np.ascontiguousarray(res.waits[p], dtype="<f8") for p in prios]
    head = np.array([len(prios), *prios, *(w.size for w in waits), res.utilisation,
                     res.contacts_per_hour, res.waited_share, res.days,
                     res.simulated_contacts, res.queue_length], dtype="<f8")
    payload = b"".join([head.tobytes(), *(w.tobytes() for w in waits)])
    return MAGIC + _digest(key, payload) + payload


def from_bytes(key: tuple, data: bytes) -> WindowResult:
    """The window in ``data`` (from :func:`to_bytes`); ValueError when damaged or foreign."""
    if len(data) < _HEAD + 8 * (1 + _FIGURES) or data[: len(MAGIC)] != MAGIC:
        raise ValueError("not a queue window file of this version")
    payload = memoryview(data)[_HEAD:]
    if _digest(key, payload) != data[len(MAGIC):_HEAD]:
        raise ValueError("checksum does not match the key and content")
    if len(payload) % 8:
        raise ValueError("length is not whole numbers")
    a = np.frombuffer(payload, dtype="<f8").astype(np.float64)  # a writable copy
    n = int(a[0])
    first = 1 + 2 * n + _FIGURES
    sizes = a[1 + n:1 + 2 * n].astype(np.int64)
    if n < 0 or first > a.size or first + int(sizes.sum()) != a.size:
        raise ValueError("sizes do not match the content")
    ends = first + np.cumsum(sizes)
    waits = {int(p): a[e - k:e] for p, k, e in zip(a[1:1 + n], sizes, ends)}
    m = a[1 + 2 * n:first]
    return WindowResult(waits, float(m[0]), float(m[1]), float(m[2]), int(m[3]), int(m[4]),
                        float(m[5]))


def _disk_load(key: tuple) -> WindowResult | None:
    d = _disk_dir()
    if d is None:
        return None
    f = d / _disk_name(key)
    try:
        with open(f, "rb") as fh:
            data = fh.read()
    except OSError:  # not there (the usual miss), or unreadable: simulated
        return None
    try:
        return from_bytes(key, data)
    except Exception as exc:  # noqa: BLE001 - any damage: never fatal, never trusted
        log.warning("queue window cache: discarding %s (%s: %s); simulating it again",
                    f, type(exc).__name__, exc)
        try:
            f.unlink(missing_ok=True)
        except OSError:
            pass
        return None


def _disk_save(key: tuple, res: WindowResult) -> None:
    d = _disk_dir()
    if d is None:
        return
    f = d / _disk_name(key)
    _SAVES[0] += 1
    tmp = f.parent / f".{f.name}.{os.getpid()}.{_SAVES[0]}.tmp"  # this process's own
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(tmp, "xb") as fh:
                fh.write(to_bytes(key, res))
            os.replace(tmp, f)  # atomic: readers never see half a file
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if _SAVES[0] % 200 == 0:
            _prune(d)
    except OSError:
        pass  # a read-only or full disk only costs speed


# Windows kept on disk (~25 KB each; one set per replication): a standard 20-replication
# attribution writes ~3,500, so 15,000 (~375 MB) keeps a few analyses without evicting.
DISK_MAX_FILES = 15000
_SAVES = [0]


def _prune(d: Path) -> None:
    """Delete the least recently written window files beyond DISK_MAX_FILES.

    Counts the files' names first (a directory read a shard) and looks at their times
    only when there are too many: a folder of 12,000 windows cost ~100 ms CPU a prune
    (pathlib's glob and a stat per file), every 200th save.
    """
    entries = _entries(d)
    if len(entries) <= DISK_MAX_FILES:
        return
    files = []
    for e in entries:
        try:
            files.append((e.stat().st_mtime, e.path))
        except OSError:
            continue
    files.sort()
    for _, f in files[: len(files) - DISK_MAX_FILES * 4 // 5]:
        try:
            os.unlink(f)
        except OSError:
            pass


# A cluster-wide tier after the disk (set by simulator.execution on Dask workers, whose
# machines do not share a disk): an object with get(key) -> WindowResult | None and
# put(key, WindowResult). Windows one machine simulated are then read by all.
_SHARED: list[Any] = [None]


def share_through(tier: Any) -> None:
    """Read and write windows through ``tier`` after memory and disk (None: no such tier)."""
    _SHARED[0] = tier


def lookup(key: tuple) -> WindowResult | None:
    """The window of ``key`` from memory, else disk, else the shared tier (then kept), else None."""
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
    else:
        hit = _disk_load(key)
        if hit is None and _SHARED[0] is not None:
            hit = _SHARED[0].get(key)
            if hit is not None:
                _disk_save(key, hit)
        if hit is not None:
            _remember(key, hit)
    return hit


def store(key: tuple, res: WindowResult) -> None:
    """Keep a freshly simulated window in memory, on disk and in the shared tier."""
    _remember(key, res)
    _disk_save(key, res)
    if _SHARED[0] is not None:
        _SHARED[0].put(key, res)


def _nbytes(res: WindowResult) -> int:
    return sum(np.asarray(w).nbytes for w in res.waits.values()) + 256


def _remember(key: tuple, res: WindowResult) -> None:
    old = _CACHE.pop(key, None)
    if old is not None:
        _CACHE_SIZE[0] -= _nbytes(old)
    _CACHE[key] = res
    _CACHE_SIZE[0] += _nbytes(res)
    _CACHE_SIZE[0] = sizing.trim_to_budget(_CACHE, _nbytes, CACHE_BYTES, _CACHE_SIZE[0])
