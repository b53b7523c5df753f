"""The shipped scenario files are valid, described, and every figure names its source.

The issue asks that each number of a shipped scenario be traceable to its study:
every parameter line (``key = value`` inside the tables) carries a trailing
comment, or has a comment line directly above it, that names a study letter
(A-E, as in ../shared/domain/SEED-FACTS.md, e.g. ``# D: ...``, ``(A)``) or says
plainly ``assumption``, ``CALIBRATED`` (tuned to a target in
``simulator/calibration.py``) or ``derived`` (computed from other figures).
The comment check is textual (TOML parsers drop comments); ``tomllib`` checks
that the file is valid TOML and :func:`simulator.scenario_io.load` that it is a
valid scenario. Top-level keys (``schema_version``, ``name``, ``description``,
``currency``) are outside the tables and not checked line by line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from simulator.scenario_io import load

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.toml"))

# A study letter A-E standing alone and followed by ':', ';', ',', '(' or ')' or the
# end of the comment ("D: ...", "(A)", "B (see ...)", "# D"), or one of the words.
SOURCE = re.compile(r"(?<![\w'])[A-E](?=\s*[:;,)(]|\s*$)"
                    r"|\b(?i:assumption)\b|\bCALIBRATED\b|\b(?i:derived)\b")
# key = value, the key bare, quoted or dotted.
ASSIGNMENT = re.compile(r'^\s*(?:[A-Za-z0-9_-]+|"[^"]*")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*'
                        r"\s*=")


def split_comment(line: str) -> tuple[str, str | None]:
    """(code, comment) of one TOML line; a '#' inside a string is not a comment."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[:i], line[i + 1:]
        i += 1
    return line, None


def unsourced_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every parameter line inside a table without a source."""
    bad: list[tuple[int, str]] = []
    in_tables = False
    in_multiline = None  # the closing delimiter of a multi-line string or array
    above: str | None = None  # the comment line directly above, if any
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            above = None
            continue
        if s.startswith("["):
            in_tables = True
            above = None
            continue
        if s.startswith("#"):
            above = s[1:]
            continue
        if not s:
            above = None
            continue
        code, comment = split_comment(line)
        for opener, closer in (('"""', '"""'), ("'''", "'''")):
            if code.count(opener) == 1:
                in_multiline = closer
        if in_multiline is None and code.count("[") > code.count("]"):
            in_multiline = "]"  # a multi-line array: its continuation lines are its value
        if in_tables and ASSIGNMENT.match(code):
            ok = any(c is not None and SOURCE.search(c) for c in (comment, above))
            if not ok:
                bad.append((n, line))
        above = None
    return bad


def test_scenarios_are_shipped():
    """The library ships the scenarios the docs describe."""
    assert {p.stem for p in FILES} >= {
        "xinghe_today", "xinghe_yinhe_6tier", "xinghe_3h_golden_response",
        "hnw_apparel_today", "hnw_deep_service", "global_shop_today",
        "segment_budget_plan", "loyalty_playbook"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_is_valid_toml_and_a_valid_scenario(path):
    """Every shipped file parses and validates via simulator.scenario_io.load."""
    tomllib.loads(path.read_text(encoding="utf-8"))
    sc = load(path)
    assert sc.name.strip()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_has_a_description(path):
    """Every shipped scenario says what it is."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data.get("description"), str) and data["description"].strip()
    assert load(path).description.strip()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_parameter_names_its_source(path):
    """Each key = value line in the tables cites a study (A-E) or says what it is."""
    bad = unsourced_lines(path.read_text(encoding="utf-8"))
    assert not bad, (f"{path.name}: parameter lines without a source comment (study letter "
                     f"A-E, 'assumption', 'CALIBRATED' or 'derived'):\n"
                     + "\n".join(f"  {n}: {line}" for n, line in bad))


def test_the_source_check_can_fail():
    """The checker flags an uncommented line and accepts each kind of source."""
    text = "\n".join([
        "name = 'top level, not checked'",
        "[segments]",
        "a = 1                # D: key accounts 23 %",
        "b = 2                # assumption",
        "c = 3                # CALIBRATED to D",
        "# derived: 2 x 1.5",
        "d = 3.0",
        "e = 4                # as the line above",
        "f = 5",
        "g = \"# not a comment\"",
        "h = 6                # (A)",
        "i = 7                # A thin night shift",
    ])
    assert [n for n, _ in unsourced_lines(text)] == [8, 9, 10, 12]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shipped_file_is_at_the_current_schema_version(path):
    """Opening a shipped file reports no migration (the GUI showed "migrated from schema
    version 2 to 3" for every shipped scenario)."""
    from simulator.scenario_io import migrate

    _, notes = migrate(tomllib.loads(path.read_text(encoding="utf-8")))
    assert notes == []
