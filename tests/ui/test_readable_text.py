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


@pytest.mark.parametrize("which", ["light", "dark"])
def test_compare_note_readable(qtbot, which):
    """Compare's note under the settings ("All scenarios use the base's seed…") was #555 on
    the dark palette's #2d2d2d window (1.9:1) at 1920 x 1080 dark."""
    from PySide6.QtWidgets import QApplication, QLabel

    from ui.compare import CompareView
    from ui.dialogs import Prompter

    app = QApplication.instance()
    before = QPalette(app.palette())
    app.setPalette(app_palette(which))
    try:
        view = CompareView(Prompter())
        qtbot.addWidget(view)
        note = next(w for w in view.findChildren(QLabel) if w.text().startswith("All scenarios"))
        note.ensurePolished()
        fg = note.palette().color(QPalette.ColorRole.WindowText)
        assert contrast_ratio(fg, app.palette().color(QPalette.ColorRole.Window)) >= READABLE
        view.shutdown()
    finally:
        app.setPalette(before)


def test_compare_delta_headers_are_not_cut(qtbot):
    """With two scenarios at 1920 x 1080 the last header, "Δ <long name> vs base (95 % CI)",
    was wider than its column and cut at both ends ("nghe today (4-tier … vs base (95 %")."""
    import pandas as pd
    from PySide6.QtWidgets import QTableWidget

    from ui.compare_tables import fill_kpi_table

    class Cmp:
        names = ["Xinghe: 3-hour golden response", "Xinghe today (4-tier price-led scheme)"]

        def table(self):
            rows = []
            for no in (0, 1):
                rows.append({"metric": "npv", "label": "NPV vs base", "kind": "money",
                             "scenario_no": no, "mean": 1e8, "ci95_low": 9e7,
                             "ci95_high": 1.1e8, "delta_mean": 2e7 * no,
                             "delta_ci95_low": 1e7 * no, "delta_ci95_high": 3e7 * no})
            return pd.DataFrame(rows)

    t = QTableWidget()
    qtbot.addWidget(t)
    t.resize(950, 300)
    t.show()
    fill_kpi_table(t, Cmp())
    qtbot.wait(50)
    fm = t.horizontalHeader().fontMetrics()
    for c in range(t.columnCount()):
        item = t.horizontalHeaderItem(c)
        assert fm.horizontalAdvance(item.text()) + 8 <= t.horizontalHeader().sectionSize(c), \
            item.text()


def test_kpi_figures_are_not_cut(qtbot):
    """At 1366 px the KPI strip is ~620 px for seven boxes: figures in the large bold font
    were cut at the box's edge ("−¥114.2" for −¥114.2 M, "month 1." for month 1.0), and
    the ROI's reason lost the end of "counterfactual"."""
    from PySide6.QtGui import QFontMetricsF

    from ui.kpis import KpiStrip

    strip = KpiStrip()
    qtbot.addWidget(strip)
    strip.setFixedWidth(620)  # as the window's splitter gives it: less than it asks for
    strip.show()

    def st(mean, lo, hi, unit="CNY", **kw):
        return Stat(mean, lo, hi, mean, mean, mean, unit, 4, **kw)

    summary = {"npv": st(-98.6e6, -105.0e6, -92.2e6),
               "roi": Stat(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, "ratio",
                           4, not_defined="the scheme costs less than its counterfactual"),
               "incremental_contribution": st(-114.2e6, -122.6e6, -105.8e6),
               "ltv_per_customer": st(99_100.0, 93_700.0, 104_600.0),
               "churn_annual": st(0.185, 0.177, 0.193, "share"),
               "payback_month": st(11.0, 10.5, 11.5, "month"),
               "sla_attainment": st(0.937, 0.916, 0.958, "share")}
    strip.show_summary(summary, "Full run")
    qtbot.wait(50)
    for m, box in strip.boxes.items():
        lab = box.value
        width = QFontMetricsF(lab.font()).horizontalAdvance(lab.text())
        assert width <= lab.contentsRect().width() or lab.wordWrap(), (m, lab.text())
    assert strip.boxes["incremental_contribution"].value.text().endswith(" M")
    roi = strip.boxes["roi"].ci
    # every word of the reason fits the box (the long one may break at its soft hyphen)
    fm = QFontMetricsF(roi.font())
    for word in roi.text().replace("\u00ad", " ").split():
        assert fm.horizontalAdvance(word) <= roi.contentsRect().width(), word
    assert "counterfactual" in strip.boxes["roi"].text()  # the invisible marks are not text
    # the figures stand on one line although "Discounted LTV per customer" wraps further
    from PySide6.QtCore import QPoint

    strip.resize(620, strip.sizeHint().height())  # the height the window's layout gives it
    qtbot.wait(50)
    tops = {b.value.mapTo(strip, QPoint(0, 0)).y() for b in strip.boxes.values()}
    assert len(tops) == 1, tops


def test_kpi_intervals_wrap_between_numbers_only():
    """In a narrow box an interval wrapped as "−" / "¥92.2 M" and "¥5.4" / "B": a sign and
    its number, a number and its unit stay on one line; the text itself is unchanged."""
    from ui.kpis import _joined, _plain

    for text, whole in (("−¥105.0 to −¥92.2 M", ("−\u2060¥92.2\u00a0M",)),
                        ("¥4.7 to ¥5.4 B", ("¥5.4\u00a0B",)),
                        ("91.6 to 95.8 %", ("95.8\u00a0%",)),
                        ("Δ −1.2 pp, within noise", ("−\u20601.2\u00a0pp",))):
        shown = _joined(text)
        assert _plain(shown) == text
        for piece in whole:
            assert piece in shown, (text, shown)
