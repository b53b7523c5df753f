"""The budget optimiser: known-answer allocation tests, curve fits, and study B end to end."""

import math

import numpy as np
import pytest

from simulator.optimiser import (
    allocate,
    binding_of,
    fit_curve,
    marginal_returns,
    objective_from,
    optimise,
    probe_split,
    verify,
)
from tests.support.studies import study_b_scenario


# --------------------------------------------------------------------------- allocation
def log_model(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return lambda x: float((a * np.log1p(np.asarray(x) / b)).sum())


def test_optimum_equalises_marginal_returns_closed_form():
    # Concave a_i log(1 + x_i / b_i): interior optimum x_i = a_i / λ − b_i.
    a, b = np.array([100.0, 50.0, 30.0]), np.array([10.0, 20.0, 5.0])
    B = 100.0
    sol = allocate(log_model(a, b), [0] * 3, [1000] * 3, B, constraint="equal")
    lam = a.sum() / (B + b.sum())
    np.testing.assert_allclose(sol.x, a / lam - b, atol=0.05)
    m = marginal_returns(log_model(a, b), sol.x, [0] * 3, [1000] * 3)
    np.testing.assert_allclose(m, lam, rtol=2e-3)
    assert math.isclose(sol.x.sum(), B, rel_tol=1e-9)


def test_zero_effect_lever_gets_only_its_minimum():
    a, b = np.array([100.0, 0.0, 30.0]), np.array([10.0, 1.0, 5.0])
    lo = np.array([0.0, 7.0, 0.0])
    sol = allocate(log_model(a, b), lo, [1000] * 3, 100.0, constraint="equal")
    assert sol.x[1] == pytest.approx(7.0, abs=1e-6)
    assert binding_of(sol.x, lo, [1000] * 3)[1] == "min"
    assert sol.x.sum() == pytest.approx(100.0)


def test_bounds_respected_and_max_binds():
    a, b = np.array([100.0, 50.0, 30.0]), np.array([10.0, 20.0, 5.0])
    lo, hi = np.array([5.0, 5.0, 5.0]), np.array([30.0, 200.0, 200.0])
    sol = allocate(log_model(a, b), lo, hi, 100.0, constraint="equal")
    assert np.all(sol.x >= lo - 1e-9) and np.all(sol.x <= hi + 1e-9)
    assert sol.x[0] == pytest.approx(30.0)  # unconstrained it would take 65
    assert binding_of(sol.x, lo, hi)[0] == "max"
    # The free levers still equalise their marginal returns.
    m = marginal_returns(log_model(a, b), sol.x, lo, hi)
    assert m[1] == pytest.approx(m[2], rel=5e-3)
    assert m[0] > m[1]  # the capped lever would earn more


def test_at_most_stops_where_spending_no_longer_pays():
    # Returns a·log(1+x/b) minus the money spent: optimum where a/(b+x) = 1.
    a, b = np.array([40.0, 20.0]), np.array([10.0, 10.0])
    f = lambda x: log_model(a, b)(x) - float(np.sum(x))  # noqa: E731
    sol = allocate(f, [0, 0], [1000, 1000], 500.0, constraint="at_most")
    np.testing.assert_allclose(sol.x, a - b, atol=0.5)
    assert sol.x.sum() < 500 and not sol.budget_binding
    tight = allocate(f, [0, 0], [1000, 1000], 20.0, constraint="at_most")
    assert tight.x.sum() == pytest.approx(20.0, rel=1e-6) and tight.budget_binding


def test_pinned_lever_unchanged():
    a, b = np.array([100.0, 50.0, 30.0]), np.array([10.0, 20.0, 5.0])
    start = np.array([40.0, 1.0, 1.0])
    sol = allocate(log_model(a, b), [0] * 3, [1000] * 3, 100.0, constraint="equal",
                   pinned=[False, True, False], start=start)
    assert sol.x[1] == 1.0
    assert sol.x.sum() == pytest.approx(100.0)
    assert binding_of(sol.x, [0] * 3, [1000] * 3, [False, True, False])[1] == "pinned"


def test_infeasible_budget_names_the_budget():
    with pytest.raises(ValueError, match="budget"):
        allocate(log_model([1, 1], [1, 1]), [60, 60], [100, 100], 100.0)
    with pytest.raises(ValueError, match="budget"):
        allocate(log_model([1, 1], [1, 1]), [0, 0], [10, 10], 100.0, constraint="equal")


def test_fit_curve_recovers_saturating_response():
    x = np.array([0.0, 2.0, 5.0, 10.0, 20.0])
    y = 7.0 + 30.0 * (1 - np.exp(-x / 6.0))
    c = fit_curve(x, y)
    assert c.family in ("exp", "log")
    np.testing.assert_allclose(c(np.array([3.0, 15.0])), 7 + 30 * (1 - np.exp(-np.array([3, 15])
                                                                                / 6.0)), rtol=0.02)
    lin = fit_curve(x, 3.0 + 2.0 * x)
    assert lin.family == "linear" and lin(4.0) == pytest.approx(11.0)


def test_objective_from_components_and_verdict():
    comp = np.array([[110.0, 120.0, 50.0, 900.0, 10.0]])
    ref = np.array([[100.0, 100.0, 40.0]])
    assert objective_from(comp, ref, "npv")[0] == pytest.approx(10.0)
    assert objective_from(comp, ref, "roi")[0] == pytest.approx(20.0 / 10.0)
    assert objective_from(comp, ref, "ltv")[0] == pytest.approx(90.0)
    noisy = verify([1.0, 2.0, 3.0], [1.5, 1.8, 3.4], "npv")
    assert noisy.within_noise and noisy.on_frontier and "within noise" in noisy.verdict
    clear = verify([1.0, 2.0, 3.0], [11.0, 12.1, 13.0], "npv")
    assert not clear.within_noise and not clear.on_frontier
    assert "not on the frontier" in clear.verdict


# --------------------------------------------------------------------------- end to end
def test_study_b_split_on_real_engine():
    """Study B's 25/45/30 split: the optimiser re-splits it and says if it is on the frontier."""
    sc = study_b_scenario(60_000)
    sc.service.window_contacts = 300
    alloc = optimise(sc, agents=2500, replications=2, levels=2, verify_replications=3,
                     horizon_months=12, local_check=False, frontier_shares=(0.5, 1.0, 2.0))
    lv = alloc.levers.set_index("lever")
    promos = [i for i in lv.index if i.startswith("promotion:")]
    assert len(promos) == 3
    total = 1.5 * 60_000  # the promotions' total
    # Today's split is study B's 25/45/30 of the total (spend per month, CNY).
    cur = lv.loc[promos, "current_cny"].to_numpy()
    np.testing.assert_allclose(cur / cur.sum(), [0.25, 0.45, 0.30], atol=0.01)
    assert cur.sum() == pytest.approx(total, rel=0.02)
    # Pinned levers unchanged; the total is spent exactly (constraint 'equal'); bounds hold.
    for k in ("service:CS", "acquisition"):
        assert lv.loc[k, "recommended_cny"] == lv.loc[k, "current_cny"]
        assert lv.loc[k, "binding"] == "pinned"
    assert lv["recommended_cny"].sum() == pytest.approx(alloc.budget_cny, rel=1e-6)
    assert (lv["recommended_cny"] >= lv["min_cny"] - 1e-6).all()
    assert (lv["recommended_cny"] <= lv["max_cny"] + 1e-6).all()
    # Frontier: one row per budget share; under 'equal' each feasible point spends its budget.
    fr = alloc.frontier
    assert list(fr["budget_share"]) == [0.5, 1.0, 2.0]
    for r in fr[fr["feasible"]].itertuples():
        assert r.spent_cny == pytest.approx(r.budget_cny, rel=1e-6)
    v = alloc.verification
    assert v.gain.n == 3 and math.isfinite(v.gain.mean)
    assert v.on_frontier == (v.within_noise or v.gain.mean < 0)
    assert ("frontier" in v.verdict) or ("worse" in v.verdict)
    # "Apply this split" sets the campaigns' budgets to the recommendation.
    new = alloc.apply(sc)
    for p in new.promotions:
        rec = lv.loc[f"promotion:{p.name}", "recommended_cny"]
        assert p.budget_cny == pytest.approx(rec * 12 / 12, rel=1e-9)
    frame, head = alloc.to_frames()
    assert list(frame["lever"]) == list(lv.index)
    assert head["objective"] == "npv" and isinstance(head["verdict"], str)
    js = alloc.to_json()
    assert js["verification"]["gain"]["n"] == 3


# --------------------------------------------------------------------------- apply = headline
def test_probe_never_overspends_an_at_most_budget():
    # Three free levers spending 99.9 of a budget of 100: a +20 % probe on lever 0 (2.0)
    # may use the 0.1 left and must take the rest from the other two.
    x = np.array([10.0, 40.0, 49.9])
    lo, hi = np.zeros(3), np.full(3, 1000.0)
    xp = probe_split(x, 0, lo, hi, [0, 1, 2], 100.0, "at_most")
    assert xp.sum() <= 100.0 + 1e-9
    assert xp[0] > x[0] and (xp >= lo).all()
    # With room in the budget the probe is paid from it and the others keep their spend.
    roomy = probe_split(x, 0, lo, hi, [0, 1, 2], 1000.0, "at_most")
    assert roomy[0] > x[0] and roomy[1:] == pytest.approx(x[1:])
    assert roomy.sum() <= 1000.0
    # Under 'equal' the probe is budget-neutral.
    eq = probe_split(x, 0, lo, hi, [0, 1, 2], float(x.sum()), "equal")
    assert eq.sum() == pytest.approx(x.sum()) and eq[0] > x[0]
    # The others at their minimums and no budget left: the step shrinks to what the budget
    # allows (nothing), so there is no probe.
    assert probe_split(np.array([10.0, 0.0, 0.0]), 0, lo, hi, [0, 1, 2], 10.0, "at_most") is None
    # A pinned lever is never probed.
    assert probe_split(x, 1, lo, hi, [0, 2], 100.0, "at_most") is None


@pytest.fixture(scope="module", params=["xinghe_today", "segment_budget_plan"])
def shipped_optimised(request, tmp_path_factory):
    """The default scenario and study B's, optimised at a small sample."""
    from simulator.loader import load_scenario

    ld = load_scenario(request.param)  # study B's segment plan runs against its base
    sc, base = ld.scenario, ld.base_scenario
    alloc = optimise(sc, agents=1500, replications=1, levels=2, verify_replications=3,
                     horizon_months=12, base=base)
    return sc, base, alloc


def test_applied_split_reproduces_the_headline(shipped_optimised, tmp_path):
    """A full run of the scenario "Apply" saves, at the optimiser's sample and seed, gives
    the headline's recommended figure; the frontier passes through the recommendation."""
    from simulator.runner import run
    from simulator.scenario_io import load, save

    sc, base, alloc = shipped_optimised
    h = alloc.headline()
    applied = alloc.apply(sc)
    save(applied, tmp_path / "applied.toml")  # what "Apply this split" writes
    again = load(tmp_path / "applied.toml")
    res = run(again, replications=h["verify_replications"], agents=h["agents"], seed=h["seed"],
              horizon_months=h["horizon_months"], base=base)
    npv = res.summary["npv"]
    assert npv.mean == pytest.approx(h["recommended_mean"], rel=1e-9, abs=1.0)
    assert h["recommended_ci_low"] <= npv.mean <= h["recommended_ci_high"]
    # Today's figure is today's full run at the same sample and seed.
    res_t = run(sc, replications=h["verify_replications"], agents=h["agents"], seed=h["seed"],
                horizon_months=h["horizon_months"], base=base)
    assert res_t.summary["npv"].mean == pytest.approx(h["today_mean"], rel=1e-9, abs=1.0)
    # The gain is measured against today's counterfactual: today + gain = the split there,
    # and that is the frontier's point at 100 % of the budget.
    ref = h["recommended_vs_today_reference_mean"]
    assert h["today_mean"] + h["gain_mean"] == pytest.approx(ref, rel=1e-9, abs=1.0)
    fr = alloc.frontier.set_index("budget_share")
    assert fr.loc[1.0, "objective_mean"] == pytest.approx(ref, rel=1e-12)
    assert fr.loc[1.0, "split"] == "recommended"
    if h["same_reference"]:
        assert h["recommended_mean"] == pytest.approx(ref, rel=1e-9, abs=1.0)
    else:  # the split moved staff or acquisition, which its own counterfactual shares
        assert "own counterfactual" in h["verdict"]
    # Under "at most" no probe of the local check spent more than the budget.
    if alloc.constraint == "at_most":
        assert (alloc.local_check["spent_cny"] <= alloc.budget_cny * (1 + 1e-9)).all()
        assert (fr[fr["feasible"]]["spent_cny"] <= fr[fr["feasible"]]["budget_cny"]
                * (1 + 1e-9)).all()


def test_applied_split_is_written_in_the_planners_terms(shipped_optimised):
    """Discount depths, staff, campaign budgets and acquisition spend are the fields that
    change; a share-of-value benefit's intensity never does."""
    from simulator.optimiser.levers import describe_changes

    sc, _, alloc = shipped_optimised
    applied = alloc.apply(sc)
    for t0, t1 in zip(sc.tiers, applied.tiers):
        for b0, b1 in zip(t0.benefits, t1.benefits):
            if b0.cost_model == "share_of_order_value" and b0.cost_share > 0:
                assert b1.intensity == b0.intensity
    changes = describe_changes(sc, applied)
    moved = alloc.levers[(alloc.levers["change_cny"].abs() > 1.0)
                         & (alloc.levers["kind"] != "service")]
    assert len(changes) >= len(moved)


def test_workbook_export_uses_the_verification_runs_and_refuses_other_inputs(
        shipped_optimised, tmp_path):
    from simulator.optimisation_workbook import export_optimisation_workbook
    from simulator.provenance import ResultMismatch

    sc, _, alloc = shipped_optimised
    changed = sc.model_copy(deep=True)
    changed.service.pools[0].handle_minutes += 1
    with pytest.raises(ResultMismatch):
        export_optimisation_workbook(changed, None, alloc, tmp_path / "x.xlsx")
    out = export_optimisation_workbook(sc, None, alloc, tmp_path / "opt.xlsx")
    assert out.exists()
