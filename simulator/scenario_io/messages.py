"""Validation problems in the planner's words: :class:`Issue` and :class:`ScenarioError`.

An :class:`Issue` names the setting as the form labels it, shows the value in the
units the form shows and says what is allowed; pydantic's errors are turned into
that wording here (:func:`_issues_from_pydantic`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator import labels
from simulator.scenario import Scenario

MISSING = "(missing)"


@dataclass(frozen=True)
class Issue:
    """One validation problem: where, what value, what is allowed.

    ``path`` is the setting's place in the file (``service.pools[0].shifts[0].staff``),
    used to find it; ``str(issue)`` names it as the form does, shows the value in
    the units shown (shares in %) and says what is allowed:
    ``Service ▸ Pool 'Human' ▸ Shift 1 ▸ Staff: -5 agents — must be 0 agents or more``.
    ``where`` may carry that name with list items named (set by :func:`from_dict`).
    """

    path: str
    value: object
    message: str
    where: str = field(default="", compare=False)

    def place(self) -> str:
        """The setting as the form labels it."""
        return self.where or labels.where(self.path)

    def __str__(self) -> str:
        if self.value is None or self.value == MISSING or self.path.startswith("(file)"):
            return f"{self.place()} — {self.message}"
        unit, scale, is_int = labels.display_unit(Scenario, labels.parse_path(self.path))
        return f"{self.place()}: {labels.value_text(self.value, unit, scale, is_int)} — " \
               f"{self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every problem found."""

    def __init__(self, issues: list[Issue], source: str | None = None,
                 what: str = "the scenario"):
        self.issues = issues
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  - {i}" for i in issues)
        super().__init__(f"{head}{len(issues)} problem(s) in {what}:\n{lines}")


def path_str(loc: tuple) -> str:
    """``("tiers", 2, "threshold_cny")`` -> ``"tiers[2].threshold_cny"``: an Issue's path."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_KIND = {"int": "a whole number", "float": "a number", "bool": "true or false",
         "string": "text", "list": "a list", "dict": "a table", "model": "a table"}


def _message(err: Mapping[str, Any], root: type | None = None) -> str:
    """Turn a pydantic error into 'must ...' wording, with the field's range in the form's units."""
    t = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    loc = tuple(err.get("loc", ()))
    value = err.get("input")
    rng = labels.field_range(root, loc) if root is not None else ""
    if t in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        if rng:
            return f"must be {rng}"
        key = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le",
               "less_than": "lt"}[t]
        op = {"ge": "or more", "gt": "", "le": "or less", "lt": ""}[key]
        bound = labels.number(ctx[key])  # pydantic always gives the bound
        return (f"must be {bound} {op}".strip() if op else
                f"must be {'more' if key == 'gt' else 'less'} than {bound}")
    if t in ("finite_number", "float_parsing") or (t == "float_type" and isinstance(value, float)):
        return "must be a finite number" + (f" ({rng})" if rng else "")
    if t == "extra_forbidden":
        return "is not a known setting (check the spelling)"
    if t == "missing":
        return "is required"
    if t == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if t == "too_long":
        n = ctx.get("max_length")
        if isinstance(value, str):
            return f"is too long: at most {n} characters"
        return f"has too many items: at most {n}"
    if t == "too_short":
        n = ctx.get("min_length")
        if isinstance(value, str):
            return "must not be empty"
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if t.endswith("_type") or t.endswith("_parsing"):
        kind = _KIND.get(t.split("_")[0], t.split("_")[0])
        if t.startswith("int") and isinstance(value, float) and value == value:
            kind = "a whole number (no decimals)"
        if isinstance(value, bool) and not t.startswith("bool"):
            return f"must be {kind}, not true/false" + (f" ({rng})" if rng else "")
        if isinstance(value, str) and t.split("_")[0] in ("int", "float"):
            return f"must be {kind} without quotes" + (f" ({rng})" if rng else "")
        if t.startswith("float") and isinstance(value, int):
            return "is too large" + (f": must be {rng}" if rng else "")
        return f"must be {kind}" + (f" ({rng})" if rng else "")
    return err["msg"]


def _model_named(title: str) -> type[BaseModel] | None:
    """The schema class a pydantic error's title names (assignment errors name the owner)."""
    from simulator import scenario as schema

    cls = getattr(schema, title, None)
    return cls if isinstance(cls, type) and issubclass(cls, schema.Model) else None


def _issues_from_pydantic(exc: ValidationError, data: object = None,
                          prefix: tuple = ()) -> list[Issue]:
    """Issues of a pydantic error; ``data`` (the validated input) names list items."""
    root = _model_named(exc.title)
    out = []
    for e in exc.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        e = {**e, "loc": loc}
        value = e.get("input") if e["type"] != "missing" else MISSING
        if e["type"] == "extra_forbidden" or isinstance(value, (dict, list)):
            value = None if e["type"] != "too_long" else value
        full = prefix + loc
        where = labels.where(full, data) if data is not None else ""
        out.append(Issue(path_str(full), value, _message(e, root), where))
    return out
