"""Result charts (pyqtgraph): curves are created once and updated with ``setData``.

:class:`ResultCharts` shows one :class:`~simulator.results.RunResult`; it reads
only the result's documented tables and helpers (``band``, ``band_by``,
``service_band``, ``incremental_band``, ``ltv``, ``migration_matrix``) and
computes nothing the engine does not report. :class:`OverlayCharts` (used by
the compare view) draws several results on the same axes.

The building blocks live in sibling modules and are re-exported here: colours
(:mod:`ui.chart_style`), axes (:mod:`ui.chart_axes`), the plot widget
(:mod:`ui.chart_plot`), plot items (:mod:`ui.chart_items`) and tables
(:mod:`ui.chart_tables`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from simulator.labels import wrap
from simulator.metrics import label_of
from ui.chart_axes import CountAxis, MoneyAxis, money_ticks
from ui.chart_items import Band, Bars, StackedAreas
from ui.chart_plot import (
    ONE_COLUMN_MIN_HEIGHT,
    TWO_COLUMNS_FROM,
    ChartGrid,
    ThemedPlot,
    make_plot,
    neutral_line,
)
from ui.chart_style import PALETTE, chart_colors, color, good_bad_color
from ui.chart_tables import LifecycleTable, MigrationTable, titled

__all__ = [
    "COST_KINDS", "PALETTE", "Band", "Bars", "CountAxis", "LifecycleTable", "MigrationTable",
    "MoneyAxis", "ResultCharts", "StackedAreas", "ThemedPlot", "chart_colors", "color",
    "good_bad_color", "lifecycle_series", "make_plot", "money_ticks", "neutral_line", "titled",
]


COST_KINDS = [("benefit_cost", "benefits"), ("promotion_cost", "promotions"),
              ("service_cost", "service staff"), ("acquisition_cost", "acquisition")]


def lifecycle_series(res) -> dict[str, np.ndarray]:
    """Mean customers by lifecycle stage per month, in stacking order (metric labels).

    Active (not dormant) and dormant at the month's start, churned up to the month's end
    (cumulative).
    """
    active = res.band("active_customers")["mean"].to_numpy()
    dormant = res.band("dormant_customers")["mean"].to_numpy()
    churned = res.band("churned_customers", cumulative=True)["mean"].to_numpy()
    return {"Active (not dormant)": active - dormant, label_of("dormant_customers"): dormant,
            "Churned (cumulative)": churned}


class ResultCharts(ChartGrid, QWidget):
    """Every chart of one run, laid out in a grid."""

    export_requested = Signal(str)  # chart key (right-click "Save chart as PNG…")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(6)
        self.plots: dict[str, pg.PlotWidget] = {}

        p = self._plot("revenue", "Net revenue per month (¥, 95 % band)", "¥", money_axis=True)
        self.revenue = Band(p.getPlotItem(), "scenario", color(0))
        self.revenue_cf = Band(p.getPlotItem(), "counterfactual", color(7), dash=True, width=1.5)

        p = self._plot("costs", "Costs by kind per month (¥)", "¥", money_axis=True)
        self.costs = {m: Band(p.getPlotItem(), label, color(i + 1))
                      for i, (m, label) in enumerate(COST_KINDS)}

        p = self._plot("net", "Net contribution per month (¥)", "¥", money_axis=True)
        self.net = Band(p.getPlotItem(), "scenario", color(2))
        self.net_cf = Band(p.getPlotItem(), "counterfactual", color(7), dash=True, width=1.5)

        p = self._plot("members", "Active customers by tier (stacked)", "customers")
        self.members = StackedAreas(p.getPlotItem())

        p = self._plot("lifecycle", "Customer lifecycle: active, dormant, churned (stacked)",
                       "customers")
        p.setToolTip(wrap("Active (not dormant) and dormant customers at each month's start, "
                          "and the customers churned so far (cumulative), stacked"))
        self.lifecycle = StackedAreas(p.getPlotItem())

        p = self._plot("cash", "Cumulative incremental cash flow (¥)", "¥", money_axis=True)
        self.cash = Band(p.getPlotItem(), "vs counterfactual", color(4))
        self.zero = neutral_line(pos=0, angle=0)
        p.addItem(self.zero)
        self.payback = pg.InfiniteLine(angle=90, pen=pg.mkPen(color(1), width=2,
                                                              style=Qt.PenStyle.DashLine),
                                       label="payback", labelOpts={"position": 0.9,
                                                                   "color": PALETTE[1]})
        p.addItem(self.payback)
        self.payback.hide()

        p = self._plot("wait", "Service wait vs SLA (hours)", "hours")
        self.wait = Band(p.getPlotItem(), "mean wait", color(0))
        self.wait_p90 = p.plot(pen=pg.mkPen(color(3), width=1.5), name="P90 wait")
        self.sla = pg.InfiniteLine(angle=0, pen=pg.mkPen(color(1), width=2,
                                                         style=Qt.PenStyle.DashLine),
                                   label="SLA",
                                   labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)],
                                              "color": PALETTE[1]})
        p.addItem(self.sla)
        self.sla_legend = pg.PlotDataItem(pen=pg.mkPen(color(1), width=2,
                                                       style=Qt.PenStyle.DashLine))
        p.getPlotItem().legend.addItem(self.sla_legend, "SLA")

        p = self._plot("ltv", "Discounted LTV per customer by start tier (¥)", "¥",
                       money_axis=True)
        p.setLabel("bottom", "tier at start")
        p.getAxis("bottom").enableAutoSIPrefix(False)  # categories: no "(x0.001)" on the label
        p.setMouseEnabled(x=False, y=False)
        self.ltv = Bars(p.getPlotItem())

        self.migration = MigrationTable()
        keys = list(self.plots)
        self.grid = grid
        self.columns = 0
        self._lay_out(2)
        self.migration_box = titled("Tier migration: start → end tier (share)",
                                    self.migration)
        self.migration_box.setToolTip(wrap("Share of each start tier's customers in each tier at "
                                      "the horizon's end, or churned"))
        # the tables span both columns: in one column (at 1366 px) the tier names in the
        # migration matrix's headers were cut ("→ Bronz") and shares wrapped ("40.9 / %")
        rows = len(keys)  # below the charts in either layout
        grid.addWidget(self.migration_box, rows, 0, 1, 2)
        self.lifecycle_table = LifecycleTable()
        self.lifecycle_box = titled("Customer lifecycle (mean, 95 % interval)",
                                    self.lifecycle_table)
        self.lifecycle_box.setToolTip(wrap("Dormant customers, recall success and cost per "
                                           "acquired customer by source; shown when the "
                                           "scenario uses dormancy, recall or word of mouth"))
        grid.addWidget(self.lifecycle_box, rows + 1, 0, 1, 2)
        self.lifecycle_box.hide()
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.migration.setMinimumWidth(240)
        self.placeholder = QLabel("No results yet.")
        self.result = None
        for p in self.plots.values():
            p.set_empty(True)

    # one chart per row when narrow (the rule every chart grid follows, ui.chart_plot)
    TWO_COLUMNS_FROM = TWO_COLUMNS_FROM
    ONE_COLUMN_MIN_HEIGHT = ONE_COLUMN_MIN_HEIGHT

    def _plot(self, key: str, title: str, y: str, money_axis: bool = False) -> pg.PlotWidget:
        p = make_plot(title, y, money_axis=money_axis)
        # pyqtgraph's own "Export..." offers SVG, which crashes with Qt 6.12: PNG only.
        act = QAction("Save chart as PNG…", p)
        act.triggered.connect(lambda: self.export_requested.emit(key))
        p.scene().contextMenu = [act]
        p.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plots[key] = p
        return p

    # ------------------------------------------------------------------
    def show_result(self, res, sla_hours: float | None = None) -> None:
        """Update every chart from a RunResult (setData on the existing items)."""
        self.result = res
        for p in self.plots.values():
            p.set_empty(False)
        has_cf = "counterfactual" in getattr(res, "arms", ["scenario"])
        self.revenue.set_band(res.band("net_revenue"))
        if has_cf:
            self.revenue_cf.set_band(res.band("net_revenue", arm="counterfactual"))
            self.net_cf.set_band(res.band("net_contribution", arm="counterfactual"))
        else:
            self.revenue_cf.clear()
            self.net_cf.clear()
        for metric, band in self.costs.items():
            band.set_band(res.band(metric))
        self.net.set_band(res.band("net_contribution"))

        by_tier = res.band_by("active_customers", by="tier")
        x = np.sort(by_tier["month"].unique())
        series = {t: by_tier.loc[by_tier["tier"] == t, "mean"].to_numpy() for t in res.tiers}
        self.members.set(x, series)
        self.lifecycle.set(x, lifecycle_series(res))

        if has_cf:
            cash = res.incremental_band("net_contribution", cumulative=True)
            self.plots["cash"].setTitle("Cumulative cash flow vs counterfactual (¥)",
                                        size="10pt")
        else:
            cash = res.band("net_contribution", cumulative=True)
            self.plots["cash"].setTitle("Cumulative net contribution (¥)",
                                        size="10pt")
        self.cash.set_band(cash)
        pb = res.summary.get("payback_month")
        if pb is not None and math.isfinite(pb.mean):
            self.payback.setValue(pb.mean)
            self.payback.label.setFormat(f"payback ≈ month {pb.mean:.0f}")
            self.payback.show()
        else:
            self.payback.hide()

        self.wait.set_band(res.service_band("wait_mean_hours"))
        p90 = res.service_band("wait_p90_hours")
        self.wait_p90.setData(p90["month"].to_numpy(), p90["mean"].to_numpy())
        if sla_hours is not None:
            self.sla.setValue(sla_hours)
            self.sla.label.setFormat(f"SLA {sla_hours:g} h")
            self.sla.show()

        self._show_ltv(res)
        self.migration.set_matrix(res.migration_matrix())
        shown = self.lifecycle_table.set_summary(res.summary)
        self.lifecycle_box.setVisible(shown)
        for p in self.plots.values():
            p.fit()  # legends gained entries (tiers, segments)

    def clear(self) -> None:
        """Remove every figure (another scenario was opened, or its run failed)."""
        self.result = None
        for band in (self.revenue, self.revenue_cf, self.net, self.net_cf, self.cash, self.wait,
                     *self.costs.values()):
            band.clear()
        self.members.set(np.array([]), {})
        self.lifecycle.set(np.array([]), {})
        self.payback.hide()
        self.wait_p90.setData([], [])
        self.ltv.set([], {})
        self.migration.setRowCount(0)
        self.migration.setColumnCount(0)
        self.lifecycle_table.set_summary({})
        self.lifecycle_box.hide()
        for p in self.plots.values():
            p.set_empty(True)

    def is_empty(self) -> bool:
        """True if no figures are drawn (tests)."""
        return self.result is None and self.revenue.y().size == 0 and \
            self.migration.rowCount() == 0

    def _show_ltv(self, res) -> None:
        from simulator.results import Stat

        df = res.ltv
        df = df[df["arm"] == "scenario"]
        series = {}
        for seg in res.segments:
            means, lows, highs = [], [], []
            for tier in res.tiers:
                vals = df.loc[(df["segment"] == seg) & (df["tier"] == tier), "ltv_cny"]
                st = Stat.of(vals.to_numpy())
                means.append(st.mean)
                lows.append(st.ci95_low)
                highs.append(st.ci95_high)
            series[seg] = (np.array(means), np.array(lows), np.array(highs))
        self.ltv.set(list(res.tiers), series)

    def export_png(self, key: str, path: str | Path, width: int = 1200) -> Path:
        """Write one chart as PNG (pyqtgraph ImageExporter; SVG crashes with Qt 6.12)."""
        from pyqtgraph.exporters import ImageExporter

        path = Path(path)
        if key == "migration":
            self.migration_box.grab().save(str(path))
            return path
        exp = ImageExporter(self.plots[key].getPlotItem())
        exp.parameters()["width"] = width
        exp.export(str(path))
        return path

    def chart_names(self) -> dict[str, str]:
        """Chart key -> title (for the export menu)."""
        out = {k: p.getPlotItem().titleLabel.text for k, p in self.plots.items()}
        out["migration"] = "Tier migration matrix"
        return out
