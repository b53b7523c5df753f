"""A scenario that starts from the shop's actual customers (population.customer_file).

The one loader resolves the file relative to the scenario, checks it, hashes it into
the scenario hash and attaches its bytes, which travel with the scenario to the
pool's workers; the CLI run, compare and the GUI's run all go through it.
"""

import shutil

import pytest

from simulator import customer_base
from simulator.cli import main
from simulator.loader import load_scenario, loaded_from
from simulator.runner import run
from simulator.scenario_io import ScenarioError, load, scenario_hash
from tests.test_datafit_cli import SAMPLE
from tests.test_datafit_fit import cdnow
from tests.test_execution_dask import _local
from tests.test_execution_dask import cluster as _cluster_fixture

cluster = _cluster_fixture  # the 2-worker LocalCluster (module scope, always closed)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """CDNOW sample fitted to 1997-10-01: shop.toml naming customers/shop.csv."""
    d = tmp_path_factory.mktemp("shop")
    (d / "customers").mkdir()
    out = d / "shop.toml"
    assert main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--out", str(out),
                 "--split", "1997-10-01", "--customers", str(d / "customers" / "shop.csv")]) == 0
    return d


def _copy(fitted, tmp_path):
    shutil.copytree(fitted, tmp_path / "s")
    return tmp_path / "s"


def test_fit_writes_a_scenario_naming_its_customer_file(fitted):
    text = (fitted / "shop.toml").read_text()
    assert 'customer_file = "customers/shop.csv"' in text
    ld = load_scenario(fitted / "shop.toml")
    pop = ld.scenario.population
    assert pop.customers == 2357  # each agent one real customer
    data = (fitted / "customers" / "shop.csv").read_bytes()
    assert pop.customer_file_sha256 == customer_base.content_hash(data)
    cb = customer_base.for_scenario(ld.scenario)
    assert len(cb) == 2357 and cb.spend_level is not None
    assert ld.scenario_hash == scenario_hash(ld.scenario)


def test_the_hash_changes_when_the_customer_file_changes(fitted, tmp_path):
    d = _copy(fitted, tmp_path)
    before = load_scenario(d / "shop.toml").scenario_hash
    assert load_scenario(d / "shop.toml").scenario_hash == before  # stable
    f = d / "customers" / "shop.csv"
    lines = f.read_text().splitlines()
    head, first = lines[0].split(","), lines[1].split(",")
    first[head.index("p_alive")] = "0.5"
    f.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    after = load_scenario(d / "shop.toml")
    assert after.scenario_hash != before
    assert customer_base.for_scenario(after.scenario).p_alive[0] == 0.5


@pytest.mark.parametrize("edit, words", [
    (lambda f: f.unlink(), ["Actual customers (customer file)", "customers/shop.csv",
                            "does not exist", "fit --customers"]),
    (lambda f: f.write_text("customer_id,segment\nc1,Fitted customers\n"),
     ["Actual customers (customer file)", "is not a valid customer file",
      "missing column(s) p_alive, order_rate_mean, order_rate_shape"]),
    (lambda f: f.write_text(f.read_text().replace(",Fitted customers,", ",Gold,", 1)),
     ["segment 'Gold' (line 2) is not a segment of the scenario"]),
    (lambda f: f.write_bytes(b"\xff\xfe\x00"), ["not a UTF-8 text file"]),
])
def test_bad_customer_files_are_refused_in_the_planners_words(fitted, tmp_path, edit, words,
                                                              capsys):
    d = _copy(fitted, tmp_path)
    segs = [s.name for s in load(d / "shop.toml").segments]
    assert segs == ["Fitted customers"]
    edit(d / "customers" / "shop.csv")
    with pytest.raises(ScenarioError) as e:
        load_scenario(d / "shop.toml")
    msg = str(e.value)
    for w in words:
        assert w in msg
    assert main(["validate", str(d / "shop.toml")]) == 2  # validate says the same
    assert "customer file" in capsys.readouterr().out


def test_a_scenario_in_memory_needs_a_saved_file_for_a_relative_name(fitted):
    sc = load(fitted / "shop.toml")
    with pytest.raises(ScenarioError, match="is relative, but the scenario is not saved yet"):
        loaded_from(sc, None)
    absolute = sc.model_copy(update={"population": sc.population.model_copy(
        update={"customer_file": str(fitted / "customers" / "shop.csv")})})
    assert customer_base.for_scenario(loaded_from(absolute, None).scenario) is not None


