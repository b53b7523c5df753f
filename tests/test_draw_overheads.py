"""A Latin-hypercube draw's work outside the kernel: done once, with the same numbers."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from simulator import accounting, engine, execution, population
from simulator import streams as st
from simulator.engine import Simulation
from simulator.loader import load_scenario
from simulator.uncertainty import distributions, plan_for
from tests.support.scenarios import all_features_scenario
from tests.support.spy import record_calls


def _year_one_reference(segment, tier_start, alive, y1_orders, y1_gross, n_tiers, n_segments,
                        weight):
    """The numpy form year_one had (one np.bincount per row)."""
    key = tier_start.astype(np.int64) * n_segments + segment.astype(np.int64)
    n_groups = n_segments * n_tiers

    def by(x):
        return (np.bincount(key, weights=x, minlength=n_groups) * weight).reshape(
            n_tiers, n_segments).T

    o = y1_orders
    hf = o >= 36
    return {"customers": by(np.ones(key.size)), "retained": by(alive.astype(np.float64)),
            "repurchasers": by((o >= 2).astype(np.float64)),
            "buyers": by((o >= 1).astype(np.float64)), "gross": by(y1_gross),
            "gross_high_freq": by(np.where(hf, y1_gross, 0.0)),
            "high_freq_customers": by(hf.astype(np.float64))}


def test_year_one_in_one_pass_equals_the_bincounts_to_the_bit():
    rng = np.random.default_rng(4)
    n, n_seg, n_tiers = 50_000, 3, 4
    seg = rng.integers(0, n_seg, n).astype(np.int8)
    tier = rng.integers(0, n_tiers - 1, n).astype(np.int8)  # one tier nobody starts in
    alive = rng.random(n) < 0.7
    orders = rng.poisson(rng.gamma(0.5, 20.0, n)).astype(np.int16)  # some >= 36
    gross = rng.lognormal(4.0, 1.2, n) * (orders > 0)
    got = accounting.year_one(seg, tier, alive, orders, gross, n_tiers, n_seg, 12.5)
    want = _year_one_reference(seg, tier, alive, orders, gross, n_tiers, n_seg, 12.5)
    assert list(got) == list(want)
    for k in want:
        assert got[k].shape == want[k].shape == (n_seg, n_tiers)
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    assert want["high_freq_customers"].sum() > 0


def test_second_arm_takes_the_window_summary_with_the_history(monkeypatch):
    sc = all_features_scenario()
    population._HISTORY_CACHE.clear()
    calls = record_calls(monkeypatch, population, "_window_summary")
    a = Simulation(sc, np.random.SeedSequence(8), 0, 3000, 6).population
    assert len(calls) == 1
    b = Simulation(sc, np.random.SeedSequence(8), 0, 3000, 6).population
    assert len(calls) == 1  # not summed again
    assert b.rolling_spend.shape == a.rolling_spend.shape == (a.capacity,)
    np.testing.assert_array_equal(a.rolling_spend, b.rolling_spend)
    np.testing.assert_array_equal(a.idle_months, b.idle_months)
    assert not np.shares_memory(a.rolling_spend, b.rolling_spend)  # the kernel writes it
    population._HISTORY_CACHE.clear()


def test_month_keys_are_the_streams_keys_once_per_replication(monkeypatch):
    rs = st.Streams(np.random.SeedSequence(21), 3)
    engine._MONTH_KEYS.clear()
    keys = engine._month_keys(rs, 7, 2)
    want = np.array([[rs.key(p, 7, k) for p in engine._DRAWS] for k in range(2)],
                    dtype=np.uint64)
    np.testing.assert_array_equal(keys, want)
    monkeypatch.setattr(st.Streams, "key", lambda *a: (_ for _ in ()).throw(AssertionError))
    assert engine._month_keys(st.Streams(np.random.SeedSequence(21), 3), 7, 2) is keys
    engine._MONTH_KEYS.clear()


def test_the_drawn_table_draws_each_replication_once(monkeypatch):
    sc = load_scenario("xinghe_today").scenario  # its assumed inputs written as ranges
    plan = plan_for(sc, sc, 5, 30, 1)
    want = plan.table(30)
    calls = record_calls(monkeypatch, distributions.Distribution, "ppf")
    got = plan.table(30)
    assert got == want
    assert len(want["inputs"]) > 2
    assert len(calls) == 30 * len(want["inputs"])  # was 30 x inputs^2


def test_pool_support_modules_import_no_pandas():
    code = ("import sys; import simulator.execution.local_pool, simulator.customer_base; "
            "assert 'pandas' not in sys.modules, 'pandas imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_start_pool_starts_the_workers_without_waiting():
    execution.kill_pool()
    t0 = time.perf_counter()
    execution.start_pool()
    assert time.perf_counter() - t0 < 0.5
    deadline = time.monotonic() + 60
    while not execution.pool_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert execution.pool_pids()
    execution.start_pool()  # started: nothing more
    assert len(execution.pool_pids()) == execution.pool_size()


def test_a_sampled_pair_task_carries_its_drawn_arms_not_the_plan(monkeypatch):
    from simulator import arms
    from simulator.runner import run

    sc = load_scenario("xinghe_today").scenario.model_copy(deep=True)
    sc.run.uncertainty.replications_per_draw = 1
    kw = dict(assumptions="sample", replications=3, agents=600, horizon_months=4, workers=1,
              seed=11)
    old = arms.set_reuse(False)
    try:
        want = run(sc, **kw)  # tasks with the plan: each worker draws its arms
    finally:
        arms.set_reuse(old)
    shipped = []
    real = arms.execute
    monkeypatch.setattr(arms, "execute",
                        lambda tasks, **k: shipped.extend(tasks) or real(tasks, **k))
    got = run(sc, **kw)
    assert got.kpis.equals(want.kpis)
    pairs = [t for t in shipped if isinstance(t, execution.Task)]
    assert len(pairs) == 3 and all(t.plan is None for t in pairs)
    plan = plan_for(sc, sc, 11, 3, 1)
    for t in pairs:
        drawn, _ = plan.arms(sc, sc, t.replication)
        assert t.scenario == drawn and t.scenario != sc
        assert t.counterfactual is t.scenario  # the scheme switched off: the same arm


def test_a_process_whose_started_pool_got_no_task_still_exits():
    """A batch can fail or be cancelled between start_pool and its first task: the process
    must still exit (it hung in multiprocessing's exit join before the pool's manager
    thread was started with the workers)."""
    code = ("import time; from simulator import execution; execution.start_pool(); "
            "time.sleep(3); assert execution.pool_pids()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
