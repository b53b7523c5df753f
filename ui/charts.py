"""Result charts (pyqtgraph): curves are created once and updated with ``setData``.

:class:`ResultCharts` shows one :class:`~simulator.results.RunResult`; it reads
only the result's documented tables and helpers (``band``, ``band_by``,
``service_band``, ``incremental_band``, ``ltv``, ``migration_matrix``) and
computes nothing the engine does not report. :class:`OverlayCharts` (used by
the compare view) draws several results on the same axes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator import metrics as _metrics
from simulator.labels import wrap
from simulator.metrics import LIFECYCLE_HEADLINE, label_of, stat_text

pg.setConfigOptions(antialias=True, background="w", foreground="#333")  # before a palette applies

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def color(i: int, alpha: int = 255) -> QColor:
    """The i-th series colour."""
    c = QColor(PALETTE[i % len(PALETTE)])
    c.setAlpha(alpha)
    return c


class MoneyAxis(pg.AxisItem):
    """Tick labels as ¥1.2 M / ¥350 k."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    SYMBOL = "¥"

    def tickStrings(self, values, scale, spacing):  # noqa: N802, D102
        return money_ticks([v * scale for v in values], spacing * scale, self.SYMBOL)


class CountAxis(MoneyAxis):
    """Tick labels as 15 M / 350 k / 0.5 (customers, points, hours), never '1.5e+07'."""

    SYMBOL = ""


def money_ticks(values, spacing: float, symbol: str = "¥") -> list[str]:
    """Tick labels in one unit (k/M/B of the largest tick).

    As many decimals as the tick spacing needs, so neighbouring ticks never read the
    same ('¥1.1 B, ¥1.1 B').
    """
    if not len(values):
        return []
    big = max(abs(float(v)) for v in values)
    if big >= 1e9:
        div, suf = 1e9, " B"
    elif big >= 1e6:
        div, suf = 1e6, " M"
    elif big >= 1e4:
        div, suf = 1e3, " k"
    else:
        div, suf = 1.0, ""
    step = abs(spacing) / div if spacing else 0.0
    dec = 0 if step <= 0 or step >= 1 else min(6, math.ceil(-math.log10(step) - 1e-9))
    if step and dec < 6 and abs(round(step, dec) - step) > step * 1e-6:
        dec += 1  # 0.25 steps need two decimals, not one
    out = []
    for v in values:
        x = float(v) / div
        sign = "−" if x < 0 and round(abs(x), dec) != 0 else ""
        out.append(f"{sign}{symbol}{abs(x):,.{dec}f}{suf}")
    return out


class Band:
    """A mean curve with a shaded 95 % band (FillBetweenItem), created once."""

    def __init__(self, plot: pg.PlotItem, name: str, col: QColor, dash: bool = False,
                 width: float = 2.0):
        pen = pg.mkPen(col, width=width, style=Qt.PenStyle.DashLine if dash else
                       Qt.PenStyle.SolidLine)
        self.lo = pg.PlotDataItem(pen=pg.mkPen(None))
        self.hi = pg.PlotDataItem(pen=pg.mkPen(None))
        fill = QColor(col)
        fill.setAlpha(50)
        self.fill = pg.FillBetweenItem(self.lo, self.hi, brush=pg.mkBrush(fill))
        self.mean = plot.plot(pen=pen, name=name)
        for it in (self.lo, self.hi, self.fill):
            plot.addItem(it)
        self.fill.setZValue(-10)

    def set(self, x, mean, lo=None, hi=None) -> None:
        """Update the data (NaN bands, e.g. one replication, are hidden)."""
        x = np.asarray(x, dtype=float)
        mean = np.asarray(mean, dtype=float)
        self.fill.show()
        self.mean.setData(x, mean)
        ok = lo is not None and hi is not None and np.all(np.isfinite(lo)) and \
            np.all(np.isfinite(hi)) and len(x) > 0
        if ok:
            self.lo.setData(x, np.asarray(lo, dtype=float))
            self.hi.setData(x, np.asarray(hi, dtype=float))
        else:
            self.lo.setData(x, mean)
            self.hi.setData(x, mean)

    def clear(self) -> None:
        """Remove the data (keep the items)."""
        for it in (self.mean, self.lo, self.hi):
            it.setData([], [])
        self.fill.hide()  # its cached outline would otherwise stay drawn

    def set_band(self, frame) -> None:
        """Update from a band frame (month, mean, ci95_low, ci95_high)."""
        self.set(frame["month"].to_numpy(), frame["mean"].to_numpy(),
                 frame["ci95_low"].to_numpy(), frame["ci95_high"].to_numpy())

    def y(self) -> np.ndarray:
        """Current mean values (tests read them)."""
        y = self.mean.yData
        return np.asarray(y if y is not None else [], dtype=float)


