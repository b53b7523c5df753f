"""The editor column at 1366 × 768 never scrolls sideways, down to tier ▸ benefit ▸ effect."""

import pytest
from PySide6.QtWidgets import QScrollArea

pytestmark = pytest.mark.gui


def test_every_editor_section_fits_the_1366_column(qtbot, window):
    win = window
    win.resize(1366 - 16, 768 - 40 - 30)  # maximised on a 1366 x 768 laptop with a panel
    win._initial_split()  # the first-start split (no remembered layout)
    qtbot.wait(50)
    ed = win.editor
    for i in range(ed.tabs.count()):
        ed.tabs.setCurrentIndex(i)
        if ed.tabs.tabText(i).startswith("Tiers"):
            tiers = ed.list_editor(("tiers",))
            tiers.select(len(win.doc.scenario.tiers) - 1)  # the tier with most benefits
            benefits = ed.list_editor(("tiers", len(win.doc.scenario.tiers) - 1, "benefits"))
            benefits.select(len(benefits.items()) - 1)
        qtbot.wait(30)
        scroll = ed.tabs.currentWidget()
        assert isinstance(scroll, QScrollArea)
        assert scroll.horizontalScrollBar().maximum() == 0, (
            ed.tabs.tabText(i), scroll.widget().minimumSizeHint().width(),
            scroll.viewport().width())
