"""Range edits of the form: what a field has, the line under it, one undoable step each.

A field may hold a range of its own or refer to a shared assumption
(:mod:`simulator.uncertainty`). :func:`state_of` and :func:`badge_text` say which and
how it reads under the field; :func:`set_nominal` (a number typed into a field with a
range) and :func:`apply_table` (the range dialog's OK) change it as one undoable
:class:`RangeCommand` (the ranges and the values of the fields they set change together).
The dialog itself is :mod:`ui.range_editor`.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from simulator import uncertainty
from simulator.labels import display_unit, number
from simulator.metrics import counted
from simulator.scenario import Scenario
from simulator.scenario_io import Issue, path_str
from ui.document import ScenarioDocument, field_words
from ui.fieldspec import Path

_RANGE_ID = 1002


# ------------------------------------------------------------------ what a field has
def state_of(doc: ScenarioDocument, path: Path) -> tuple[str, Any]:
    """("range", Distribution), ("shared", (Ref, Distribution | None)) or ("none", None)."""
    sc = doc.scenario
    key = uncertainty.key_of(tuple(path), sc)
    x = uncertainty.all_of(sc).get(key)
    if isinstance(x, uncertainty.Distribution):
        return "range", x
    if isinstance(x, uncertainty.Ref):
        return "shared", (x, uncertainty.assumptions_of(sc).get(x.name))
    return "none", None


_SHORT_RULE = {"triangular": "typing a number moves its most likely value",
               "uniform": "typing a number shifts it", "normal": "typing a number moves its mean",
               "lognormal": "typing a number moves its mean"}


def compact(dist: uncertainty.Distribution, unit: str, scale: float, is_int: bool) -> str:
    """A range in few words: ``1.5 – 3 – 4.5 % change (triangular)``."""
    def n(v: float) -> str:
        return number(v * scale, is_int)
    u = f" {unit}" if unit else ""
    if dist.kind == "triangular":
        return f"{n(dist.lo)} – {n(dist.mode)} – {n(dist.hi)}{u} (triangular)"
    if dist.kind == "uniform":
        return f"{n(dist.lo)} – {n(dist.hi)}{u} (uniform)"
    within = f", within {n(dist.lo)} – {n(dist.hi)}" if {"low", "high"} & set(dist.stated) \
        else ""
    return f"mean {n(dist.mean)}, sd {number(dist.sd * scale)}{u} ({dist.kind}{within})"


def badge_text(doc: ScenarioDocument, path: Path) -> tuple[str, str]:
    """(the line under a field with a range, its tooltip with the rule); ('', '') without."""
    kind, x = state_of(doc, path)
    unit, scale, is_int = display_unit(Scenario, tuple(path))
    if kind == "range":
        return (f"Range {compact(x, unit, scale, is_int)}; {_SHORT_RULE[x.kind]}",
                f"{x.text(unit, scale)}\nWhen you type a number: "
                f"{uncertainty.NOMINAL_RULE[x.kind]}.\n± edits the range.")
    if kind == "shared":
        ref, dist = x
        if dist is None:
            return f"Shared assumption “{ref.name}” (missing)", ""
        n = sum(1 for r in uncertainty.references_of(doc.scenario).values()
                if r.name == ref.name)
        times = f" × {ref.scale:g} here" if ref.scale != 1 else ""
        return (f"Shared “{ref.name}” ({counted(n, 'field')}): "
                f"{compact(dist, unit, scale, is_int)}"
                f"{times}; {_SHORT_RULE[dist.kind]} for all",
                f"Shared assumption “{ref.name}”: one draw for the {n} fields referring to "
                f"it.\n{dist.text(unit, scale)}{times}\nWhen you type a number: "
                f"{uncertainty.NOMINAL_RULE[dist.kind]}, in every field sharing it.\n"
                "± edits the assumption (or this field only).")
    return "", ""


# ------------------------------------------------------------------ the undoable edit
class RangeCommand(QUndoCommand):
    """Set the scenario's ranges and the values of the fields they set, as one step."""

    def __init__(self, doc: ScenarioDocument, path: Path, text: str, ranges: dict,
                 values: dict, merge: bool = False):
        super().__init__(text)
        self.doc, self.path, self.merge = doc, tuple(path), merge
        self.new_ranges, self.new_values = dict(ranges), dict(values)
        self.old_ranges = uncertainty.all_of(doc.scenario)
        self.old_values = {p: copy.deepcopy(doc.get(p)) for p in values}

    def id(self) -> int:  # noqa: D102
        return _RANGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: D102, N802
        if isinstance(other, RangeCommand) and other.merge and other.path == self.path \
                and set(other.new_values) <= set(self.old_values):
            self.new_ranges, self.new_values = other.new_ranges, other.new_values
            self.setText(other.text())
            return True
        return False

    def redo(self) -> None:  # noqa: D102
        self._apply(self.new_ranges, self.new_values)

    def undo(self) -> None:  # noqa: D102
        self._apply(self.old_ranges, self.old_values)

    def _apply(self, ranges: dict, values: dict) -> None:
        uncertainty.set_uncertain(self.doc.scenario, ranges)
        if self.path not in values:  # its badge changes even if its number does not
            values = {**values, self.path: self.doc.get(self.path)}
        for p, v in values.items():
            self.doc._apply_value(p, copy.deepcopy(v))


