"""One process pool of a fixed size, safe for concurrent callers (issue 10 item 6, issue 20).

Before: a run asking for another worker count shut the shared pool down and
respawned it; a run waiting on the old pool never returned (or lost its
replications). SIGTERM left the spawned workers running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulator import runner
from simulator.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(replications=4, agents=1500, horizon_months=6)


def test_two_runs_with_different_worker_counts_at_once_equal_serial():
    sc = load_scenario("xinghe_today").scenario
    serial = runner.run(sc, workers=1, **SMALL).kpis
    out: dict = {}

    def go(w):
        try:
            out[w] = runner.run(sc, workers=w, **SMALL).kpis
        except BaseException as exc:  # noqa: BLE001 - reported below
            out[w] = exc

    threads = [threading.Thread(target=go, args=(w,), daemon=True) for w in (3, 2)]
    for t in threads:
        t.start()
        time.sleep(0.05)  # the second asks while the first is using the pool
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a run hung on the shared pool"
    for w in (3, 2):
        assert not isinstance(out[w], BaseException), repr(out[w])
        assert out[w].equals(serial), w
    n = len(runner.pool_pids())
    assert 1 <= n <= runner.pool_size()  # one pool, never resized


def test_pool_size_is_fixed_and_configurable(monkeypatch):
    monkeypatch.setenv(runner.POOL_SIZE_ENV, "3")
    assert runner.pool_size() == 3
    monkeypatch.setenv(runner.POOL_SIZE_ENV, "zero")
    assert runner.pool_size() == max(1, os.cpu_count() or 1)


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p}
        todo += list(kids - out)
        out |= kids
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


SCRIPT = """
import sys
from simulator.loader import load_scenario
from simulator.runner import run
sc = load_scenario("xinghe_today").scenario
run(sc, replications=40, agents=20000, horizon_months=36, workers=2)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("how", ["cli", "api"])
def test_sigterm_during_a_pool_run_leaves_no_worker(how):
    env = {**os.environ, "PYTHONPATH": str(ROOT), runner.POOL_SIZE_ENV: "2"}
    cmd = ([sys.executable, "-m", "simulator.cli", "run", "xinghe_today", "-r", "40", "-n",
            "20000", "--workers", "2"] if how == "cli" else [sys.executable, "-c", SCRIPT])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        kids: set[int] = set()
        while time.monotonic() < deadline and len(kids) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.3)
            kids = {k for k in _descendants(proc.pid) if "spawn" in
                    Path(f"/proc/{k}/cmdline").read_bytes().decode(errors="replace")}
        assert len(kids) >= 2, "the pool's workers never started"
        time.sleep(1.0)  # replications under way
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        time.sleep(5.0)
        alive = {k for k in kids if _running(k)}
        assert not alive, f"workers still running 5 s after SIGTERM: {alive}"
        assert "Traceback" not in proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        for k in _descendants(proc.pid):
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass
