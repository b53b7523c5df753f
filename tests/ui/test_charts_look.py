"""Charts follow the application palette (light and dark), as the KPI strip does."""

import numpy as np
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
