"""Each shipped scenario reproduces the study figures it was built from.

Targets are data next to the scenario files, ``scenarios/targets/<key>.toml`` (each
with its study source), read into ``simulator.calibration.TARGETS``; these tests run every
scenario with targets on a small sample (intervention targets also run the base
scenario on the same seed, i.e. common random numbers) and require every target
to pass. The samples are chosen per scenario so the whole file stays under
~90 s on 2 cores; the ``benefit-sim calibrate`` report uses bigger ones
(6 replications x 8,000 agents).

Tolerance: each target carries its own, absolute and in the metric's unit
(``Target.tolerance``), and passes when the simulated mean across replications
is within it of the study's figure (``bound="near"``), or at most / at least the
figure (``"at_most"`` / ``"at_least"``). For example churn +/-2 pp (HNW +/-3 pp),
CS response 6 h +/-0.6 h, resolution 48 h +/-4 h, shares +/-3-4 pp; effect sizes:
Diamond complaints -52 % +/-8 pp, Diamond satisfaction +18 % +/-5 pp, HNW LTV
+25 % +/-7 pp, brand-loyal repurchase +16 pp +/-3 pp. The tolerance says how
close the model must be to the study; the 95 % interval in the failure message
says how well the small sample pins the mean down. A failure prints the whole
report (target, simulated, interval, tolerance, source).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.calibration import (
    TARGETS,
    TARGETS_DIR,
    Target,
    calibrate,
    evaluate,
    load_targets,
    report_text,
)
from simulator.scenario_io import load

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# key -> (replications, agents, horizon months or None for the scenario's own)
SAMPLE = {
    "xinghe_today": (3, 4000, None),
    "xinghe_yinhe_6tier": (2, 3000, 24),
    "xinghe_3h_golden_response": (2, 3000, 24),
    "hnw_apparel_today": (3, 5000, None),
    "hnw_deep_service": (4, 5000, None),
    "global_shop_today": (2, 12000, 12),  # brand-loyal are 15 %: enough of them for ±3 pp
    "segment_budget_plan": (2, 12000, 12),
    "loyalty_playbook": (2, 1000, 12),
    "lifecycle_today": (2, 12000, 12),
    "lifecycle_recall_referrals": (3, 12000, 12),  # recall success +-3 pp at this sample
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


# Intervention effects the studies give, and the target that must reproduce each:
# (scenario, metric, where) -> (mode, study figure).
EFFECTS = {
    ("xinghe_3h_golden_response", "complaints_per_order", "tier:Diamond"): ("change", -0.52),
    ("xinghe_3h_golden_response", "satisfaction_end", "tier:Diamond"): ("change", 0.18),
    ("hnw_deep_service", "ltv_per_customer", "segment:HNW"): ("change", 0.25),
    ("segment_budget_plan", "repurchase_rate", "segment:Brand-loyal"): ("difference", 0.16),
}


def test_today_scenarios_have_targets():
    """Every shipped 'today' scenario (and every scenario sampled here) has targets."""
    shipped = {p.stem for p in SCENARIOS.glob("*.toml")}
    today = {k for k in shipped if k.endswith("_today")}
    assert today >= {"xinghe_today", "hnw_apparel_today", "global_shop_today"}
    assert today <= set(TARGETS)
    assert set(SAMPLE) == set(TARGETS) and set(TARGETS) <= shipped


def test_intervention_effects_are_targets():
    """The studies' intervention effects are calibration targets vs the base scenario."""
    for (key, metric, where), (mode, figure) in EFFECTS.items():
        hits = [t for t in TARGETS[key] if (t.metric, t.where, t.mode) == (metric, where, mode)]
        assert len(hits) == 1, (key, metric, where, mode)
        assert hits[0].observed == pytest.approx(figure)
        assert 0 < hits[0].tolerance < abs(figure)  # a tolerance that still demands an effect
        sc = load(SCENARIOS / f"{key}.toml")
        assert sc.run.counterfactual.mode == "base_scenario" and sc.run.counterfactual.base_scenario


@pytest.mark.parametrize("key", sorted(TARGETS))
def test_scenario_meets_its_targets(key):
    """The model reproduces the studies' observed figures within tolerance."""
    path = SCENARIOS / f"{key}.toml"
    sc = load(path)
    reps, agents, horizon = SAMPLE[key]
    rep = calibrate(key, sc, path, replications=reps, agents=agents, horizon_months=horizon,
                    workers=1)
    assert len(rep.results) == len(TARGETS[key])
    text = report_text(rep)
    assert text.count(" tol ") == len(TARGETS[key])  # the report states every tolerance
    assert rep.passed, text


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


def test_targets_are_files_next_to_the_scenarios():
    """One targets file per scenario with targets, beside the scenario files."""
    assert TARGETS_DIR == SCENARIOS / "targets"
    assert {p.stem for p in TARGETS_DIR.glob("*.toml")} == set(TARGETS)
    assert load_targets() == TARGETS


@pytest.mark.parametrize("text,message", [
    ("[[target]]\nmetric = 'roi'\nwhere = 'shop'\nobserved = 3.0\nsource = 'A'\n",
     "target 1: missing field(s) ['tolerance']"),
    ("[[target]]\nmetric = 'roi'\nwhere = 'shop'\nobserved = 3.0\ntolerance = 1\n"
     "source = 'A'\nmode = 'ratio'\n",
     "target 1: mode = 'ratio' must be one of ['level', 'change', 'difference']"),
    ("[[target]]\nmetric = 'roi'\nwhere = 'shop'\nobserved = 'three'\ntolerance = 1\n"
     "source = 'A'\n", "target 1: observed = 'three' must be a finite number"),
    ("[[target]]\nmetric = 'roi'\nwhere = 'shop'\nobserved = 3.0\ntolerance = -1\n"
     "source = 'A'\n", "target 1: tolerance = -1 must be >= 0"),
    ("[[target]]\nmetric = 'roi'\nwhere = 'shop'\nobserved = 3.0\ntolerance = 1\n"
     "source = 'A'\ncolour = 'red'\n", "target 1: unknown field(s) ['colour']"),
    ("[targets]\nmetric = 'roi'\n", "must hold [[target]] tables only (found ['targets'])"),
    ("[[target]\n", "cannot be read as TOML"),
])
def test_a_malformed_targets_file_says_which_target_and_field(tmp_path, text, message):
    (tmp_path / "x.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        load_targets(tmp_path)
    assert str(tmp_path / "x.toml") in str(exc.value) and message in str(exc.value)


def test_targets_file_reads_into_targets(tmp_path):
    (tmp_path / "k.toml").write_text(
        "[[target]]\nmetric = 'churn_annual'\nwhere = 'segment:HNW'\nobserved = 0.32\n"
        "tolerance = 0.03\nsource = 'A: HNW churn'\nbound = 'at_most'\n", encoding="utf-8")
    assert load_targets(tmp_path) == {"k": [Target("churn_annual", "segment:HNW", 0.32, 0.03,
                                                   "A: HNW churn", bound="at_most")]}
