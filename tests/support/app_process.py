"""The desktop app in a child process, for tests that time how it exits (no pytest-qt).

A test hands :func:`app_script` what its window does once the first preview is on
screen, starts it with :func:`start_app` and reads the lines the script prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
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
sc.run.replications, sc.run.agents, sc.run.horizon_months = {replications}, {agents}, {months}
win = MainWindow(sc, None, preview=PreviewSize(replications=1, agents=300,
                                               horizon_months=2, refine=False))
win.show()
state = {{}}
"""


def app_script(replications: int, agents: int, months: int, body: str) -> str:
    """Python source: the default scenario's window with a full run of this size, then ``body``.

    ``body`` sees ``app``, ``win``, ``runner``, ``quit_now``, ``QTimer``, ``time`` and an
    empty dict ``state``; it starts the event loop itself. The preview is tiny.
    """
    return _PRELUDE.format(replications=replications, agents=agents, months=months) + \
        textwrap.dedent(body)


def start_app(tmp_path: Path, script: str) -> subprocess.Popen:
    """Run ``script`` offscreen with a private user folder and a 2-worker engine pool."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               BENEFIT_SIM_HOME=str(tmp_path / "home"), BENEFIT_SIM_POOL_SIZE="2",
               XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return subprocess.Popen([sys.executable, "-c", script], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is running (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
