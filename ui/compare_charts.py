"""Compare's charts: the same charts for several results, one colour per scenario."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

from ui.chart_plot import ONE_COLUMN_MIN_HEIGHT, TWO_COLUMNS_FROM, ChartGrid
from ui.charts import Band, color, make_plot
from ui.comparison import Comparison


class OverlayCharts(ChartGrid, QWidget):
    """The same charts for several results, one colour per scenario (base first)."""

    SPECS = [("net_revenue", "Net revenue per month (¥)", True),
             ("net_contribution", "Net contribution per month (¥)", True),
             ("cash", "Cumulative incremental cash flow (¥)", True),
             ("active_customers", "Active customers", False),
             ("wait", "Mean service wait (hours)", False),
             ("benefit_cost", "Benefit cost per month (¥)", True)]

    # one chart per row when narrow (the results view's rule, ui.chart_plot): at 1366 x 768
    # two side by side left each plot ~60 px under its title and a three-scenario legend
    TWO_COLUMNS_FROM = TWO_COLUMNS_FROM
    ONE_COLUMN_MIN_HEIGHT = ONE_COLUMN_MIN_HEIGHT

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.plots = {}
        self.bands: dict[str, list[Band]] = {}
        for key, title, money_axis in self.SPECS:
            p = make_plot(title, "¥" if money_axis else
                          ("hours" if key == "wait" else "customers"), money_axis=money_axis)
            p.set_empty(True)  # no dummy axes before the first comparison
            self.plots[key] = p
            self.bands[key] = []
        self.columns = 0
        self._lay_out(2)

    def _band(self, key: str, i: int, name: str) -> Band:
        bands = self.bands[key]
        while len(bands) <= i:
            j = len(bands)
            bands.append(Band(self.plots[key].getPlotItem(), name, color(j),
                              dash=False, width=2.5 if j == 0 else 1.8))
        b = bands[i]
        legend = self.plots[key].getPlotItem().legend
        legend.removeItem(b.mean)
        legend.addItem(b.mean, name)
        return b

    def show_comparison(self, cmp: Comparison) -> None:
        """Draw every scenario of a comparison."""
        n = len(cmp.results)
        for p in self.plots.values():
            p.set_empty(False)
        for key in self.bands:
            for b in self.bands[key][n:]:
                b.clear()
                self.plots[key].getPlotItem().legend.removeItem(b.mean)
        for i, (name, (_, _, res)) in enumerate(zip(cmp.names, cmp.results)):
            label = ("base: " if i == 0 else "") + name
            for key in self.bands:
                b = self._band(key, i, label)
                if key == "cash":
                    frame = (res.incremental_band("net_contribution", cumulative=True)
                             if res.cf else res.band("net_contribution", cumulative=True))
                elif key == "wait":
                    frame = res.service_band("wait_mean_hours")
                else:
                    frame = res.band(key)
                b.set_band(frame)
        for p in self.plots.values():
            p.fit()  # one legend entry per scenario: re-flow to the chart's width
