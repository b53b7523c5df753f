"""Scenario files on disk: load (with the stamp of what was read) and validated atomic save."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from simulator.scenario import Scenario
from simulator.scenario_io.atomic import Stamp, atomic_write_bytes
from simulator.scenario_io.convert import check, dumps, from_dict
from simulator.scenario_io.messages import ScenarioError
from simulator.scenario_io.reading import decode, parse, read_bytes, read_data


def load(path: str | os.PathLike) -> Scenario:
    """Read a scenario file (.toml or .json)."""
    p = Path(path)
    return from_dict(read_data(p), str(p))


def load_with_stamp(path: str | os.PathLike) -> tuple[Scenario, "Stamp"]:
    """Read a scenario and the stamp of the file read (for :func:`save` ``expect=``)."""
    p = Path(path)
    raw = read_bytes(p)
    st = os.stat(p)
    stamp = Stamp(st.st_mtime_ns, len(raw), hashlib.sha256(raw).hexdigest())
    text = decode(raw, str(p))
    sc = from_dict(parse(text, "json" if p.suffix.lower() == ".json" else "toml", str(p)), str(p))
    return sc, stamp


def save(sc: Scenario, path: str | os.PathLike, *, exclusive: bool = False,
         expect: Stamp | None = None) -> Stamp:
    """Validate, then write atomically; returns the new file's stamp.

    ``exclusive`` (Save As to a new name) never overwrites a file; ``expect`` (the
    stamp from :func:`load_with_stamp`) refuses to save over a file changed since.
    """
    cross = check(sc)
    if cross:
        raise ScenarioError(cross, str(path))
    data = dumps(sc).encode("utf-8")
    p = atomic_write_bytes(path, data, exclusive=exclusive, expect=expect)
    st = os.stat(p)
    return Stamp(st.st_mtime_ns, len(data), hashlib.sha256(data).hexdigest())
