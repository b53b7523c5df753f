"""Read, migrate, validate and atomically write scenario files (TOML).

Scenario files are data: they are parsed with :mod:`tomllib` (never evaluated),
migrated from older schema versions, then validated. Every problem is reported
at once as ``path: value must ...`` lines in a :class:`ScenarioError`.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from simulator.scenario import SCHEMA_VERSION, Scenario, cross_check


@dataclass(frozen=True)
class Issue:
    """One validation problem: where, what value, what is allowed."""

    path: str
    value: object
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {_show(self.value)} {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every problem found."""

    def __init__(self, issues: list[Issue], source: str | None = None):
        self.issues = issues
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  - {i}" for i in issues)
        super().__init__(f"{head}{len(issues)} problem(s) in the scenario:\n{lines}")


def _show(v: object) -> str:
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, dict):
        return "{...}"
    return str(v)


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_OPS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}


def _message(err: dict) -> str:
    """Turn a pydantic error into 'must ...' wording."""
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t in _OPS:
        key, op = _OPS[t]
        return f"must be {op} {ctx.get(key)}"
    if t == "extra_forbidden":
        return "is not a known setting (check the spelling)"
    if t == "missing":
        return "is required"
    if t == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if t in ("too_short", "too_long"):
        return err["msg"].replace("List", "must be a list").replace("Value", "must be a value")
    if t.endswith("_type") or t.endswith("_parsing"):
        return f"must be {t.split('_')[0].replace('int', 'a whole number').replace('float', 'a number')}"
    return err["msg"]


def _issues_from_pydantic(exc: ValidationError) -> list[Issue]:
    out = []
    for e in exc.errors(include_url=False):
        value = e.get("input") if e["type"] != "missing" else "(missing)"
        out.append(Issue(_path(e["loc"]), value, _message(e)))
    return out


# ---------------------------------------------------------------------------
# Migrations: each takes a dict of version N and returns version N+1.


def _migrate_1_to_2(d: dict) -> dict:
    """Version 1 nested segments in population and tiers in tier_scheme; pools had staff+hours."""
    d = copy.deepcopy(d)
    pop = d.get("population", {})
    if "segments" in pop and "segments" not in d:
        d["segments"] = pop.pop("segments")
    ts = d.pop("tier_scheme", None)
    if ts is not None:
        if "tiers" in ts:
            d["tiers"] = ts.pop("tiers")
        d["tier_rules"] = ts
    for pool in d.get("service", {}).get("pools", []):
        if "staff" in pool and "shifts" not in pool:
            start, end = pool.pop("open_hours", [0, 24])
            pool["shifts"] = [{"start_hour": start, "end_hour": end, "staff": pool.pop("staff")}]
    d["schema_version"] = 2
    return d


MIGRATIONS = {1: _migrate_1_to_2}


def migrate(data: dict) -> tuple[dict, list[str]]:
    """Bring a scenario dict to the current schema. Returns (dict, notes of what changed)."""
    notes: list[str] = []
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise ScenarioError([Issue("schema_version", version, "must be a whole number >= 1")])
    if version > SCHEMA_VERSION:
        raise ScenarioError([Issue(
            "schema_version", version,
            f"is newer than this program understands (<= {SCHEMA_VERSION}); update benefit-sim",
        )])
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        notes.append(f"migrated from schema version {version} to {version + 1}")
        version += 1
    return data, notes


# ---------------------------------------------------------------------------


def from_dict(data: dict, source: str | None = None) -> Scenario:
    """Migrate and validate a plain dict; raise ScenarioError listing every problem."""
    if not isinstance(data, dict):
        raise ScenarioError([Issue("(top level)", type(data).__name__, "must be a table")], source)
    data, _ = migrate(data)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_issues_from_pydantic(exc), source) from None
    cross = cross_check(sc)
    if cross:
        raise ScenarioError([Issue(p, v, m) for p, v, m in cross], source)
    return sc


def loads(text: str, source: str | None = None) -> Scenario:
    """Parse TOML text into a validated scenario."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Issue("(file)", "TOML", f"is not valid TOML: {exc}")], source) from None
    return from_dict(data, source)


def load(path: str | os.PathLike) -> Scenario:
    """Read a scenario file (.toml or .json)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError([Issue("(file)", str(p), f"cannot be read: {exc.strerror}")],
                            str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([Issue("(file)", str(p), "is not UTF-8 text")], str(p)) from None
    if p.suffix.lower() == ".json":
        import json

        try:
            return from_dict(json.loads(text), str(p))
        except json.JSONDecodeError as exc:
            raise ScenarioError([Issue("(file)", "JSON", f"is not valid JSON: {exc}")],
                                str(p)) from None
    return loads(text, str(p))


def to_dict(sc: Scenario) -> dict[str, Any]:
    """Plain dict for saving (no None values: TOML has no null)."""
    return _drop_none(sc.model_dump(mode="json"))


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError("scenario values must be finite")
    return x


def dumps(sc: Scenario) -> str:
    """TOML text of a scenario (comments of hand-written files are not kept)."""
    return tomli_w.dumps(to_dict(sc))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file so that it is either the old or the new content, never half."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(sc: Scenario, path: str | os.PathLike) -> None:
    """Validate, then write atomically (temp file in the same folder + rename)."""
    cross = cross_check(sc)
    if cross:
        raise ScenarioError([Issue(p, v, m) for p, v, m in cross], str(path))
    atomic_write_bytes(path, dumps(sc).encode("utf-8"))


def scenario_hash(sc: Scenario) -> str:
    """Short content hash of the scenario's data (independent of comments and layout)."""
    import json

    blob = json.dumps(to_dict(sc), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