def chart_colors(pal: QPalette) -> dict[str, QColor]:
    """Chart colours from the application palette.

    Background (Base), text and axes (WindowText), secondary lines (PlaceholderText,
    as the KPI strip's captions).
    """
    return {"background": QColor(pal.color(QPalette.ColorRole.Base)),
            "foreground": QColor(pal.color(QPalette.ColorRole.WindowText)),
            "muted": QColor(pal.color(QPalette.ColorRole.PlaceholderText))}


def good_bad_color(good: bool, pal: QPalette) -> QColor:
    """Green/red text for a better/worse (or up/down) figure, readable on the palette's base.

    Light shades on a dark palette, dark shades on a light one: dark red on dark grey
    and mid green on light grey were unreadable (contrast under 3:1). Used by the
    compare deltas, the optimiser's spend changes and the KPI strip's edit deltas.
    """
    dark = pal.color(QPalette.ColorRole.Base).lightness() < 128
    if dark:
        return QColor("#7ddc8a") if good else QColor("#ff8a80")
    return QColor("#006400") if good else QColor("#8b0000")


class ThemedPlot(pg.PlotWidget):
    """A PlotWidget that follows the widget's palette (light or dark).

    Background, axes, tick labels, grid, title and legend text; re-applied whenever
    the palette changes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._title_size = "10pt"
        self.apply_palette()

    def setTitle(self, title=None, **args):  # noqa: N802 - pyqtgraph's name
        """Set the title in the palette's text colour (wrapped to the chart's width)."""
        self._title_size = args.pop("size", self._title_size)
        fg = chart_colors(self.palette())["foreground"].name()
        self.getPlotItem().setTitle(title, size=self._title_size, color=fg, **args)
        self.fit()

    def resizeEvent(self, ev):  # noqa: N802 - Qt's name
        """Wrap the title and re-flow the legend to the new width.

        A long title or a three-column legend wider than the chart pushed the plot past
        its right edge.
        """
        self.fit()
        super().resizeEvent(ev)

    def fit(self) -> None:
        """Wrap the title and set the legend columns to the current width and entries."""
        pi = getattr(self, "plotItem", None)
        if pi is None:
            return
        # title and legend sit in the view box's column, right of the left axis
        axis_w = getattr(self, "axis_width", 0) or pi.getAxis("left").width()
        avail = max(self.width() - axis_w - 28, 60)
        title = pi.titleLabel
        title.item.setTextWidth(-1)
        if title.item.boundingRect().width() > avail:
            title.item.setTextWidth(avail)
        # re-centre the wrapped text too: pyqtgraph placed it for its unwrapped width, so a
        # title that wrapped at an unchanged chart size started left of the chart's edge
        title.resizeEvent(None)  # (also updates the minimum size)
        lg = getattr(pi, "legend", None)
        if lg is not None and lg.items:
            for cols in range(min(3, len(lg.items)), 0, -1):  # the most columns that fit
                if cols != lg.columnCount:
                    lg.setColumnCount(cols)
                if lg.layout.minimumWidth() <= avail + 20:
                    break

    def set_empty(self, empty: bool) -> None:
        """Without figures show no axes, grid or legend (no dummy 0–1 axes)."""
        pi = self.getPlotItem()
        for name in ("left", "bottom"):
            pi.showAxis(name, not empty)
        lg = getattr(pi, "legend", None)
        if lg is not None:
            lg.setVisible(not empty)
        self.empty = empty
        self.fit()

    def apply_palette(self) -> None:
        """Paint the chart in the current palette's colours."""
        pi = getattr(self, "plotItem", None)
        if pi is None:  # GraphicsView.__init__ changes the palette role before the plot exists
            return
        c = chart_colors(self.palette())
        fg = c["foreground"]
        self.setBackground(c["background"])
        for name in ("left", "bottom", "right", "top"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen(fg))
            ax.setTextPen(pg.mkPen(fg))
        title = pi.titleLabel
        title.setAttr("color", fg.name())
        title.setText(title.text)
        if getattr(pi, "legend", None) is not None:
            pi.legend.setLabelTextColor(fg)
        for item in pi.items:
            if isinstance(item, pg.ErrorBarItem):
                item.setData(pen=pg.mkPen(fg))
            elif isinstance(item, pg.InfiniteLine) and getattr(item, "neutral", False):
                item.setPen(pg.mkPen(c["muted"], width=1))

    def changeEvent(self, ev):  # noqa: N802 - Qt's name
        """Follow a palette change (application palette switched to dark, or back)."""
        super().changeEvent(ev)
        if ev.type() == QEvent.Type.PaletteChange:
            self.apply_palette()


