"""Drive the editor's real widgets and check the scenario and the preview figures."""

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui

STAFF = ("service", "pools", 0, "shifts", 0, "staff")


def discount_path(doc):
    """The first share-of-order-value discount benefit (白银's "10 % off")."""
    for i, t in enumerate(doc.scenario.tiers):
        for j, b in enumerate(t.benefits):
            if b.kind == "discount" and b.cost_model == "share_of_order_value":
                return ("tiers", i, "benefits", j, "cost_share")
    raise AssertionError("no discount benefit in the test scenario")


def preview_after(qtbot, win, action):
    with qtbot.waitSignal(win.results.preview_shown, timeout=30_000):
        action()
    return win.results.result


def test_discount_slider_raises_benefit_cost(qtbot, window):
    win = window
    before = win.results.result.summary["benefit_cost"].mean
    chart_before = win.results.charts.costs["benefit_cost"].y().sum()
    DISCOUNT = discount_path(win.doc)
    field = win.editor.field(DISCOUNT)
    assert field.spin.value() == pytest.approx(10.0)  # shown in %
    assert field.unit.text() == "%"
    # drag the slider from 10 % to 30 % of order value
    res = preview_after(qtbot, win, lambda: (field.slider.setSliderDown(True),
                                             field.slider.setValue(300),
                                             field.slider.setSliderDown(False)))
    assert win.doc.get(DISCOUNT) == pytest.approx(0.30)
    assert field.spin.value() == pytest.approx(30.0)
    after = res.summary["benefit_cost"].mean
    assert after > before * 1.005  # only 白银 members get this discount
    assert win.results.charts.costs["benefit_cost"].y().sum() > chart_before
    assert win.results.kpis.caption.text().startswith("Live preview")


def test_more_staff_shortens_wait(qtbot, window):
    win = window
    before = win.results.result.summary["service_wait_mean_hours"].mean
    chart_before = win.results.charts.wait.y().mean()
    field = win.editor.field(STAFF)
    staff = win.doc.get(STAFF)
    assert field.spin.value() == staff and field.unit.text() == "agents"
    res = preview_after(qtbot, win, lambda: field.set_display_value(3 * staff))
    assert win.doc.get(STAFF) == 3 * staff
    after = res.summary["service_wait_mean_hours"].mean
    assert after < before * 0.85
    assert win.results.charts.wait.y().mean() < chart_before


def test_slider_drag_is_one_undo_step_and_redo(qtbot, window):
    win = window
    DISCOUNT = discount_path(win.doc)
    field = win.editor.field(DISCOUNT)
    stack = win.doc.undo_stack
    n0 = stack.count()
    field.slider.setSliderDown(True)
    for pos in (150, 200, 250, 400):
        field.slider.setValue(pos)
    field.slider.setSliderDown(False)
    assert stack.count() == n0 + 1
    assert win.doc.get(DISCOUNT) == pytest.approx(0.40)
    assert win.doc.modified and win.windowTitle().startswith("*")
    win.act_undo.trigger()
    assert win.doc.get(DISCOUNT) == pytest.approx(0.10)
    assert field.spin.value() == pytest.approx(10.0)
    assert not win.doc.modified
    win.act_redo.trigger()
    assert win.doc.get(DISCOUNT) == pytest.approx(0.40)
    assert field.slider.value() == 400


def test_keyboard_shortcuts(window):
    keys = {a.text().replace("&", ""): [s.toString() for s in a.shortcuts()]
            for a in window.actions()}
    assert "Ctrl+S" in keys["Save"]
    assert "Ctrl+Shift+S" in keys["Save As…"]
    assert "Ctrl+R" in keys["Full run"]
    assert "Esc" in keys["Cancel run"]
    assert "Ctrl+Z" in [s.toString() for s in window.act_undo.shortcuts()]
    redo = [s.toString() for s in window.act_redo.shortcuts()]
    assert "Ctrl+Y" in redo and "Ctrl+Shift+Z" in redo


def test_undo_by_keyboard(qtbot, window):
    field = window.editor.field(STAFF)
    staff = window.doc.get(STAFF)
    field.set_display_value(staff + 5)
    assert window.doc.get(STAFF) == staff + 5
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.get(STAFF) == staff
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.get(STAFF) == staff + 5


def test_invalid_value_shows_validator_message(window):
    win = window
    DISCOUNT = discount_path(win.doc)
    field = win.editor.field(DISCOUNT)
    n0 = win.doc.undo_stack.count()
    field.set_display_value(150)  # 150 % of order value
    assert win.doc.get(DISCOUNT) == pytest.approx(0.10)  # refused
    assert win.doc.undo_stack.count() == n0
    where = "Tiers & benefits ▸ Tier {} ▸ Benefit {} ▸ Cost share".format(DISCOUNT[1] + 1,
                                                                         DISCOUNT[3] + 1)
    assert f"{where}: 150 % — must be between 0 and 100 %" in field.error_text
    field.set_display_value(20)
    assert field.error_text == ""
    assert win.doc.get(DISCOUNT) == pytest.approx(0.20)


