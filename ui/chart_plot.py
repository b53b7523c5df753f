"""The themed plot widget every chart is drawn in, and the factory that makes one.

Part of the result charts (:mod:`ui.charts` re-exports these names).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent

from ui.chart_axes import CountAxis, MoneyAxis
from ui.chart_style import chart_colors


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


# Below this width two charts side by side leave each plot ~60 px of height under its title
# and legend (tick labels overprinted at 1366 px): a chart grid goes one chart per row.
TWO_COLUMNS_FROM = 900
ONE_COLUMN_MIN_HEIGHT = 240
TWO_COLUMN_MIN_HEIGHT = 180


def grid_columns(width: int) -> int:
    """How many charts a row of a chart grid ``width`` px wide holds (1 or 2)."""
    return 2 if width >= TWO_COLUMNS_FROM else 1


def place_plots(grid, plots: list, columns: int) -> None:
    """Put ``plots`` in ``columns`` columns of ``grid`` from its top row, each tall enough.

    One column: each spans both grid columns (tables placed below span them too).
    """
    for p in plots:
        grid.removeWidget(p)
    for i, p in enumerate(plots):
        grid.addWidget(p, i // columns, i % columns, 1, 3 - columns)
        p.setMinimumHeight(TWO_COLUMN_MIN_HEIGHT if columns == 2 else ONE_COLUMN_MIN_HEIGHT)


class ChartGrid:
    """Mixin for a QWidget whose ``plots`` sit in ``grid``: one column when narrow, two when wide.

    The widget sets ``self.grid``, ``self.plots`` and ``self.columns = 0`` and lists this
    class before QWidget, so its ``resizeEvent`` runs first.
    """

    grid: object
    plots: dict
    columns: int

    def _lay_out(self, columns: int) -> None:
        """Put the charts in ``columns`` columns."""
        if columns == self.columns:
            return
        self.columns = columns
        place_plots(self.grid, list(self.plots.values()), columns)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt's name
        """One column of charts when narrow, two when wide."""
        self._lay_out(grid_columns(ev.size().width()))
        super().resizeEvent(ev)  # type: ignore[misc]


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
