"""Scenario files: validation messages, unknown keys, migration, atomic saves."""

import os
from pathlib import Path

import pytest

import scenarios
from simulator.cli import main
from simulator.scenario_io import ScenarioError, dumps, from_dict, load, loads, save, to_dict
from tests.conftest import simple_dict


def _issues(d):
    with pytest.raises(ScenarioError) as e:
        from_dict(d)
    return [str(i) for i in e.value.issues]


def test_negative_threshold_names_field_value_and_rule():
    d = simple_dict()
    d["tiers"] += [{"name": "Silver", "threshold_cny": 100.0},
                   {"name": "Gold", "threshold_cny": -5}]
    assert ("Tiers & benefits ▸ Tier 'Gold' ▸ Threshold: ¥-5 — must be between ¥0 and "
            "¥1,000,000,000") in _issues(d)


def test_all_errors_reported_at_once():
    d = simple_dict()
    d["segments"][0]["gross_margin"] = 1.5
    d["segments"][0]["orders_per_month"] = -1
    d["run"]["horizon_months"] = 0
    issues = _issues(d)
    assert len(issues) == 3
    assert "Segments ▸ Segment 'All' ▸ Gross margin: 150 % — must be between 0 and 100 %" \
        in issues
    assert "Run settings ▸ Horizon months: 0 months — must be between 1 and 120 months" in issues


def test_unknown_key_is_an_error():
    d = simple_dict()
    d["segments"][0]["churn_anual"] = 0.2  # typo
    assert "Segments ▸ Segment 'All' ▸ Churn anual — is not a known setting (check the " \
        "spelling)" in _issues(d)


def test_cross_field_rules():
    d = simple_dict()
    d["segments"][0]["share"] = 0.7
    d["tiers"][0]["pool"] = "Nope"
    issues = _issues(d)
    assert "Segments ▸ every segment ▸ Share: 70 % — the shares must add up to 100 %" in issues
    assert "Tiers & benefits ▸ Tier 'Member' ▸ Pool: 'Nope' — must be one of 'CS'" in issues


def test_bad_choice_lists_allowed_values():
    d = simple_dict()
    d["tier_rules"] = {"review": "weekly"}
    assert any(i.startswith("Tiers & benefits ▸ Tier rules ▸ Review: 'weekly' — must be one of")
               for i in _issues(d))


def test_not_toml_is_a_clear_error(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text("name = [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load(p)
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load(p)


def test_newer_schema_is_refused():
    d = simple_dict()
    d["schema_version"] = 99
    assert any("newer than this program" in i for i in _issues(d))


def test_version_1_file_is_migrated():
    d = simple_dict()
    v1 = {
        "schema_version": 1, "name": "Old",
        "population": {"customers": 1000, "segments": d["segments"]},
        "tier_scheme": {"review": "quarterly", "tiers": d["tiers"]},
        "service": {"pools": [{"name": "CS", "staff": 4, "open_hours": [8, 20]}]},
    }
    sc = from_dict(v1)
    assert sc.schema_version == 6  # migrated 1 -> ... -> 6 (a file without ranges saves as 2)
    assert to_dict(sc)["schema_version"] == 2
    assert sc.tier_rules.review == "quarterly"
    assert sc.service.pools[0].shifts[0].staff == 4
    assert sc.service.pools[0].shifts[0].end_hour == 20


def test_round_trip_and_atomic_save(tmp_path, monkeypatch):
    sc = from_dict(simple_dict())
    p = tmp_path / "s.toml"
    save(sc, p)
    assert loads(p.read_text(encoding="utf-8")) == sc
    before = p.read_bytes()
    sc2 = sc.model_copy(update={"name": "Changed"})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save(sc2, p)
    assert p.read_bytes() == before  # old file intact
    assert [x.name for x in tmp_path.iterdir()] == ["s.toml"]  # no temp file left


def test_scenario_file_is_data_not_code(tmp_path):
    d = simple_dict()
    d["name"] = "__import__('os').system('echo hacked')"
    sc = from_dict(d)
    p = tmp_path / "x.toml"
    save(sc, p)
    assert load(p).name == d["name"]  # kept as text


def test_chinese_names_round_trip(tmp_path):
    d = simple_dict()
    d["tiers"][0]["name"] = "青铜 Bronze"
    sc = from_dict(d)
    assert "青铜" in dumps(sc)
    p = tmp_path / "c.toml"
    save(sc, p)
    assert load(p).tiers[0].name == "青铜 Bronze"


def test_shipped_scenarios_are_valid_and_read_only():
    entries = scenarios.list_shipped()
    assert entries and all(e.error is None for e in entries), [e.error for e in entries]
    sc = load(entries[0].path)
    with pytest.raises(PermissionError):
        scenarios.save_user(sc, entries[0].path)
    p = scenarios.save_user(sc)
    assert p.parent == scenarios.user_dir() and load(p) == sc


def test_cli_validate_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.toml"
    save(from_dict(simple_dict()), good)
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(good).read_text().replace("threshold_cny = 0.0",
                                                   "threshold_cny = -5.0"), encoding="utf-8")
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(good), str(bad)]) == 2
    out = capsys.readouterr().out
    assert "Tiers & benefits ▸ Tier 'Member' ▸ Threshold: ¥-5 — must be between ¥0 and " \
        "¥1,000,000,000" in out
    assert "(tiers[0].threshold_cny)" in out  # where it is in the file, for hand edits


def test_unique_name_is_the_one_generator_of_free_names(tmp_path, monkeypatch):
    from simulator.library import unique_name, unique_user_path

    # Scenario names (the optimiser's "Apply this split"): the name itself when free.
    assert unique_name("Plan", []) == "Plan"
    assert unique_name("Plan", ["Plan", "Plan (2)"]) == "Plan (3)"
    # Copies (library duplicate, editor rows): always tagged.
    assert unique_name("Gold", [], tag="copy") == "Gold (copy)"
    assert unique_name("Gold", ["Gold (copy)"], tag="copy") == "Gold (copy 2)"
    # The 80-character limit is kept by shortening the name, never the number.
    long = "x" * 85
    assert unique_name(long, ["x" * 80]) == "x" * 76 + " (2)"
    assert unique_name(long, [], tag="copy") == "x" * 73 + " (copy)"
    # File stems in the user folder: name_2, name_3 ...
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path))
    first = unique_user_path("My plan")
    assert first.name == "My_plan.toml"
    first.write_text("", encoding="utf-8")
    assert unique_user_path("My plan").name == "My_plan_2.toml"


def test_a_migration_that_changes_nothing_is_not_noted():
    """Opening a schema-3 file showed "migrated from schema version 3 to 4" though 3 -> 4
    only bumps the number (a version-3 file is valid as it is); a version-1 file, whose
    layout does change, still says so, once, with the versions it went from and to."""
    from simulator.scenario import SCHEMA_VERSION
    from simulator.scenario_io import migrate, to_dict

    d = to_dict(from_dict(simple_dict()))
    for old in range(2, SCHEMA_VERSION):
        data, notes = migrate({**d, "schema_version": old})
        assert notes == [] and data["schema_version"] == SCHEMA_VERSION
    v1 = {**d, "schema_version": 1, "population": {**d["population"], "segments": d["segments"]}}
    del v1["segments"]
    data, notes = migrate(v1)
    assert notes == [f"migrated from schema version 1 to {SCHEMA_VERSION}"]
    assert data["segments"] == d["segments"]
