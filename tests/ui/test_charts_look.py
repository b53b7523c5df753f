"""Charts follow the application palette (light and dark), as the KPI strip does."""

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def _dark() -> QPalette:
    pal = QPalette()
    for role, col in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base, "#202124"),
                      (QPalette.ColorRole.WindowText, "#e8eaed"),
                      (QPalette.ColorRole.Text, "#e8eaed"),
                      (QPalette.ColorRole.PlaceholderText, "#9aa0a6")):
        pal.setColor(role, QColor(col))
    return pal


def _corner_lightness(plot) -> int:
    img = plot.grab().toImage()
    return QColor(img.pixel(3, img.height() // 2)).lightness()


def test_charts_follow_a_dark_palette_and_back(qtbot):
    from ui.charts import ResultCharts

    app = QApplication.instance()
    light = QPalette(app.palette())
    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.resize(900, 900)
    charts.show()
    plot = charts.plots["revenue"]
    assert _corner_lightness(plot) > 200  # light palette: light chart
    try:
        app.setPalette(_dark())
        qtbot.waitUntil(lambda: plot.backgroundBrush().color().lightness() < 60, timeout=2000)
        assert _corner_lightness(plot) < 60  # the painted background is dark
        ax = plot.getPlotItem().getAxis("left")
        assert ax.textPen().color().lightness() > 180  # tick labels readable on dark
        assert ax.pen().color().lightness() > 180  # axis and grid lines
        assert plot.getPlotItem().titleLabel.opts["color"].lower() == "#e8eaed"
        legend = plot.getPlotItem().legend
        assert legend.opts["labelTextColor"].lightness() > 180
        # a title set later (cash chart after a run) takes the palette colour too
        charts.plots["cash"].setTitle("Cumulative net contribution (¥)")
        assert "#e8eaed" in charts.plots["cash"].getPlotItem().titleLabel.item.toHtml().lower() \
            or charts.plots["cash"].getPlotItem().titleLabel.opts["color"].lower() == "#e8eaed"
    finally:
        app.setPalette(light)
    qtbot.waitUntil(lambda: plot.backgroundBrush().color().lightness() > 200, timeout=2000)


def test_ltv_error_bars_drawn_in_the_palette_text_colour(qtbot):
    from ui.charts import ResultCharts

    app = QApplication.instance()
    light = QPalette(app.palette())
    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.show()
    try:
        app.setPalette(_dark())
        charts.ltv.set(["A", "B"], {"s": (np.array([1.0, 2.0]), np.array([0.5, 1.5]),
                                          np.array([1.5, 2.5]))})
        err = charts.ltv.items["s"][1]
        qtbot.waitUntil(lambda: err.opts["pen"].color().lightness() > 180, timeout=2000)
        # bars added once the palette is dark take its colour straight away
        charts.ltv.set(["A", "B"], {"s": (np.array([1.0, 2.0]), np.array([0.5, 1.5]),
                                          np.array([1.5, 2.5])),
                                    "t": (np.array([1.0, 2.0]), np.array([0.5, 1.5]),
                                          np.array([1.5, 2.5]))})
        assert charts.ltv.items["t"][1].opts["pen"].color().lightness() > 180
    finally:
        app.setPalette(light)


def test_money_ticks_never_repeat_and_share_one_unit():
    from ui.charts import money_ticks

    labels = money_ticks([1.05e9, 1.10e9, 1.15e9], 0.05e9)
    assert labels == ["¥1.05 B", "¥1.10 B", "¥1.15 B"]
    assert len(set(money_ticks([0, 2.5e5, 5e5, 7.5e5, 1e6], 2.5e5))) == 5
    assert money_ticks([-2e6, 0, 2e6], 2e6) == ["−¥2 M", "¥0 M", "¥2 M"]


def test_right_column_titles_and_legends_fit_and_empty_charts_have_no_axes(qtbot):
    from ui.charts import ResultCharts

    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.resize(620, 1400)  # the chart column at 1366x768
    charts.show()
    qtbot.wait(50)
    for p in charts.plots.values():
        assert not p.getPlotItem().getAxis("left").isVisible()  # empty: no dummy axes
        p.set_empty(False)  # as when a result is shown
    qtbot.wait(50)
    for key, p in charts.plots.items():
        pi = p.getPlotItem()
        # nothing inside the chart is laid out wider than the widget shows
        room = p.width() - pi.getAxis("left").width()
        assert pi.titleLabel.minimumWidth() <= room, key
        assert pi.layout.minimumWidth() <= p.width() + 1, key
    # the narrowest two-column layout: ~445 px a chart, legends reflow to fit
    charts.resize(charts.TWO_COLUMNS_FROM, 1400)
    qtbot.wait(50)
    assert charts.columns == 2
    for key, p in charts.plots.items():
        assert p.getPlotItem().layout.minimumWidth() <= p.width() + 1, key


def test_compare_legends_reflow_when_scenarios_are_added(qtbot):
    from ui.compare_charts import OverlayCharts

    charts = OverlayCharts()
    qtbot.addWidget(charts)
    charts.resize(740, 900)
    charts.show()
    qtbot.wait(50)
    p = charts.plots["net_revenue"]
    p.set_empty(False)
    for i, name in enumerate(["base: 星河 today (中文等级)", "星河 discount 5 %",
                              "星河 + staff, 3 h SLA"]):
        charts._band("net_revenue", i, name)
    p.fit()
    assert p.getPlotItem().layout.minimumWidth() <= p.width() + 1


def test_compare_delta_colours_readable_in_both_palettes():
    from ui.charts import good_bad_color

    dark = _dark()
    for good in (True, False):
        assert good_bad_color(good, dark).lightness() > 150
        assert good_bad_color(good, QPalette(QColor("#f0f0f0"))).lightness() < 110


def test_migration_matrix_headers_and_shares_are_not_cut(qtbot):
    """In the results column at 1366 px (~640 px of charts) the tier names and shares fit
    their columns (they were cut to "→ Bronz" and wrapped "40.9 / %")."""
    import pandas as pd

    from ui.charts import ResultCharts

    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.resize(640, 1800)
    charts.show()
    tiers = ["青铜 Bronze", "白银 Silver", "黄金 Gold", "钻石 Diamond", "黑钻 Black diamond",
             "王牌 Ace"]
    m = pd.DataFrame(np.full((6, 7), 0.409), index=tiers, columns=[*tiers, "(churned)"])
    charts.migration.set_matrix(m)
    qtbot.wait(50)
    t = charts.migration
    fm = t.fontMetrics()
    for j in range(t.columnCount()):
        width = t.horizontalHeader().sectionSize(j)
        for line in t.horizontalHeaderItem(j).text().split("\n"):  # one name a line
            assert fm.horizontalAdvance(line) < width
        assert fm.horizontalAdvance(t.item(0, j).text()) < width


@pytest.mark.parametrize("module, cls, narrow, wide", [
    # At 1366 px the chart column is ~640 px: two charts side by side left each plot ~60 px
    # under its title and legend.
    ("ui.charts", "ResultCharts", 640, 1300),
    # Compare at 1366 x 768 (chart column ~840 px) with three scenarios: two charts side by
    # side left each plot ~60 px high under its title and three-line legend, and the ¥ tick
    # labels overprinted.
    ("ui.compare_charts", "OverlayCharts", 840, 1400),
])
def test_charts_go_one_per_row_when_narrow(qtbot, module, cls, narrow, wide):
    """Every chart grid (results, compare): one per row and taller when narrow; two when wide."""
    import importlib

    charts = getattr(importlib.import_module(module), cls)()
    qtbot.addWidget(charts)
    charts.resize(narrow, 900)
    charts.show()
    qtbot.wait(50)
    xs = {p.geometry().x() for p in charts.plots.values()}
    assert len(xs) == 1
    assert min(p.height() for p in charts.plots.values()) >= charts.ONE_COLUMN_MIN_HEIGHT
    charts.resize(wide, 900)
    qtbot.wait(50)
    xs = {p.geometry().x() for p in charts.plots.values()}
    assert len(xs) == 2


def test_count_axes_read_in_k_and_m_not_exponents(qtbot):
    """Customers (study B's 12.5 M) read '15 M', not '1.5e+07'; hours keep their decimals."""
    from ui.charts import ResultCharts

    charts = ResultCharts()
    qtbot.addWidget(charts)
    ax = charts.plots["members"].getPlotItem().getAxis("left")
    assert ax.tickStrings([0.0, 5e6, 1e7, 1.5e7], 1.0, 5e6) == ["0 M", "5 M", "10 M", "15 M"]
    hours = charts.plots["wait"].getPlotItem().getAxis("left")
    assert hours.tickStrings([0.0, 0.5, 1.0, 1.5], 1.0, 0.5) == ["0.0", "0.5", "1.0", "1.5"]
    assert charts.plots["revenue"].getPlotItem().getAxis("left").tickStrings(
        [1e9, 2e9], 1.0, 1e9) == ["¥1 B", "¥2 B"]


def test_a_wrapped_title_stays_inside_the_chart(qtbot):
    """Risk view, scenario without ranges: "NPV over the assumptions: no input is written
    as a range" wrapped but was still centred for its unwrapped width ("y over the…")."""
    import scenarios
    from ui.document import ScenarioDocument
    from ui.risk_panel import RiskPanel

    panel = RiskPanel(ScenarioDocument(scenarios.load_default(), None))
    qtbot.addWidget(panel)
    panel.resize(1090, 590)  # the tab at 1366 x 768
    panel.show()
    qtbot.wait(50)

    class NoRanges:
        risk = None

    try:
        panel._distribution(NoRanges())
        qtbot.wait(50)
        p = panel.hist_plot
        item = p.getPlotItem().titleLabel.item
        rect = item.mapRectToScene(item.boundingRect())
        assert rect.left() >= 0 and rect.right() <= p.width()
    finally:
        panel.shutdown()


def test_ltv_tier_labels_do_not_run_into_each_other(qtbot):
    """Six tier names under the LTV bars each fit the room between two bars."""
    from PySide6.QtGui import QFontMetrics

    from ui.charts import ResultCharts

    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.resize(1000, 900)
    charts.show()
    tiers = ["青铜 Bronze", "白银 Silver", "黄金 Gold", "钻石 Diamond", "黑钻 Black diamond",
             "王牌 Ace"]
    one = np.ones(6)
    charts.ltv.set(tiers, {"s": (one, one, one)})
    qtbot.wait(50)
    plot = charts.plots["ltv"].getPlotItem()
    ax = plot.getAxis("bottom")
    fm = QFontMetrics(ax.style["tickFont"] or ax.font())
    room = plot.getViewBox().width() / len(tiers)
    labels = [text for _, text in ax._tickLevels[0]]
    widest = max(fm.horizontalAdvance(line) for t in labels for line in t.split("\n"))
    assert widest < room, (widest, room)
    # every word of every name is still there
    assert [" ".join(t.split("\n")) for t in labels] == tiers


def test_ltv_category_axis_label_has_no_si_suffix(qtbot):
    """One start tier (a shop without tiers) must not read 'tier at start (x0.001)'."""
    from ui.charts import ResultCharts

    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.resize(1000, 900)
    charts.show()
    charts.plots["ltv"].set_empty(False)  # axes and label shown, as after a run
    one = np.ones(1)
    charts.ltv.set(["Customer"], {"s": (one, one, one)})  # x range -0.6 .. 0.6
    qtbot.wait(50)
    ax = charts.plots["ltv"].getPlotItem().getAxis("bottom")
    assert ax.label.isVisible()
    assert ax.labelString().count("x0.001") == 0
    assert "tier at start" in ax.labelString()


def test_axis_labels_lie_inside_their_charts(qtbot):
    """The rotated left-axis label ("hours", "customers") is drawn inside its chart: pyqtgraph
    puts it 5 px left of the axis, and the axis starts at the chart's edge, so Compare's
    service-wait "hours" was cut at the left (at 1366 x 768 and at 1920)."""
    from ui.charts import ResultCharts
    from ui.compare_charts import OverlayCharts

    for charts in (OverlayCharts(), ResultCharts()):
        qtbot.addWidget(charts)
        charts.resize(840, 1800)
        charts.show()
        for p in charts.plots.values():
            p.set_empty(False)
        qtbot.wait(50)
        checked = 0
        for key, p in charts.plots.items():
            ax = p.getPlotItem().getAxis("left")
            if ax.label is None or not ax.label.isVisible():
                continue
            r = ax.label.mapRectToScene(ax.label.boundingRect())
            assert r.left() >= 0 and r.top() >= 0, (key, r)
            assert r.right() <= p.width() and r.bottom() <= p.height(), (key, r)
            checked += 1
        assert checked >= 1


@pytest.mark.parametrize("lo, hi, money", [(20e3, 88e3, False), (5.5, 13.5, False)])
def test_tick_labels_on_short_plots_keep_apart(qtbot, lo, hi, money):
    """At 1920 x 1080 the results view's charts sit two a row with plots ~50 px high: the
    lifecycle's '80 k / 60 k / 40 k / 20 k' and the wait's '12 / 10 / 8 / 6' were stacked
    with under a pixel between them. On a short axis the labels thin out, at least half a
    line apart, and at least two stay. (Where two cannot stay half a line apart, e.g.
    '¥1.1 B / ¥1.0 B / ¥0.9 B' on the same plot, pyqtgraph's labels stay as they were.)"""
    from PySide6.QtGui import QImage, QPainter

    from ui.chart_plot import make_plot

    p = make_plot("t", "" if money else "customers", money_axis=money)
    qtbot.addWidget(p)
    p.setMinimumHeight(40)
    p.resize(500, 140)
    p.show()
    p.plot(np.arange(36), np.linspace(lo, hi, 36))
    p.setYRange(lo, hi, padding=0.05)
    qtbot.wait(50)
    ax = p.getPlotItem().getAxis("left")
    assert ax.height() < 60
    img = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(img)
    texts = sorted((r.top(), r.bottom(), t) for r, _, t in ax.generateDrawSpecs(painter)[2])
    painter.end()
    assert len(texts) >= 2, texts
    for a, b in zip(texts, texts[1:]):
        assert b[0] - a[1] >= 0.5 * (a[1] - a[0]), (a, b)


def test_migration_matrix_of_six_tiers_needs_no_scrolling_at_1920(qtbot):
    """At 1920 x 1080 (chart column ~1025 px) xinghe_yinhe_6tier's migration matrix scrolled
    sideways and hid '→ (churned)': every column was as wide as '→ 黑钻 Black diamond'. The
    headers now break between the tier's names (each line whole, as before)."""
    import pandas as pd

    from ui.charts import ResultCharts

    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.resize(1025, 1800)
    charts.show()
    tiers = ["青铜 Bronze", "白银 Silver", "黄金 Gold", "钻石 Diamond", "黑钻 Black diamond",
             "王牌 Ace"]
    m = pd.DataFrame(np.full((6, 7), 0.409), index=tiers, columns=[*tiers, "(churned)"])
    charts.migration.set_matrix(m)
    qtbot.wait(50)
    t = charts.migration
    assert t.horizontalScrollBar().maximum() == 0
    fm = t.horizontalHeader().fontMetrics()
    for j in range(t.columnCount()):
        for line in t.horizontalHeaderItem(j).text().split("\n"):
            assert fm.horizontalAdvance(line) < t.horizontalHeader().sectionSize(j), line
