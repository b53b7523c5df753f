"""The file ↔ the scenario: ranges and references replaced by their nominal values, checked."""

from __future__ import annotations

import functools
import math
import typing
from typing import Any

from pydantic import BaseModel

from simulator import labels
from simulator.uncertainty.distributions import Distribution, Problem, _num, parse
from simulator.uncertainty.keys import (
    ASSUMPTIONS,
    REF_KEYS,
    Key,
    Ref,
    _path_text,
    assumption_key,
    key_of,
)

# Fields that cannot be uncertain: run settings and the optimiser's budget are choices,
# not assumptions; the others take part in rules across fields (shares add up to 100 %,
# thresholds rise from tier to tier, a shift ends after it starts, the first tier is free).
_NOT_ALLOWED_SECTIONS = ("run", "budget", "schema_version")
_NOT_ALLOWED_FIELDS = {("Segment", "share"): "segment shares must add up to 100 %",
                       ("Tier", "threshold_cny"): "thresholds must rise from tier to tier",
                       ("Tier", "min_orders"): "the entry tier's minimum orders must be 0",
                       ("Shift", "start_hour"): "a shift must end after it starts",
                       ("Shift", "end_hour"): "a shift must end after it starts",
                       ("Service", "window_contacts"): "it sets the simulation's precision, "
                       "not an assumption about the shop"}


@functools.lru_cache(maxsize=1024)
def _field_kind(cls: Any, name: str) -> tuple[Any, tuple]:
    """A schema field's type and constraints (kept: the schema does not change)."""
    info = cls.model_fields[name]
    tp, meta = labels.unwrap(info.annotation)
    return tp, tuple(info.metadata) + tuple(meta)


def extract(data: dict) -> tuple[dict, dict[Key, Any], list[tuple[Problem, str]]]:
    """Replace every range and every reference to a shared assumption by its nominal value.

    Returns (the dict with numbers, found, [(problem, where)]) where ``where`` names
    the field as the form does. ``found`` maps a field's key to its
    :class:`Distribution` (a range of its own) or :class:`Ref` (a reference to a
    shared assumption), and :func:`assumption_key` ``(name)`` to each shared
    assumption's :class:`Distribution` (the ``[assumptions]`` table).
    """
    from simulator.scenario import Scenario

    found: dict[Key, Any] = {}
    problems: list[tuple[Problem, str]] = []
    if not isinstance(data, dict) or (ASSUMPTIONS not in data
                                      and not _has_table_at_number(data, Scenario)):
        return data, found, problems
    import copy

    out = copy.deepcopy(data)
    shared = out.pop(ASSUMPTIONS, None)
    if shared is not None and not (isinstance(shared, dict)
                                   and all(isinstance(v, dict) for v in shared.values())):
        problems.append(((ASSUMPTIONS, None, "must be a table of named ranges, e.g. "
                          "[assumptions] repurchase_lift = { low = 0.2, mode = 0.4, high = 0.4 } "
                          "(a field then reads { assumption = \"repurchase_lift\" })"),
                         "Assumptions"))
        shared = {}
    shared = shared or {}
    refs: list[tuple[tuple, dict, str, Any, list, Ref]] = []  # (path, node, name, tp, meta, ref)

    def walk(node: dict, cls: Any, path: tuple) -> None:
        for name, value in list(node.items()):
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)) \
                    or name not in cls.model_fields:
                continue
            tp, kind_meta = _field_kind(cls, name)
            meta = list(kind_meta)
            here = path + (name,)
            if tp in (int, float) and isinstance(value, dict):
                where = labels.where(here, out)
                is_ref = "assumption" in value
                why = _NOT_ALLOWED_FIELDS.get((cls.__name__, name))
                if not path and name in _NOT_ALLOWED_SECTIONS or path and path[0] in \
                        _NOT_ALLOWED_SECTIONS:
                    why = "run settings and budget bounds are choices, not assumptions"
                if why:
                    what = "cannot refer to an assumption: " if is_ref else "cannot be a range: "
                    problems.append(((_path_text(here), None, what + why), where))
                    continue
                if is_ref:
                    ref, msg = _parse_ref(value, shared)
                    if msg:
                        problems.append(((_path_text(here), None, msg), where))
                    else:
                        assert ref is not None
                        refs.append((here, node, name, tp, meta, ref))
                    continue
                lo, hi, lo_open, hi_open = labels.bounds(meta)
                unit, scale, is_int = labels.display_unit(Scenario, here)
                dist, msgs = parse(value, lo, hi, lo_open, hi_open, tp is int, unit, scale)
                for m in msgs:
                    at = _path_text(here)
                    if m.startswith("@"):
                        k, m = m[1:].split("|", 1)
                        at = f"{at}.{k}"
                    problems.append(((at, None, m), where))
                if dist is not None:
                    found[key_of(here, out)] = dist
                    nom = dist.nominal
                    node[name] = int(nom) if tp is int else float(nom)
            elif isinstance(value, dict) and typing.get_origin(tp) is dict:
                if any(isinstance(v, dict) for v in value.values()):
                    problems.append(((_path_text(here), None, "cannot hold ranges (its values "
                                      "are a table of their own); write numbers"),
                                     labels.where(here, out)))
            elif isinstance(value, dict) and isinstance(tp, type) and issubclass(tp, BaseModel):
                walk(value, tp, here)
            elif isinstance(value, list) and typing.get_origin(tp) is list:
                item, _ = labels.unwrap(typing.get_args(tp)[0])
                if isinstance(item, type) and issubclass(item, BaseModel):
                    for i, x in enumerate(value):
                        if isinstance(x, dict):
                            walk(x, item, here + (i,))

    walk(out, Scenario, ())
    for aname, table in shared.items():
        mine = [r for r in refs if r[5].name == aname]
        dist, msgs, unfit = _parse_assumption(aname, table, mine, out)
        for at, m, where in msgs:
            problems.append(((at, None, m), where))
        if dist is not None:
            found[assumption_key(aname)] = dist
        for here, node, name, tp, meta, ref in mine:
            if dist is None or here in unfit:
                # the problem is the assumption's (reported there, naming this field): a
                # stand-in the field allows keeps the schema from reporting it again
                node[name] = _stand_in(meta, tp)
                continue
            v = ref.scale * dist.nominal
            node[name] = int(round(v)) if tp is int else float(v)
            found[key_of(here, out)] = ref
    return out, found, problems


