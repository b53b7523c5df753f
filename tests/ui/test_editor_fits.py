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


def test_window_fits_a_1366_screen_at_one_and_a_half_scaling(qtbot, window):
    """1.5x scaling on 1366 x 768 leaves 910 x 512 logical pixels: the window must fit.

    It needed 964 x 491 (Compare's minimum and the results column's), so at 1.5x it was
    larger than the screen and its right and bottom edges were off it, unreachable. The
    results column and Compare now scroll inside the window instead.
    """
    from PySide6.QtWidgets import QScrollArea

    win = window
    avail_w, avail_h = int(1366 / 1.5) - 6, int(768 / 1.5) - 40  # minus frame and a panel
    hint = win.minimumSizeHint()
    assert hint.width() <= avail_w and hint.height() <= avail_h, hint
    win.resize(avail_w, avail_h)
    qtbot.wait(50)
    assert win.width() <= avail_w and win.height() <= avail_h
    # what does not fit is reachable: the results column and Compare scroll
    for scroll, inner in ((win.results_scroll, win.results), (win.compare_scroll, win.compare)):
        assert isinstance(scroll, QScrollArea) and scroll.isAncestorOf(inner)
