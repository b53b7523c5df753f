"""Start the benefit-sim desktop app.

    python main.py [SCENARIO] [--screenshot OUT.png] [--view design|editor|compare|optimiser]
                   [--compare A B ...] [--tab TAB] [--optimise [AGENTS]]

``--optimize`` and ``--view optimizer`` are accepted as the old spellings.

SCENARIO is a file, a shipped key or a user scenario key; without it the
default scenario opens. ``--screenshot`` waits until the figures are drawn,
saves a picture of the window (or of the view chosen with ``--view``) and exits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(prog="benefit-sim", description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", help="scenario file or library key")
    ap.add_argument("--screenshot", metavar="OUT.png", help="save a screenshot and exit")
    ap.add_argument("--view", choices=["window", "design", "editor", "compare", "optimiser",
                                       "optimizer"],
                    default="window", help="what the screenshot shows ('optimizer' is the old "
                                           "spelling of 'optimiser')")
    ap.add_argument("--tab", default=None, help="editor tab to show (e.g. 'Service')")
    ap.add_argument("--compare", nargs="+", metavar="SCENARIO",
                    help="scenarios to compare (first is the base); opens the Compare tab")
    ap.add_argument("--size", default="1600x1000", help="window size for screenshots")
    ap.add_argument("--palette", choices=["system", "light", "dark"], default="system",
                    help="colour palette (dark: a Fusion dark palette, e.g. for screenshots)")
    ap.add_argument("--full", action="store_true", help="do a full run before the screenshot")
    ap.add_argument("--optimise", "--optimize", dest="optimise", nargs="?", type=int, const=0,
                    metavar="AGENTS",
                    help="open the Budget optimiser tab and run it (optionally with AGENTS "
                         "simulated customers); --optimize is the old spelling")
    args = ap.parse_args(argv)
    if args.view == "optimizer":
        args.view = "optimiser"
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the exit code."""
    args = parse_args(argv)
    if args.screenshot and not os.environ.get("DISPLAY") and \
            not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("benefit-sim")
    app.setOrganizationName("benefit-sim")
    if args.palette != "system":
        apply_palette(app, args.palette)

    import scenarios
    from simulator.scenario_io import ScenarioError
    from ui.main_window import MainWindow

    win = MainWindow()
    if not args.scenario and not args.screenshot:
        win.reopen_last()  # the scenario used last (the default if there is none)
    if args.scenario:
        try:
            path = scenarios.resolve(args.scenario)
        except FileNotFoundError as exc:
            win.prompter.error(win, "Scenario not found", str(exc))
        else:
            try:
                win.open_path(path)
            except ScenarioError as exc:  # open_path reports; this is belt and braces
                win.prompter.error(win, "Cannot open scenario", str(exc))
    if args.compare:
        paths = []
        for key in args.compare:
            try:
                paths.append(scenarios.resolve(key))
            except FileNotFoundError as exc:
                print(exc, file=sys.stderr)
        win.compare.set_checked(paths, base=paths[0] if paths else None)
        win.tabs.setCurrentIndex(1)
    if args.optimise is not None or args.view == "optimiser":
        win.tabs.setCurrentIndex(win.optimiser_tab)
        if args.optimise:
            win.optimiser.controls.agents.setValue(args.optimise)
    if args.tab:
        for i in range(win.editor.tabs.count()):
            if win.editor.tabs.tabText(i).replace("&&", "&").lower().startswith(
                    args.tab.lower()):
                win.editor.tabs.setCurrentIndex(i)

    if args.screenshot:
        w, h = (int(x) for x in args.size.lower().split("x"))
        win.resize(w, h)
        win.show()
        return _screenshot(app, win, args)
    win.show()
    if args.optimise is not None:
        win.optimiser.start()
    code = app.exec()
    win.shutdown()
    return code


def apply_palette(app, which: str) -> None:
    """Fusion style with a light or a dark palette (the charts and KPI strip follow it)."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    if which == "light":
        app.setPalette(app.style().standardPalette())
        return
    pal = QPalette()
    role = QPalette.ColorRole
    for r, c in ((role.Window, "#2b2b2b"), (role.WindowText, "#e8e8e8"), (role.Base, "#1e1e1e"),
                 (role.AlternateBase, "#2f2f2f"), (role.ToolTipBase, "#3a3a3a"),
                 (role.ToolTipText, "#e8e8e8"), (role.Text, "#e8e8e8"), (role.Button, "#353535"),
                 (role.ButtonText, "#e8e8e8"), (role.BrightText, "#ff6b6b"),
                 (role.Highlight, "#2f65ca"), (role.HighlightedText, "#ffffff"),
                 (role.Link, "#6ea8fe"), (role.PlaceholderText, "#9a9a9a"),
                 (role.Mid, "#3c3c3c"), (role.Dark, "#1a1a1a"), (role.Light, "#4a4a4a")):
        pal.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor("#7a7a7a"))
    app.setPalette(pal)


def _screenshot(app, win, args) -> int:
    """Wait for the preview (or full run / comparison), grab, save, quit."""
    import time

    def wait(pred, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            app.processEvents()
            if pred():
                return True
            time.sleep(0.02)
        return False

    if args.compare:
        win.compare.run()
        wait(lambda: win.compare.last is not None and not win.compare.runner.busy, 600)
    else:
        wait(lambda: win.results.result is not None, 120)
        if args.optimise is not None:
            win.optimiser.start()
            wait(lambda: win.optimiser.alloc is not None and not win.optimiser.busy, 1800)
        if args.full:
            win.results.start_full_run()
            wait(lambda: win.results.full_result is not None and
                 not win.results.full_runner.busy, 900)
    for _ in range(25):  # let pyqtgraph finish laying out after the last resize
        app.processEvents()
        time.sleep(0.04)
    target = {"window": win, "design": win.design, "editor": win.editor,
              "compare": win.compare, "optimiser": win.optimiser}[args.view]
    out = Path(args.screenshot)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = target.grab().toImage().save(str(out), "PNG", 0)  # 0: smallest file
    print(f"{'wrote' if ok else 'FAILED to write'} {out}")
    win.doc.undo_stack.setClean()
    win.shutdown()
    return 0 if ok else 1


def quit_now(code: int) -> None:
    """End the process at once with ``code``, skipping Python's own teardown.

    After the window has closed, the interpreter's finalisation (garbage-collecting
    thousands of Qt and pyqtgraph objects, unloading numba and pandas) took 1-2 s, so
    the app lingered after a run. Nothing needs it: scenario saves are atomic and done,
    the layout is synced when the window closes, and the engine's idle workers are
    stopped here first (no replication is running once the window is closed).
    """
    runner = sys.modules.get("simulator.runner")  # not imported: no workers to stop
    if runner is not None:
        runner.kill_pool()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


if __name__ == "__main__":
    quit_now(main())
