"""Compare's charts: the same charts for several results, one colour per scenario."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

from ui.charts import Band, color, make_plot
from ui.comparison import Comparison


class OverlayCharts(QWidget):
    """The same charts for several results, one colour per scenario (base first)."""

    SPECS = [("net_revenue", "Net revenue per month (¥)", True),
             ("net_contribution", "Net contribution per month (¥)", True),
             ("cash", "Cumulative incremental cash flow (¥)", True),
             ("active_customers", "Active customers", False),
             ("wait", "Mean service wait (hours)", False),
             ("benefit_cost", "Benefit cost per month (¥)", True)]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.plots = {}
        self.bands: dict[str, list[Band]] = {}
        for i, (key, title, money_axis) in enumerate(self.SPECS):
            p = make_plot(title, "¥" if money_axis else
                          ("hours" if key == "wait" else "customers"), money_axis=money_axis)
            p.setMinimumHeight(170)
            p.set_empty(True)  # no dummy axes before the first comparison
            self.plots[key] = p
            self.bands[key] = []
            grid.addWidget(p, i // 2, i % 2)

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