def _foreground(plot: pg.PlotItem) -> QColor:
    """The text colour of the palette of the widget showing ``plot``."""
    views = plot.scene().views() if plot.scene() is not None else []
    return chart_colors(views[0].palette())["foreground"] if views else QColor("#333")


def neutral_line(**kwargs) -> pg.InfiniteLine:
    """A thin reference line (zero) in the palette's muted colour."""
    line = pg.InfiniteLine(pen=pg.mkPen("#999", width=1), **kwargs)
    line.neutral = True
    return line


def make_plot(title: str, y_label: str, money_axis: bool = False,
              legend: bool = True, *, x_label: str = "month", money_x: bool = False,
              min_size: tuple[int, int] = (240, 180), left_width: int = 62,
              grid_y: bool = True, pan_x: bool = True) -> pg.PlotWidget:
    """A plot widget with title, axis labels and a compact legend."""
    axis = {"left": MoneyAxis("left") if money_axis else CountAxis("left")}
    if money_x:
        axis["bottom"] = MoneyAxis("bottom")
    w = ThemedPlot(axisItems=axis)
    w.setTitle(title, size="10pt")
    if not money_axis and y_label:  # money axes carry ¥ in every tick label (and in the title)
        w.setLabel("left", y_label)
    if x_label:
        w.setLabel("bottom", x_label)
    w.showGrid(x=True, y=grid_y, alpha=0.2)
    w.setMinimumWidth(min_size[0])
    w.setMinimumHeight(min_size[1])
    w.setMouseEnabled(x=pan_x, y=False)
    pi = w.getPlotItem()
    pi.getAxis("left").setWidth(left_width)
    w.axis_width = left_width  # the axis reports 0 while hidden (empty chart)
    if legend:
        # The legend sits in its own row under the plot, never over the curves; series
        # added with a name (plot(name=...)) register with it as with addLegend().
        lg = pg.LegendItem(colCount=3, labelTextSize="8pt", verSpacing=-8, horSpacing=14)
        pi.layout.addItem(lg, 4, 1)
        pi.layout.setRowSpacing(3, 0)
        pi.legend = lg
    w.apply_palette()
    return w


class StackedAreas:
    """Members by tier as stacked areas; one area per tier name, created when first seen."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem]] = {}
        self.base = pg.PlotDataItem(pen=pg.mkPen(None))
        plot.addItem(self.base)

    def set(self, x: np.ndarray, series: dict[str, np.ndarray]) -> None:
        """``series`` in stacking order (entry tier at the bottom)."""
        for name in list(self.items):
            if name not in series:
                for it in self.items.pop(name):
                    self.plot.removeItem(it)
        self.base.setData(x, np.zeros(len(x)))
        below = self.base
        cum = np.zeros(len(x))
        for i, (name, y) in enumerate(series.items()):
            cum = cum + np.nan_to_num(np.asarray(y, dtype=float))
            if name not in self.items:
                line = self.plot.plot(pen=pg.mkPen(color(i), width=1.5), name=name)
                fill = pg.FillBetweenItem(below, line, brush=pg.mkBrush(color(i, 110)))
                self.plot.addItem(fill)
                self.items[name] = (line, below, fill)
            line, old_below, fill = self.items[name]
            if old_below is not below:
                fill.setCurves(below, line)
                self.items[name] = (line, below, fill)
            line.setData(x, cum.copy())
            below = line

    def totals(self) -> np.ndarray:
        """Top of the stack (all members)."""
        if not self.items:
            return np.array([])
        last = list(self.items.values())[-1][0]
        return np.asarray(last.yData, dtype=float)


class Bars:
    """Grouped bars (LTV by tier, one colour per segment) with 95 % error bars."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.items: dict[str, tuple[pg.BarGraphItem, pg.ErrorBarItem]] = {}
        self.legend = plot.legend

    def set(self, groups: list[str], series: dict[str, tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]]) -> None:
        """``series[name] = (mean, low, high)`` per group."""
        for name in list(self.items):
            if name not in series:
                for it in self.items.pop(name):
                    self.plot.removeItem(it)
                if self.legend is not None:
                    self.legend.removeItem(name)
        n = max(len(series), 1)
        width = 0.8 / n
        x0 = np.arange(len(groups), dtype=float)
        for i, (name, (mean, lo, hi)) in enumerate(series.items()):
            x = x0 - 0.4 + width * (i + 0.5)
            mean = np.nan_to_num(np.asarray(mean, dtype=float))
            if name not in self.items:
                bar = pg.BarGraphItem(x=x, height=mean, width=width * 0.9,
                                      brush=color(i, 200), pen=pg.mkPen(color(i)))
                err = pg.ErrorBarItem(x=x, y=mean, top=0, bottom=0, beam=width * 0.3,
                                      pen=pg.mkPen(_foreground(self.plot)))
                self.plot.addItem(bar)
                self.plot.addItem(err)
                if self.legend is not None:
                    self.legend.addItem(bar, name)
                self.items[name] = (bar, err)
            bar, err = self.items[name]
            bar.setOpts(x=x, height=mean, width=width * 0.9)
            lo = np.asarray(lo, dtype=float)
            hi = np.asarray(hi, dtype=float)
            top = np.where(np.isfinite(hi), hi - mean, 0.0)
            bottom = np.where(np.isfinite(lo), mean - lo, 0.0)
            err.setData(x=x, y=mean, top=top, bottom=bottom, beam=width * 0.3)
        ax = self.plot.getAxis("bottom")
        ax.setTicks([[(float(i), g) for i, g in enumerate(groups)]])
        self.plot.setXRange(-0.6, len(groups) - 0.4, padding=0)

    def heights(self, name: str) -> np.ndarray:
        """Bar heights of one series (tests)."""
        return np.asarray(self.items[name][0].opts["height"], dtype=float)


