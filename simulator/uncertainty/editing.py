"""The form's range editing: check a range, move it with its number, give or drop one."""

from __future__ import annotations

import math
import re
from typing import Any

from simulator import labels
from simulator.uncertainty.distributions import Distribution, _num, parse
from simulator.uncertainty.inputs import _all, assumptions_of, references_of
from simulator.uncertainty.keys import Key, Ref, _value_at, assumption_key, key_of, resolve
from simulator.uncertainty.reading import (
    _NOT_ALLOWED_FIELDS,
    _NOT_ALLOWED_SECTIONS,
    _parse_assumption,
)


def all_of(sc: Any) -> dict[Key, Any]:
    """Every range, shared assumption and reference of a scenario, as :func:`extract` finds them."""
    return dict(_all(sc))


def not_allowed(path: tuple) -> str | None:
    """Why the field at ``path`` (an index path) cannot be uncertain; None if it can."""
    from simulator.scenario import Scenario

    owner, name, tp, _ = labels.field_at(Scenario, tuple(path))
    if name is None or tp not in (int, float):
        return "only a number can be a range"
    if path and path[0] in _NOT_ALLOWED_SECTIONS:
        return "run settings and budget bounds are choices, not assumptions"
    return _NOT_ALLOWED_FIELDS.get((owner.__name__ if owner else "", name))


def value_problem(path: tuple, value: float) -> str | None:
    """What is wrong with a plain number for the field at ``path`` (None: it is allowed)."""
    from simulator.scenario import Scenario

    _, _, tp, meta = labels.field_at(Scenario, tuple(path))
    lo, hi, lo_open, hi_open = labels.bounds(meta)
    unit, scale, is_int = labels.display_unit(Scenario, tuple(path))
    ok = _num(value) and (lo is None or (lo < value if lo_open else lo <= value)) and (
        hi is None or (value < hi if hi_open else value <= hi))
    if ok:
        return None
    return (f"{labels.value_text(value, unit, scale, is_int)} is outside what the field allows "
            f"({labels.range_text(lo, hi, lo_open, hi_open, unit, scale, is_int)})")


def _kind_of(table: dict) -> str:
    return table.get("dist") or ("triangular" if "mode" in table else
                                 "normal" if "mean" in table else "uniform")


def check_range(path: tuple, table: dict) -> tuple[Distribution | None, list[str]]:
    """A range for the field at ``path``, or what is wrong with it in the planner's words."""
    from simulator.scenario import Scenario

    why = not_allowed(path)
    if why:
        return None, ["cannot be a range: " + why]
    _, _, tp, meta = labels.field_at(Scenario, tuple(path))
    lo, hi, lo_open, hi_open = labels.bounds(meta)
    unit, scale, is_int = labels.display_unit(Scenario, tuple(path))
    dist, msgs = parse(table, lo, hi, lo_open, hi_open, tp is int, unit, scale)
    return dist, [m.split("|", 1)[-1] for m in msgs]


def _refs_info(sc: Any, name: str, extra: tuple | None = None) -> list:
    from simulator.scenario import Scenario

    out = []
    targets = [(resolve(sc, k), r) for k, r in references_of(sc).items() if r.name == name]
    if extra is not None:
        targets = [t for t in targets if t[0] != tuple(extra[0])]
    targets = sorted((t for t in targets if t[0] is not None), key=lambda t: str(t[0]))
    if extra is not None:  # last: the assumption's values read in a sharing field's units
        targets.append((tuple(extra[0]), Ref(name, extra[1])))
    for path, ref in targets:
        _, fname, tp, meta = labels.field_at(Scenario, tuple(path or ()))
        out.append((path, None, fname, tp, meta, ref))
    return out


def check_assumption(sc: Any, name: str, table: dict, extra: tuple | None = None
                     ) -> tuple[Distribution | None, list[tuple[str, str]]]:
    """A shared assumption's range checked against every field referring to it.

    ``extra``: (path, scale) of a field about to refer to it. Returns (distribution
    or None, [(where, message)]).
    """
    refs = _refs_info(sc, name, extra)
    dist, msgs, _ = _parse_assumption(name, table, refs, sc)
    return (None if msgs else dist), [(w, m) for _, m, w in msgs]


def with_nominal(table: dict, v: float) -> dict:
    """The range moved so that its nominal value is ``v`` (the rule of the form).

    Triangular: the most likely value becomes ``v``; uniform: the range shifts, keeping
    its width; normal and lognormal: the mean becomes ``v``. A stated low or high that
    ``v`` passes widens to include it.
    """
    out = dict(table)
    kind = _kind_of(table)
    if kind == "uniform":
        d = v - (float(table["low"]) + float(table["high"])) / 2
        out["low"], out["high"] = float(table["low"]) + d, float(table["high"]) + d
        return out
    out["mode" if kind == "triangular" else "mean"] = v
    if "low" in out and _num(out["low"]) and v < out["low"]:
        out["low"] = v
    if "high" in out and _num(out["high"]) and v > out["high"]:
        out["high"] = v
    return out


NOMINAL_RULE = {"triangular": "typing a number moves the most likely value (low and high "
                              "widen to include it)",
                "uniform": "typing a number moves the range (its width stays)",
                "normal": "typing a number moves the mean (stated bounds widen to include it)",
                "lognormal": "typing a number moves the mean (stated bounds widen to include "
                             "it)"}


