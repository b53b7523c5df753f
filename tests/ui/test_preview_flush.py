"""Releasing a slider starts the preview at once (the debounce only skips drag values)."""

import pytest

pytestmark = pytest.mark.gui

STAFF = ("service", "pools", 0, "shifts", 0, "staff")


def test_slider_release_cuts_the_debounce_short(qtbot, window):
    panel = window.results
    panel.timer.setInterval(60_000)  # a debounce that would never end within the test
    slider = window.editor.field(STAFF).slider
    slider.setSliderDown(True)
    for _ in range(3):
        slider.setValue(slider.value() + 10)
    assert panel.timer.isActive()  # dragging: waiting for more edits
    with qtbot.waitSignal(panel.preview_shown, timeout=30_000):
        slider.setSliderDown(False)  # release: the value is final
        assert not panel.timer.isActive()
    assert panel.result.meta.get("agents") == panel.preview_size.agents


def test_typed_value_is_previewed_without_waiting(qtbot, window):
    panel = window.results
    panel.timer.setInterval(60_000)
    field = window.editor.field(STAFF)
    with qtbot.waitSignal(panel.preview_shown, timeout=30_000):
        field.spin.setValue(field.spin.value() + 3)  # an edit: debounce started
        assert panel.timer.isActive()
        field.spin.editingFinished.emit()  # Enter / focus out
        assert not panel.timer.isActive()
