"""GUI text stays readable: coloured figures in both palettes (contrast >= 4.5), names not cut."""

import math

import pandas as pd
import pytest
from PySide6.QtGui import QColor, QPalette

from simulator.results import Stat
from tests.support.gui import app_palette, contrast_ratio

pytestmark = pytest.mark.gui

READABLE = 4.5  # WCAG AA for body text


@pytest.mark.parametrize("which", ["light", "dark"])
def test_good_bad_colours_readable(qtbot, which):
    from ui.charts import good_bad_color

    pal = app_palette(which)
    for good in (True, False):
        for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Window):
            assert contrast_ratio(good_bad_color(good, pal), pal.color(role)) >= READABLE


def _levers() -> pd.DataFrame:
    rows = [("tier:Gold", "Gold tier benefits", 5.3e6, 3.06e5), ("acquisition",
            "Paid acquisition", 1.5e5, 4.5e5), ("promotion:Double 11", "Promotion: Double 11",
            8213.0, 0.0)]
    return pd.DataFrame([{"lever": lv, "label": lb, "note": "", "curve": "",
                          "current_cny": cur, "recommended_cny": rec, "change_cny": rec - cur,
                          "min_cny": 0.0, "max_cny": math.inf, "binding": ""}
                         for lv, lb, cur, rec in rows])


@pytest.mark.parametrize("which", ["light", "dark"])
def test_optimiser_change_column_readable(qtbot, which):
    """The red and green "Change" values (dark red on the dark palette was unreadable)."""
    import numpy as np

    from ui.optimiser_results import OptimiserResults

    view = OptimiserResults()
    qtbot.addWidget(view)
    pal = app_palette(which)
    view.table.setPalette(pal)

    class Alloc:
        levers = _levers()

    view._fill_table(Alloc(), np.zeros(3), np.zeros(3), "¥ per ¥")
    base = pal.color(QPalette.ColorRole.Base)
    alt = pal.color(QPalette.ColorRole.AlternateBase)
    colours = set()
    for r in range(view.table.rowCount()):
        fg = view.table.item(r, 3).foreground().color()
        colours.add(fg.name())
        assert contrast_ratio(fg, base) >= READABLE, view.table.item(r, 3).text()
        assert contrast_ratio(fg, alt) >= READABLE, view.table.item(r, 3).text()
    assert len(colours) == 2  # rises and cuts are told apart


@pytest.mark.parametrize("which", ["light", "dark"])
def test_kpi_edit_delta_readable(qtbot, which):
    from ui.kpis import KpiBox

    box = KpiBox("npv")
    qtbot.addWidget(box)
    pal = app_palette(which)
    box.setPalette(pal)
    box.delta_label.setPalette(pal)
    for mean in (5e6, -5e6):  # an interval that excludes 0: coloured, not muted
        box.set_delta(Stat(mean, mean * 0.9, mean * 1.1, mean, mean, mean, "CNY", 4))
        col = QColor(box.delta_label.styleSheet().split("color:")[1].strip(" ;"))
        assert contrast_ratio(col, pal.color(QPalette.ColorRole.Window)) >= READABLE


def test_optimiser_lever_names_are_not_cut(qtbot):
    """At 1366 px the table is ~750 px wide: the lever column got what the figures left
    and four promotions all read "Prom…"."""
    import numpy as np

    from ui.optimiser_results import OptimiserResults

    view = OptimiserResults()
    qtbot.addWidget(view)
    view.resize(750, 600)
    view.show()

    class Alloc:
        levers = _levers()

    view._fill_table(Alloc(), np.zeros(3), np.zeros(3), "¥ per ¥")
    qtbot.wait(50)
    fm = view.table.fontMetrics()
    widest = max(fm.horizontalAdvance(view.table.item(r, 0).text())
                 for r in range(view.table.rowCount()))
    hh = view.table.horizontalHeader()
    assert hh.sectionSize(0) > min(widest, 150)
    # the headers are not cut either
    for c in range(view.table.columnCount()):
        assert hh.sectionSize(c) > fm.horizontalAdvance(view.table.horizontalHeaderItem(c).text())
