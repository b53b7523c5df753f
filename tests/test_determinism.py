"""Same scenario + seed -> identical numbers; CRN between the arms."""

import numpy as np
import pandas as pd

import scenarios
from simulator.runner import run


def _small():
    sc = scenarios.load_default()
    return sc


def test_same_seed_identical_results():
    sc = _small()
    a = run(sc, replications=2, agents=1500, horizon_months=6, workers=1)
    b = run(sc, replications=2, agents=1500, horizon_months=6, workers=1)
    pd.testing.assert_frame_equal(a.monthly, b.monthly, check_exact=True)
    pd.testing.assert_frame_equal(a.kpis, b.kpis, check_exact=True)


def test_different_seed_differs():
    sc = _small()
    a = run(sc, replications=1, agents=1500, horizon_months=6, seed=1, workers=1)
    b = run(sc, replications=1, agents=1500, horizon_months=6, seed=2, workers=1)
    assert a.summary["revenue"].mean != b.summary["revenue"].mean


def test_process_pool_matches_single_process():
    sc = _small()
    a = run(sc, replications=4, agents=1500, horizon_months=6, workers=1)
    b = run(sc, replications=4, agents=1500, horizon_months=6, workers=2)
    pd.testing.assert_frame_equal(a.monthly, b.monthly, check_exact=True)


def test_replication_prefix_is_stable():
    """Replication r is the same whether 2 or 4 replications are run.

    At the nominal values: the Latin hypercube of inputs written as ranges is
    stratified over the run's draws, so a draw's values depend on how many there are
    (docs/UNCERTAINTY.md); the random streams do not.
    """
    sc = _small()
    a = run(sc, replications=2, agents=1000, horizon_months=4, workers=1, assumptions="nominal")
    b = run(sc, replications=4, agents=1000, horizon_months=4, workers=1, assumptions="nominal")
    assert np.array_equal(a.kpis.to_numpy(), b.kpis.iloc[:2].to_numpy(), equal_nan=True)


def test_common_random_numbers_shrink_the_increment_noise():
    """The increment is far less noisy under CRN than with independent streams."""
    sc = _small()
    a = run(sc, replications=10, agents=1500, horizon_months=12, seed=11, workers=1).kpis
    b = run(sc, replications=10, agents=1500, horizon_months=12, seed=99, workers=1).kpis
    crn = a.incremental_contribution
    cf_other = b.net_contribution - b.incremental_contribution  # counterfactual, other streams
    independent = a.net_contribution - cf_other
    assert crn.std() < 0.5 * independent.std(), (crn.std(), independent.std())


def test_counterfactual_identical_when_nothing_is_switched_off():
    sc = _small()
    cf = sc.run.counterfactual.model_copy(update={"switch_off": []})
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"counterfactual": cf})})
    res = run(sc, replications=2, agents=1000, horizon_months=6, workers=1)
    assert (res.kpis.incremental_contribution == 0).all()


def test_convergence_adds_replications_until_narrow():
    sc = _small()
    conv = sc.run.convergence.model_copy(update={
        "enabled": True, "metric": "revenue", "relative_half_width": 0.01,
        "max_replications": 12})
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"convergence": conv})})
    res = run(sc, replications=3, agents=800, horizon_months=3, workers=1)
    st = res.summary["revenue"]
    n = res.meta["replications"]
    assert 3 < n <= 12
    assert res.meta["convergence"]["converged"] == (st.half_width / st.mean <= 0.01)
    if n < 12:
        assert st.half_width / st.mean <= 0.01


def test_queue_windows_from_the_disk_cache_give_identical_results(tmp_path, monkeypatch):
    """A window read back from disk is the window simulated: same numbers, none re-simulated."""
    from simulator import window_cache
    from simulator.engine import Simulation

    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path))
    sc = _small()
    window_cache.clear_cache()
    first = Simulation(sc, np.random.SeedSequence(7), 0, 2000, 12)
    out1 = first.run()
    assert first.stage.simulated_windows > 0
    assert window_cache.disk_files(tmp_path / "cache" / "windows")
    window_cache.clear_cache()  # memory only: the files stay
    second = Simulation(sc, np.random.SeedSequence(7), 0, 2000, 12)
    out2 = second.run()
    assert second.stage.simulated_windows == 0
    np.testing.assert_array_equal(out1.monthly, out2.monthly)
    np.testing.assert_array_equal(out1.service, out2.service)
    window_cache.clear_cache(disk=True)
    assert not window_cache.disk_files(tmp_path / "cache" / "windows")