def _parse_ref(value: dict, shared: dict) -> tuple[Ref | None, str]:
    """A reference ``{ assumption = "name", scale = k }``, or what is wrong with it."""
    bad = sorted(set(value) - REF_KEYS)
    if bad:
        return None, (f"{', '.join(map(repr, bad))} does not belong beside assumption: a field "
                      "either refers to a shared assumption ({ assumption = \"name\" }, "
                      "optionally with scale = 0.5) or is a range of its own, not both")
    name = value.get("assumption")
    if not isinstance(name, str) or not name.strip():
        return None, (f"assumption must name an entry of [assumptions] (found "
                      f"{labels.value_text(name)})")
    scale = value.get("scale", 1.0)
    if not _num(scale) or scale == 0:
        return None, (f"scale of assumption “{name}” must be a finite number other than 0 "
                      f"(found {labels.value_text(scale)})")
    if name not in shared:
        have = ", ".join(f"“{n}”" for n in shared)
        return None, (f"refers to assumption “{name}”, which is not in [assumptions] "
                      + (f"(there are {have})" if have else "(the file has no [assumptions] "
                         "table)"))
    return Ref(name, float(scale)), ""


def _stand_in(meta: list, tp: Any) -> float | int:
    """A value a field allows (0 moved inside its bounds)."""
    lo, hi, lo_open, hi_open = labels.bounds(meta)
    v = 0.0
    if lo is not None and (v < lo or (lo_open and v == lo)):
        v = float(lo) + (1e-9 * max(1.0, abs(lo)) if lo_open else 0.0)
    if hi is not None and (v > hi or (hi_open and v == hi)):
        v = float(hi) - (1e-9 * max(1.0, abs(hi)) if hi_open else 0.0)
    return int(math.ceil(v)) if tp is int else v


