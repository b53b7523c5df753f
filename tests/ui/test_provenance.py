"""Every figure shown or exported belongs to the scenario on screen (issue 10, GUI items).

Stale full runs are not exported, figures of an earlier version are greyed out, opening
a scenario clears the previous one's figures, a pending edit is not lost on close, the
preview can be cancelled and shows the change an edit made, with its noise.
"""

import math
import time

import pytest
from PySide6.QtCore import Qt

import scenarios
from simulator.scenario_io import ScenarioError, load, scenario_hash

pytestmark = pytest.mark.gui

STAFF = ("service", "pools", 0, "shifts", 0, "staff")


def full_run(qtbot, win):
    with qtbot.waitSignal(win.results.full_finished, timeout=120_000):
        assert win.results.start_full_run()
    return win.results.full_result


def test_export_refuses_a_full_run_of_an_earlier_version(qtbot, window, prompter, tmp_path):
    win, panel = window, window.results
    res = full_run(qtbot, win)
    assert res.meta["scenario_hash"] == scenario_hash(win.doc.scenario)
    book = tmp_path / "ok.xlsx"
    prompter.answer("save_path", str(book))
    assert win.export_excel() and book.exists()

    # edit B: the full run no longer belongs to the inputs on screen
    staff = win.doc.get(STAFF)
    win.editor.field(STAFF).set_display_value(staff + 4)
    assert panel.kpis.stale and panel.stale_banner.isVisibleTo(panel)
    assert "earlier version" in panel.stale_banner.text()
    stale = tmp_path / "stale.xlsx"
    prompter.answer("offer", False)
    asked = len(prompter.asked)
    assert not win.export_excel()
    assert [k for k, _ in prompter.asked[asked:]] == ["offer"]  # no file is even asked for
    kind, text = prompter.asked[-1]
    assert "earlier version" in text
    # the direct API refuses too (hash check in the export itself)
    assert not win.excel.export_scenario(win.doc.snapshot(), res, path=str(stale))
    assert not stale.exists()
    assert prompter.asked[-1][0] == "error"

    # undo: the inputs are those of the run again, so it is shown and exported again
    win.act_undo.trigger()
    qtbot.waitUntil(lambda: panel.shown_kind == "full" and not panel.kpis.stale, timeout=10_000)
    again = tmp_path / "again.xlsx"
    prompter.answer("save_path", str(again))
    assert win.export_excel() and again.exists()


def test_opening_another_scenario_clears_the_full_run(qtbot, window, prompter, tmp_path):
    win, panel = window, window.results
    full_run(qtbot, win)
    other = scenarios.shipped_path(scenarios.DEFAULT_SCENARIO)
    win.results.timer.setInterval(60_000)  # keep the new preview from arriving
    assert win.open_path(other)
    # nothing of the previous scenario is left on screen under the new title
    assert panel.result is None and panel.full_result is None
    assert all(b.value.text() == "—" for b in panel.kpis.boxes.values())
    assert panel.charts.is_empty()
    assert panel.status.text() == "" and panel.progress.format() == "idle"
    prompter.answer("offer", False)
    assert not win.export_excel()
    assert prompter.kinds()[-1] == "offer"
    assert "no full run yet" in prompter.asked[-1][1]


def test_failed_preview_clears_figures_and_error_wraps(qtbot, window, prompter):
    win, panel = window, window.results
    assert panel.result is not None
    width = win.width()
    sc = win.doc.snapshot()
    sc.name = "Broken base"
    sc.run.counterfactual.mode = "base_scenario"
    sc.run.counterfactual.base_scenario = "no_such_base_" + "x" * 150 + ".toml"
    path = scenarios.save_user(sc)
    # the missing base is a problem of the scenario (the loader's resolution, listed under
    # the editor), so the preview pauses instead of running into the failure
    assert win.open_path(path)
    qtbot.waitUntil(lambda: panel.kpis.caption.text().startswith("Preview paused"),
                    timeout=30_000)
    assert "Broken base" in win.windowTitle()
    assert all(b.value.text() == "—" for b in panel.kpis.boxes.values())
    assert panel.charts.is_empty() and panel.result is None
    assert not panel.preview_runner.busy
    # the problem names the field and the value, not the exception's class name
    msgs = [m for m in win.editor.issues.messages() if "no_such_base_" in m]
    assert msgs and "Base scenario" in msgs[0] and "ScenarioError" not in msgs[0]
    # the long message wraps: the window does not grow wider
    qtbot.wait(50)
    assert win.width() == width
    assert win.minimumSizeHint().width() <= 1366


