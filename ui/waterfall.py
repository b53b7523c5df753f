"""A horizontal waterfall chart (pyqtgraph): totals and the steps between them.

Used by the attribution view (each part's Shapley share of the scheme's NPV,
from nothing to the whole scheme) and by compare's "why different" panel (from
the base's KPI to the other scenario's, one step per group of changed inputs).
Rows run top to bottom with their labels on the left axis, values on the
bottom axis; each step carries its 95 % interval as an error bar at its end,
and a step whose interval contains zero is drawn pale with a dashed outline
and labelled "within noise". The chart computes nothing: it draws the numbers
it is given (:meth:`WaterfallChart.set_rows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QFrame, QScrollArea

from simulator import metrics
from ui.charts import make_plot, neutral_line

UP, DOWN, TOTAL = "#2ca02c", "#d62728", "#1f77b4"
LABEL_CHARS = 28  # axis labels longer than this are shortened (the table has them in full)


@dataclass
class Row:
    """One bar: a total (drawn from zero) or a step (drawn from the running sum)."""

    label: str
    mean: float
    low: float = math.nan  # 95 % interval of the step (or the total)
    high: float = math.nan
    total: bool = False
    within_noise: bool = False

    @classmethod
    def of(cls, label: str, stat, total: bool = False, noise: bool | None = None) -> "Row":
        """A row from a :class:`simulator.results.Stat` (noise: the interval contains 0)."""
        lo, hi = float(stat.ci95_low), float(stat.ci95_high)
        if noise is None:
            noise = not (math.isfinite(lo) and (lo > 0 or hi < 0))
        return cls(label, float(stat.mean), lo, hi, total, bool(noise) and not total)


def short(label: str, n: int = LABEL_CHARS) -> str:
    """The label cut to ``n`` characters (with an ellipsis)."""
    return label if len(label) <= n else label[:n - 1] + "…"


class WaterfallChart:
    """The chart widget (``.widget``) and its bars; rows top to bottom.

    Containers add ``.view``: the chart in a scroll area. Each row gets at least a
    text line's height (:meth:`row_pitch`), so with many rows (a "why different" of
    a dozen groups) the chart grows and scrolls instead of overprinting its labels.
    """

    def __init__(self, title: str, kind: str = "money"):
        self.kind = kind
        self.widget = make_plot(title, "", money_axis=False, legend=False, x_label="",
                                money_x=kind == "money", left_width=170, grid_y=False,
                                min_size=(180, 150))
        self.widget.showGrid(x=True, y=False, alpha=0.2)
        self.plot = self.widget.getPlotItem()
        self.plot.invertY(True)
        self.widget.setMouseEnabled(x=False, y=False)
        self.rows: list[Row] = []
        self.spans: list[tuple[float, float]] = []  # (x0, x1) of each bar
        self._items: list = []
        self._labels: list = []  # (TextItem, Row, left end, bar left, bar right, right end, y)
        self._extent = (0.0, 1.0)
        self.label_sides: list[str] = []  # where each label went: right, inside, left
        self.zero = neutral_line(pos=0, angle=90)
        self.plot.addItem(self.zero)
        self.widget.set_empty(True)
        self._base_min_height = self.widget.minimumHeight()
        self.view = QScrollArea()
        self.view.setWidgetResizable(True)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setWidget(self.widget)
        self.view.setMinimumHeight(self._base_min_height)
        self.plot.getViewBox().sigResized.connect(self._place_labels)

    def row_pitch(self) -> int:
        """Pixels each row needs: a line of axis or value text and a little air."""
        return QFontMetrics(self.widget.font()).height() + 6

    # ------------------------------------------------------------------
    def clear(self) -> None:
        """Remove every bar."""
        for it in self._items:
            self.plot.removeItem(it)
        self._items = []
        self._labels = []
        self.label_sides = []
        self.rows, self.spans = [], []
        self.plot.getAxis("left").setTicks([[]])
        self.widget.set_empty(True)
        self.widget.setMinimumHeight(self._base_min_height)

    def set_rows(self, rows: list[Row], title: str | None = None) -> None:
        """Draw ``rows``: totals from zero, steps from the running sum (the last total's)."""
        self.clear()
        if title is not None:
            self.widget.setTitle(title, size="10pt")
        if not rows:
            return
        self.widget.set_empty(False)
        self.rows = list(rows)
        # title, bottom axis and margins take ~80 px; each row a text line
        self.widget.setMinimumHeight(max(self._base_min_height,
                                         80 + len(rows) * self.row_pitch()))
        fg = QColor(self.widget.palette().color(self.widget.foregroundRole()))
        cum = 0.0
        spans = []
        for r in rows:
            m = r.mean if math.isfinite(r.mean) else 0.0
            if r.total:
                x0, x1 = 0.0, m
                cum = m
            else:
                x0, x1 = cum, cum + m
                cum = x1
            spans.append((x0, x1))
        self.spans = spans
        y = np.arange(len(rows), dtype=float)
        for i, (r, (x0, x1)) in enumerate(zip(rows, spans)):
            col = QColor(TOTAL if r.total else (UP if x1 >= x0 else DOWN))
            fill = QColor(col)
            fill.setAlpha(70 if r.within_noise else 210)
            pen = pg.mkPen(col, width=1.5, style=Qt.PenStyle.DashLine if r.within_noise
                           else Qt.PenStyle.SolidLine)
            bar = pg.BarGraphItem(x0=[min(x0, x1)], x1=[max(x0, x1)], y=[y[i]], height=0.62,
                                  brush=pg.mkBrush(fill), pen=pen)
            self._add(bar)
        # connectors: the end of one bar to the start of the next
        cx, cy = [], []
        for i in range(len(rows) - 1):
            end = spans[i][1]
            cx += [end, end]
            cy += [y[i] + 0.31, y[i + 1] - 0.31]
        if cx:
            self._add(pg.PlotDataItem(cx, cy, connect="pairs",
                                      pen=pg.mkPen("#999", width=1, style=Qt.PenStyle.DotLine)))
        # 95 % intervals at each bar's end (a step's interval is its size's)
        ex, ey, left, right = [], [], [], []
        for i, (r, (_, x1)) in enumerate(zip(rows, spans)):
            if math.isfinite(r.low) and math.isfinite(r.high):
                ex.append(x1)
                ey.append(y[i])
                left.append(max(r.mean - r.low, 0.0))
                right.append(max(r.high - r.mean, 0.0))
        if ex:
            self._add(pg.ErrorBarItem(x=np.array(ex), y=np.array(ey), left=np.array(left),
                                      right=np.array(right), beam=0.18, pen=pg.mkPen(fg)))
        # value labels beside each bar, placed in pixels (see _place_labels)
        lo_x = min(0.0, *(min(sp) for sp in spans))
        hi_x = max(0.0, *(max(sp) for sp in spans))
        for x, le, ri in zip(ex, left, right):
            lo_x, hi_x = min(lo_x, x - le), max(hi_x, x + ri)
        self._extent = (lo_x, hi_x)
        self._labels = []
        for i, (r, (x0, x1)) in enumerate(zip(rows, spans)):
            right_end, left_end = max(x0, x1), min(x0, x1)
            if math.isfinite(r.high) and math.isfinite(r.low):  # the interval's whiskers
                right_end = max(right_end, x1 + max(r.high - r.mean, 0.0))
                left_end = min(left_end, x1 - max(r.mean - r.low, 0.0))
            t = pg.TextItem(self.value_text(r), color=fg, anchor=(0, 0.5))
            self._add(t)
            self._labels.append((t, r, left_end, min(x0, x1), max(x0, x1), right_end, y[i]))
        ax = self.plot.getAxis("left")
        ax.setTicks([[(float(i), short(r.label)) for i, r in enumerate(rows)]])
        fm = QFontMetrics(self.widget.font())
        need = max(fm.horizontalAdvance(short(r.label)) for r in rows) + 16
        ax.setWidth(min(max(need, 60), 230))
        self.widget.axis_width = ax.width()
        self.plot.setYRange(-0.6, len(rows) - 0.4, padding=0)
        self._place_labels()
        self.widget.fit()

    def _place_labels(self) -> None:
        """Each bar's value label where it fits whole, and the x range that gives it room.

        Right of the bar (and its interval), else inside a long bar, else left of it;
        when none fits at the chart's width, the range grows on the right until the
        label fits there. Decided in pixels, again at every resize: placed by shares
        of the data range, labels ran out of a narrow chart at 1366 px ("−¥29.8 M
        (with").
        """
        if not self._labels:
            return
        lo_x, hi_x = self._extent
        width = max(hi_x - lo_x, 1e-9)
        vb = self.plot.getViewBox()
        w_px = vb.width() if vb.width() > 40 else 400.0
        gap = 6.0  # px between a bar and its label
        lo, hi = lo_x - 0.06 * width, hi_x + 0.06 * width
        where: list[str] = []
        for _ in range(4):  # a wider range can move a label: settle it
            px = w_px / (hi - lo)
            where = []
            grow = hi
            for t, _, left_end, left_x, right_x, right_end, _ in self._labels:
                need = t.textItem.boundingRect().width() + gap  # the text and its margins
                if (right_end - lo) * px + need <= w_px:
                    where.append("right")
                elif (right_x - left_x) * px >= need + gap:
                    where.append("inside")
                elif (left_end - lo) * px >= need:
                    where.append("left")
                else:
                    where.append("right")
                    if need < 0.85 * w_px:  # else it cannot fit at this width at all
                        grow = max(grow, lo + (right_end - lo) * w_px / (w_px - need))
            if grow <= hi * (1 + 1e-12) + 1e-12:
                break
            hi = grow
        px = w_px / (hi - lo)
        fg = QColor(self.widget.palette().color(self.widget.foregroundRole()))
        for (t, r, left_end, left_x, right_x, right_end, y), w in zip(self._labels, where):
            if w == "right":
                t.setAnchor((0, 0.5))
                t.setColor(fg)
                t.setPos(right_end + gap / px, y)
            elif w == "inside":
                t.setAnchor((1, 0.5))
                t.setColor(fg if r.within_noise else QColor("white"))
                t.setPos(right_x - gap / px, y)
            else:
                t.setAnchor((1, 0.5))
                t.setColor(fg)
                t.setPos(left_end - gap / px, y)
        self.label_sides = where
        self.plot.setXRange(lo, hi, padding=0)

    def _add(self, item) -> None:
        self.plot.addItem(item)
        self._items.append(item)

    def value_text(self, r: Row) -> str:
        """The label written beside a bar."""
        if not math.isfinite(r.mean):
            return "not defined"
        text = metrics.value(r.mean, self.kind) if r.total else metrics.delta(r.mean, self.kind)
        return text + ("  (within noise)" if r.within_noise else "")

    def end(self) -> float:
        """Where the last bar ends (tests: the steps add up to the last total)."""
        return self.spans[-1][1] if self.spans else math.nan