class MigrationTable(QTableWidget):
    """Tier-migration matrix: share of each start tier in each end tier, as a heat map."""

    def __init__(self):
        super().__init__(0, 0)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(180)

    def set_matrix(self, m) -> None:
        """``m``: DataFrame from_tier × to_tier of shares (rows sum to 1)."""
        rows, cols = list(m.index), list(m.columns)
        self.setRowCount(len(rows))
        self.setColumnCount(len(cols))
        self.setHorizontalHeaderLabels([f"→ {c}" for c in cols])
        self.setVerticalHeaderLabels([f"{r} →" for r in rows])
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                v = m.iloc[i, j]
                ok = v is not None and math.isfinite(float(v))
                it = QTableWidgetItem(f"{float(v) * 100:.1f} %" if ok else "—")
                it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if ok:
                    shade = QColor(31, 119, 180, int(30 + 200 * min(float(v), 1.0)))
                    it.setBackground(shade)
                    if float(v) > 0.55:
                        it.setForeground(QColor("white"))
                self.setItem(i, j, it)
        # columns share the width, but never below their widest text (then it scrolls)
        fm = self.fontMetrics()
        texts = [self.horizontalHeaderItem(j).text() for j in range(len(cols))]
        texts += [self.item(i, j).text() for i in range(len(rows)) for j in range(len(cols))]
        self.horizontalHeader().setMinimumSectionSize(
            max((fm.horizontalAdvance(t) for t in texts), default=0) + 16)


class LifecycleTable(QTableWidget):
    """The lifecycle headline figures of a run (metric catalogue labels and formatter)."""

    def __init__(self):
        super().__init__(0, 2)
        self.setHorizontalHeaderLabels(["figure", "mean (95 % interval)"])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setStretchLastSection(True)

    def set_summary(self, summary: dict) -> bool:
        """Fill from ``res.summary``; False (and empty) when it has no lifecycle figures."""
        keys = [k for k in LIFECYCLE_HEADLINE if k in summary]
        self.setRowCount(len(keys))
        for r, k in enumerate(keys):
            m = _metrics.metric(k)
            name = QTableWidgetItem(m.label)
            name.setToolTip(wrap(m.definition))
            self.setItem(r, 0, name)
            self.setItem(r, 1, QTableWidgetItem(stat_text(summary[k], m.kind)))
        self.resizeColumnToContents(0)
        return bool(keys)


def titled(title: str, widget: QWidget) -> QWidget:
    """A widget with a small bold title above it."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    lab = QLabel(title)
    f = QFont(lab.font())
    f.setBold(True)
    lab.setFont(f)
    lab.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    lay.addWidget(lab)
    lay.addWidget(widget)
    return box


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


class ResultCharts(QWidget):
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

    # Below this width two charts side by side leave each plot ~60 px of height under its
    # title and legend (tick labels overprinted at 1366 px): the charts go one per row.
    TWO_COLUMNS_FROM = 900
    ONE_COLUMN_MIN_HEIGHT = 240

    def _lay_out(self, columns: int) -> None:
        """Put the charts in ``columns`` columns (the tables stay below, full width)."""
        if columns == self.columns:
            return
        self.columns = columns
        for p in self.plots.values():
            self.grid.removeWidget(p)
        for i, p in enumerate(self.plots.values()):
            self.grid.addWidget(p, i // columns, i % columns, 1, 3 - columns)
            p.setMinimumHeight(180 if columns == 2 else self.ONE_COLUMN_MIN_HEIGHT)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt's name
        """One column of charts when narrow, two when wide."""
        self._lay_out(2 if ev.size().width() >= self.TWO_COLUMNS_FROM else 1)
        super().resizeEvent(ev)

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