def test_an_unresolved_scenario_is_refused_not_run_from_the_segments(fitted):
    sc = load(fitted / "shop.toml")  # read without the loader: no customers attached
    with pytest.raises(customer_base.CustomerFileError, match="not loaded with the scenario"):
        run(sc, replications=1, agents=100, horizon_months=2, workers=1)


def test_run_starts_from_the_actual_customers_same_numbers_on_the_pool(fitted):
    ld = load_scenario(fitted / "shop.toml")
    sc = ld.scenario
    kw = dict(replications=2, agents=500, horizon_months=3, seed=7)
    local = run(sc, workers=1, **kw)
    pool = run(sc, workers=2, **kw)  # spawned pool workers: the data travel with the tasks
    assert local.meta["scenario_hash"] == pool.meta["scenario_hash"] == ld.scenario_hash
    for k in ("orders", "net_contribution", "members_end"):
        a, b = local.summary[k], pool.summary[k]
        assert (a.mean, a.ci95_low, a.p90) == (b.mean, b.ci95_low, b.p90), k
    # Started from the file, not from 500 agents drawn from the segments: today's
    # customers are the 2,357 real ones, alive as drawn from their P(alive).
    plain = sc.model_copy(update={"population": sc.population.model_copy(
        update={"customer_file": None, "customer_file_sha256": None})})
    drawn = run(plain, workers=1, **kw)
    assert local.summary["orders"].mean != drawn.summary["orders"].mean


def test_cli_run_and_compare_start_from_the_customer_file(fitted, capsys):
    assert main(["run", str(fitted / "shop.toml"), "--replications", "1", "--agents", "200",
                 "--months", "2", "--workers", "1"]) == 0
    assert main(["compare", str(fitted / "shop.toml"), str(fitted / "shop.toml"),
                 "--replications", "1", "--agents", "200", "--months", "2"]) == 0


def test_a_copy_rebuilt_from_its_fields_finds_the_customers_by_hash(fitted):
    """Sweeps that mix scenarios rebuild them with from_dict: the hash finds the bytes."""
    from simulator.scenario_io import from_dict, to_dict

    ld = load_scenario(fitted / "shop.toml")
    copy = from_dict(to_dict(ld.scenario))
    assert copy.population._customer_data is None
    assert scenario_hash(copy) == ld.scenario_hash
    kw = dict(replications=1, agents=300, horizon_months=2, seed=3, workers=1)
    a, b = run(ld.scenario, **kw), run(copy, **kw)
    assert a.summary["orders"].mean == b.summary["orders"].mean
    customer_base._DATA.clear()  # another process: the content-addressed folder
    customer_base._PARSED.clear()
    assert len(customer_base.for_scenario(copy)) == 2357


@pytest.mark.timeout(300)
def test_dask_workers_start_from_the_same_customers(fitted, cluster):
    """On a LocalCluster (no shared disk cache) the bytes travel with the tasks."""
    ld = load_scenario(fitted / "shop.toml")
    kw = dict(replications=2, agents=500, horizon_months=3, seed=7)
    local = _local(lambda: run(ld.scenario, workers=1, **kw))
    remote = run(ld.scenario, **kw)
    assert local.kpis.equals(remote.kpis) and local.monthly.equals(remote.monthly)


def test_loaded_customer_file_is_not_pickled_with_each_task(fitted, tmp_path, monkeypatch):
    """The loader keeps the bytes by hash in the cache folder; the pool's workers find them
    there, so a task's scenario pickles small (before: the whole file with every task)."""
    import pickle

    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BENEFIT_SIM_WINDOW_CACHE", raising=False)
    ld = load_scenario(fitted / "shop.toml")
    size = (fitted / "customers" / "shop.csv").stat().st_size
    assert size > 200_000 and len(pickle.dumps(ld.scenario)) < 50_000
    kw = dict(replications=2, agents=500, horizon_months=2, seed=5)
    local, pool = run(ld.scenario, workers=1, **kw), run(ld.scenario, workers=2, **kw)
    assert local.kpis.equals(pool.kpis)
    # With the cache folder off the bytes travel with the scenario, as before.
    monkeypatch.setenv("BENEFIT_SIM_WINDOW_CACHE", "0")
    assert len(pickle.dumps(load_scenario(fitted / "shop.toml").scenario)) > size


