"""Scenario parameters by path (``segments[HNW].sensitivity.price``): read one, change one."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, from_dict

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not with the CLI

    pass


_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]+\])*)")


def _steps(path: str) -> list[str | int]:
    if not path or len(path) > 300:
        raise ValueError(f"input {path!r}: give a parameter path such as "
                         "segments[0].churn_annual or a lever id such as service:General")
    out: list[str | int] = []
    for part in path.split("."):
        m = _STEP.fullmatch(part.strip())
        if not m:
            raise ValueError(f"input {path!r}: cannot read {part!r} (a path is names joined by "
                             "dots, with [n] or [name] for a list item)")
        out.append(m.group(1))
        for idx in re.findall(r"\[([^\]]+)\]", m.group(2)):
            idx = idx.strip().strip("'\"")
            out.append(int(idx) if idx.lstrip("-").isdigit() else f"[{idx}]")
    return out


def _locate(d: dict, path: str) -> tuple[object, object]:
    """Find the container and key of ``path`` in a scenario dict (ValueError naming the path)."""
    steps = _steps(path)
    cur: object = d
    for i, s in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(s, str) and s.startswith("["):
            name = s[1:-1]
            if not isinstance(cur, list):
                raise ValueError(f"input {path!r}: {name!r} names a list item, but there is no "
                                 "list there")
            hits = [k for k, x in enumerate(cur) if isinstance(x, dict) and x.get("name") == name]
            if not hits:
                names = [x.get("name") for x in cur if isinstance(x, dict)]
                raise ValueError(f"input {path!r}: no item named {name!r} (there are "
                                 f"{', '.join(map(repr, names)) or 'none'})")
            s = hits[0]
        if isinstance(s, int):
            if not isinstance(cur, list) or not -len(cur) <= s < len(cur):
                n = len(cur) if isinstance(cur, list) else 0
                raise ValueError(f"input {path!r}: item [{s}] does not exist ({n} items)")
        elif not isinstance(cur, dict) or s not in cur:
            have = sorted(cur) if isinstance(cur, dict) else []
            raise ValueError(f"input {path!r}: {s!r} is not a field here"
                             + (f" (fields: {', '.join(have[:20])})" if have else ""))
        if last:
            return cur, s
        cur = cur[s]  # type: ignore[index]
    raise ValueError(f"input {path!r}: empty path")


def get_value(sc: Scenario, path: str) -> float:
    """Read the number at ``path`` (defaults filled in); ValueError if it is not a number."""
    from simulator.uncertainty import input_named

    if (shared := input_named(sc, path)) is not None:
        return shared[1].dist.nominal
    d = sc.model_dump(mode="json")
    box, key = _locate(d, path)
    v = box[key]  # type: ignore[index]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"input {path!r}: {v!r} is not a number")
    return v


def with_value(sc: Scenario, path: str, value: float) -> Scenario:
    """Return a validated copy of ``sc`` with ``path`` set to ``value`` (whole numbers rounded).

    ``assumptions.<name>`` sets every field referring to that shared assumption (each
    to its scale × ``value``).
    """
    from simulator.uncertainty import _path_text, input_named, resolve

    if not math.isfinite(value):
        raise ValueError(f"input {path!r}: {value} is not a finite number")
    d = sc.model_dump(mode="json")
    shared = input_named(sc, path)
    targets = [(_path_text(p), s) for fk, s in shared[1].targets
               if (p := resolve(sc, fk)) is not None] if shared else [(path, 1.0)]
    for where, s in targets:
        box, key = _locate(d, where)
        old = box[key]  # type: ignore[index]
        if isinstance(old, bool) or not isinstance(old, (int, float)):
            raise ValueError(f"input {path!r}: {old!r} is not a number")
        v = s * value
        box[key] = int(round(v)) if isinstance(old, int) else float(v)  # type: ignore[index]
    try:
        return from_dict(_drop_none(d))
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, f"{sc.name} with {path} = {value:g}") from None


def _drop_none(x):
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x
