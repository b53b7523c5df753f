"""The optimiser's two charts: best objective vs budget (the frontier) and marginal returns.

Side by side when the column is wide enough, one above the other when it is not
(a 1366-px laptop, 1.5× scaling), so the tab never scrolls sideways. Each chart
has its key in a wrapping line under it, off the data.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QLayout, QWidget

from simulator.metrics import money
from ui.charts import PALETTE, Band, color, make_plot

MIN_CHART = (260, 230)  # smallest readable chart (width, height)


def key_label(entries) -> QLabel:
    """A chart key under a plot (keeps legends off the data); wraps between entries."""
    parts = []
    for sym, col, text in entries:
        mark = f"<span style='color:{col}; font-weight:bold'>" + \
            ("━━" if sym == "line" else sym) + "</span>"
        parts.append(f"{mark}&nbsp;{text.replace(' ', '&nbsp;')}")  # an entry never breaks
    lab = QLabel("&nbsp;&nbsp; ".join(parts))  # the plain space lets the line wrap there
    lab.setAlignment(Qt.AlignmentFlag.AlignHCenter)  # text in the palette's colour
    lab.setWordWrap(True)  # never force the chart column wider than its share
    return lab


def _short(label: str, n: int = 20) -> str:  # fits the 150-px axis (longer ones vanish)
    return label if len(label) <= n else label[: n - 1] + "…"


class OptimiserCharts(QWidget):
    """Frontier and marginal-return charts with their keys; re-flows to one column."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        # the widget's minimum is one column's (minimumSizeHint), not the side-by-side one
        self.grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.frontier_plot = self._make_frontier()
        self.marginal_plot = self._make_marginal()
        self.frontier_key = key_label([("line", PALETTE[0], "best split (simulated)"),
                                       ("■", PALETTE[7], "today (simulated)"),
                                       ("★", PALETTE[1], "recommended (simulated)"),
                                       ("┆", PALETTE[3], "current budget")])
        self.marginal_key = key_label([("■", PALETTE[7], "today's split"),
                                       ("■", PALETTE[0], "recommended split")])
        self.columns = 0
        self._place(2)

    # -- layout --------------------------------------------------------------------------
    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for w in (self.frontier_plot, self.frontier_key, self.marginal_plot, self.marginal_key):
            self.grid.removeWidget(w)
        if columns == 2:
            self.grid.addWidget(self.frontier_plot, 0, 0)
            self.grid.addWidget(self.marginal_plot, 0, 1)
            self.grid.addWidget(self.frontier_key, 1, 0)
            self.grid.addWidget(self.marginal_key, 1, 1)
            self.grid.setColumnStretch(1, 1)
        else:
            self.grid.addWidget(self.frontier_plot, 0, 0)
            self.grid.addWidget(self.frontier_key, 1, 0)
            self.grid.addWidget(self.marginal_plot, 2, 0)
            self.grid.addWidget(self.marginal_key, 3, 0)
            self.grid.setColumnStretch(1, 0)
        self.grid.setColumnStretch(0, 1)
        self.updateGeometry()

    def _two_columns_fit(self, width: int) -> bool:
        need = 2 * max(self.frontier_plot.minimumWidth(), self.marginal_plot.minimumWidth())
        return width >= need + self.grid.horizontalSpacing() + 40

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt's name
        """Side by side when both charts fit, else one above the other."""
        self._place(2 if self._two_columns_fit(ev.size().width()) else 1)
        super().resizeEvent(ev)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """One chart's width; the height of the layout in use."""
        w = max(self.frontier_plot.minimumWidth(), self.marginal_plot.minimumWidth())
        rows = 1 if self.columns == 2 else 2
        key_h = self.frontier_key.sizeHint().height()
        return QSize(w, rows * (MIN_CHART[1] + key_h + 2 * self.grid.verticalSpacing()))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Room for both charts side by side."""
        return QSize(2 * MIN_CHART[0] + 80, MIN_CHART[1] + 60)

    # -- charts --------------------------------------------------------------------------
    def _make_frontier(self) -> pg.PlotWidget:
        w = make_plot("Best objective vs budget (simulated, 95 % band)", "",
                      money_axis=True, legend=False, x_label="budget per month", money_x=True,
                      min_size=MIN_CHART, pan_x=False)
        pi = w.getPlotItem()
        self.frontier_band = Band(pi, "best split", color(0))
        self.frontier_pts = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(color(0)),
                                               pen=pg.mkPen("w"))
        pi.addItem(self.frontier_pts)
        self.today_pt = pg.ScatterPlotItem(size=11, symbol="s", brush=pg.mkBrush(color(7)),
                                           pen=pg.mkPen("#333"))
        self.rec_pt = pg.ScatterPlotItem(size=12, symbol="star", brush=pg.mkBrush(color(1)),
                                         pen=pg.mkPen("#333"))
        pi.addItem(self.today_pt)
        pi.addItem(self.rec_pt)
        self.budget_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(color(3), width=1.5,
                                                                  style=Qt.PenStyle.DashLine),
                                           label="current budget",
                                           labelOpts={"position": 0.96, "color": PALETTE[3],
                                                      "anchors": [(-0.02, 0), (-0.02, 0)],
                                                      "fill": pg.mkBrush(255, 255, 255, 200)})
        pi.addItem(self.budget_line)
        self.budget_line.hide()
        self.frontier_note = pg.TextItem("", color="#b00020", anchor=(0, 0))
        self.frontier_note.setParentItem(pi.vb)  # fixed in the view's top-left corner
        self.frontier_note.setPos(4, 2)
        return w

    def _make_marginal(self) -> pg.PlotWidget:
        w = make_plot("Marginal return per extra ¥", "", legend=False, x_label="",
                      min_size=MIN_CHART, left_width=150, grid_y=False, pan_x=False)
        pi = w.getPlotItem()
        self.bars_now = pg.BarGraphItem(x0=[], y=[], width=[], height=0.36,
                                        brush=color(7, 170), pen=pg.mkPen(color(7)))
        self.bars_rec = pg.BarGraphItem(x0=[], y=[], width=[], height=0.36,
                                        brush=color(0, 200), pen=pg.mkPen(color(0)))
        pi.addItem(self.bars_now)
        pi.addItem(self.bars_rec)
        self.zero_line = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#555", width=1))
        pi.addItem(self.zero_line)
        pi.invertY(True)
        return w

    def show_frontier(self, alloc, kind: str) -> None:
        """The best objective at each budget share, today's and the recommended point."""
        all_fr = alloc.frontier
        fr = all_fr[all_fr["feasible"].astype(bool)]
        bad = all_fr[~all_fr["feasible"].astype(bool)]
        self.frontier_note.setText(
            "infeasible at " + ", ".join(f"{100 * b:.0f} %" for b in bad["budget_share"]) +
            " of the budget (below the pinned and minimum spend)" if len(bad) else "")
        x = fr["budget_cny"].to_numpy(float)
        y = fr["objective_mean"].to_numpy(float)
        ok = np.isfinite(y)
        self.frontier_band.set(x[ok], y[ok], fr["ci_low"].to_numpy(float)[ok],
                               fr["ci_high"].to_numpy(float)[ok])
        self.frontier_pts.setData(x[ok], y[ok])
        pi = self.frontier_plot.getPlotItem()
        left = pi.getAxis("left")
        left.__dict__.pop("tickStrings", None)  # money ticks (MoneyAxis) by default
        if kind != "money":
            left.tickStrings = (lambda vals, scale, spacing:
                                [f"{v * scale * 100:,.1f} %" for v in vals])
        left.picture = None
        left.update()
        h = alloc.headline()
        v = alloc.verification
        self.today_pt.setData([h["today_spend_cny"]], [v.today.mean])
        # The frontier is each budget's best split against today's counterfactual; the
        # recommendation is its point at this budget (under "at most" it may spend less:
        # the table and the verdict give its spend).
        rec_y = h["recommended_vs_today_reference_mean"]
        self.rec_pt.setData([alloc.budget_cny], [rec_y])
        self.budget_line.setValue(alloc.budget_cny)
        self.budget_line.label.setFormat(f"current budget {money(alloc.budget_cny)}")
        self.budget_line.show()
        self.frontier_plot.setTitle(f"Best {h['objective_label']} vs budget per month "
                                    "(simulated, vs today's counterfactual, 95 % band)",
                                    size="10pt")
        xs = np.concatenate([x, [h["today_spend_cny"], alloc.budget_cny]])
        ys = np.concatenate([y[ok], fr["ci_low"].to_numpy(float)[ok],
                             fr["ci_high"].to_numpy(float)[ok],
                             [v.today.mean, rec_y]])
        xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
        if xs.size and ys.size:
            pi.setXRange(float(xs.min()), float(xs.max()), padding=0.06)
            pad = 0.08 * max(float(ys.max() - ys.min()), abs(float(ys.max())) * 1e-3, 1e-9)
            pi.setYRange(float(ys.min()) - pad, float(ys.max()) + 2.5 * pad, padding=0)

    def show_marginal(self, labels: list[str], now: np.ndarray, rec: np.ndarray,
                      unit: str) -> None:
        """Bars of the marginal return per lever at today's and the recommended split."""
        n = len(now)
        y = np.arange(n, dtype=float)
        self.bars_now.setOpts(x0=np.zeros(n), y=y - 0.19, width=np.nan_to_num(now),
                              height=0.36)
        self.bars_rec.setOpts(x0=np.zeros(n), y=y + 0.19, width=np.nan_to_num(rec),
                              height=0.36)
        pi = self.marginal_plot.getPlotItem()
        pi.getAxis("left").setTicks([[(float(i), _short(t)) for i, t in enumerate(labels)]])
        pi.setLabel("bottom", unit)
        pi.setYRange(-0.6, n - 0.4, padding=0)
        vals = np.concatenate([np.nan_to_num(now), np.nan_to_num(rec), [0.0]])
        lo, hi = float(vals.min()), float(vals.max())
        span = max(hi - lo, 1e-9)
        pi.setXRange(lo - 0.05 * span, hi + 0.35 * span, padding=0)