def test_pending_edit_is_committed_and_prompted_on_close(qtbot, window, prompter, capfd):
    win = window
    spin = win.editor.field(STAFF).spin
    staff = win.doc.get(STAFF)
    win.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    spin.selectAll()
    qtbot.keyClicks(spin, str(staff + 7))  # typed, no Enter, focus still in the field
    assert win.doc.get(STAFF) == staff
    prompter.answer("save_discard_cancel", "cancel")
    assert not win.close()
    assert prompter.kinds().count("save_discard_cancel") == 1
    assert win.doc.get(STAFF) == staff + 7 and win.doc.modified
    # typed again, then Save: what was typed is what is saved
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(staff + 9))
    assert win.save()
    assert load(win.doc.path).service.pools[0].shifts[0].staff == staff + 9
    # typed once more and closed with Discard: no Qt errors on stderr
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(staff + 11))
    prompter.answer("save_discard_cancel", "discard")
    capfd.readouterr()
    assert win.close()
    qtbot.wait(50)
    err = capfd.readouterr().err
    assert "deleted" not in err and "Traceback" not in err


def test_rename_validates_the_name(window, prompter, small_path):
    lib = window.library
    assert lib.select_path(small_path)
    prompter.answer("text", "x" * 81)
    assert lib.rename_selected() is None
    kind, text = prompter.asked[-1]
    assert kind == "error" and "name" in text and "80" in text
    assert load(small_path).name == "星河 small test"  # unchanged and still loads
    with pytest.raises(ScenarioError):
        scenarios.rename_user(small_path, "y" * 81)
    assert load(small_path).name == "星河 small test"


def test_preview_can_be_cancelled_within_a_second(qtbot, window):
    win, panel = window, window.results
    panel.preview_size.agents = 60_000  # a preview that takes many seconds
    panel.preview_size.replications = 40
    panel.preview_size.refine = False
    staff = win.doc.get(STAFF)
    win.editor.field(STAFF).set_display_value(staff + 1)
    panel.flush_preview()
    qtbot.waitUntil(lambda: panel.preview_runner.busy, timeout=5000)
    assert panel.btn_cancel.isEnabled() and win.act_cancel.isEnabled()
    assert panel.progress.format().startswith("preview")  # not "idle"
    qtbot.wait(1500)
    assert panel.preview_runner.busy  # still running: the cancel below is what stops it
    t0 = time.perf_counter()
    win.act_cancel.trigger()  # Esc
    assert panel.progress.format() == "preview cancelled"
    qtbot.waitUntil(lambda: not panel.preview_runner.busy, timeout=5000)
    assert time.perf_counter() - t0 < 1.0
    assert not panel.btn_cancel.isEnabled()
    assert panel.kpis.stale and "cancelled" in panel.stale_banner.text()


def test_preview_shows_the_change_and_its_noise(qtbot, window):
    win, panel = window, window.results
    before = panel.result
    assert before.replications >= 2  # paired replications give the change an interval
    staff = win.doc.get(STAFF)
    with qtbot.waitSignal(panel.preview_shown, timeout=30_000):
        win.editor.field(STAFF).set_display_value(staff * 3)
    after = panel.result
    assert after.meta["seed"] == before.meta["seed"]  # same seed, same customers
    assert after.replications == before.replications
    sla = panel.kpis.boxes["sla_attainment"]
    d = panel.deltas["sla_attainment"]
    direct = (after.kpis["sla_attainment"] - before.kpis["sla_attainment"]).mean()
    assert d.mean == pytest.approx(direct)
    assert d.ci95_low > 0  # three times the staff: a clear improvement
    assert sla.delta_label.isVisibleTo(sla) and sla.delta_label.text().startswith("Δ +")
    assert "within noise" not in sla.delta_label.text()
    assert "pp" in sla.delta_label.text()
    # a change with no effect on a figure reads "within noise" (its interval holds 0)
    with qtbot.waitSignal(panel.preview_shown, timeout=30_000):
        win.editor.field(("run", "discount_rate_annual")).set_display_value(9)
    churn = panel.kpis.boxes["churn_annual"]
    assert churn.within_noise and (
        "within noise" in churn.delta_label.text() or "does not change" in
        churn.delta_label.text())
    npv = panel.kpis.boxes["npv"]
    assert npv.delta is not None and math.isfinite(npv.delta.mean)


def test_preview_runs_the_scenarios_own_horizon(qtbot, window):
    from ui.results_panel import PreviewSize

    assert PreviewSize().horizon_months is None
    panel = window.results
    panel.preview_size.horizon_months = None
    with qtbot.waitSignal(panel.preview_shown, timeout=30_000):
        window.editor.field(("run", "horizon_months")).set_display_value(9)
    assert panel.result.horizon == 9
    sc = scenarios.load_default()
    assert sc.run.horizon_months == 36
    assert panel._preview_args(sc, False)["horizon_months"] == 36
    assert panel._preview_args(sc, True)["horizon_months"] == 36


