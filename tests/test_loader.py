"""The one loader: a scenario and its base, resolved relative to the file that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

import scenarios
from simulator.cli import main
from simulator.loader import BASE_FIELD, BASE_LABEL, load_scenario, loaded_from
from simulator.scenario_io import ScenarioError, load, save, scenario_hash

SHIPPED = Path(scenarios.SHIPPED_DIR)
WITH_BASE = sorted(p.stem for p in SHIPPED.glob("*.toml")
                   if load(p).run.counterfactual.mode == "base_scenario")


def test_seven_shipped_scenarios_have_a_base():
    assert len(WITH_BASE) == 7  # incl. lifecycle_today (base: loyalty_playbook) and its successor


@pytest.mark.parametrize("key", WITH_BASE)
def test_shipped_base_resolves_relative_to_the_file(key):
    ld = load_scenario(key)
    assert ld.path == (SHIPPED / f"{key}.toml").resolve() or ld.path == SHIPPED / f"{key}.toml"
    assert ld.base is not None and ld.base.path.parent == SHIPPED.resolve()
    assert ld.base.path.name == ld.scenario.run.counterfactual.base_scenario
    assert ld.scenario_hash == scenario_hash(ld.scenario)
    assert ld.base_hash == scenario_hash(ld.base.scenario) == ld.base.scenario_hash
    assert ld.base_scenario is ld.base.scenario


def test_loaded_is_frozen():
    ld = load_scenario("xinghe_today")
    assert ld.base is None and ld.base_hash is None
    with pytest.raises(AttributeError):
        ld.scenario = None  # type: ignore[misc]


def test_not_depending_on_working_directory(tmp_path, monkeypatch):
    """The GUI used to resolve the base against the working directory."""
    monkeypatch.chdir(tmp_path)
    ld = load_scenario("xinghe_3h_golden_response")
    assert ld.base.scenario.name == load(SHIPPED / "xinghe_today.toml").name
    # A scenario in memory (no file yet) finds a shipped base by name.
    assert loaded_from(ld.scenario).base.path == ld.base.path


def _variant(tmp_path: Path, base_value: str, name="v.toml") -> Path:
    sc = load(SHIPPED / "xinghe_3h_golden_response.toml")
    sc.run.counterfactual.base_scenario = base_value
    p = tmp_path / name
    save(sc, p)
    return p


def _refused(path: Path) -> str:
    with pytest.raises(ScenarioError) as ei:
        load_scenario(path)
    issues = ei.value.issues
    assert len(issues) == 1 and issues[0].path == BASE_FIELD
    assert BASE_LABEL in str(issues[0]) and "allowed" in str(issues[0])
    return str(issues[0])


def test_base_next_to_a_user_file_wins_over_the_shipped_one(tmp_path):
    base = load(SHIPPED / "xinghe_today.toml")
    base.name = "My own today"
    save(base, tmp_path / "xinghe_today.toml")
    ld = load_scenario(_variant(tmp_path, "xinghe_today.toml"))
    assert ld.base.scenario.name == "My own today"
    # A copy saved elsewhere without its base keeps the shipped base (found by name).
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert load_scenario(_variant(other, "xinghe_today.toml")).base.path.parent == \
        SHIPPED.resolve()


def test_missing_base_is_named(tmp_path):
    msg = _refused(_variant(tmp_path, "no_such_plan.toml"))
    assert "no_such_plan.toml" in msg and "does not exist" in msg


def test_path_leaving_the_scenario_folders_is_refused(tmp_path):
    d = tmp_path / "a" / "b"
    d.mkdir(parents=True)
    outside = tmp_path / "x.toml"
    save(load(SHIPPED / "xinghe_today.toml"), outside)  # exists, but outside: still refused
    assert "outside the scenario folders" in _refused(_variant(d, "../../x.toml"))
    assert "outside the scenario folders" in _refused(_variant(d, str(outside)))


def test_base_that_is_not_a_scenario_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert "not a scenario file" in _refused(_variant(tmp_path, "notes.txt"))
    (tmp_path / "broken.toml").write_text("name = 3\n")
    assert "not a valid scenario file" in _refused(_variant(tmp_path, "broken.toml"))


def test_cycles_are_refused(tmp_path):
    msg = _refused(_variant(tmp_path, "self.toml", name="self.toml"))
    assert "cycle" in msg
    _variant(tmp_path, "b.toml", name="a.toml")
    _variant(tmp_path, "a.toml", name="b.toml")
    assert "cycle" in _refused(tmp_path / "a.toml")


def test_segment_incompatible_base(tmp_path):
    base = load(SHIPPED / "global_shop_today.toml")
    save(base, tmp_path / "shop.toml")
    msg = _refused(_variant(tmp_path, "shop.toml"))
    assert "same segments" in msg and "Key accounts" in msg


def test_validate_resolves_references_like_run(tmp_path, capsys, monkeypatch):
    """Issue 19 item 3: validate said ok to all of these; run then failed."""
    monkeypatch.setenv("COLUMNS", "400")
    bad = [_variant(tmp_path, "no_such.toml", "missing.toml"),
           _variant(tmp_path, "self2.toml", "self2.toml"),
           _variant(tmp_path, "../x.toml", "leave.toml")]
    for p in bad:
        assert main(["validate", str(p)]) == 2
        out = capsys.readouterr().out
        assert "invalid" in out and BASE_FIELD in out and "Traceback" not in out
        assert main(["run", str(p), "-r", "1", "-n", "200", "--months", "1"]) == 2
    assert main(["validate", str(SHIPPED / "xinghe_yinhe_6tier.toml")]) == 0
    assert "base: xinghe_today.toml" in capsys.readouterr().out


def test_runner_refuses_a_segment_incompatible_base():
    from simulator.runner import run

    sc = load(SHIPPED / "xinghe_3h_golden_response.toml")
    with pytest.raises(ValueError, match="same segments"):
        run(sc, base=load(SHIPPED / "global_shop_today.toml"), replications=1, agents=200,
            horizon_months=1, workers=1)


@pytest.mark.parametrize("value", ["x" * 300 + ".toml", "x" * 300, "sub/" + "y" * 400 + ".toml",
                                   "a\x00b.toml"])
def test_unusable_base_file_name_is_named(tmp_path, value):
    """A name the file system refuses (over 255 bytes: 'File name too long') is a
    ScenarioError naming the field, not a raw OSError."""
    msg = _refused(_variant(tmp_path, value))
    assert "file name" in msg
