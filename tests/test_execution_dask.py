"""Runs on a Dask cluster give the local numbers (issue 17 item 1).

A ``distributed.LocalCluster`` of two worker processes is started inside the
suite (``execution.configure("local:2")``) and always closed, even when a test
fails. Each test has a timeout, so a lost cluster fails instead of hanging.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from simulator import execution, runner
from simulator.compare import run_scenarios
from simulator.loader import load_scenario
from simulator.outputs import Cancelled

pytest.importorskip("distributed")

SMALL = dict(replications=4, agents=1500, horizon_months=6)

# What Dask's nanny would put into its workers' environment (and, a LocalCluster's
# nannies living in this process, into ours), as this process had them before any cluster.
_DASK_ENV = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_NUM_THREADS")
_ENV_BEFORE = {k: os.environ.get(k) for k in _DASK_ENV}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 2-worker LocalCluster (processes) for this module; closed whatever happens."""
    home = tmp_path_factory.mktemp("cluster-home")
    old = {k: os.environ.get(k) for k in ("BENEFIT_SIM_HOME", "BENEFIT_SIM_WINDOW_CACHE")}
    os.environ["BENEFIT_SIM_HOME"] = str(home)  # never the user's folders
    # no disk cache on the workers: as on machines that share no disk, only the
    # scheduler's window store is common to them
    os.environ["BENEFIT_SIM_WINDOW_CACHE"] = "0"
    try:
        execution.configure("local:2")
        client = execution.dask_client()
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        execution.configure(None)  # closes the client and the cluster
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _local(fn):
    """``fn()`` run on the local back end (this process), whatever is configured."""
    saved = execution.backend._CHOSEN
    execution.backend._CHOSEN = "local"
    try:
        return fn()
    finally:
        execution.backend._CHOSEN = saved


def _same(a, b) -> None:
    assert a.kpis.equals(b.kpis)
    assert a.monthly.equals(b.monthly)


