"""Shapley attribution and the "why different" waterfall (issue 15 items 1 and 2)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from simulator.attribution import (
    attribute,
    change_groups,
    explain,
    parts_of,
    permutation_marginals,
    shapley_exact,
)
from simulator.runner import Cancelled, run
from simulator.scenario_io import from_dict, save
from tests.conftest import simple_dict
from tests.support.arms import record_pairings

SAMPLE = dict(replications=3, agents=400)


def benefit(name, cost=0.0, **effect):
    return {"name": name, "kind": "gift", "cost_model": "per_member_month", "cost_cny": cost,
            "effect": effect}


def scheme(benefits, **over):
    d = simple_dict(**over)
    d["run"]["horizon_months"] = 6
    d["tiers"][0]["benefits"] = benefits
    return d


# ------------------------------------------------------------------ Shapley core
def test_shapley_core_only_together_and_permutations():
    # v = 1 only when both players are on: Shapley 1/2 each, alone 0, leave-one-out 1
    v = {0: np.zeros(1), 1: np.zeros(1), 2: np.zeros(1), 3: np.ones(1)}
    phi = shapley_exact(v, 2)
    assert phi[:, 0].tolist() == [0.5, 0.5]
    # a sampled permutation estimate still adds up exactly (telescoping)
    rng = np.random.default_rng(1)
    vals = {m: rng.normal(size=2) for m in range(16)}
    vals[0] = np.zeros(2)
    marg = permutation_marginals(lambda m: vals[m], 4, [[2, 0, 3, 1], [1, 2, 3, 0]])
    assert np.allclose(marg.sum(axis=1), vals[15])
    # with all 24 permutations the estimate is the exact value
    import itertools

    allp = [list(p) for p in itertools.permutations(range(4))]
    assert np.allclose(permutation_marginals(lambda m: vals[m], 4, allp).mean(axis=0),
                       shapley_exact(vals, 4))


# ------------------------------------------------------------------ attribution
def test_efficiency_zero_effect_and_whole_equals_run():
    sc = from_dict(scheme([benefit("Rate", 2.0, order_rate=0.3),
                           benefit("Nothing", 5.0),
                           benefit("Spend", 1.0, spend_per_order=0.2)]))
    att = attribute(sc, **SAMPLE)
    assert [p.label for p in att.parts] == ["Rate", "Nothing", "Spend"]
    assert att.method == "exact" and att.sets_run == 8
    # efficiency: per replication the parts add up to the whole increment
    assert np.allclose(att.per_replication.sum(axis=0), att.whole_per_replication,
                       rtol=1e-12, atol=1e-6)
    # the whole is the scheme's own increment against its scheme-off counterfactual
    res = run(sc, seed=sc.run.seed, **SAMPLE)
    assert np.allclose(att.whole_per_replication[:, 3], res.kpis["npv"], rtol=1e-12, atol=1e-6)
    assert np.allclose(att.whole_per_replication[:, 1], res.kpis["incremental_cost"],
                       rtol=1e-12, atol=1e-6)
    # a benefit with no effect: no margin, its whole cost (members x months x 5 CNY)
    nothing = att.parts[1]
    i = 1
    assert np.allclose(att.per_replication[i, :, 2], 0.0, atol=1e-6)
    cost = att.per_replication[i, :, 1]
    assert np.all(cost > 0)
    assert np.allclose(att.per_replication[i, :, 0], -cost, rtol=1e-9)
    assert nothing.roi.mean == pytest.approx(-1.0)
    # its cost is the same whatever else is on: alone = leave-one-out = Shapley
    assert nothing.npv_alone.mean == pytest.approx(nothing.npv.mean, rel=1e-9)
    assert nothing.npv_last.mean == pytest.approx(nothing.npv.mean, rel=1e-9)
    js = json.loads(json.dumps(att.to_json()))
    assert js["parts"][1]["part"] == "Nothing"


def test_interaction_of_two_benefits_that_multiply():
    # order rate x spend per order: together they earn more than the sum alone
    sc = from_dict(scheme([benefit("Rate", 0.0, order_rate=0.5),
                           benefit("Spend", 0.0, spend_per_order=0.5)]))
    att = attribute(sc, **SAMPLE)
    for p in att.parts:
        assert p.interaction > 0.1 * abs(p.npv_alone.mean)
        # two players: Shapley is the mean of alone and leave-one-out
        assert p.npv.mean == pytest.approx((p.npv_alone.mean + p.npv_last.mean) / 2, rel=1e-9)
    assert sum(p.npv.mean for p in att.parts) == pytest.approx(att.whole["npv"].mean, rel=1e-9)


def test_lever_groups_and_cancel(simple):
    d = scheme([benefit("Rate", 1.0, order_rate=0.2)])
    d["population"]["acquisition"] = {"paid_spend_cny_per_month": 1000.0}
    sc = from_dict(d)
    assert [p.label for p in parts_of(sc, "group")] == ["tier benefits", "acquisition"]
    att = attribute(sc, by="group", **SAMPLE)
    assert np.allclose(att.per_replication.sum(axis=0), att.whole_per_replication, atol=1e-6)
    assert att.parts[1].incremental_cost.mean > 0  # paid acquisition costs money
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        attribute(sc, by="group", cancel=ev, **SAMPLE)
    with pytest.raises(ValueError, match="--by"):
        parts_of(sc, "tier")


# ------------------------------------------------------------------ waterfall
@pytest.fixture(scope="module")
def pair():
    base = from_dict(scheme([benefit("Rate", 1.0, order_rate=0.2),
                             benefit("Gift", 3.0, churn=-0.3)]))
    d = scheme([benefit("Rate", 1.0, order_rate=0.4), benefit("Gift", 3.0, churn=-0.3)])
    d["service"]["pools"][0]["shifts"][0]["staff"] = 9
    d["run"]["discount_rate_annual"] = 0.2
    other = from_dict(d)
    return base, other


def test_waterfall_adds_up_and_is_order_free(pair):
    base, other = pair
    groups = change_groups(base, other)
    assert set(groups) == {"benefit: Rate", "service staffing", "run settings"}
    wf = explain(base, other, **SAMPLE)
    ref = run(other, seed=base.run.seed, **SAMPLE).kpis["npv"].to_numpy() \
        - run(base, seed=base.run.seed, **SAMPLE).kpis["npv"].to_numpy()
    assert np.allclose(wf.per_replication.sum(axis=0), ref, rtol=1e-12, atol=1e-6)
    assert sum(b.value.mean for b in wf.bars) == pytest.approx(wf.delta.mean, rel=1e-9)
    rev = explain(base, other, groups=list(reversed(list(groups))), **SAMPLE)
    a = {b.group: b.value.mean for b in wf.bars}
    b = {b.group: b.value.mean for b in rev.bars}
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-6)
    # staffing with no contacts changes no money here: within noise (exactly zero)
    staff = next(x for x in wf.bars if x.group == "service staffing")
    assert staff.within_noise and abs(staff.value.mean) < 1e-6


def test_single_change_is_one_bar_equal_to_paired_delta(pair):
    base, _ = pair
    d = scheme([benefit("Rate", 1.0, order_rate=0.2), benefit("Gift", 6.0, churn=-0.3)])
    other = from_dict(d)
    wf = explain(base, other, kpi="incremental_contribution", **SAMPLE)
    assert [b.group for b in wf.bars] == ["benefit: Gift"]
    assert wf.per_replication.shape[0] == 1
    assert wf.bars[0].value.mean == wf.delta.mean
    assert not wf.bars[0].within_noise  # twice the gift cost is not noise
    with pytest.raises(ValueError, match="--kpi"):
        explain(base, other, kpi="no_such_metric", **SAMPLE)


def test_cli_explain_and_attribute(pair, tmp_path):
    from simulator.cli import main

    base, other = pair
    save(base, tmp_path / "b.toml")
    save(other, tmp_path / "x.toml")
    out = tmp_path / "w.json"
    assert main(["explain", str(tmp_path / "b.toml"), str(tmp_path / "x.toml"), "-r", "2",
                 "-n", "300", "--json", str(out)]) == 0
    js = json.loads(out.read_text())
    assert {b["group"] for b in js["bars"]} == {"benefit: Rate", "service staffing",
                                                "run settings"}
    out2 = tmp_path / "a.json"
    assert main(["attribute", str(tmp_path / "b.toml"), "-r", "2", "-n", "300",
                 "--json", str(out2)]) == 0
    assert [p["part"] for p in json.loads(out2.read_text())["parts"]] == ["Rate", "Gift"]


def test_groups_that_cannot_change_alone_are_merged(pair):
    base, _ = pair
    d = scheme([benefit("Rate", 1.0, order_rate=0.2), benefit("Gift", 3.0, churn=-0.3)])
    d["service"]["pools"].append({"name": "VIP", "cost_per_agent_hour_cny": 50.0,
                                  "shifts": [{"start_hour": 0, "end_hour": 24, "staff": 1}]})
    d["tiers"][0]["pool"] = "VIP"
    d["run"]["discount_rate_annual"] = 0.2
    other = from_dict(d)
    assert set(change_groups(base, other)) == {"tiers", "service staffing", "run settings"}
    wf = explain(base, other, **SAMPLE)
    assert sorted(b.group for b in wf.bars) == ["run settings", "tiers + service staffing"]
    staff = next(b for b in wf.bars if b.group == "tiers + service staffing")
    assert staff.value.mean < 0  # the VIP pool's staff cost
    assert sum(b.value.mean for b in wf.bars) == pytest.approx(wf.delta.mean, rel=1e-9)


def test_sampled_permutations_add_up_and_state_their_error(monkeypatch):
    import simulator.attribution.parts as A  # the module whose attribute() reads it

    monkeypatch.setattr(A, "EXACT_MAX", 2)  # 3 parts: sampled instead of exact
    sc = from_dict(scheme([benefit("Rate", 2.0, order_rate=0.3),
                           benefit("Nothing", 5.0),
                           benefit("Spend", 1.0, spend_per_order=0.2)]))
    att = attribute(sc, permutations=3, **SAMPLE)
    assert att.method == "sampled permutations (3)"
    assert np.allclose(att.per_replication.sum(axis=0), att.whole_per_replication,
                       rtol=1e-12, atol=1e-6)
    assert all(np.isfinite(p.sampling_se["npv"]) for p in att.parts)
    # the zero-effect benefit costs the same in every order: no sampling error
    assert att.parts[1].sampling_se["incremental_cost"] == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------ shared assumptions in the waterfall
def test_a_benefit_referring_to_an_assumption_the_base_lacks_keeps_its_own_bar():
    """The mixes carry the shared assumptions their parts refer to.

    Before, a mix kept only B's [assumptions], so every mix holding one of X's benefits
    that refers to an assumption only X has was invalid, and xinghe_today ->
    xinghe_yinhe_6tier collapsed into one bar (all 14 groups merged) instead of 13.
    """
    from simulator.attribution.groups import _mix, coupled_groups
    from simulator.loader import load_scenario
    from simulator.scenario_io import to_dict

    b = load_scenario("xinghe_today").scenario
    x = load_scenario("xinghe_yinhe_6tier").scenario
    groups = coupled_groups(b, x)
    assert len(groups) == 13 and "service staffing" in groups
    assert all(" + " not in g for g in groups)
    bd, xd = to_dict(b), to_dict(x)
    every = {p for parts, _ in groups.values() for p in parts}
    inputs = lambda d: {k: v for k, v in d.items() if k not in ("name", "description")}  # noqa: E731
    assert inputs(_mix(bd, xd, every)) == inputs(xd)
    assert _mix(bd, xd, set()) == bd


def test_a_changed_shared_assumption_is_its_own_group_and_the_bars_add_up():
    base_d = scheme([benefit("Rate", 1.0, order_rate={"assumption": "rate_effect"})])
    base_d["assumptions"] = {"rate_effect": {"low": 0.1, "mode": 0.2, "high": 0.3}}
    other_d = scheme([benefit("Rate", 1.0, order_rate={"assumption": "rate_effect"})])
    other_d["assumptions"] = {"rate_effect": {"low": 0.2, "mode": 0.4, "high": 0.5}}
    other_d["service"]["pools"][0]["shifts"][0]["staff"] = 9
    base, other = from_dict(base_d), from_dict(other_d)
    assert set(change_groups(base, other)) == {"assumption: rate_effect", "service staffing"}
    wf = explain(base, other, **SAMPLE)
    ref = run(other, seed=base.run.seed, **SAMPLE).kpis["npv"].to_numpy() \
        - run(base, seed=base.run.seed, **SAMPLE).kpis["npv"].to_numpy()
    assert np.allclose(wf.per_replication.sum(axis=0), ref, rtol=1e-9, atol=1e-3)
    bar = {b.group: b for b in wf.bars}["assumption: rate_effect"]
    assert bar.value.mean > 0  # a doubled order-rate effect raises NPV


def test_waterfall_runs_its_arms_unpaired(pair, monkeypatch):
    # its KPIs need no deadweight: no orders recorded and read customer by customer
    modes = record_pairings(monkeypatch)
    base, other = pair
    wf = explain(base, other, **SAMPLE)
    assert modes and set(modes) == {None}
    ref = run(other, seed=base.run.seed, **SAMPLE).kpis["npv"].to_numpy()
    assert wf.end.mean == ref.mean()


def test_the_file_formats_version_is_not_a_changed_input():
    """Global shop today is written as schema version 3, the loyalty playbook (shared
    assumptions) as 4: "why different" counted schema_version as a changed input, a
    "segments & population" bar of its own (−¥0.8 M, within noise, in a 2-replication run)."""
    from simulator.attribution.groups import change_groups
    from simulator.input_diff import input_diff
    from simulator.loader import load_scenario
    from simulator.scenario_io import to_dict

    a = load_scenario("global_shop_today").scenario
    b = load_scenario("loyalty_playbook").scenario
    assert to_dict(a)["schema_version"] != to_dict(b)["schema_version"]
    assert "schema_version" not in set(input_diff(a, b)["path"])
    groups = change_groups(a, b)
    assert "segments & population" not in groups
    assert all("schema_version" not in p for paths in groups.values() for p in paths)
