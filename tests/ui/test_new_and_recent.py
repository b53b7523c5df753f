"""File ▸ New scenario (template or shipped), File ▸ Open recent, reopening the last scenario."""

import json

import pytest

import scenarios
from simulator.scenario_io import load
from simulator.scenario_rules import cross_check
from ui.recent import RecentFiles, settings_path

pytestmark = pytest.mark.gui


def test_new_scenario_from_a_template(window, prompter):
    win = window
    prompter.answer("choose", "template:no_scheme")
    assert win.new_scenario()
    groups = dict(prompter.offered)
    assert [k for k, _, _ in groups["Templates"]] == \
        [f"template:{k}" for k in scenarios.TEMPLATES]
    assert {k for k, _, _ in groups["Shipped scenarios"]} == \
        {f"shipped:{e.key}" for e in scenarios.list_shipped()}
    sc = win.doc.scenario
    assert sc.name == "New scenario" and win.doc.path is None
    assert not sc.tier_rules.enabled and sc.promotions == [] and not cross_check(sc)
    assert not win.doc.issues()
    assert win.act_save.isEnabled() is False  # unsaved: Save goes through Save As


def test_new_scenario_from_a_shipped_one_and_cancel(window, prompter):
    win = window
    before = win.doc.path
    assert not win.new_scenario()  # Cancel: nothing changes
    assert win.doc.path == before
    prompter.answer("choose", "shipped:hnw_deep_service")
    assert win.new_scenario()
    shipped = load(scenarios.shipped_path("hnw_deep_service"))
    assert win.doc.scenario.name == f"{shipped.name} (my copy)"
    assert win.doc.path is None
    assert win.doc.scenario.tiers == shipped.tiers


def test_recent_files_menu_and_a_missing_one(window, prompter, small_path):
    win = window
    a = small_path
    sc = load(a)
    sc.name = "Second"
    b = scenarios.save_user(sc)
    assert win.open_path(b)
    assert win.open_path(a)
    assert win.recent.files()[:2] == [a.resolve(), b.resolve()]
    win._fill_recent_menu()
    texts = [act.text() for act in win.recent_menu.actions()]
    assert texts[0].startswith(a.name) and texts[1].startswith(b.name)
    # open from the menu
    assert win.open_recent(b) and win.doc.path == b
    # a file deleted meanwhile: a clear message, and it leaves the list
    b.unlink()
    assert win.open_path(a)
    assert not win.open_recent(b)
    kind, text = prompter.asked[-1]
    assert kind == "error" and b.name in text and "removed from the recent files" in text
    assert b.resolve() not in win.recent.files()


def test_reopen_last_scenario_at_start(qtbot, prompter, small_path):
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    RecentFiles().add(small_path)
    win = MainWindow(prompter=prompter, preview=PreviewSize(agents=300, horizon_months=6,
                                                            refine=False))
    qtbot.addWidget(win)
    try:
        assert win.reopen_last()
        assert win.doc.path == small_path.resolve() or win.doc.path == small_path
        # a last scenario no longer there: the default stays open, the entry is forgotten
        gone = small_path.with_name("gone.toml")
        win.recent.add(gone)
        win2 = MainWindow(prompter=prompter, preview=PreviewSize(agents=300, horizon_months=6,
                                                                 refine=False))
        qtbot.addWidget(win2)
        try:
            assert not win2.reopen_last()
            assert scenarios.is_shipped(win2.doc.path)
            assert "gone.toml" in win2.statusBar().currentMessage()
            assert gone.resolve() not in win2.recent.files()
            assert win2.recent.last() == small_path.resolve()
        finally:
            win2.doc.undo_stack.setClean()
            win2.shutdown()
    finally:
        win.doc.undo_stack.setClean()
        win.shutdown()


def test_settings_file_is_saved_atomically_and_survives_a_bad_one(private_home):
    path = settings_path()
    assert path.parent == private_home / "home"
    rec = RecentFiles()
    assert rec.files() == [] and rec.last() is None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")  # corrupt: read as empty, never raises
    assert rec.files() == []
    for i in range(12):
        rec.add(private_home / f"s{i}.toml")
    files = rec.files()
    assert len(files) == 8 and files[0].name == "s11.toml"
    assert json.loads(path.read_text(encoding="utf-8"))["recent"][0].endswith("s11.toml")
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == ["settings.json"]
