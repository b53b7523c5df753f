"""Open what can be opened of a bad scenario file (no Qt).

When :func:`simulator.scenario_io.load` refuses a file, the app reports every
problem and offers a *recovered copy*: values the validator rejects are
dropped so their defaults apply (or, for required values, taken from the
default scenario; list items that cannot be repaired are left out). Cross-field
problems (shares that do not sum to one, unknown names) are kept: the editor
shows them and the user fixes them. Nothing is written to disk.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator import uncertainty
from simulator.labels import field_at, value_at
from simulator.scenario import SCHEMA_VERSION, Scenario
from simulator.scenario_io import Issue, ScenarioError, migrate, read_data, to_dict
from ui.fieldspec import path_str


def read_raw(path: str | Path) -> dict:
    """Parse the file into a dict; raises ScenarioError if it is not TOML/JSON at all.

    The same reader as :func:`simulator.scenario_io.load` (regular files only, size and
    nesting limits), so a file that crashes nothing there crashes nothing here.
    """
    return read_data(path)


_BOUNDS = {"greater_than_equal": "ge", "less_than_equal": "le"}


def _required(loc: tuple) -> bool:
    owner, name, _, _ = field_at(Scenario, loc)
    return owner is not None and name is not None and name in owner.model_fields and \
        owner.model_fields[name].is_required()


def _repair_required(obj: dict, key: Any, loc: tuple, fallback: dict,
                     err: dict | None) -> str | None:
    """A required value in a list item (a shift's staff): keep the item, mend the value.

    The nearest allowed value for a number out of its range (staff −5 → 0), else the
    default scenario's value at the same place; None if neither exists (the item goes).
    """
    bound = _BOUNDS.get((err or {}).get("type", ""))
    limit = ((err or {}).get("ctx") or {}).get(bound) if bound else None
    if isinstance(limit, (int, float)) and not isinstance(limit, bool):
        obj[key] = limit
        return (f"{path_str(loc)}: set to {limit:g}, the nearest allowed value (the rest of "
                "the item kept)")
    same = value_at(fallback, loc)
    if same is not None and not isinstance(same, (dict, list)):
        obj[key] = copy.deepcopy(same)
        return f"{path_str(loc)}: the default scenario's value {same!r} used (the rest kept)"
    return None


def _drop(data: Any, loc: tuple, fallback: dict, err: dict | None = None) -> str | None:
    """Mend or remove the offending value at ``loc``; returns what was done, or None."""
    # Walk to the parent, remembering the last list item on the way.
    parents: list[tuple[Any, Any]] = []
    obj = data
    for part in loc[:-1]:
        try:
            parents.append((obj, part))
            obj = obj[part]
        except (KeyError, IndexError, TypeError):
            return None
    key = loc[-1] if loc else None
    if isinstance(obj, dict) and len(loc) > 1 and _required(loc) and any(
            isinstance(p, int) for p in loc):
        did = _repair_required(obj, key, loc, fallback, err)
        if did:
            return did
    if isinstance(obj, dict) and key in obj:
        # Required top-level sections come from the default scenario.
        if len(loc) == 1 and key in fallback:
            obj[key] = copy.deepcopy(fallback[key])
            return f"{path_str(loc)}: replaced by the default scenario's value"
        del obj[key]
        return f"{path_str(loc)}: removed (default used)"
    if isinstance(obj, dict) and key not in obj and len(loc) == 1 and key in fallback:
        obj[key] = copy.deepcopy(fallback[key])
        return f"{path_str(loc)}: missing, taken from the default scenario"
    # Missing required field inside a list item, or a bad list element: drop the item.
    for owner, part in reversed(parents + [(obj, key)]):
        if isinstance(owner, list) and isinstance(part, int) and 0 <= part < len(owner):
            owner.pop(part)
            return f"{path_str(loc[: loc.index(part) + 1] if part in loc else loc)}: item left out"
    return None


def recover(path: str | Path, fallback: Scenario) -> tuple[Scenario, list[str]]:
    """Best-effort scenario from a bad file, with notes of each repair.

    Raises ScenarioError if nothing usable can be made (unreadable, not TOML).
    """
    data = read_raw(path)
    notes: list[str] = []
    version = data.get("schema_version", 1)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        notes.append(f"schema_version {version} is newer than this program; read as "
                     f"version {SCHEMA_VERSION}")
        data["schema_version"] = SCHEMA_VERSION
    try:
        data, mig = migrate(data)
    except ScenarioError:
        data["schema_version"] = SCHEMA_VERSION
        mig = ["schema_version was invalid: read as the current version"]
    except Exception as exc:  # a migration tripping over a malformed old file
        raise ScenarioError([Issue("(file)", "schema", f"cannot be migrated: {exc}")]) from None
    notes += mig
    # inputs written as ranges: their nominal values, the ranges kept (a bad range is left
    # in place, so the loop below mends it like any bad value)
    data, ranges, _ = uncertainty.extract(data)
    base = to_dict(fallback)
    for _ in range(200):
        try:
            sc = Scenario.model_validate(data)
            uncertainty.set_uncertain(sc, {k: d for k, d in ranges.items()
                                           if uncertainty.is_assumption(k)
                                           or uncertainty.resolve(sc, k) is not None})
            return sc, notes
        except ValidationError as exc:
            progressed = False
            for err in exc.errors(include_url=False):
                loc = tuple(err["loc"])
                # pydantic adds tags like 'function-after[...]' / literal names; trim them
                loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
                did = _drop(data, loc, base, err)
                if did:
                    notes.append(f"{did} — was {err.get('input')!r}: {err['msg']}")
                    progressed = True
                    break  # locations shift after a change: validate again
            if not progressed:
                break
    raise ScenarioError([Issue("(file)", str(path), "could not be recovered")])