def _push(doc: ScenarioDocument, path: Path, text: str, result: tuple[dict, dict],
          merge: bool = False) -> None:
    ranges, values = result
    doc.undo_stack.push(RangeCommand(doc, path, text, ranges, values, merge))


def set_nominal(doc: ScenarioDocument, path: Path, value: Any,
                merge: bool = False) -> list[Issue] | None:
    """Type a number into a field with a range (None: the field has none).

    Returns the problems if the moved range is not valid (nothing changes then).
    """
    try:
        result = uncertainty.set_nominal(doc.scenario, tuple(path), float(value))
    except uncertainty.EditRefused as exc:
        return [Issue(path_str(path), value, m) for m in exc.messages]
    if result is None:
        return None
    unit, scale, is_int = display_unit(Scenario, tuple(path))
    shown = f"{value * scale:g} {unit}".strip()
    _push(doc, path, f"Change {field_words(doc.scenario, path)} to {shown} (its range moves)",
          result, merge)
    return []


def apply_table(doc: ScenarioDocument, path: Path, table: dict | None, *,
                shared: str | None = None, value: Any = None) -> None:
    """Give the field a range (``table``), change its shared assumption, or make it a number.

    ``table`` None with ``value``: the field becomes that plain number. Raises
    :class:`simulator.uncertainty.EditRefused` if the range is not valid.
    """
    sc, path = doc.scenario, tuple(path)
    words = field_words(sc, path)
    if shared is not None and table is not None:
        _push(doc, path, f"Change shared assumption “{shared}”",
              uncertainty.edit_assumption(sc, shared, table))
        return
    ranges, values = uncertainty.edit_range(sc, path, table)
    if table is None:
        values = {path: value if value is not None else doc.get(path)}
        _push(doc, path, f"Make {words} a plain number", (ranges, values))
    else:
        _push(doc, path, f"Give {words} a range", (ranges, values))


def share_as(doc: ScenarioDocument, path: Path, name: str, table: dict) -> None:
    """Make ``table`` a new shared assumption ``name`` that the field refers to (one step).

    Raises :class:`simulator.uncertainty.EditRefused` (a bad or taken name, a bad range).
    """
    path = tuple(path)
    _push(doc, path, f"Share the range of {field_words(doc.scenario, path)} as assumption "
                     f"“{name}”", uncertainty.share_range(doc.scenario, path, name, table))


def link(doc: ScenarioDocument, path: Path, name: str, scale: float = 1.0) -> None:
    """Make the field refer to the shared assumption ``name`` × ``scale`` (one step).

    Raises :class:`simulator.uncertainty.EditRefused` when the range does not fit it.
    """
    path = tuple(path)
    _push(doc, path, f"Link {field_words(doc.scenario, path)} to assumption “{name}”",
          uncertainty.link_to_assumption(doc.scenario, path, name, scale))
