"""Arms, not runs (simulator.arms): reuse gives bit-identical numbers and simulates fewer arms."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from simulator import arms
from simulator.loader import load_scenario
from simulator.runner import run, run_many

KW = dict(replications=2, agents=1200, horizon_months=12)


@pytest.fixture(scope="module")
def today():
    return load_scenario("xinghe_today").scenario


@pytest.fixture
def reuse():
    """Runs the body with reuse on and off; restores the setting."""
    old = arms.set_reuse(True)
    yield
    arms.set_reuse(old)


def _both(fn):
    """fn() with reuse off and on: (off result, on result, arms simulated off, on)."""
    out, sims = [], []
    for on in (False, True):
        arms.set_reuse(on)
        c0 = arms.counts()["simulated"]
        out.append(fn())
        sims.append(arms.counts()["simulated"] - c0)
    return out[0], out[1], sims[0], sims[1]


def _same_arm(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name in ("windows", "deadweight", "paired"):  # diagnostics; pairing's own output
            continue
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), f.name
        elif isinstance(x, dict):
            assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x), f.name
        else:
            assert x == y, f.name


def test_recording_or_pairing_leaves_the_arm_unchanged(today):
    """Keys ignore recording (a counterfactual) because it changes no number."""
    off = tuple(today.run.counterfactual.switch_off)
    plain = arms.ArmTask(0, today, off, 5, 1, 800, 6).run()
    rec = arms.ArmTask(0, today, off, 5, 1, 800, 6, record=True).run()
    assert plain[1] is None and len(rec[1]) == 6
    _same_arm(plain[0], rec[0])
    a = arms.ArmTask(0, today, (), 5, 1, 800, 6).run()[0]
    b = arms.ArmTask(0, today, (), 5, 1, 800, 6, cf_log=tuple(rec[1])).run()[0]
    _same_arm(a, b)
    assert b.paired and b.deadweight.sum() > 0


def test_arm_key_is_what_the_engine_reads(today):
    from simulator.compiled import SWITCHES, compile_scenario
    from simulator.sensitivity import with_value

    off = tuple(SWITCHES)
    k = arms.arm_key(compile_scenario(today, 12, off), 1, 0, 100)
    renamed = today.model_copy(update={"name": "another name"})
    assert arms.arm_key(compile_scenario(renamed, 12, off), 1, 0, 100) == k
    # a campaign's effect exists only in the scheme arm: the counterfactual is unchanged
    path = "promotions[Double 11].effect.order_rate"
    swung = with_value(today, path, 0.25)
    assert arms.arm_key(compile_scenario(swung, 12, off), 1, 0, 100) == k
    assert arms.arm_key(compile_scenario(swung, 12, ()), 1, 0, 100) != \
        arms.arm_key(compile_scenario(today, 12, ()), 1, 0, 100)
    for other in (dict(seed=2), dict(replication=1), dict(agents=101)):
        args = {"seed": 1, "replication": 0, "agents": 100, **other}
        assert arms.arm_key(compile_scenario(today, 12, off), **args) != k


def test_runs_sharing_a_counterfactual(today, reuse):
    from simulator.deadweight import deadweight
    from simulator.sensitivity import with_value

    path = "promotions[Double 11].effect.order_rate"
    scs = [today, with_value(today, path, 0.1), with_value(today, path, 0.25)]
    off, on, n_off, n_on = _both(lambda: run_many(scs, workers=2, **KW))
    R = KW["replications"]
    assert n_off == 2 * 3 * R and n_on == (3 + 1) * R  # one counterfactual per replication
    for a, b in zip(off, on):
        assert a.kpis.equals(b.kpis)
        assert np.array_equal(deadweight(a).sums, deadweight(b).sums)
        for x, y in zip(a.scn + a.cf, b.scn + b.cf):
            _same_arm(x, y)


def test_tornado_identical_with_fewer_arms(today, reuse):
    from simulator.sensitivity import tornado

    names = ["promotions[Double 11].effect.order_rate",
             "segments[Key accounts].sensitivity.benefits"]
    off, on, n_off, n_on = _both(lambda: tornado(today, "npv", names, spider_points=4,
                                                 workers=1, **KW))
    assert json.dumps(off.to_json(), sort_keys=True) == json.dumps(on.to_json(), sort_keys=True)
    runs, R = on.meta["runs"], KW["replications"]
    assert n_off == 2 * runs * R
    assert n_on <= (runs + 1) * R  # the scheme-off counterfactual once per replication


def test_attribution_simulates_each_set_once(today, reuse):
    from simulator.attribution import attribute

    off, on, n_off, n_on = _both(lambda: attribute(today, by="group", **KW))
    assert np.array_equal(off.per_replication, on.per_replication)
    assert np.array_equal(off.whole_per_replication, on.whole_per_replication)
    n, R = len(on.parts), KW["replications"]
    assert on.sets_run == 1 << n
    assert n_off == 2 * on.runs * R  # every run's two arms
    assert n_on == (1 << n) * R  # each set's arm once


def test_explain_and_sampled_draws_identical(today, reuse):
    from simulator.attribution import explain
    from simulator.sensitivity import with_value

    other = with_value(with_value(today, "promotions[Double 11].effect.order_rate", 0.25),
                       "segments[Key accounts].churn_annual", 0.2)
    off, on, n_off, n_on = _both(lambda: explain(today, other, **KW))
    assert np.array_equal(off.per_replication, on.per_replication)
    assert off.delta.mean == on.delta.mean
    assert n_on < n_off
    sampled = today.model_copy(deep=True)
    sampled.run.uncertainty.replications_per_draw = 1
    a, b, _, _ = _both(lambda: run(sampled, assumptions="sample", replications=3,
                                   agents=800, horizon_months=6, workers=1))
    assert a.kpis.equals(b.kpis)


def test_arms_start_from_the_customer_file(reuse, tmp_path_factory):
    """A scenario starting from the shop's actual customers: both arms start from them."""
    from tests.test_datafit_fromlog import fitted as make_fitted

    d = make_fitted.__wrapped__(tmp_path_factory)
    sc = load_scenario(d / "shop.toml").scenario
    plain = sc.model_copy(update={"population": sc.population.model_copy(
        update={"customer_file": None, "customer_file_sha256": None})})
    kw = dict(replications=2, agents=500, horizon_months=3, seed=7)
    off, on, _, _ = _both(lambda: run_many([sc, sc, plain], workers=1, **kw))
    for a, b in zip(off, on):
        assert a.kpis.equals(b.kpis)
    assert on[0].kpis.equals(on[1].kpis) and not on[0].kpis.equals(on[2].kpis)