class EditRefused(ValueError):
    """A range edit that would not be valid; ``messages`` in the planner's words."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _drop_ref(everything: dict, key: Key) -> None:
    old = everything.pop(key, None)
    if isinstance(old, Ref) and not any(isinstance(r, Ref) and r.name == old.name
                                        for r in everything.values()):
        everything.pop(assumption_key(old.name), None)  # its last field: nothing shares it


def edit_range(sc: Any, path: tuple, table: dict | None) -> tuple[dict, dict]:
    """(ranges, {path: value}) after giving the field at ``path`` a range of its own.

    ``table`` None turns the field back into a plain number (it keeps its value); a
    field that referred to a shared assumption stops referring to it. Raises
    :class:`EditRefused` for a range that is not valid.
    """
    path = tuple(path)
    key = key_of(path, sc)
    everything = all_of(sc)
    if table is None:
        _drop_ref(everything, key)
        return everything, {}
    dist, msgs = check_range(path, table)
    if dist is None:
        raise EditRefused(msgs)
    _drop_ref(everything, key)
    everything[key] = dist
    nom = dist.nominal
    return everything, {path: int(nom) if dist.is_int else float(nom)}


def edit_assumption(sc: Any, name: str, table: dict) -> tuple[dict, dict]:
    """(ranges, {path: value}) after changing a shared assumption (every referring field)."""
    dist, msgs = check_assumption(sc, name, table)
    if dist is None:
        raise EditRefused([f"{w} — {m}" if not w.startswith("Assumptions") else m
                           for w, m in msgs])
    everything = all_of(sc)
    everything[assumption_key(name)] = dist
    values = {}
    for k, r in references_of(sc).items():
        if r.name == name and (p := resolve(sc, k)) is not None:
            v = r.scale * dist.nominal
            values[p] = int(round(v)) if isinstance(_value_at(sc, p), int) else float(v)
    return everything, values


def set_nominal(sc: Any, path: tuple, value: float) -> tuple[dict, dict] | None:
    """(ranges, {path: value}) after typing ``value`` into a field with a range.

    The range moves by :func:`with_nominal`; a field referring to a shared assumption
    moves the assumption (value / scale), and so every field referring to it. None
    if the field has no range.
    """
    key = key_of(tuple(path), sc)
    x = _all(sc).get(key)
    if isinstance(x, Distribution):
        return edit_range(sc, path, with_nominal(x.to_table(), float(value)))
    if isinstance(x, Ref):
        a = assumptions_of(sc).get(x.name)
        if a is None:
            return None
        return edit_assumption(sc, x.name, with_nominal(a.to_table(), float(value) / x.scale))
    return None


ASSUMPTION_NAME = "letters, digits and _, starting with a letter (at most 64)"


def name_problem(sc: Any, name: str) -> str | None:
    """What is wrong with ``name`` for a new shared assumption (None: it can be used)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name or ""):
        return f"“{name}” cannot name an assumption: use {ASSUMPTION_NAME}"
    if name in assumptions_of(sc):
        return f"an assumption “{name}” exists already (link the field to it instead)"
    return None


def share_range(sc: Any, path: tuple, name: str, table: dict) -> tuple[dict, dict]:
    """(ranges, {path: value}) after making ``table`` a new shared assumption ``name``.

    The field at ``path`` refers to it (scale 1) instead of holding the range itself;
    other fields can then be linked to it (:func:`link_to_assumption`). Raises
    :class:`EditRefused` for a bad name or a range that is not valid for the field.
    """
    path = tuple(path)
    why = name_problem(sc, name)
    if why:
        raise EditRefused([why])
    dist, msgs = check_range(path, table)
    if dist is None:
        raise EditRefused(msgs)
    key = key_of(path, sc)
    everything = all_of(sc)
    _drop_ref(everything, key)
    everything[assumption_key(name)] = dist
    everything[key] = Ref(name, 1.0)
    nom = dist.nominal
    return everything, {path: int(nom) if dist.is_int else float(nom)}


def link_to_assumption(sc: Any, path: tuple, name: str, scale: float = 1.0
                       ) -> tuple[dict, dict]:
    """(ranges, {path: value}) after the field at ``path`` refers to assumption ``name``.

    The field takes ``scale`` × the assumption's value and drops a range of its own (or
    its reference to another assumption, which goes when nothing else shares it).
    Raises :class:`EditRefused` when the assumption's range, times ``scale``, falls
    outside what the field allows, or the field cannot be uncertain.
    """
    path = tuple(path)
    current = assumptions_of(sc).get(name)
    if current is None:
        raise EditRefused([f"there is no shared assumption “{name}”"])
    why = not_allowed(path)
    if why:
        raise EditRefused(["cannot share an assumption: " + why])
    if not (_num(scale) and math.isfinite(scale) and scale != 0):
        raise EditRefused([f"scale {scale!r}: must be a number other than 0"])
    dist, msgs = check_assumption(sc, name, current.to_table(), extra=(path, float(scale)))
    if dist is None:
        raise EditRefused([m if w.startswith("Assumptions") else f"{w} — {m}"
                           for w, m in msgs])
    key = key_of(path, sc)
    everything = all_of(sc)
    old = everything.get(key)
    if isinstance(old, Ref) and old.name == name:
        everything.pop(key)  # linked again (a new scale): the assumption stays
    else:
        _drop_ref(everything, key)
    everything[assumption_key(name)] = dist
    everything[key] = Ref(name, float(scale))
    v = float(scale) * dist.nominal
    return everything, {path: int(round(v)) if isinstance(_value_at(sc, path), int)
                        else float(v)}
