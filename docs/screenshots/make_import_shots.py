"""Screenshots of File ▸ Import transaction log… after fitting CDNOW (issue 16).

Run: .venv/bin/python docs/screenshots/make_import_shots.py

Under Xvfb (``xvfb-run``; offscreen if it is missing) at 1366×768 and 1920×1080,
light palette: the dialog on the CDNOW master log (whitespace-separated, from the
Lifetimes 0.11.3 wheel), holdout from 1997-10-01, 8 engine runs, after the fit, with
the preview, the tracking and cumulative charts and the comparison. Saved as
``<size>_light_import_log.png``.
"""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

here = Path(__file__).resolve().parent
root = here.parents[1]


def shoot(size: str, log: str) -> None:
    """The dialog at nearly the screen's size, after the fit."""
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(root))
    from main import apply_palette
    from ui.import_dialog import ImportDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_palette(app, "light")
    dlg = ImportDialog(open_path=lambda p: True)
    w, h = (int(x) for x in size.split("x"))
    dlg.resize(w - 40, h - 60)
    dlg.show()
    dlg.set_path(log)
    dlg.combos["amount"].setCurrentText("dollar_value")
    dlg.split.setDate(QDate(1997, 10, 1))
    dlg.start()
    end = time.monotonic() + 600
    while time.monotonic() < end and dlg.result_data is None and not dlg.run_btn.isEnabled():
        app.processEvents()
        time.sleep(0.02)
    for _ in range(25):
        app.processEvents()
        time.sleep(0.04)
    out = here / f"{size.split('x')[0]}_light_import_log.png"
    dlg.grab().toImage().save(str(out), "PNG", 0)
    print("wrote", out.name, dlg.status.text())
    dlg.stop()


def main() -> None:
    """One Xvfb process per size."""
    if len(sys.argv) > 1 and sys.argv[1] == "--shoot":
        shoot(sys.argv[2], sys.argv[3])
        return
    dist = importlib.metadata.distribution("lifetimes")
    log = str(dist.locate_file("lifetimes/datasets/CDNOW_master.txt"))
    home = Path(tempfile.mkdtemp(prefix="bsim-import-shots-"))
    env = dict(os.environ, PYTHONPATH=str(root), BENEFIT_SIM_HOME=str(home),
               XDG_CONFIG_HOME=str(home / "config"))
    xvfb = shutil.which("xvfb-run")
    for size in ("1366x768", "1920x1080"):
        cmd = [sys.executable, __file__, "--shoot", size, log]
        if xvfb:
            cmd = [xvfb, "-a", "-s", f"-screen 0 {size}x24", *cmd]
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        subprocess.run(cmd, cwd=root, env=env, check=True, timeout=1200)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