def test_spec_parsing_says_what_is_allowed():
    assert execution.parse_spec(" local:3 ") == "local:3"
    assert execution.parse_spec("") == "local"
    assert execution.parse_spec("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    for bad in ("local:0", "local:500", "http://x:1", "somewhere", "tcp://host"):
        with pytest.raises(ValueError, match="cluster"):
            execution.parse_spec(bad)


def test_environment_variable_chooses_the_back_end(monkeypatch):
    monkeypatch.setattr(execution.backend, "_CHOSEN", None)
    monkeypatch.setenv(execution.CLUSTER_ENV, "local:2")
    assert execution.current() == "local:2"
    monkeypatch.setenv(execution.CLUSTER_ENV, "nonsense")
    with pytest.raises(ValueError, match=execution.CLUSTER_ENV):
        execution.current()
    monkeypatch.setattr(execution.backend, "_CHOSEN", "local")  # an explicit choice wins
    assert execution.current() == "local"


@pytest.mark.timeout(300)
def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(execution.cluster, "CONNECT_SECONDS", 2)
    with pytest.raises(ValueError, match="could not reach the Dask scheduler"):
        execution.dask_client("tcp://127.0.0.1:9")


@pytest.mark.timeout(300)
def test_cluster_gives_the_local_numbers(cluster):
    sc = load_scenario("xinghe_today").scenario
    local = _local(lambda: runner.run(sc, workers=1, **SMALL))
    seen = []
    remote = runner.run(sc, progress=lambda d, t: seen.append((d, t)), **SMALL)
    _same(local, remote)
    assert seen[-1] == (4, 4) and [d for d, _ in seen] == [1, 2, 3, 4]  # streamed
    # several scenarios in one batch (compare): each as its own local run
    other = sc.model_copy(update={"name": "other"}, deep=True)
    other.run.counterfactual.mode = "none"
    both = run_scenarios([(sc, None), (other, None)], **SMALL)
    _same(both[0][2], local)
    _same(both[1][2], _local(lambda: runner.run(other, workers=1, **SMALL)))
    # two single-threaded workers on this machine: each task gets cores // 2 kernel threads
    assert cluster.submit(execution.cluster._host_slots, pure=False).result(timeout=60) == 2


def _windows(res) -> int:
    return sum(a.windows for a in res.scn + (res.cf or []))


@pytest.mark.timeout(300)
def test_queue_windows_are_simulated_once_per_cluster(cluster):
    from simulator import window_cache

    sc = load_scenario("xinghe_today").scenario
    kw = dict(replications=2, agents=1500, horizon_months=4, seed=4242)  # a seed no test used
    first = runner.run(sc, **kw)
    assert _windows(first) > 0
    cluster.run(window_cache.clear_cache)  # workers forget; no disk: only the scheduler has them
    again = runner.run(sc, **kw)
    assert _windows(again) == 0  # every window read from the cluster's store
    _same(first, again)


def _worker_settings(dask_worker) -> tuple[dict, bool, float]:
    import dask

    return ({k: os.environ.get(k) for k in _DASK_ENV},
            bool(dask.config.get("distributed.worker.profile.enabled")),
            dask_worker._tick_interval)


@pytest.mark.timeout(120)
def test_local_cluster_workers_run_as_the_pools_processes(cluster):
    """No Dask allocator/thread overrides, no profiler, a slower tick; our environment kept.

    MALLOC_TRIM_THRESHOLD_ (Dask's default 65536) made each replication fault in its
    arrays afresh (+8 % CPU); the nanny also wrote it into the app's own environment.
    """
    assert {k: os.environ.get(k) for k in _DASK_ENV} == _ENV_BEFORE
    for env, profiling, tick in cluster.run(_worker_settings).values():
        assert env == _ENV_BEFORE
        assert profiling is False
        assert tick == 1.0


@pytest.mark.timeout(300)
def test_local_cluster_shares_windows_through_the_disk_not_the_scheduler(cluster, tmp_path):
    """With the disk cache on, a local:N cluster's workers never ask the scheduler.

    They share this computer's disk cache (as the pool's workers do); the scheduler's
    store only added two round trips per window simulated, every ask unanswered.
    """
    from simulator import window_cache

    def disk_on(folder: str | None) -> None:  # on the workers (the fixture turned it off)
        if folder is None:
            os.environ["BENEFIT_SIM_WINDOW_CACHE"] = "0"
        else:
            os.environ.pop("BENEFIT_SIM_WINDOW_CACHE", None)
            os.environ["BENEFIT_SIM_HOME"] = folder
        window_cache.clear_cache()

    def stored() -> int:
        return len(cluster.get_metadata([execution.WINDOWS_METADATA], default=None) or {})

    sc = load_scenario("xinghe_today").scenario
    kw = dict(replications=2, agents=1500, horizon_months=4, seed=5151)  # a seed no test used
    home = os.environ["BENEFIT_SIM_HOME"]
    cluster.run(disk_on, str(tmp_path))
    try:
        before = stored()
        first = runner.run(sc, **kw)
        assert _windows(first) > 0
        assert stored() == before  # nothing uploaded to the scheduler
        # but written to disk
        assert window_cache.disk_files(tmp_path / "cache" / "windows")
        cluster.run(window_cache.clear_cache)  # workers forget: the disk has them
        again = runner.run(sc, **kw)
        assert _windows(again) == 0
        _same(first, again)
    finally:
        cluster.run(disk_on, None)
        cluster.run(lambda: os.environ.__setitem__("BENEFIT_SIM_HOME", home))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_worker_killed_mid_run_changes_nothing(cluster):
    sc = load_scenario("xinghe_today").scenario
    kw = dict(replications=6, agents=4000, horizon_months=12)
    local = _local(lambda: runner.run(sc, workers=1, **kw))
    killed: list[int] = []

    def progress(done, total):
        if killed:
            return
        busy = [w for w, keys in cluster.processing().items() if keys]
        if busy:  # kill a worker while it runs a replication
            pid = cluster.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    remote = runner.run(sc, progress=progress, **kw)
    assert killed, "no worker was busy when the first result arrived"
    _same(local, remote)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cancel_stops_the_clusters_tasks_within_a_second(cluster):
    sc = load_scenario("xinghe_today").scenario
    runner.run(sc, **SMALL)  # both workers compiled and warm
    cancel = threading.Event()
    out: dict = {}

    def go():
        try:
            runner.run(sc, replications=2, agents=40_000, horizon_months=120, cancel=cancel)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            out["exc"] = exc

    beats0 = execution.cluster_heartbeats()
    th = threading.Thread(target=go, daemon=True)
    th.start()
    deadline = time.monotonic() + 120
    # both workers in the month loop (an arm's set-up and its first month's queue
    # windows look at the flag only when they end), whatever the machine's load
    while not all(n - beats0.get(w, 0) >= 3 for w, n in execution.cluster_heartbeats().items()):
        assert time.monotonic() < deadline, "the cluster never started the tasks"
        time.sleep(0.05)
    t0 = time.monotonic()
    cancel.set()
    th.join(timeout=5)
    assert not th.is_alive()
    assert isinstance(out.get("exc"), Cancelled)
    # No month is simulated 1 s after cancel (the workers' heartbeats stop) ...
    time.sleep(max(0.0, t0 + 1.0 - time.monotonic()))
    at_1s = execution.cluster_heartbeats()
    # ... and the workers report the tasks ended (Dask's bookkeeping may lag behind on
    # a loaded machine; a task left running would go on for 100+ months)
    while sum(execution.cluster_executing().values()) > 0:
        assert time.monotonic() - t0 < 30, "cluster tasks still running 30 s after cancel"
        time.sleep(0.05)
    assert execution.cluster_heartbeats() == at_1s, "months simulated more than 1 s after cancel"
    assert not any(cluster.processing().values())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cli_pointed_at_the_scheduler_gives_the_local_file(cluster, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from simulator.cli import main

    args = ["run", "xinghe_today", "-r", "3", "-n", "1000", "--months", "4", "--json"]
    assert _local(lambda: main([*args, str(tmp_path / "local.json")])) == 0
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop(execution.CLUSTER_ENV, None)
    p = subprocess.run([sys.executable, "-m", "simulator.cli", *args, str(tmp_path / "c.json"),
                        "--cluster", cluster.scheduler.address], env=env, cwd=root,
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("local.json", "c.json"))
    for d in (a, b):
        d["meta"].pop("elapsed_seconds")
        d["meta"].pop("workers")
    assert a == b


def test_cli_refuses_a_bad_cluster_in_the_planners_words(capsys):
    from simulator.cli import main

    assert main(["run", "xinghe_today", "-r", "1", "--cluster", "mars"]) == 2
    err = capsys.readouterr().err
    assert "--cluster" in err and "'mars'" in err and "tcp://HOST:PORT" in err
