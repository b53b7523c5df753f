"""The one input diff: which inputs differ between scenarios, as paths or as the form shows them.

Used by compare tables, the CLI, the workbook's Inputs sheet, attribution's change
groups and the optimiser's "apply". Paths and values are those of the saved file
(:func:`simulator.scenario_io.to_dict`), flattened (:func:`flatten`).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from simulator.scenario import Scenario
from simulator.scenario_io import to_dict


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a scenario dict to ``{"tiers[1].benefits[0].cost_cny": 0.1, ...}``.

    Lists of tables are indexed (``[i]``); lists of plain values stay one value,
    shown as comma-separated text; empty tables and lists show as ``{}`` / ``[]``.
    """
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        if not d and prefix:
            out[prefix] = "{}"
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(d, list):
        if not d:
            out[prefix] = "[]"
        elif all(not isinstance(v, (dict, list)) for v in d):
            out[prefix] = ", ".join(str(v) for v in d)
        else:
            for i, v in enumerate(d):
                out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = d
    return out


def flat_inputs(sc: Scenario) -> dict[str, Any]:
    """Every parameter of a scenario as path -> value (see :func:`flatten`).

    Not ``schema_version``: the file format's version (the oldest that can hold the
    scenario), not an input. It differed between two scenarios when only one used shared
    assumptions, and "why different" counted it as a changed input of "segments &
    population".
    """
    d = to_dict(sc)
    d.pop("schema_version", None)
    return flatten(d)


def same_value(a: Any, b: Any) -> bool:
    """Two input values are the same (True is not 1; NaN equals NaN)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float)
                          and math.isnan(a) and math.isnan(b))
    return a == b


def union_paths(flats: Sequence[dict[str, Any]]) -> list[str]:
    """Paths of several flattened scenarios, in first-seen order."""
    seen: dict[str, None] = {}
    for f in flats:
        for p in f:
            seen.setdefault(p, None)
    return list(seen)


def differing_inputs(scs: Sequence[Scenario]) -> list[tuple[str, list]]:
    """``(path, [value per scenario])`` of every input where a scenario differs from the first.

    The one input diff (compare tables, the CLI, attribution's change groups, the
    optimiser's "apply"): paths and values as :func:`flat_inputs` gives them, None
    where a scenario lacks the path (a tier only one of them has). The scenario
    ``name`` and ``description`` are included when they differ.
    """
    flats = [flat_inputs(sc) for sc in scs]
    out = []
    for p in union_paths(flats):
        vals = [f.get(p) for f in flats]
        if any(p not in f for f in flats) or any(not same_value(v, vals[0]) for v in vals[1:]):
            out.append((p, vals))
    return out


def shown_input_diff(scs: Sequence[Scenario]) -> list[tuple[str, list[str]]]:
    """:func:`differing_inputs` as the editor shows them: (field label, [value text]).

    ``Tiers & benefits ▸ Tier 'Gold' ▸ Benefit 'Discount' ▸ Cost share`` with
    ``8 %`` / ``15 %``, ``Yes`` / ``No``: the form's labels, units and formatting
    (:func:`simulator.labels.where`, :func:`simulator.labels.shown`).
    """
    from simulator.labels import shown, where

    rows = []
    for p, vals in differing_inputs(scs):
        owner = next((sc for sc, v in zip(scs, vals) if v is not None), scs[0])
        rows.append((where(p, owner), [shown(Scenario, p, v) for v in vals]))
    return rows


def input_diff(base: Scenario, other: Scenario) -> pd.DataFrame:
    """Inputs that differ: columns ``path, base, other`` (None where a path is absent)."""
    rows = [(p, *vals) for p, vals in differing_inputs([base, other])]
    return pd.DataFrame(rows, columns=["path", "base", "other"])
