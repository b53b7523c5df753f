"""Screenshots of the attribution view and compare's "Why different" waterfall (issue 15).

Run: .venv/bin/python docs/screenshots/make_attribution_shots.py

Under Xvfb (``xvfb-run``; offscreen if it is missing) at 1366×768 and 1920×1080
in the light palette (and 1366×768 dark): the main window with the results'
Attribution tab after an attribution of the default scenario (Chinese tier
names, 4 replications × 2,000 agents, 24 months), and the Compare tab's "Why
different" panel explaining "星河 + staff, 10 % → 8 %" against the base. Saved as
``<size>_<palette>_attribution.png``, ``<size>_<palette>_why_different.png`` and
``<size>_<palette>_points_deadweight.png`` (Results → Points & deadweight of the
base with points switched on).
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


def prepare() -> tuple[Path, Path]:
    """The base (default scenario, Chinese tier names) and a variant with three changes."""
    import scenarios

    sc = scenarios.load_default()
    for t, zh in zip(sc.tiers, ["青铜", "白银", "黄金", "钻石"]):
        t.name = zh
    sc.name = "星河 today (中文等级)"
    sc.run.replications = 4
    sc.run.agents = 2000
    sc.run.horizon_months = 24
    base = scenarios.save_user(sc)
    sc2 = sc.model_copy(deep=True)
    sc2.name = "星河 + staff, 10 % → 8 %"
    sc2.service.pools[0].shifts[0].staff *= 2
    for t in sc2.tiers:
        for b in t.benefits:
            if b.kind == "discount":
                b.cost_share = 0.08
    sc2.population.acquisition.paid_spend_cny_per_month *= 1.5
    other = scenarios.save_user(sc2)
    sc3 = sc.model_copy(deep=True)
    sc3.name = "星河 + points (积分)"
    sc3.tier_rules.points.enabled = True
    scenarios.save_user(sc3)
    return base, other


def _points_path(base: Path) -> Path:
    """The saved "星河 + points" scenario (beside the base in the user folder)."""
    import scenarios

    return next(e.path for e in scenarios.list_all() if e.title.startswith("星河 + points"))


def shoot(size: str, palette: str, base: Path, other: Path) -> None:
    """One window: attribution, then why-different (in this process)."""
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(root))
    from main import apply_palette
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_palette(app, palette)
    win = MainWindow()
    win.open_path(base)
    w, h = (int(x) for x in size.split("x"))
    win.resize(w, h)
    win.show()

    def wait(pred, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not pred():
            app.processEvents()
            time.sleep(0.02)
        for _ in range(25):
            app.processEvents()
            time.sleep(0.04)

    tag = f"{size.split('x')[0]}_{palette}"
    wait(lambda: win.results.result is not None, 120)
    view = win.results.attribution
    win.results.views.setCurrentWidget(view)
    view.start()
    wait(lambda: view.result is not None and not view.busy, 1200)
    win.grab().toImage().save(str(here / f"{tag}_attribution.png"), "PNG", 0)
    win.compare.set_checked([base, other], base=base)
    win.compare.reps.setValue(4)
    win.compare.agents.setValue(2000)
    win.compare.horizon.setValue(24)
    win.tabs.setCurrentIndex(1)
    win.compare.run()
    wait(lambda: win.compare.last is not None and not win.compare.runner.busy, 600)
    why = win.compare.why
    win.compare.tables.setCurrentWidget(why)
    why.start()
    wait(lambda: why.result is not None and not why.busy, 1200)
    win.grab().toImage().save(str(here / f"{tag}_why_different.png"), "PNG", 0)
    # Results -> Points & deadweight of a scheme with points (the preview's result)
    win.doc.undo_stack.setClean()
    win.open_path(_points_path(base))
    win.tabs.setCurrentIndex(0)
    wait(lambda: win.results.result is not None and not win.results.preview_runner.busy, 120)
    win.results.views.setCurrentWidget(win.results.accounting)
    wait(lambda: win.results.accounting.ledger is not None, 60)
    win.grab().toImage().save(str(here / f"{tag}_points_deadweight.png"), "PNG", 0)
    print("wrote", tag)
    win.doc.undo_stack.setClean()
    win.shutdown()


def main() -> None:
    """Prepare a throw-away user folder, then one Xvfb process per size and palette."""
    if len(sys.argv) > 1 and sys.argv[1] == "--shoot":
        shoot(sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
        return
    home = Path(tempfile.mkdtemp(prefix="bsim-attr-shots-"))
    os.environ["BENEFIT_SIM_HOME"] = str(home)
    sys.path.insert(0, str(root))
    base, other = prepare()
    env = dict(os.environ, PYTHONPATH=str(root), XDG_CONFIG_HOME=str(home / "config"))
    xvfb = shutil.which("xvfb-run")
    for size, pal in (("1366x768", "light"), ("1920x1080", "light"), ("1366x768", "dark")):
        cmd = [sys.executable, __file__, "--shoot", size, pal, str(base), str(other)]
        if xvfb:
            cmd = [xvfb, "-a", "-s", f"-screen 0 {size}x24", *cmd]
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        subprocess.run(cmd, cwd=root, env=env, check=True, timeout=3600)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