def test_meta_shows_the_agents_that_ran_with_a_customer_file(fitted):
    ld = load_scenario(fitted / "shop.toml")
    res = run(ld.scenario, replications=1, agents=5000, horizon_months=2, workers=1)
    assert res.meta["agents"] == 2357 and res.meta["agents_requested"] == 5000
    assert res.meta["customers_per_agent"] == pytest.approx(1.0)
    res = run(ld.scenario, replications=1, agents=300, horizon_months=2, workers=1)
    assert res.meta["agents"] == 300 and res.meta["customers_per_agent"] == pytest.approx(
        2357 / 300)


def test_a_large_customer_file_runs_as_a_weighted_sample(fitted):
    """agents below the file's customers: a random sample of that many customers, new
    each replication, each agent standing for customers/agents; its scaled totals agree
    with the whole file's within the sampling spread, and the pool gives the same numbers."""
    import numpy as np

    ld = load_scenario(fitted / "shop.toml")
    cb = customer_base.for_scenario(ld.scenario)
    s1 = customer_base.sample(cb, 600, 7, 0)
    assert len(s1) == 600 and len(set(s1.ids)) == 600 and set(s1.ids) <= set(cb.ids)
    assert customer_base.sample(cb, 600, 7, 0) is s1  # both arms: the same customers
    assert set(customer_base.sample(cb, 600, 7, 1).ids) != set(s1.ids)
    assert customer_base.sample(cb, 5000, 7, 0) is cb
    kw = dict(horizon_months=6, seed=7, workers=1)
    full = run(ld.scenario, replications=4, agents=5000, **kw)
    part = run(ld.scenario, replications=16, agents=600, **kw)
    a, b = full.summary["orders"], part.summary["orders"]
    half = (b.ci95_high - b.ci95_low) / 2
    assert abs(b.mean - a.mean) < 2.5 * half + 0.01 * a.mean, (a.mean, b.mean, half)
    assert np.isclose(part.meta["customers_per_agent"], 2357 / 600)
    pool = run(ld.scenario, replications=2, agents=600, horizon_months=3, seed=7, workers=2)
    local = run(ld.scenario, replications=2, agents=600, horizon_months=3, seed=7, workers=1)
    assert local.kpis.equals(pool.kpis)


def test_a_machine_without_the_file_says_so(fitted):
    """A worker that has neither the bytes nor the cache folder's copy (another machine)."""
    from simulator.scenario_io import from_dict, to_dict

    copy = from_dict(to_dict(load_scenario(fitted / "shop.toml").scenario))
    customer_base._DATA.clear()
    customer_base._PARSED.clear()
    import os

    old = os.environ.get("BENEFIT_SIM_WINDOW_CACHE")
    os.environ["BENEFIT_SIM_WINDOW_CACHE"] = "0"
    try:
        with pytest.raises(customer_base.CustomerFileError, match="not on this machine"):
            customer_base.for_scenario(copy)
    finally:
        if old is None:
            os.environ.pop("BENEFIT_SIM_WINDOW_CACHE")
        else:
            os.environ["BENEFIT_SIM_WINDOW_CACHE"] = old


@pytest.mark.timeout(300)
def test_dask_sweep_copies_get_the_file_shipped_once_per_worker(fitted, cluster):
    """Sweeps rebuild scenarios from their fields (no bytes attached); the cluster's
    workers share no disk cache: the file goes once to every worker, found by hash."""
    from simulator.scenario_io import from_dict, to_dict

    ld = load_scenario(fitted / "shop.toml")
    copy = from_dict(to_dict(ld.scenario))
    assert copy.population._customer_data is None
    kw = dict(replications=2, agents=500, horizon_months=2, seed=9)
    local = _local(lambda: run(ld.scenario, workers=1, **kw))
    remote = run(copy, **kw)
    assert local.kpis.equals(remote.kpis) and local.monthly.equals(remote.monthly)


def test_workers_with_other_cache_settings_find_the_file_where_the_loader_kept_it(
        fitted, tmp_path, monkeypatch):
    """A long-lived pool worker started under other settings (its own cache folder) reads
    the bytes from the file the loader kept them in (the full suite found this)."""
    import pickle

    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path / "a"))
    monkeypatch.delenv("BENEFIT_SIM_WINDOW_CACHE", raising=False)
    sc = pickle.loads(pickle.dumps(load_scenario(fitted / "shop.toml").scenario))
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path / "b"))  # the worker's own folder
    customer_base._DATA.clear()
    customer_base._PARSED.clear()
    assert len(customer_base.for_scenario(sc)) == 2357
