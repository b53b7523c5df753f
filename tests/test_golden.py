"""Golden outputs: each shipped scenario's summary at a fixed seed and small sample.

A change in any number fails the test, so behaviour changes are seen. When a
change is intended (e.g. the engine changed on purpose), regenerate with::

    UPDATE_GOLDEN=1 pytest tests/test_golden.py

and commit the updated ``scenarios/golden/<key>.json`` with the change.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from simulator.loader import load_scenario
from simulator.runner import run

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
GOLDEN = SCENARIOS / "golden"
SAMPLE = dict(replications=2, agents=2000, horizon_months=24, workers=1)  # seed: the file's
REL_TOL = 1e-9
KEYS = sorted(p.stem for p in SCENARIOS.glob("*.toml"))


def summary_of(key: str) -> dict:
    """The golden record: sample settings and every summary, segment and tier mean."""
    ld = load_scenario(SCENARIOS / f"{key}.toml")
    sc = ld.scenario
    # At the nominal values of the inputs written as ranges (the mode of a triangular
    # range): the numbers the files gave before they had ranges. Sampling the ranges is
    # tested in tests/test_uncertainty.py.
    res = run(sc, base=ld.base_scenario, assumptions="nominal", **SAMPLE)
    js = res.to_json()

    def means(block):
        return {k: v["mean"] for k, v in block.items()}

    return {"scenario": sc.name, "sample": {**SAMPLE, "seed": sc.run.seed},
            "summary": means(js["summary"]),
            "by_segment": {s: means(b) for s, b in js["by_segment"].items()},
            "by_tier": {t: means(b) for t, b in js["by_tier"].items()}}


def _compare(path: str, got, want, bad: list[str]) -> None:
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            bad.append(f"{path}: keys differ")
            return
        for k in want:
            _compare(f"{path}.{k}", got[k], want[k], bad)
    elif isinstance(want, float) or isinstance(got, float):
        if want is None or got is None:
            if want is not got:
                bad.append(f"{path}: {got} != {want}")
        elif not math.isclose(got, want, rel_tol=REL_TOL, abs_tol=1e-9):
            bad.append(f"{path}: {got!r} != golden {want!r}")
    elif got != want:
        bad.append(f"{path}: {got!r} != golden {want!r}")


@pytest.mark.parametrize("key", KEYS)
def test_golden(key):
    """The scenario's summary equals its golden file (regenerate on purpose only)."""
    got = json.loads(json.dumps(summary_of(key)))  # NaN -> NaN round trip like the file
    f = GOLDEN / f"{key}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        f.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                     encoding="utf-8")
        pytest.skip(f"golden file {f.name} written")
    assert f.exists(), f"no golden file {f}; run UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    want = json.loads(f.read_text(encoding="utf-8"))
    bad: list[str] = []
    _compare(key, got, want, bad)
    assert not bad, ("summary changed vs the golden file (if intended: UPDATE_GOLDEN=1 "
                     "pytest tests/test_golden.py):\n" + "\n".join(bad[:20]))
