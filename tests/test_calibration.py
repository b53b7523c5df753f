"""Each shipped scenario reproduces the study figures it was built from.

Targets are data in ``simulator.calibration.TARGETS``; these tests run every
scenario with targets on a small sample (intervention targets also run the base
scenario on the same seed) and require every target to pass. The samples are
chosen per scenario so the whole file stays under ~90 s on 2 cores; the
``benefit-sim calibrate`` report uses bigger ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.calibration import TARGETS, Target, calibrate, evaluate, report_text
from simulator.scenario_io import load

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# key -> (replications, agents, horizon months or None for the scenario's own)
SAMPLE = {
    "xinghe_today": (3, 4000, None),
    "xinghe_yinhe_6tier": (2, 3000, 24),
    "xinghe_3h_golden_response": (2, 3000, 24),
    "hnw_apparel_today": (3, 5000, None),
    "hnw_deep_service": (4, 5000, None),
    "global_shop_today": (2, 3000, 12),
    "segment_budget_plan": (2, 3000, 12),
    "loyalty_playbook": (2, 1000, 12),
}


def test_every_shipped_scenario_with_targets_exists_and_is_sampled():
    """Targets name real files, real segments/tiers, and every file has a sample here."""
    for key, targets in TARGETS.items():
        sc = load(SCENARIOS / f"{key}.toml")
        assert key in SAMPLE
        segs = {s.name for s in sc.segments}
        tiers = {t.name for t in sc.tiers}
        for t in targets:
            for w in filter(None, (t.where, t.versus)):
                kind, _, name = w.partition(":")
                assert w == "shop" or (kind == "segment" and name in segs) or (
                    kind == "tier" and name in tiers), (key, w)
            assert t.source and t.tolerance >= 0


@pytest.mark.parametrize("key", sorted(TARGETS))
def test_scenario_meets_its_targets(key):
    """The model reproduces the studies' observed figures within tolerance."""
    path = SCENARIOS / f"{key}.toml"
    sc = load(path)
    reps, agents, horizon = SAMPLE[key]
    rep = calibrate(key, sc, path, replications=reps, agents=agents, horizon_months=horizon,
                    workers=1)
    assert len(rep.results) == len(TARGETS[key])
    assert rep.passed, report_text(rep)


def test_evaluate_fails_a_target_the_model_misses():
    """A target far from the simulated value fails (the check can fail)."""
    path = SCENARIOS / "xinghe_today.toml"
    sc = load(path)
    from simulator.runner import run

    res = run(sc, replications=2, agents=1000, horizon_months=12, workers=1)
    ok = evaluate(Target("churn_annual", "shop", 0.99, 0.01, "test"), res, sc)
    assert not ok.passed
    near = evaluate(Target("churn_annual", "shop", ok.simulated.mean, 0.001, "test"), res, sc)
    assert near.passed
    assert ok.simulated.ci95_low <= ok.simulated.mean <= ok.simulated.ci95_high
