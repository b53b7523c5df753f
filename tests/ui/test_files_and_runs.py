"""Files (save, reopen, bad files, library), full runs with cancel, compare, export, layout."""

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import scenarios
from simulator.metrics import label_of
from simulator.scenario_io import load

pytestmark = pytest.mark.gui

STAFF = ("service", "pools", 0, "shifts", 0, "staff")


def test_save_as_save_and_reopen(qtbot, window, prompter):
    win = window
    shipped = scenarios.shipped_path(scenarios.DEFAULT_SCENARIO)
    assert win.open_path(shipped)
    assert win.doc.read_only and "[read-only]" in win.windowTitle()
    staff = win.doc.get(STAFF)
    win.editor.field(STAFF).set_display_value(staff + 8)
    # Ctrl+S on a shipped scenario goes to Save As
    prompter.answer("text", "Variant A")
    assert win.save()
    path = win.doc.path
    assert path.parent == scenarios.user_dir() and not win.doc.modified
    assert load(path).name == "Variant A"
    assert load(path).service.pools[0].shifts[0].staff == staff + 8
    assert any(t.startswith("Variant A") for t, _ in win.library.entries())
    # a further edit, plain save, reopen from disk
    win.editor.field(STAFF).set_display_value(staff + 9)
    assert win.doc.modified and win.windowTitle().startswith("*")
    assert win.save()
    assert win.open_path(shipped)
    assert win.open_path(path)
    assert win.doc.get(STAFF) == staff + 9
    assert win.editor.field(STAFF).spin.value() == staff + 9


def test_unsaved_changes_prompt_on_switch_and_close(qtbot, window, prompter):
    win = window
    before = win.doc.path
    win.editor.field(STAFF).set_display_value(3)
    prompter.answer("save_discard_cancel", "cancel")
    assert not win.open_path(scenarios.shipped_path(scenarios.DEFAULT_SCENARIO))
    assert win.doc.path == before and win.doc.get(STAFF) == 3
    prompter.answer("save_discard_cancel", "cancel")
    assert not win.close()  # close refused
    prompter.answer("save_discard_cancel", "discard")
    assert win.open_path(scenarios.shipped_path(scenarios.DEFAULT_SCENARIO))
    assert prompter.kinds().count("save_discard_cancel") == 3
    assert load(before).service.pools[0].shifts[0].staff != 3  # never saved


def test_corrupt_file_reports_not_crash(window, prompter, private_home):
    bad = scenarios.user_dir() / "broken.toml"
    bad.write_text("name = 'x'\n[[tiers]\n garbage", encoding="utf-8")
    before = window.doc.path
    assert not window.open_path(bad)
    kind, text = prompter.asked[-1]
    assert kind == "error" and "cannot be opened" in text and "TOML" in text
    assert window.doc.path == before
    # the library lists it with its error instead of failing
    window.library.refresh()
    assert any(p == bad for _, p in window.library.entries())


def test_invalid_values_offer_a_recovered_copy(window, prompter, small_path):
    text = Path(small_path).read_text(encoding="utf-8")
    text = text.replace("handle_minutes = 20.0", "handle_minutes = -3.0")
    text = text.replace("replications = 3", "replications = 3\nbogus_setting = 1")
    bad = scenarios.user_dir() / "bad_values.toml"
    bad.write_text(text, encoding="utf-8")
    prompter.answer("offer", True)
    assert window.open_path(bad)
    kind, details = prompter.asked[-1]
    assert kind == "offer"
    assert "▸ Handle minutes: -3 min — must be more than 0 and at most 1,440 min" in details
    assert "Run settings ▸ Bogus setting — is not a known setting" in details
    sc = window.doc.scenario
    assert sc.service.pools[0].handle_minutes == 12.0  # the schema default
    assert window.doc.path is None and window.doc.modified
    assert any("recovered from bad_values.toml" in m for m in window.editor.issues.messages())