def _parse_assumption(name: str, table: dict, refs: list, data: Any) -> tuple[
        Distribution | None, list[tuple[str, str, str]], set]:
    """A shared assumption's distribution, truncated to what every referring field allows.

    ``refs``: (path, node, field name, type, metadata, Ref) of the fields that refer to
    it. A value of the range that, times a field's scale, falls outside what that field
    allows is reported at the assumption's value, naming the field; that field takes
    no value (the others do). Returns (distribution or None, [(problem path, message,
    where)], {paths of the fields the range does not fit}).
    """
    from simulator.scenario import Scenario

    at, where = _path_text(assumption_key(name)), f"Assumptions ▸ {name}"
    unit, dscale = "", 1.0
    if refs:
        unit, dscale, _ = labels.display_unit(Scenario, refs[0][0])
    dist, msgs = parse(table, None, None, False, False, False, unit, dscale)
    if dist is None:
        return None, [(f"{at}.{m[1:].split('|', 1)[0]}" if m.startswith("@") else at,
                       m.split("|", 1)[1] if m.startswith("@") else m, where) for m in msgs], set()
    unfit: dict[str, list[str]] = {}  # key -> fields (with what they allow) it does not fit
    first: dict[str, str] = {}
    bad_paths: set = set()
    lo, hi, lo_open, hi_open = -math.inf, math.inf, False, False
    for here, _node, _name, tp, meta, ref in refs:
        flo, fhi, flo_open, fhi_open = labels.bounds(meta)
        funit, fscale, _ = labels.display_unit(Scenario, here)
        allowed = labels.range_text(flo, fhi, flo_open, fhi_open, funit, fscale, tp is int)
        a = -math.inf if flo is None else float(flo)
        b = math.inf if fhi is None else float(fhi)
        fits = True
        for k in ("low", "mode", "high", "mean"):
            if k not in table:
                continue
            v = ref.scale * float(table[k])
            if not ((a < v if flo_open else a <= v) and (v < b if fhi_open else v <= b)):
                fits = False
                shown = labels.value_text(v, funit, fscale, tp is int)
                if k not in first:
                    times = (f" (× {labels.number(ref.scale)} there: {shown})"
                             if ref.scale != 1 else "")
                    first[k] = (f"{k} {labels.value_text(float(table[k]), unit, dscale)}"
                                f"{times} is outside what {labels.where(here, data)} allows "
                                f"({allowed}), which refers to it")
                unfit.setdefault(k, []).append(_path_text(here))
        if not fits:
            bad_paths.add(here)
            continue
        # the field's range in the assumption's units (a negative scale turns it round)
        ra, rb = sorted((a / ref.scale, b / ref.scale))
        ra_open, rb_open = (flo_open, fhi_open) if ref.scale > 0 else (fhi_open, flo_open)
        if ra > lo or (ra == lo and ra_open):
            lo, lo_open = ra, ra_open
        if rb < hi or (rb == hi and rb_open):
            hi, hi_open = rb, rb_open
    out = [(f"{at}.{k}", first[k] + (f" (and {len(v) - 1} more field"
                                      f"{'s' if len(v) > 2 else ''} referring to it)"
                                      if len(v) > 1 else ""), where)
           for k, v in unfit.items()]
    dist, msgs = parse(table, None if lo == -math.inf else lo, None if hi == math.inf else hi,
                       lo_open, hi_open, False, unit, dscale)
    return dist, out + [(at, m.split("|", 1)[-1], where) for m in msgs], bad_paths


def _has_table_at_number(data: Any, cls: Any) -> bool:
    """Whether any number of the schema is written as a table (a range)."""
    if not isinstance(data, dict) or not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return False
    for name, value in data.items():
        if name not in cls.model_fields:
            continue
        tp, _ = _field_kind(cls, name)
        if tp in (int, float) and isinstance(value, dict):
            return True
        if isinstance(value, dict) and typing.get_origin(tp) is dict:
            if any(isinstance(v, dict) for v in value.values()):
                return True
        elif isinstance(value, dict) and _has_table_at_number(value, tp):
            return True
        elif isinstance(value, list) and typing.get_origin(tp) is list:
            item, _ = labels.unwrap(typing.get_args(tp)[0])
            if any(_has_table_at_number(x, item) for x in value):
                return True
    return False