def test_arm_tasks_on_a_dask_cluster(today, reuse, tmp_path_factory):
    """Shared counterfactuals and scheme arms run as arm tasks on the cluster, same numbers."""
    pytest.importorskip("distributed")
    from simulator.sensitivity import with_value
    from tests.test_execution_dask import _local, _same
    from tests.test_execution_dask import cluster as make_cluster

    path = "promotions[Double 11].effect.order_rate"
    scs = [today, with_value(today, path, 0.1), with_value(today, path, 0.25)]
    kw = dict(replications=2, agents=1000, horizon_months=6)
    want = _local(lambda: run_many(scs, workers=1, **kw))
    gen = make_cluster.__wrapped__(tmp_path_factory)
    next(gen)
    try:
        c0 = arms.counts()["simulated"]
        got = run_many(scs, **kw)
        assert arms.counts()["simulated"] - c0 == (3 + 1) * kw["replications"]
    finally:
        next(gen, None)
    for a, b in zip(want, got):
        _same(a, b)


def test_unpaired_batch_goes_to_the_back_end_in_one_call(today, reuse, monkeypatch):
    # Unpaired runs (deadweight off: attribution, the waterfall) wait for no
    # counterfactual's orders: their shared counterfactuals and the rest are one call
    # (no worker idle between two); paired runs still send their counterfactuals first.
    from simulator.sensitivity import with_value
    from tests.support.spy import record_calls

    calls = record_calls(monkeypatch, arms, "execute", arg=0)  # each call's tasks
    path = "promotions[Double 11].effect.order_rate"
    scs = [today, with_value(today, path, 0.1), with_value(today, path, 0.25)]
    R = KW["replications"]
    for deadweight, want in ((False, [4 * R]), (True, [R, 3 * R])):
        calls.clear()
        off, on, _, _ = _both(lambda: run_many(scs, workers=1, deadweight=deadweight, **KW))
        assert [len(tasks) for tasks in calls[-len(want):]] == want
        for a, b in zip(off, on):
            assert a.kpis.equals(b.kpis)
            for x, y in zip(a.scn + a.cf, b.scn + b.cf):
                _same_arm(x, y)
