"""The main window starts whatever the user folder holds (issue 20 item 2, issue 19)."""

import os
import sys
from pathlib import Path

import pytest

import scenarios
from simulator.scenario_io import save

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_hostile import CASES, _write  # noqa: E402


def _start(qtbot, prompter):
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    win = MainWindow(prompter=prompter, preview=PreviewSize(agents=300, horizon_months=2,
                                                            debounce_ms=30, refine=False))
    qtbot.addWidget(win)
    win.show()
    return win


def test_main_window_starts_with_50_hostile_files_and_lists_the_good_ones(qtbot, prompter):
    d = scenarios.user_dir()
    good = [d / "good_one.toml", d / "good_two.toml"]
    for p in good:
        save(scenarios.load_default(), p)
    hostile = [c for c in CASES if c[0] == "xinghe_today"]
    step = max(1, len(hostile) // 50)
    picked = hostile[::step][:50]
    for i, (_, _, _, payload, _) in enumerate(picked):
        _write(d, i, payload)
    os.mkfifo(d / "pipe.toml")
    win = _start(qtbot, prompter)
    try:
        listed = [p for _, p in win.library.entries()]
        assert all(p in listed for p in good)
        assert len([p for p in listed if p.parent == d]) == len(picked) + 3
        # each hostile file opens to its problems in the planner's words (or a recovered
        # copy), never a crash and never a bare exception text
        for p in sorted(d.glob("case_*.toml")) + [d / "pipe.toml"]:
            n = len(prompter.asked)
            win.open_path(p)
            win.doc.undo_stack.setClean()
            for kind, text in prompter.asked[n:]:
                assert kind in ("error", "offer"), (p.name, kind)
                assert "Traceback" not in text and "problem(s)" in text, text
                assert "▸" in text or "File —" in text or "The scenario —" in text, text
    finally:
        win.doc.undo_stack.setClean()
        win.shutdown()


@pytest.mark.parametrize("kind", ["file", "below_a_file"])
def test_main_window_starts_with_an_unusable_user_folder(qtbot, prompter, tmp_path, monkeypatch,
                                                         kind):
    home = tmp_path / "blocked"
    home.write_text("a file, not a folder")
    if kind == "below_a_file":
        home = home / "deeper"
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(home))
    assert scenarios.user_dir_warning()
    win = _start(qtbot, prompter)
    try:
        texts = [t for t, _ in win.library.entries()]
        assert len(texts) == len(scenarios.list_shipped())
        top = win.library.tree.topLevelItem(1)
        assert "folder unavailable" in top.text(0) and "cannot be used" in top.toolTip(0)
    finally:
        win.shutdown()
