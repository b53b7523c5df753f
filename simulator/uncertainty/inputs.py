"""A scenario's uncertain inputs: its ranges, shared assumptions and references, written back."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from simulator import labels
from simulator.uncertainty.distributions import Distribution, Problem, _num
from simulator.uncertainty.keys import (
    ASSUMPTIONS,
    Key,
    Ref,
    _path_text,
    _value_at,
    assumption_key,
    is_assumption,
    key_text,
    resolve,
)


def _all(sc: Any) -> dict[Key, Any]:
    d = getattr(sc, "__pydantic_private__", None) or {}
    return d.get("_uncertain") or {}


def uncertain_of(sc: Any) -> dict[Key, Distribution]:
    """The fields written as ranges of their own, {key: distribution}.

    Fields that refer to a shared assumption are in :func:`references_of`, the
    assumptions in :func:`assumptions_of`; :func:`inputs_of` gives both kinds as
    the inputs a run draws.
    """
    return {k: d for k, d in _all(sc).items()
            if isinstance(d, Distribution) and not is_assumption(k)}


def assumptions_of(sc: Any) -> dict[str, Distribution]:
    """The shared assumptions (the ``[assumptions]`` table), {name: distribution}."""
    return {k[1]: d for k, d in _all(sc).items() if is_assumption(k)}


def references_of(sc: Any) -> dict[Key, Ref]:
    """The fields that take a shared assumption's value, {key: reference}."""
    return {k: r for k, r in _all(sc).items() if isinstance(r, Ref)}


def has_ranges(sc: Any) -> bool:
    """Whether the scenario has any range, shared assumption or reference to one."""
    return bool(_all(sc))


def set_uncertain(sc: Any, dists: dict[Key, Any]) -> None:
    """Attach ranges, shared assumptions and references (as :func:`extract` finds them).

    The fields should hold their nominal values.
    """
    sc._uncertain = dict(dists)


@dataclass(frozen=True)
class Input:
    """One uncertain input a run draws: a distribution and the fields it sets.

    A range of a field's own sets that field; a shared assumption sets every field
    that refers to it, each to ``scale`` × the drawn value, from one draw.
    """

    dist: Distribution
    targets: tuple  # ((field key, scale), ...)

    def nominal_of(self, scale: float) -> float:
        """A target's nominal value."""
        return scale * self.dist.nominal


def inputs_of(sc: Any) -> dict[Key, Input]:
    """The scenario's uncertain inputs, {key: input}: each shared assumption once.

    A shared assumption that no field refers to is not an input (nothing to draw).
    """
    out: dict[Key, Input] = {k: Input(d, ((k, 1.0),)) for k, d in uncertain_of(sc).items()}
    refs = references_of(sc)
    for name, d in assumptions_of(sc).items():
        targets = tuple(sorted(((k, r.scale) for k, r in refs.items() if r.name == name),
                               key=lambda t: _form_order(sc, t[0])))
        if targets:
            out[assumption_key(name)] = Input(d, targets)
    return out


def _form_order(sc: Any, key: Key) -> tuple:
    """Where a field comes in the form (Bronze before Silver), then its key's text."""
    path = resolve(sc, key) or ()
    return (tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path),
            key_text(key))


def input_named(sc: Any, text: str) -> tuple[Key, Input] | None:
    """The shared assumption an input path names (``assumptions.<name>``), else None."""
    prefix = ASSUMPTIONS + "."
    if not text.startswith(prefix):
        return None
    key = assumption_key(text[len(prefix):])
    inp = inputs_of(sc).get(key)
    return (key, inp) if inp is not None else None


def input_label(sc: Any, key: Key, inp: Input | None = None) -> str:
    """An input as the form names it; a shared assumption with the fields it sets."""
    if not is_assumption(key):
        path = resolve(sc, key)
        return labels.where(path if path is not None else key, sc)
    inp = inp or inputs_of(sc).get(key)
    fields = [labels.where(p, sc) for k, _ in (inp.targets if inp else ())
              if (p := resolve(sc, k)) is not None]
    more = f" ({fields[0]}" + (f" and {len(fields) - 1} more" if len(fields) > 1 else "") \
        + ")" if fields else ""
    return f"Assumption “{key[1]}”{more}"


