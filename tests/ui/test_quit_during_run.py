"""Quitting during a full run: the app is gone, and no worker alive, within ~1-2 s."""

import os
import time

import pytest

from tests.support.app_process import alive, app_script, start_app

pytestmark = pytest.mark.gui

# a full run long enough to be in the middle of pool replications when the user quits
APP = app_script(8, 60_000, 60, """
    def tick():
        res = win.results
        if "started" not in state:
            if not res.preview_runner.busy:
                state["started"] = res.start_full_run()
        elif runner.pool_pids() and "closing" not in state and \\
                time.perf_counter() - state.setdefault("t", time.perf_counter()) > 2.0:
            state["closing"] = True
            print("PIDS", *runner.pool_pids(), flush=True)
            QTimer.singleShot(1000, close)  # the test checks the workers are alive
            return
        QTimer.singleShot(50, tick)

    def close():
        assert win.results.full_runner.busy
        print("CLOSING", flush=True)
        win.doc.undo_stack.setClean()
        t = time.perf_counter()
        win.close()
        print("CLOSED", time.perf_counter() - t, flush=True)
        app.quit()

    QTimer.singleShot(50, tick)
    app.exec()
""")


def test_quit_during_full_run_is_prompt(tmp_path):
    proc = start_app(tmp_path, APP)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 240
        closing = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("PIDS"):
                pids = [int(x) for x in line.split()[1:]]
                assert pids and all(alive(p) for p in pids)
            if line.startswith("CLOSING"):
                closing = time.monotonic()
                break
        assert closing is not None, proc.stderr.read() if proc.poll() is not None else ""
        closed = proc.stdout.readline()
        assert closed.startswith("CLOSED"), closed
        assert float(closed.split()[1]) < 1.0  # the window is gone within a second
        while [p for p in pids if alive(p)] and time.monotonic() - closing < 2.0:
            time.sleep(0.05)
        assert not [p for p in pids if alive(p)], "worker processes alive 2 s after quit"
        proc.wait(timeout=60)
        gone = time.monotonic() - closing
        # the process itself: interpreter and Qt teardown take ~0.8 s here even when idle,
        # ~2 s after a pool; waiting for the running replications took 18-25 s
        assert gone < 5.0, f"the app took {gone:.1f} s to exit after the window closed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in pids:
            if alive(p):
                os.kill(p, 9)
