"""The problems panel resolves the base scenario as a run does (the one loader)."""

import pytest

import scenarios
from simulator.loader import BASE_LABEL
from simulator.scenario_io import load, save
from ui.document import ScenarioDocument

pytestmark = pytest.mark.gui

BASE = ("run", "counterfactual", "base_scenario")


def _variant(folder, base_value, name="variant.toml"):
    sc = load(scenarios.shipped_path("xinghe_3h_golden_response"))
    sc.run.counterfactual.base_scenario = base_value
    p = folder / name
    save(sc, p)
    return p


def _problems(doc):
    return [str(i) for i in doc.issues()]


def test_missing_base_is_a_problem_naming_the_field(qtbot, private_home, tmp_path):
    folder = tmp_path / "plans"
    folder.mkdir()
    path = _variant(folder, "no_such_plan.toml")
    doc = ScenarioDocument(load(path), path)
    probs = _problems(doc)
    assert len(probs) == 1 and BASE_LABEL in probs[0] and "does not exist" in probs[0]
    assert doc.issues()[0].path == "run.counterfactual.base_scenario"
    # a base next to the file resolves: the problem goes away
    base = load(scenarios.shipped_path("xinghe_today"))
    save(base, folder / "my_base.toml")
    assert doc.set_value(BASE, "my_base.toml") == []
    assert _problems(doc) == []
    # the base resolves relative to the document's own file: a cycle is named
    assert doc.set_value(BASE, "variant.toml") == []
    assert any("cycle" in p and BASE_LABEL in p for p in _problems(doc))
    # a base with other segments
    other = load(scenarios.shipped_path("xinghe_today"))
    other.segments = list(reversed(other.segments))  # same segments, another order
    save(other, folder / "other_segments.toml")
    doc.set_value(BASE, "other_segments.toml")
    assert any("segments" in p and BASE_LABEL in p for p in _problems(doc))
    # a name the file system refuses is a problem too, not a crash
    doc.set_value(BASE, "x" * 300 + ".toml")
    assert any("file name" in p and BASE_LABEL in p for p in _problems(doc))


def test_problems_panel_in_window_shows_missing_base(qtbot, window, prompter, tmp_path):
    win = window
    path = _variant(scenarios.user_dir(), "gone_base.toml")
    assert win.open_path(path)
    msgs = win.editor.issues.messages()
    assert not any(m.startswith("✓ No problems") for m in msgs)
    assert any(BASE_LABEL in m and "gone_base.toml" in m for m in msgs)
    # the preview waits for the problem to be fixed instead of failing
    assert not win.results.start_preview()
