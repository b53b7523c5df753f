"""What the editor needs to know about each scenario field, read from the pydantic schema.

No Qt here: this module turns a pydantic field (annotation, ge/le bounds,
description) into a :class:`FieldSpec` (widget kind, hard bounds, a slider
range, the unit to show and the display scale), and offers the path helpers
the document and the editor share. A path is a tuple of attribute names, list
indices and dict keys, e.g. ``("tiers", 2, "benefits", 0, "cost_share")``.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic import BaseModel

from simulator.labels import bounds, label, unit_for
from simulator.scenario_io import path_str  # Issue paths and field paths read alike

Path = tuple  # tuple[str | int, ...]

# ---------------------------------------------------------------------------
# Paths


def get_at(obj: Any, path: Path) -> Any:
    """Follow a path through models, lists and dicts."""
    for part in path:
        if isinstance(part, int) or isinstance(obj, dict):
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


def issue_matches(issue_path: str, path: Path) -> bool:
    """True if an issue's path names this field (``segments[*].share`` matches every share)."""
    mine = path_str(path)
    if issue_path == mine:
        return True
    if "[*]" in issue_path:
        import re

        pattern = re.escape(issue_path).replace(r"\[\*\]", r"\[\d+\]")
        return re.fullmatch(pattern, mine) is not None
    return False


# ---------------------------------------------------------------------------
# Field specs

Kind = Literal[
    "number", "bool", "choice", "text", "longtext", "ref", "model", "model_list",
    "name_dict", "name_list", "choice_list", "optional_number", "optional_text", "bigint",
]


@dataclass
class FieldSpec:
    """How to edit one field."""

    name: str
    kind: Kind
    label: str
    description: str = ""
    is_int: bool = False
    lo: float | None = None  # hard bounds of the validator (None = unbounded)
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    unit: str = ""  # shown beside the number, e.g. "¥", "%", "h"
    scale: float = 1.0  # display = value * scale (100 for percentages)
    decimals: int = 2
    choices: list = field(default_factory=list)
    model: type[BaseModel] | None = None  # for model / model_list
    ref: str | None = None  # "pools", "segments", "tiers" for name references
    required: bool = True

    def slider_range(self, value: float | None) -> tuple[float, float]:
        """A useful slider range in model units: the bounds if finite, else around the value."""
        lo = self.lo if self.lo is not None else 0.0
        v = abs(value) if value is not None else 0.0
        if self.hi is not None and (self.hi - lo) <= 20 * max(v, _soft_default(self)):
            hi = self.hi
        else:
            hi = nice_ceiling(max(4.0 * v, _soft_default(self)))
            if self.hi is not None:
                hi = min(hi, self.hi)
        if self.lo is None and value is not None and value < 0:
            lo = -nice_ceiling(4.0 * v)
        return float(lo), float(hi)


def nice_ceiling(x: float) -> float:
    """Round up to 1, 2 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10**e >= x - 1e-12:
            return float(m * 10**e)
    return float(10 ** (e + 1))


def _soft_default(spec: FieldSpec) -> float:
    if spec.unit.startswith("¥"):
        return 1000.0
    if spec.unit in ("h", "min"):
        return 48.0
    return 10.0 if spec.is_int else 2.0


def _bounds(metadata: list) -> tuple[float | None, float | None, bool, bool]:
    """The constraints' bounds (:func:`simulator.labels.bounds`, as messages read them), floats."""
    lo, hi, lo_open, hi_open = bounds(metadata)
    return (None if lo is None else float(lo), None if hi is None else float(hi),
            lo_open, hi_open)


def _unwrap_annotated(tp: Any) -> tuple[Any, list]:
    meta: list = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp = args[0]
        for a in args[1:]:
            meta.extend(getattr(a, "metadata", [a]))
    return tp, meta


def _is_optional(tp: Any) -> tuple[bool, Any]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return True, args[0]
    return False, tp


# Fields that name other things in the scenario.
_REFS = {"pool": "pools", "default_pool": "pools", "to_pool": "pools",
         "target_segments": "segments", "target_tiers": "tiers",
         "mix": "segments", "segment_value": "segments", "seasonality": "months"}


def spec_for(model: type[BaseModel], name: str) -> FieldSpec:
    """Build the FieldSpec of ``model.name`` from its pydantic field info."""
    info = model.model_fields[name]
    tp, meta = _unwrap_annotated(info.annotation)
    meta = list(info.metadata) + meta
    optional, inner = _is_optional(tp)
    inner, inner_meta = _unwrap_annotated(inner)
    meta += inner_meta
    desc = info.description or ""
    spec = FieldSpec(name=name, kind="text", label=label(name), description=desc,
                     required=info.is_required())
    origin = typing.get_origin(inner)
    if name in _REFS:
        spec.ref = _REFS[name]
    if name == "seed":
        spec.kind = "bigint"
        spec.is_int = True
        spec.lo, spec.hi, _, _ = _bounds(meta)
        return spec
    if inner is bool:
        spec.kind = "bool"
    elif inner in (int, float):
        spec.is_int = inner is int
        spec.lo, spec.hi, spec.lo_open, spec.hi_open = _bounds(meta)
        spec.unit, spec.scale, spec.decimals = unit_for(model, name, spec.lo, spec.hi, spec.is_int)
        spec.kind = "optional_number" if optional else "number"
    elif origin is Literal:
        spec.kind = "choice"
        spec.choices = list(typing.get_args(inner))
    elif inner is str:
        if spec.ref == "pools":
            spec.kind = "ref"
        elif optional:
            spec.kind = "optional_text"
        elif name == "description":
            spec.kind = "longtext"
        else:
            spec.kind = "text"
            lo, hi, _, _ = _bounds(meta)
    elif isinstance(inner, type) and issubclass(inner, BaseModel):
        spec.kind = "model"
        spec.model = inner
    elif origin is list:
        (item,) = typing.get_args(inner)
        item, _ = _unwrap_annotated(item)
        if isinstance(item, type) and issubclass(item, BaseModel):
            spec.kind = "model_list"
            spec.model = item
        elif typing.get_origin(item) is Literal:
            spec.kind = "choice_list"
            spec.choices = list(typing.get_args(item))
        else:
            spec.kind = "name_list"
    elif origin is dict:
        _, val = typing.get_args(inner)
        _, vmeta = _unwrap_annotated(val)
        spec.kind = "name_dict"
        spec.lo, spec.hi, spec.lo_open, spec.hi_open = _bounds(vmeta)
        spec.unit, spec.scale, spec.decimals = (("%", 100, 1) if spec.hi == 1.0 else ("×", 1, 2))
    return spec


def flatten(d: Any, prefix: Path = ()) -> dict[str, Any]:
    """Flatten a to_dict() tree into ``{"tiers[0].name": ...}`` leaves (for input diffs)."""
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        if not d and prefix:
            out[path_str(prefix)] = {}
        for k, v in d.items():
            out.update(flatten(v, prefix + (k,)))
    elif isinstance(d, list) and d and all(isinstance(x, dict) for x in d):
        for i, v in enumerate(d):
            out.update(flatten(v, prefix + (i,)))
    else:
        out[path_str(prefix)] = d
    return out
