"""Try the app as a user would, on every shipped scenario, and save what each view shows.

Run: .venv/bin/python docs/screenshots/tour.py OUT_DIR [--sizes 1366x768,1920x1080]
     [--palettes light,dark] [--only KEY] [--agents 1000] [--quick]

For each shipped scenario, size and palette, one app process under Xvfb
(``xvfb-run``; offscreen if it is missing) opens the scenario and saves, into
``OUT_DIR/<key>/<size>_<palette>_<view>.png``: the main window after the preview,
every result chart (the whole chart column, also what lies below the fold), the
results' Attribution and Points & deadweight tabs, the editor's Service section
with the capacity panel, Compare against the scenario's base (KPI deltas, inputs
that differ, "Why different"), the Budget optimiser and Risk & sensitivity after a
small run of each. ``--quick`` skips the analyses that run their own simulations.
Each process prints the status line of every view (failures show there), and a
line ``ERROR`` for anything that went wrong; ``OUT_DIR/log.txt`` collects them.
These pictures are for looking at; the docs' pictures come from make_screenshots.py.
"""

from __future__ import annotations

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


def _other_for(key: str) -> str:
    """What the scenario is compared with: its base, or a scenario built on it."""
    import scenarios
    from simulator.scenario_io import load

    sc = load(scenarios.shipped_path(key))
    if sc.run.counterfactual.base_scenario:
        return Path(sc.run.counterfactual.base_scenario).stem
    for entry in scenarios.list_shipped():
        other = load(entry.path)
        if Path(other.run.counterfactual.base_scenario or "").stem == key:
            return entry.key
    return scenarios.DEFAULT_SCENARIO if key != scenarios.DEFAULT_SCENARIO else \
        "xinghe_3h_golden_response"


