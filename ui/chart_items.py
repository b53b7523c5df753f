"""Plot items created once and updated with ``setData``: bands, stacked areas, bars.

Part of the result charts (:mod:`ui.charts` re-exports these names).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ui.chart_style import chart_colors, color


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


def _foreground(plot: pg.PlotItem) -> QColor:
    """The text colour of the palette of the widget showing ``plot``."""
    views = plot.scene().views() if plot.scene() is not None else []
    return chart_colors(views[0].palette())["foreground"] if views else QColor("#333")


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
        # one word a line: six tier names such as '黑钻 Black diamond' side by side in a
        # half-width chart otherwise run into each other
        ax.setTicks([[(float(i), "\n".join(g.split()) or g) for i, g in enumerate(groups)]])
        self.plot.setXRange(-0.6, len(groups) - 0.4, padding=0)

    def heights(self, name: str) -> np.ndarray:
        """Bar heights of one series (tests)."""
        return np.asarray(self.items[name][0].opts["height"], dtype=float)