def test_cross_field_problem_is_listed_and_pauses_preview(qtbot, window):
    win = window
    share = win.editor.field(("segments", 0, "share"))
    share.set_display_value(30)  # 30 % + 77 % != 100 %
    assert any("the shares must add up to 100 %" in m for m in win.editor.issues.messages())
    assert "the shares must add up to 100 %" in share.error_text
    qtbot.waitUntil(lambda: "Preview paused" in win.results.kpis.caption.text(), timeout=5000)
    # fixing it clears the problem and the preview comes back
    with qtbot.waitSignal(win.results.preview_shown, timeout=30_000):
        share.set_display_value(23)
    assert win.editor.issues.messages()[0].startswith("✓")


def test_add_reorder_remove_tiers_and_benefits_with_undo(window):
    win = window
    doc = win.doc
    tiers = win.editor.list_editor(("tiers",))
    tiers.select(3)
    tiers.add()
    assert [t.name for t in doc.scenario.tiers][-1] == "Tier 5"
    assert tiers.table.rowCount() == 5
    tiers.select(4)
    tiers.move(-1)
    assert doc.scenario.tiers[3].name == "Tier 5"
    # 1,000,000 before 钻石
    assert any(i.path.endswith("threshold_cny") and "Threshold" in str(i) for i in doc.issues())
    benefits = win.editor.list_editor(("tiers", 3, "benefits"))
    benefits.add()
    assert doc.scenario.tiers[3].benefits[0].kind == "other"
    tiers.select(1)
    tiers.remove()
    assert "白银" not in [t.name for t in doc.scenario.tiers]
    for _ in range(4):
        win.act_undo.trigger()
    assert [t.name for t in doc.scenario.tiers] == ["青铜", "白银", "黄金", "钻石"]
    assert not doc.modified


def test_every_field_has_a_widget(window):
    """The generated editor covers every leaf field of the schema (one list item each)."""
    from simulator.scenario import Scenario
    from ui.fields import FieldWidget
    from ui.fieldspec import spec_for
    from ui.forms import EXCLUDED_FIELDS

    assert EXCLUDED_FIELDS == ("schema_version", "customer_file_sha256")  # never typed
    missing = []

    def walk(model, path):
        for name in model.model_fields:
            if name in EXCLUDED_FIELDS:
                continue
            spec = spec_for(model, name)
            p = path + (name,)
            if spec.kind == "model":
                walk(spec.model, p)
            elif spec.kind == "model_list":
                if window.doc.get(p):
                    walk(spec.model, p + (0,))
            else:
                try:
                    w = window.editor.field(p)
                except KeyError:
                    w = None
                if not isinstance(w, FieldWidget):
                    missing.append(p)

    walk(Scenario, ())
    assert missing == []


def test_benefit_funding_level_is_shown_and_editable_in_percent(qtbot, window):
    """A benefit's funding level (intensity, written by the optimiser) is a column of the
    benefit table in % and an editable field; 1.37 reads 137 %."""
    win = window
    doc = win.doc
    t, b = next((i, j) for i, tier in enumerate(doc.scenario.tiers)
                for j, ben in enumerate(tier.benefits) if ben.kind != "discount")
    path = ("tiers", t, "benefits", b, "intensity")
    doc.set_value(path, 1.37)
    table = win.editor.list_editor(("tiers", t, "benefits"))
    headers = [table.table.horizontalHeaderItem(c).text() for c in range(table.table.columnCount())]
    col = headers.index("Funding (%)")
    assert table.table.horizontalHeaderItem(col).toolTip() == "Funding (%)"
    assert table.table.horizontalHeader().textElideMode() == Qt.TextElideMode.ElideRight
    assert table.table.item(b, col).text() == "137.0 %"
    field = win.editor.field(path)
    assert field.unit.text() == "%"
    assert field.spin.value() == pytest.approx(137.0)
    field.spin.setValue(50.0)
    field.spin.editingFinished.emit()
    assert doc.get(path) == pytest.approx(0.5)
    assert table.table.item(b, col).text() == "50.0 %"


def test_every_editor_section_title_is_fully_visible(window):
    """The editor's sections are all reachable by a visible, unclipped title (8 tabs in the
    editor column overflowed into scroll arrows: 'Run setti ◂▸')."""
    win = window
    ed = win.editor
    nav = ed.nav
    assert nav.count() == ed.tabs.count() == 8
    fm = nav.fontMetrics()
    for i in range(nav.count()):
        text = nav.item(i).text()
        rect = nav.visualItemRect(nav.item(i))
        assert fm.horizontalAdvance(text) <= rect.width(), text
        assert nav.viewport().rect().contains(rect), text
    # at a narrow column the titles wrap onto more rows, still whole and inside the strip
    ed.resize(360, ed.height())
    nav.resize(360, nav.height())
    nav._fit_height()
    for i in range(nav.count()):
        rect = nav.visualItemRect(nav.item(i))
        assert fm.horizontalAdvance(nav.item(i).text()) <= rect.width()
        assert nav.viewport().rect().contains(rect), nav.item(i).text()
    nav.setCurrentRow(7)
    assert ed.tabs.currentIndex() == 7
    ed.reveal(("service", "sla_hours"))
    assert nav.item(nav.currentRow()).text() == "Service"
