"""Keys of uncertain inputs: a field by name-based steps, a shared assumption by its name.

A key survives list items being renamed or reordered (:class:`Item`); a reference
(:class:`Ref`) points a field at a shared assumption of the ``[assumptions]`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator import labels

Key = tuple  # steps: field names, Item(name, position) for a named list item, int for others


@dataclass(frozen=True)
class Item:
    """A named list item in a key: found by its name, else (renamed) at its position.

    Keys compare by name only, so a scenario and its base share an input by the
    items' names; the position lets a range follow an item renamed in the form.
    """

    name: str
    at: int = field(default=-1, compare=False)


ASSUMPTIONS = "assumptions"  # the top-level table of named ranges shared by several fields
REF_KEYS = frozenset({"assumption", "scale"})  # the keys of a reference to one


@dataclass(frozen=True)
class Ref:
    """A field that takes a shared assumption's value times ``scale``: ``{ assumption = "x" }``."""

    name: str
    scale: float = 1.0

    def to_table(self) -> dict:
        """The TOML table as written (``scale`` only when it is not 1)."""
        return {"assumption": self.name} if self.scale == 1 else \
            {"assumption": self.name, "scale": self.scale}


def assumption_key(name: str) -> Key:
    """The key of a shared assumption (its Latin-hypercube column): ``assumptions.<name>``."""
    return (ASSUMPTIONS, name)


def is_assumption(key: Key) -> bool:
    """Whether a key names a shared assumption (not a field)."""
    return len(key) == 2 and key[0] == ASSUMPTIONS and isinstance(key[1], str)


def key_of(path: tuple, data: Any) -> Key:
    """The name-based key of an index path: list items by name where they have one."""
    out: list = []
    node = data
    for part in path:
        if isinstance(part, int):
            item = labels._step(node, part)
            nm = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            out.append(Item(nm, part) if isinstance(nm, str) else part)
        else:
            out.append(part)
        node = labels._step(node, part)
    return tuple(out)


def key_text(key: Key) -> str:
    """``segments[HNW].churn_annual`` (for people and for JSON)."""
    s = ""
    for part in key:
        if isinstance(part, Item):
            s += f"[{part.name}]"
        elif isinstance(part, int):
            s += f"[{part}]"
        else:
            s += ("." if s else "") + part
    return s


def resolve(sc: Any, key: Key) -> tuple | None:
    """The index path of a key in a scenario (or its dict); None if it names nothing."""
    out: list = []
    node = sc
    for part in key:
        if isinstance(part, Item):
            items = node if isinstance(node, list) else None
            if items is None:
                return None
            hits = [i for i, x in enumerate(items)
                    if (x.get("name") if isinstance(x, dict) else getattr(x, "name", None))
                    == part.name]
            if hits:
                part = hits[0]
            elif 0 <= part.at < len(items):
                part = part.at  # renamed since: the item at the same place
            else:
                return None
        node = labels._step(node, part)
        if node is None:
            return None
        out.append(part)
    return tuple(out)


def _path_text(path: tuple) -> str:
    s = ""
    for p in path:
        s += f"[{p}]" if isinstance(p, int) else ("." if s else "") + str(p)
    return s


def _value_at(sc: Any, path: tuple) -> Any:
    node = sc
    for p in path:
        node = labels._step(node, p)
    return node
