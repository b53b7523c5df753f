"""After a full run, the app's process is gone within a second of closing the window."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]

APP = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import scenarios
    from main import quit_now
    from simulator import runner
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    app = QApplication(sys.argv)
    sc = scenarios.load_default()
    # big enough for the engine's worker pool (4 x 60,000 x 24 > 5 M customer-months)
    sc.run.replications, sc.run.agents, sc.run.horizon_months = 4, 60_000, 24
    win = MainWindow(sc, None, preview=PreviewSize(replications=1, agents=300,
                                                   horizon_months=2, refine=False))
    win.show()
    state = {}

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
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               BENEFIT_SIM_HOME=str(tmp_path / "home"), BENEFIT_SIM_POOL_SIZE="2",
               XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    proc = subprocess.Popen([sys.executable, "-c", APP], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    for pid in pids:  # no orphaned engine worker
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z"
