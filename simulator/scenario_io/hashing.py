"""Content hashes: a scenario's data (independent of comments and layout) and a file's bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from simulator.scenario import Scenario
from simulator.scenario_io.convert import to_dict


def scenario_hash(sc: Scenario) -> str:
    """Short content hash of the scenario's data (independent of comments and layout)."""
    import json

    blob = json.dumps(to_dict(sc), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
