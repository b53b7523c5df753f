"""After a full run, the app's process is gone within a second of closing the window."""

import time

import pytest

from tests.support.app_process import alive, app_script, start_app

pytestmark = pytest.mark.gui

# big enough for the engine's worker pool (4 x 60,000 x 24 > 5 M customer-months)
APP = app_script(4, 60_000, 24, """
    def tick():
        res = win.results
        if "started" not in state:
            if not res.preview_runner.busy:
                state["started"] = res.start_full_run()
        elif not res.full_runner.busy and res.full_result is not None:
            print("POOL", *runner.pool_pids(), flush=True)
            win.doc.undo_stack.setClean()
            print("CLOSING", time.time(), flush=True)
            win.close()
            app.quit()
            return
        QTimer.singleShot(50, tick)

    QTimer.singleShot(50, tick)
    code = app.exec()
    quit_now(code)  # as main.py ends
""")


def test_process_exits_within_a_second_after_a_run(tmp_path):
    proc = start_app(tmp_path, APP)
    closing = None
    pids: list[int] = []
    try:
        for line in proc.stdout:
            if line.startswith("POOL"):
                pids = [int(x) for x in line.split()[1:]]
            if line.startswith("CLOSING"):
                closing = float(line.split()[1])
                break
        assert closing is not None, proc.stderr.read()
        proc.wait(timeout=30)
        took = time.time() - closing
    finally:
        if proc.poll() is None:
            proc.kill()
    print(f"exit {took:.2f} s after the window closed")
    assert proc.returncode == 0
    assert pids, "the run did not use the worker pool"
    assert took < 1.0, f"the process took {took:.2f} s to exit after the window closed"
    time.sleep(0.2)
    assert not [p for p in pids if alive(p)], "an engine worker outlived the app"
