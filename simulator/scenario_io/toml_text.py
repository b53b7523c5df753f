"""TOML text of a scenario dict: tomli_w's layout, with every range written inline.

tomli_w writes every table as a ``[section]``: a range inside a list item
(``[[tiers.benefits]]`` ▸ ``effect`` ▸ ``order_rate``) became a sub-table
``[tiers.benefits.effect.order_rate]`` with ``low``/``mode``/``high`` lines, not the
``order_rate = { low = 0.015, mode = 0.03, high = 0.045 }`` the planner wrote. Here a
range, a reference to a shared assumption and the ``[assumptions]`` entries are
written as inline tables; everything else is laid out as tomli_w lays it out (the
text of a scenario without ranges is the same byte for byte).
"""

from __future__ import annotations

from typing import Any

import tomli_w

from simulator.uncertainty import RANGE_KEYS, REF_KEYS

_INLINE_KEYS = RANGE_KEYS | REF_KEYS
_MARKERS = {"low", "high", "mean", "assumption"}  # a range has one of these


def is_inline(v: Any) -> bool:
    """Whether a value is a range or a reference to a shared assumption."""
    return (isinstance(v, dict) and bool(v) and set(v) <= _INLINE_KEYS
            and bool(set(v) & _MARKERS)
            and not any(isinstance(x, (dict, list)) for x in v.values()))


def _literal(v: Any) -> str:
    return tomli_w.dumps({"x": v})[len("x = "):-1]


def _key(k: str) -> str:
    return tomli_w.dumps({k: 0})[:-len(" = 0\n")]


def _inline_table(v: dict) -> str:
    return "{ " + ", ".join(f"{_key(k)} = {_literal(x)}" for k, x in v.items()) + " }"


def _is_aot(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _tomli_w_inlines(v: list) -> bool:
    """Whether tomli_w writes this array of tables as an inline array (short items)."""
    return tomli_w.dumps({"x": v}).startswith("x = ")


def dumps(d: dict) -> str:
    """TOML text of ``d`` (a scenario's ``to_dict``)."""
    return "".join(_chunks(d, ""))


def _chunks(table: dict, name: str, inside_aot: bool = False):
    literals: list[tuple[str, Any]] = []
    tables: list[tuple[str, Any, bool]] = []
    for k, v in table.items():
        if isinstance(v, dict) and not is_inline(v):
            tables.append((k, v, False))
        elif _is_aot(v) and not _tomli_w_inlines(v):
            tables.extend((k, t, True) for t in v)
        else:
            literals.append((k, v))
    yielded = False
    if inside_aot or name and (literals or not tables):
        yielded = True
        yield f"[[{name}]]\n" if inside_aot else f"[{name}]\n"
    for k, v in literals:
        yielded = True
        yield f"{_key(k)} = {_inline_table(v) if is_inline(v) else _literal(v)}\n"
    for k, v, in_aot in tables:
        if yielded:
            yield "\n"
        else:
            yielded = True
        part = _key(k)
        yield from _chunks(v, f"{name}.{part}" if name else part, in_aot)
