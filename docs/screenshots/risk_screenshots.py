"""Screenshots of the "Risk & sensitivity" view (issue 14) at 1366×768 and 1920×1080.

Run: .venv/bin/python docs/screenshots/risk_screenshots.py [--agents 1500] [--reps 4]

Each size runs in its own process under Xvfb (``xvfb-run``; offscreen if it is missing):
the default scenario (its assumed inputs written as ranges) is analysed in the view with
a small sample, then the window is saved as ``<size>_light_risk.png``.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

here = Path(__file__).resolve().parent
root = here.parents[1]


def shoot(size: str, agents: int, reps: int) -> int:
    """In this process: open the app, analyse, save the picture."""
    sys.path.insert(0, str(root))
    from PySide6.QtWidgets import QApplication

    from main import apply_palette
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_palette(app, "light")
    win = MainWindow()
    w, h = (int(x) for x in size.split("x"))
    win.resize(w, h)
    win.show()
    win.tabs.setCurrentIndex(win.risk_tab)
    win.risk.reps.setValue(reps)
    win.risk.agents.setValue(agents)
    win.risk.start()
    end = time.monotonic() + 1800
    while time.monotonic() < end and (win.risk.busy or win.risk.result is None):
        app.processEvents()
        time.sleep(0.05)
    for _ in range(25):
        app.processEvents()
        time.sleep(0.04)
    out = here / f"{size.split('x')[0]}_light_risk.png"
    ok = win.grab().toImage().save(str(out), "PNG", 0)
    print(f"{'wrote' if ok else 'FAILED'} {out}: {win.risk.answers.text()[:200]}")
    win.doc.undo_stack.setClean()
    win.shutdown()
    return 0 if ok else 1


def main() -> None:
    """Entry point: one process per size (or ``--one SIZE`` in this one)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1500)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        raise SystemExit(shoot(args.one, args.agents, args.reps))
    home = Path(tempfile.mkdtemp(prefix="bsim-risk-shots-"))
    env = dict(os.environ, BENEFIT_SIM_HOME=str(home), PYTHONPATH=str(root),
               XDG_CONFIG_HOME=str(home / "config"))
    xvfb = shutil.which("xvfb-run")
    for size in ("1366x768", "1920x1080"):
        cmd = [sys.executable, __file__, "--one", size, "--agents", str(args.agents),
               "--reps", str(args.reps)]
        if xvfb:
            cmd = [xvfb, "-a", "-s", f"-screen 0 {size}x24", *cmd]
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        subprocess.run(cmd, cwd=root, env=env, check=True, timeout=3600)


if __name__ == "__main__":
    main()
