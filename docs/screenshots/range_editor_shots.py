"""Screenshots of the range editor (issue 14) at 1366×768.

Run: .venv/bin/python docs/screenshots/range_editor_shots.py

Runs under Xvfb (``xvfb-run``; offscreen if it is missing) on the default scenario:
``1366_light_range_fields.png`` — the Tiers tab with the Silver tier's free shipping,
whose effects refer to shared assumptions, and its 10 % off with ranges of its own;
``1366_light_range_dialog.png`` — the range editor of a field with a range, showing a
problem beside the box that has it.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

here = Path(__file__).resolve().parent
root = here.parents[1]


def _settle(app, n: int = 20) -> None:
    for _ in range(n):
        app.processEvents()
        time.sleep(0.03)


def shoot() -> int:
    """In this process: open the app, show the fields and the dialog, save the pictures."""
    sys.path.insert(0, str(root))
    from PySide6.QtWidgets import QApplication

    from main import apply_palette
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_palette(app, "light")
    win = MainWindow()
    win.resize(1366, 768)
    win.show()
    _settle(app)
    ed = win.editor
    path = ("tiers", 1, "benefits", 0, "effect", "order_rate")  # Silver ▸ Free shipping
    ed.field(path)
    _settle(app)
    w = ed.field(path)  # again, once the form is laid out: scroll it into view
    ed.tabs.currentWidget().ensureWidgetVisible(w, 0, 300)
    _settle(app)
    ok = win.grab().toImage().save(str(here / "1366_light_range_fields.png"), "PNG", 0)
    field = ed.field(("segments", 1, "sensitivity", "price"))
    dlg = field.range_dialog()
    dlg.show()
    dlg.set_number("low", 2.0)  # above the most likely value: shown beside Low
    _settle(app)
    dlg.adjustSize()
    _settle(app)
    ok = dlg.grab().toImage().save(str(here / "1366_light_range_dialog.png"), "PNG", 0) and ok
    print(("wrote" if ok else "FAILED"), "range editor shots:", dlg.messages())
    dlg.reject()
    win.doc.undo_stack.setClean()
    win.shutdown()
    return 0 if ok else 1


def main() -> None:
    """Entry point: one process under Xvfb (or ``--one`` in this one)."""
    if "--one" in sys.argv:
        raise SystemExit(shoot())
    home = Path(tempfile.mkdtemp(prefix="bsim-range-shots-"))
    env = dict(os.environ, BENEFIT_SIM_HOME=str(home), PYTHONPATH=str(root),
               XDG_CONFIG_HOME=str(home / "config"))
    cmd = [sys.executable, __file__, "--one"]
    xvfb = shutil.which("xvfb-run")
    if xvfb:
        cmd = [xvfb, "-a", "-s", "-screen 0 1920x1080x24"] + cmd
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    try:
        raise SystemExit(subprocess.call(cmd, env=env, timeout=600))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