def test_shortcuts_work_with_focus_in_a_field(qtbot, window, prompter):
    win = window
    field = win.editor.field(STAFF)
    staff = win.doc.get(STAFF)
    field.set_display_value(staff + 5)
    win.activateWindow()
    field.spin.setFocus()
    qtbot.waitUntil(field.spin.hasFocus, timeout=2000)
    qtbot.keyClick(field.spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.doc.get(STAFF) == staff
    qtbot.keyClick(field.spin, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert win.doc.get(STAFF) == staff + 5
    # Ctrl+S in a line edit with a name typed but not entered saves that name
    name = win.editor.field(("name",))
    name.edit.setFocus()
    qtbot.waitUntil(name.edit.hasFocus, timeout=2000)
    name.edit.selectAll()
    qtbot.keyClicks(name.edit, "Typed name")
    qtbot.keyClick(name.edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not win.doc.modified
    assert load(win.doc.path).name == "Typed name"
    # Ctrl+Z with focus in the line edit undoes the document's last step
    qtbot.keyClick(name.edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.doc.scenario.name == "星河 small test"


def test_window_fits_1366_by_768(qtbot, window):
    win = window
    assert win.minimumSizeHint().width() <= 1366 - 16
    assert win.minimumSizeHint().height() <= 768 - 40 - 30
    win.resize(1366 - 16, 768 - 40 - 30)  # maximised on a 1366 x 768 laptop with a panel
    qtbot.wait(100)
    assert win.width() <= 1366 and win.height() <= 768
    rect = win.rect()
    panel = win.results
    for w in [panel.btn_cancel, panel.btn_run, panel.progress, *panel.kpis.boxes.values(),
              panel.chart_scroll, win.editor, win.library]:
        assert w.isVisible()
        top_left = w.mapTo(win, w.rect().topLeft())
        bottom_right = w.mapTo(win, w.rect().bottomRight())
        assert rect.contains(top_left) and rect.contains(bottom_right), w
    for i in range(win.tabs.count()):
        win.tabs.setCurrentIndex(i)
        qtbot.wait(20)
        assert win.width() <= 1366


def test_window_opens_inside_the_available_screen(qtbot, prompter, small_path):
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    win = MainWindow(load(small_path), small_path, prompter=prompter,
                     preview=PreviewSize(agents=300, horizon_months=6, refine=False))
    qtbot.addWidget(win)
    try:
        avail = win.screen().availableGeometry()
        assert win.frameGeometry().width() <= avail.width()
        assert win.height() <= avail.height()
        assert avail.contains(win.geometry().topLeft())
    finally:
        win.doc.undo_stack.setClean()
        win.shutdown()


def test_library_can_be_hidden_from_the_view_menu(window):
    act = window.library_dock.toggleViewAction()
    assert act.isEnabled()
    act.trigger()
    assert not window.library_dock.isVisible()
    act.trigger()
    assert window.library_dock.isVisible()


def test_undo_entries_read_like_actions(window):
    win = window
    staff = win.doc.get(STAFF)
    win.editor.field(STAFF).set_display_value(staff + 2)
    assert win.doc.undo_stack.undoText() == \
        f"Change Pool 'General' ▸ Shift 1 ▸ Staff to {staff + 2} agents"
    assert win.act_undo.text() == "&Undo"  # the toolbar does not shift with the text
    assert win.act_undo.toolTip().startswith("Undo: Change Pool 'General'")
    tiers = win.editor.list_editor(("tiers",))
    tiers.select(1)
    tiers.remove()
    assert win.doc.undo_stack.undoText() == "Remove Tier '白银'"


def test_library_names_the_scenario_in_tooltip_and_delete_prompt(window, prompter,
                                                                 small_path):
    lib = window.library
    assert lib.select_path(small_path)
    assert lib.tree.currentItem().toolTip(0).startswith("星河 small test\n")
    prompter.answer("confirm", False)
    assert not lib.delete_selected()
    assert "Delete “星河 small test”" in prompter.asked[-1][1]


def test_kpi_captions_are_readable_in_a_dark_palette(qtbot, window):
    from PySide6.QtGui import QColor, QPalette

    dark = QPalette()
    for role, col in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base, "#202124"),
                      (QPalette.ColorRole.WindowText, "#e8eaed"),
                      (QPalette.ColorRole.Text, "#e8eaed"),
                      (QPalette.ColorRole.PlaceholderText, "#9aa0a6")):
        dark.setColor(role, QColor(col))
    box = window.results.kpis.boxes["npv"]
    box.setPalette(dark)
    box.setAutoFillBackground(True)
    qtbot.wait(20)
    img = box.grab().toImage()
    g = box.title.geometry()
    lum = [QColor(img.pixel(x, y)).lightness() for x in range(g.left(), g.right())
           for y in range(g.top(), g.bottom())]
    assert min(lum) < 45  # the dark background is painted
    assert max(lum) - min(lum) > 90  # the caption stands out from it
