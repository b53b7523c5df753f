"""A scenario to and from a plain dict or TOML text: migrated, validated, ranges inline.

:func:`from_dict` migrates, validates and cross-checks, raising one
:class:`~simulator.scenario_io.messages.ScenarioError` with every problem;
:func:`to_dict` is what is saved (and hashed).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from simulator import labels, uncertainty
from simulator.scenario import Scenario, Uncertainty
from simulator.scenario_io.messages import Issue, ScenarioError, _issues_from_pydantic
from simulator.scenario_io.migrations import migrate
from simulator.scenario_io.reading import MAX_DEPTH, _depth_ok, parse
from simulator.scenario_io.toml_text import dumps as toml_dumps
from simulator.scenario_rules import cross_check


def from_dict(data: dict, source: str | None = None) -> Scenario:
    """Migrate and validate a plain dict; raise ScenarioError listing every problem."""
    if not isinstance(data, dict):
        raise ScenarioError([Issue("(top level)", None, "must be a table")], source)
    if not _depth_ok(data):
        raise ScenarioError([Issue("(file)", None, f"is too deeply nested (at most {MAX_DEPTH} "
                                   "levels)")], source)
    try:
        data, _ = migrate(data)
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, source) from None
    data, ranges, bad = uncertainty.extract(data)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        # a bad range is reported once, as a range (its path may end in the range's key)
        ranged = {p[0] for p, _ in bad} | {p[0].rsplit(".", 1)[0] for p, _ in bad
                                           if p[0].rsplit(".", 1)[-1] in uncertainty.RANGE_KEYS}
        issues = [i for i in _issues_from_pydantic(exc, data) if i.path not in ranged]
        raise ScenarioError([Issue(*p, where=w) for p, w in bad] + issues, source) from None
    if bad:
        raise ScenarioError([Issue(*p, where=w) for p, w in bad], source)
    uncertainty.set_uncertain(sc, ranges)
    cross = check(sc)
    if cross:
        raise ScenarioError(cross, source)
    return sc


def check(sc: Scenario) -> list[Issue]:
    """The cross-field problems of a valid-typed scenario, list items named (GUI and CLI)."""
    return [Issue(p, v, m, labels.where(p, sc)) for p, v, m in
            cross_check(sc) + uncertainty.problems(sc)]


def loads(text: str, source: str | None = None) -> Scenario:
    """Parse TOML text into a validated scenario."""
    return from_dict(parse(text, "toml", source), source)

def to_dict(sc: Scenario) -> dict[str, Any]:
    """Plain dict for saving (no None values: TOML has no null), ranges written back.

    A scenario without ranges is written as schema version 2 (what older versions of
    the program read) and without the default ``run.uncertainty`` section, so its
    content, and its hash, are what they were before ranges existed; one with ranges
    but no shared assumption as version 3, one with shared assumptions as 4, likewise; only
    a scenario with a seasonal order rate is written as version 5, and only one with a
    new customer's extra order rate as version 6.
    """
    d = _drop_none(sc.model_dump(mode="json"))
    run = d.get("run", {})
    if run.get("uncertainty") == _DEFAULT_UNCERTAINTY:
        del run["uncertainty"]
    if uncertainty.has_ranges(sc):
        uncertainty.inline(d, sc)
    pop = sc.population
    if pop.new_customer_boost is not None or pop.new_customer_boost_months is not None:
        pass  # a new customer's extra order rate: schema 6
    elif pop.seasonality is not None or pop.first_month is not None:
        d["schema_version"] = 5  # a seasonal order rate
    elif uncertainty.ASSUMPTIONS in d or uncertainty.references_of(sc):
        d["schema_version"] = 4  # shared assumptions
    elif uncertainty.uncertain_of(sc) or "uncertainty" in run:
        d["schema_version"] = 3
    else:
        d["schema_version"] = 2
    return d


_DEFAULT_UNCERTAINTY = Uncertainty().model_dump(mode="json")


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError("scenario values must be finite")
    return x


def dumps(sc: Scenario) -> str:
    """TOML text of a scenario (comments of hand-written files are not kept).

    Ranges and references to shared assumptions are written inline, as a planner
    writes them, also inside list items (:mod:`simulator.scenario_io.toml_text`).
    """
    return toml_dumps(to_dict(sc))
