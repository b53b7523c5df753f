"""Schema migrations: a scenario dict of an older schema version brought to the current one.

Each migration takes a dict of version N and returns version N+1. Each first checks
the shape of what it moves (a section of the wrong type is a validation problem).
"""

from __future__ import annotations

import copy
from typing import Any

from simulator import labels
from simulator.scenario import SCHEMA_VERSION
from simulator.scenario_io.messages import _KIND, Issue, ScenarioError


def _shape(d: dict, path: str, kind: type, issues: list[Issue]) -> Any:
    """The value at a dotted path of ``d`` if present and of ``kind``; records an issue if not."""
    node: object = d
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if not isinstance(node, kind) or isinstance(node, bool):
        issues.append(Issue(path, None, f"must be {_KIND['dict' if kind is dict else 'list']} "
                            f"(found {labels.value_text(node)})"))
        return None
    return node


def _check_v1(d: dict) -> None:
    """The parts of a version-1 file the migration moves must have the right shape."""
    issues: list[Issue] = []
    pop = _shape(d, "population", dict, issues)
    if pop is not None:
        _shape(d, "population.segments", list, issues)
    ts = _shape(d, "tier_scheme", dict, issues)
    if ts is not None:
        _shape(d, "tier_scheme.tiers", list, issues)
    svc = _shape(d, "service", dict, issues)
    pools = _shape(d, "service.pools", list, issues) if svc is not None else None
    for i, pool in enumerate(pools or []):
        where = f"service.pools[{i}]"
        if not isinstance(pool, dict):
            issues.append(Issue(where, None, f"must be a table (found {labels.value_text(pool)})"))
            continue
        if "staff" in pool and "shifts" not in pool and "open_hours" in pool:
            oh = pool["open_hours"]
            if not (isinstance(oh, list) and len(oh) == 2
                    and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                            for x in oh)):
                issues.append(Issue(f"{where}.open_hours", None,
                                    "must be [opening hour, closing hour], e.g. [8, 22] "
                                    f"(found {labels.value_text(oh)})"))
    if issues:
        raise ScenarioError(issues)


def _migrate_1_to_2(d: dict) -> dict:
    """Version 1 nested segments in population and tiers in tier_scheme; pools had staff+hours."""
    _check_v1(d)
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


def _migrate_2_to_3(d: dict) -> dict:
    """Version 3 allows ranges in place of numbers; a version-2 file is valid as it is."""
    return {**d, "schema_version": 3}


def _migrate_3_to_4(d: dict) -> dict:
    """Version 4 adds shared assumptions ([assumptions]); a version-3 file is valid as it is."""
    return {**d, "schema_version": 4}


def _migrate_4_to_5(d: dict) -> dict:
    """Version 5 adds a seasonal order rate (population.seasonality); a version-4 file is valid."""
    return {**d, "schema_version": 5}


def _migrate_5_to_6(d: dict) -> dict:
    """Version 6 adds new customers' extra order rate; a version-5 file is valid as it is."""
    return {**d, "schema_version": 6}


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5,
              5: _migrate_5_to_6}


def migrate(data: dict) -> tuple[dict, list[str]]:
    """Bring a scenario dict to the current schema. Returns (dict, notes of what changed).

    One note, "migrated from schema version v to SCHEMA_VERSION", when a step changed more
    than the version number; none when every step only bumped it (2 -> 3 -> 4: a
    version-3 file is valid as it is, and a planner was told it had been migrated).
    """
    notes: list[str] = []
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ScenarioError([Issue("schema_version", version,
                                   f"must be a whole number from 1 to {SCHEMA_VERSION}")])
    if version > SCHEMA_VERSION:
        raise ScenarioError([Issue(
            "schema_version", version,
            f"is newer than this program understands (at most {SCHEMA_VERSION}); "
            "update benefit-sim",
        )])
    start, changed = version, False
    while version < SCHEMA_VERSION:
        before = data
        data = MIGRATIONS[version](data)
        changed = changed or _without_version(data) != _without_version(before)
        version += 1
    if changed:
        notes.append(f"migrated from schema version {start} to {SCHEMA_VERSION}")
    return data, notes


def _without_version(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "schema_version"}