def test_recovered_copy_keeps_the_valid_rest_of_an_item(window, prompter, small_path):
    """One bad staff value mends that value; the shift (hours, other shifts) is kept."""
    before = load(small_path)
    shifts = [(s.start_hour, s.end_hour, s.staff) for s in before.service.pools[0].shifts]
    text = Path(small_path).read_text(encoding="utf-8")
    text = text.replace(f"staff = {shifts[0][2]}", "staff = -5", 1)
    bad = scenarios.user_dir() / "bad_staff.toml"
    bad.write_text(text, encoding="utf-8")
    prompter.answer("offer", True)
    assert window.open_path(bad)
    assert "Shift 1 ▸ Staff: -5 agents" in prompter.asked[-1][1]
    got = [(s.start_hour, s.end_hour, s.staff) for s in window.doc.scenario.service.pools[0].shifts]
    assert got == [(shifts[0][0], shifts[0][1], 0)] + shifts[1:]  # nearest allowed: 0 agents
    assert not window.doc.issues()  # no new problem made by the recovery
    assert window.doc.scenario.tiers == before.tiers


def test_old_schema_version_is_migrated_and_noted(window, tmp_path):
    old = tmp_path / "old.toml"
    old.write_text("""
schema_version = 1
name = "Old shop"
[population]
customers = 5000
[[population.segments]]
name = "All"
share = 1.0
orders_per_month = 0.5
spend_per_order_cny = 200.0
gross_margin = 0.3
churn_annual = 0.3
[tier_scheme]
review = "quarterly"
[[tier_scheme.tiers]]
name = "青铜"
threshold_cny = 0.0
[[service.pools]]
name = "CS"
staff = 4
open_hours = [8, 20]
""", encoding="utf-8")
    assert window.open_path(old)
    assert window.doc.scenario.tier_rules.review == "quarterly"
    assert window.doc.scenario.service.pools[0].shifts[0].staff == 4
    assert any("migrated from schema version 1" in m for m in window.editor.issues.messages())


def test_schema_3_file_opens_without_a_migration_note(tmp_path):
    """3 -> 4 only adds [assumptions]: a version-3 file is valid as it is, and opening one
    said "migrated from schema version 3 to 4" under the editor though nothing changed."""
    import re

    from simulator.scenario_io import dumps, from_dict
    from tests.conftest import simple_dict
    from ui.document import open_file

    v3 = tmp_path / "v3.toml"
    v3.write_text(re.sub(r"(?m)^schema_version = \d+$", "schema_version = 3",
                         dumps(from_dict(simple_dict()))), encoding="utf-8")
    assert "schema_version = 3" in v3.read_text(encoding="utf-8")
    _, notes, _ = open_file(v3)
    assert notes == []


def test_library_duplicate_rename_delete(window, prompter, small_path):
    lib = window.library
    assert lib.select_path(small_path)
    new = lib.duplicate_selected()
    assert new.exists() and load(new).name == "星河 small test (copy)"
    assert lib.select_path(new)
    prompter.answer("text", "星河 renamed")
    renamed = lib.rename_selected()
    assert renamed.exists() and not new.exists() and load(renamed).name == "星河 renamed"
    assert lib.select_path(renamed)
    prompter.answer("confirm", False)
    assert not lib.delete_selected() and renamed.exists()
    prompter.answer("confirm", True)
    assert lib.delete_selected() and not renamed.exists()
    # shipped scenarios cannot be renamed or deleted
    assert lib.select_path(scenarios.shipped_path(scenarios.DEFAULT_SCENARIO))
    assert not lib.btn_delete.isEnabled() and not lib.btn_rename.isEnabled()
    # deleting the open scenario's file keeps the content as unsaved
    assert lib.select_path(small_path)
    prompter.answer("confirm", True)
    assert lib.delete_selected()
    assert window.doc.path is None and window.doc.modified


def test_full_run_then_cancel(qtbot, window):
    win = window
    panel = win.results
    progress = []
    panel.full_runner.progress.connect(lambda d, t: progress.append((d, t)))
    with qtbot.waitSignal(panel.full_finished, timeout=60_000) as blocker:
        win.act_run.trigger()
        assert panel.btn_cancel.isEnabled() and not win.act_run.isEnabled()
    res = blocker.args[0]
    assert res.replications == 3 and res.meta["agents"] == 1000
    assert progress[-1] == (3, 3)
    assert panel.shown_kind == "full"
    assert panel.kpis.caption.text().startswith("Full run: 3 replications")
    npv = panel.kpis.boxes["npv"]
    assert "95 % CI" in npv.ci.text()  # three replications give an interval
    assert npv.text().startswith(label_of("npv") + " ")  # the catalogue's label
    # a long run, cancelled from the keyboard action (Esc) after its first replication
    win.editor.field(("run", "replications")).set_display_value(200)
    qtbot.waitUntil(lambda: not panel.preview_runner.busy, timeout=30_000)
    with qtbot.waitSignal(panel.full_runner.cancelled, timeout=60_000):
        assert panel.start_full_run()
        qtbot.waitUntil(lambda: panel.progress.value() >= 1, timeout=30_000)
        win.act_cancel.trigger()
    assert panel.progress.format() == "cancelled"
    assert panel.btn_run.isEnabled() and not panel.btn_cancel.isEnabled()
    assert panel.progress.value() < 200