def shoot(key: str, size: str, palette: str, out: Path, agents: int, quick: bool) -> int:
    """In this process: open ``key`` and save each view."""
    sys.path.insert(0, str(root))
    from PySide6.QtWidgets import QApplication

    import scenarios
    from main import apply_palette
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_palette(app, palette)
    win = MainWindow()
    w, h = (int(x) for x in size.split("x"))
    win.resize(w, h)
    win.show()
    tag = f"{size.split('x')[0]}_{palette}"
    out.mkdir(parents=True, exist_ok=True)
    errors = 0

    def wait(pred, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        ok = False
        while time.monotonic() < end:
            app.processEvents()
            if pred():
                ok = True
                break
            time.sleep(0.03)
        for _ in range(20):  # let pyqtgraph finish laying out
            app.processEvents()
            time.sleep(0.03)
        return ok

    def save(widget, view: str) -> None:
        widget.grab().toImage().save(str(out / f"{tag}_{view}.png"), "PNG", 0)

    def report(view: str, text: str, ok: bool = True) -> None:
        nonlocal errors
        bad = not ok or "failed" in text.lower() or "error" in text.lower()
        errors += bad
        print(f"{'ERROR' if bad else 'ok   '} {key} {tag} {view}: {text[:300]!r}", flush=True)

    def run_view(view_widget, view: str) -> None:
        """Start a background analysis view, wait for its result, report and save."""
        started = view_widget.start()
        ok = (wait(lambda: not view_widget.busy and view_widget.result is not None, 1800)
              if started else False)
        report(view, view_widget.status.text(), ok or not started)
        save(win, view)

    path = scenarios.shipped_path(key)
    other = scenarios.shipped_path(_other_for(key))
    win.open_path(path)
    res = win.results
    ok = wait(lambda: res.result is not None and not res.preview_runner.busy, 300)
    report("preview", res.status.text(), ok)
    save(win, "main")
    for plot in res.charts.plots.values():  # as a user scrolls: each chart lays out when seen
        res.chart_scroll.ensureWidgetVisible(plot)
        wait(lambda: True, 0.2)
    save(res.charts, "charts_all")  # the whole chart column, also below the fold
    res.chart_scroll.verticalScrollBar().setValue(0)
    res.views.setCurrentWidget(res.accounting)
    wait(lambda: True, 1)
    save(win, "points_deadweight")
    if not quick:
        att = res.attribution
        res.views.setCurrentWidget(att)
        att.reps.setValue(2)
        att.agents.setValue(agents)
        run_view(att, "attribution")
    res.views.setCurrentIndex(0)

    editor = win.editor
    for i in range(editor.tabs.count()):
        if editor.tabs.tabText(i).replace("&&", "&").lower().startswith("service"):
            editor.tabs.setCurrentIndex(i)
    wait(lambda: True, 1)
    save(win, "editor_service")
    if getattr(editor, "capacity", None) is not None:
        save(editor.capacity, "capacity_panel")

    win.tabs.setCurrentIndex(1)
    cmp = win.compare
    cmp.set_checked([other, path], base=other)
    cmp.reps.setValue(2)
    cmp.agents.setValue(agents)
    cmp.horizon.setValue(24)
    cmp.run()
    ok = wait(lambda: cmp.last is not None and not cmp.runner.busy, 1800)
    report("compare", cmp.status.text() if hasattr(cmp, "status") else "", ok)
    save(win, "compare")
    cmp.tables.setCurrentWidget(cmp.diff_table)
    wait(lambda: True, 1)
    save(win, "compare_inputs")
    if not quick:
        why = cmp.why
        cmp.tables.setCurrentWidget(why)
        run_view(why, "why_different")

        win.tabs.setCurrentIndex(win.optimiser_tab)
        opt = win.optimiser
        c = opt.controls
        c.agents.setValue(agents)
        c.months.setValue(12)
        c.reps.setValue(2)
        c.verify_reps.setValue(2)
        c.levels.setValue(2)
        c.local_check.setChecked(False)
        opt.start()
        ok = wait(lambda: opt.alloc is not None and not opt.busy, 2400)
        report("optimiser", c.status.text(), ok)
        save(win, "optimiser")

        win.tabs.setCurrentIndex(win.risk_tab)
        risk = win.risk
        risk.reps.setValue(2)
        risk.agents.setValue(agents)
        started = risk.start()
        ok = wait(lambda: not risk.busy and risk.result is not None, 2400) if started else False
        report("risk", risk.status.text() + " | " + risk.answers.text(), ok or not started)
        save(win, "risk")
    win.doc.undo_stack.setClean()
    win.shutdown()
    return 1 if errors else 0


def main() -> None:
    """Entry point: one process per scenario, size and palette."""
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--sizes", default="1366x768,1920x1080")
    ap.add_argument("--palettes", default="light,dark")
    ap.add_argument("--only", help="comma-separated scenario keys")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--shoot", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.shoot:
        key, size, palette = args.shoot
        raise SystemExit(shoot(key, size, palette, args.out / key, args.agents, args.quick))
    sys.path.insert(0, str(root))
    import scenarios

    keys = args.only.split(",") if args.only else [e.key for e in scenarios.list_shipped()]
    home = Path(tempfile.mkdtemp(prefix="bsim-tour-"))
    env = dict(os.environ, BENEFIT_SIM_HOME=str(home), PYTHONPATH=str(root),
               XDG_CONFIG_HOME=str(home / "config"))
    xvfb = shutil.which("xvfb-run")
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "log.txt", "a") as log:
        for key in keys:
            for size in args.sizes.split(","):
                for pal in args.palettes.split(","):
                    cmd = [sys.executable, __file__, str(args.out), "--shoot", key, size, pal,
                           "--agents", str(args.agents)] + (["--quick"] if args.quick else [])
                    if xvfb:
                        cmd = [xvfb, "-a", "-s", f"-screen 0 {size}x24", *cmd]
                    else:
                        env["QT_QPA_PLATFORM"] = "offscreen"
                    t = time.monotonic()
                    p = subprocess.run(cmd, cwd=root, env=env, timeout=7200,
                                       capture_output=True, text=True)
                    text = p.stdout + (p.stderr if p.returncode else "")
                    text += f"# {key} {size} {pal}: exit {p.returncode} in " \
                            f"{time.monotonic() - t:.0f} s\n"
                    print(text, end="", flush=True)
                    log.write(text)
                    log.flush()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