def input_unit(sc: Any, key: Key, inp: Input | None = None) -> tuple[str, float]:
    """(unit, display scale) of an input: its field's, or its first referring field's."""
    from simulator.scenario import Scenario

    if is_assumption(key):
        inp = inp or inputs_of(sc).get(key)
        path = resolve(sc, inp.targets[0][0]) if inp and inp.targets else None
    else:
        path = resolve(sc, key)
    unit, scale, _ = labels.display_unit(Scenario, path or ())
    return unit, scale


def inline(d: dict, sc: Any) -> dict:
    """A scenario dict (``to_dict``) with each range and reference written back in place.

    The shared assumptions go in an ``[assumptions]`` table before the first table.
    """
    everything = _all(sc)
    if not everything:
        return d
    for key, x in everything.items():
        if is_assumption(key):
            continue
        path = resolve(sc, key)
        if path is None:
            continue
        node: Any = d
        for p in path[:-1]:
            node = node[p]
        if isinstance(node, dict) and path[-1] in node:
            node[path[-1]] = x.to_table()
    shared = assumptions_of(sc)
    if shared:
        items = list(d.items())
        d.clear()
        for k, v in items:
            if ASSUMPTIONS not in d and isinstance(v, (dict, list)):
                d[ASSUMPTIONS] = {n: dist.to_table() for n, dist in shared.items()}
            d[k] = v
        d.setdefault(ASSUMPTIONS, {n: dist.to_table() for n, dist in shared.items()})
    return d


def _same(now: Any, expected: float) -> bool:
    """Whether a field holds ``expected`` (a whole-number field: rounded)."""
    if not _num(now):
        return False
    if isinstance(now, int) and now == round(expected):
        return True
    return math.isclose(float(now), expected, rel_tol=1e-9, abs_tol=1e-12)


def problems(sc: Any) -> list[Problem]:
    """Ranges and references that no longer fit the scenario (an edit in the form since)."""
    from simulator.scenario import Scenario

    out: list[Problem] = []
    for key, dist in uncertain_of(sc).items():
        path = resolve(sc, key)
        if path is None:
            out.append((key_text(key), None, "has a range, but the item it belongs to is gone "
                        "(renamed or removed): remove the range or restore the name"))
            continue
        v = _value_at(sc, path)
        if not _same(v, dist.nominal):
            unit, scale, _ = labels.display_unit(Scenario, path)
            out.append((_path_text(path), v, f"differs from the nominal value of its range "
                        f"({dist.text(unit, scale)}: "
                        f"{labels.value_text(dist.nominal, unit, scale, dist.is_int)}); the "
                        "range decides a run: change the range, or write a plain number"))
    shared = assumptions_of(sc)
    for key, ref in references_of(sc).items():
        path = resolve(sc, key)
        if path is None:
            continue  # the item went with its reference: nothing to draw there
        a = shared.get(ref.name)
        if a is None:
            out.append((_path_text(path), _value_at(sc, path), f"refers to assumption "
                        f"“{ref.name}”, which is gone: write a number or a range"))
            continue
        v = _value_at(sc, path)
        want = ref.scale * a.nominal
        if not _same(v, want):
            unit, scale, is_int = labels.display_unit(Scenario, path)
            times = f" × {labels.number(ref.scale)}" if ref.scale != 1 else ""
            out.append((_path_text(path), v, f"differs from the nominal value of the shared "
                        f"assumption “{ref.name}”{times} ({a.text(unit, scale)}: "
                        f"{labels.value_text(want, unit, scale, is_int)}); the assumption "
                        "decides a run: change it, or write a plain number"))
    return out


def distributions_hash(sc: Any) -> str | None:
    """Short hash of the ranges (which inputs, which distributions); None without any.

    A scenario without shared assumptions hashes as it did before they existed.
    """
    if not has_ranges(sc):
        return None
    own = sorted((key_text(k), d.kind, d.lo, d.hi, d.to_table())
                 for k, d in uncertain_of(sc).items())
    shared = sorted((n, d.kind, d.lo, d.hi, d.to_table()) for n, d in assumptions_of(sc).items())
    refs = sorted((key_text(k), r.name, r.scale) for k, r in references_of(sc).items())
    blob = json.dumps(own if not (shared or refs) else [own, shared, refs], sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