def test_compare_two_saved_scenarios(qtbot, window, prompter, small_path):
    win = window
    staff = win.doc.get(STAFF)
    win.editor.field(STAFF).set_display_value(staff * 3)
    prompter.answer("text", "More staff")
    assert win.save_as()
    variant = win.doc.path
    cv = win.compare
    cv.set_checked([small_path, variant], base=small_path)
    assert cv.base.currentData() == str(small_path)
    with qtbot.waitSignal(cv.runner.finished, timeout=60_000):
        assert cv.run()
    cmp = cv.last
    assert cmp.names == ["星河 small test", "More staff"]
    deltas = cv.delta_rows()
    wait = next(v for k, v in deltas.items() if k.startswith("Service wait, mean"))
    assert wait[0] < 0  # more staff: shorter waits
    service = deltas["Service cost"]
    assert service[0] > 0  # ... at a higher staff cost
    diff = {cv.diff_table.item(r, 0).text(): cv.diff_table.item(r, 2).text()
            for r in range(cv.diff_table.rowCount())}
    # the form's labels and units, not paths and raw numbers
    assert diff["Service ▸ Pool 'General' ▸ Shift 1 ▸ Staff"] == f"{staff * 3:,} agents"
    assert diff["General ▸ Name"] == "More staff"
    band = cv.charts.bands["wait"]
    assert band[1].y().mean() < band[0].y().mean()


def test_chart_png_and_excel_export(qtbot, window, tmp_path):
    out = window.export_chart("revenue", str(tmp_path / "rev.png"))
    assert out.exists() and out.stat().st_size > 2000
    out = window.export_chart("migration", str(tmp_path / "mig.png"))
    assert out.exists() and out.stat().st_size > 2000
    if window.excel.available:
        book = tmp_path / "book.xlsx"
        with qtbot.waitSignal(window.results.full_finished, timeout=60_000):
            window.results.start_full_run()
        assert window.excel.export_scenario(window.doc.snapshot(), window.results.full_result,
                                            path=str(book))
        from openpyxl import load_workbook

        wb = load_workbook(book)
        assert len(wb.sheetnames) >= 3


def test_layout_is_remembered(qtbot, window, prompter, small_path):
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    window.resize(1234, 777)
    window.design.setSizes([300, 900])
    window.tabs.setCurrentIndex(1)
    assert window.close()
    s = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "benefit-sim",
                  "benefit-sim")
    assert s.value("window/geometry") is not None
    assert Path(s.fileName()).is_relative_to(Path(small_path).parents[2])  # tmp_path
    again = MainWindow(load(small_path), small_path, prompter=prompter,
                       preview=PreviewSize(agents=500, horizon_months=6, refine=False))
    qtbot.addWidget(again)
    try:
        assert again.tabs.currentIndex() == 1  # (offscreen clamps geometry to its 800x600 screen)
        sizes = again.design.sizes()
        assert sizes[0] < sizes[1]
    finally:
        again.shutdown()


def test_opened_message_and_read_only_note_do_not_overprint(qtbot, prompter, private_home):
    """A shipped scenario opened before the window is shown (the command line, or the last
    scenario reopened at start): "Opened …" and the read-only note were drawn on top of
    each other at the status bar's left for five seconds."""
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    win = MainWindow(prompter=prompter, preview=PreviewSize(replications=1, agents=300,
                                                            horizon_months=2, refine=False))
    qtbot.addWidget(win)
    assert win.open_path(scenarios.shipped_path("hnw_apparel_today"))
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    bar = win.statusBar()
    message = bar.currentMessage()
    assert message.startswith("Opened")
    label = win.status_label
    assert "read-only" in label.text()
    if label.isVisible():  # beside the message, not over it
        assert label.geometry().left() >= bar.fontMetrics().horizontalAdvance(message)
    win.doc.undo_stack.setClean()
    win.shutdown()
