"""Shared fixtures: a tiny scenario builder and an isolated user folder."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from simulator.scenario_io import from_dict  # noqa: E402


@pytest.fixture(autouse=True)
def _user_home(tmp_path, monkeypatch):
    """Every test gets its own user scenario folder and settings."""
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path / "home"))
    yield


def simple_dict(**over) -> dict:
    """A minimal valid scenario as a dict (one segment, one tier, one pool)."""
    d = {
        "schema_version": 2,
        "name": "Simple",
        "population": {"customers": 10000},
        "segments": [{
            "name": "All", "share": 1.0, "orders_per_month": 0.5, "order_rate_cv": 0.0,
            "spend_per_order_cny": 200.0, "spend_cv": 0.0, "gross_margin": 0.3,
            "churn_annual": 0.2, "contacts_per_order": 0.0, "complaints_per_order": 0.0,
        }],
        "tiers": [{"name": "Member", "threshold_cny": 0.0}],
        "service": {"pools": [{"name": "CS", "cost_per_agent_hour_cny": 0.0,
                               "shifts": [{"start_hour": 0, "end_hour": 24, "staff": 5}]}]},
        "run": {"horizon_months": 12, "agents": 2000, "replications": 4, "seed": 7},
    }
    for k, v in over.items():
        d[k] = v
    return d


@pytest.fixture
def simple():
    """Factory: simple(**top_level_overrides) -> Scenario."""
    return lambda **over: from_dict(simple_dict(**over))


def pytest_terminal_summary(terminalreporter):
    """Counts per class of the generated hostile files (tests/test_hostile.py), if it ran."""
    import sys

    mod = sys.modules.get("tests.test_hostile") or sys.modules.get("test_hostile")
    results = getattr(mod, "RESULTS", None)
    if not results:
        return
    tr = terminalreporter
    tr.section("hostile scenario files per class")
    tr.write_line(f"{'class':24} {'cases':>6} {'refused':>8} {'accepted':>9} {'crashed':>8} "
                  f"{'mishandled':>10}")
    for cls, c in results.items():
        n = c["refused"] + c["accepted"] + c["crashed"]
        tr.write_line(f"{cls:24} {n:6d} {c['refused']:8d} {c['accepted']:9d} {c['crashed']:8d} "
                      f"{c['bad']:10d}")
