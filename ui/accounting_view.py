"""Results → "Points & deadweight": the points liability chart and the deadweight table.

Reads the result on screen (preview or full run; no run of its own):
:func:`simulator.points_ledger.of_scenario` when the scheme has points (the
liability at expected redemption value and the deferred revenue by month with
95 % bands, and the points issued, redeemed and expired), and
:func:`simulator.deadweight.deadweight` when the run paired its arms (all
customers, each segment, each tier). docs/ACCOUNTING.md states the conventions.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator import metrics
from simulator.deadweight import LABELS as DW_LABELS
from simulator.deadweight import NOT_PAIRED, deadweight
from simulator.deadweight import kind_of as dw_kind
from simulator.points_ledger import of_scenario
from simulator.results import Stat
from ui.charts import Band, color, make_plot

DW_SHOWN = ("matched_orders", "incremental_orders", "scheme_cost", "deadweight_share",
            "cost_per_incremental_order", "cost_per_retained_customer")


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % interval per month from [R, H] values."""
    stats = [Stat.of(values[:, m]) for m in range(values.shape[1])]
    return (np.array([s.mean for s in stats]), np.array([s.ci95_low for s in stats]),
            np.array([s.ci95_high for s in stats]))


class AccountingView(QWidget):
    """Points liability (when the scheme has points) and deadweight (when paired)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.points_note = QLabel("")
        self.points_note.setObjectName("points_note")
        self.points_note.setWordWrap(True)
        lay.addWidget(self.points_note)
        row = QHBoxLayout()
        self.liability_plot = make_plot("Points liability and deferred revenue (¥, 95 % band)",
                                        "¥", money_axis=True, min_size=(220, 170))
        self.liability = Band(self.liability_plot.getPlotItem(), "liability", color(0))
        self.deferred = Band(self.liability_plot.getPlotItem(), "deferred revenue", color(3),
                             dash=True)
        self.flows_plot = make_plot("Points issued, redeemed, expired per month", "points",
                                    min_size=(220, 170))
        pi = self.flows_plot.getPlotItem()
        self.flows = {k: Band(pi, k, color(i)) for i, k in
                      enumerate(("issued", "redeemed", "expired"))}
        row.addWidget(self.liability_plot, 1)
        row.addWidget(self.flows_plot, 1)
        self.points_charts = QWidget()  # hidden when the scheme has no points
        self.points_charts.setObjectName("points_charts")
        self.points_charts.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.points_charts, 3)
        self.dw_note = QLabel("")
        self.dw_note.setObjectName("deadweight_note")
        self.dw_note.setWordWrap(True)
        lay.addWidget(self.dw_note)
        self.table = QTableWidget(0, 1 + len(DW_SHOWN))
        self.table.setObjectName("deadweight_table")
        self.table.setHorizontalHeaderLabels(["", *(DW_LABELS[c] for c in DW_SHOWN)])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.table, 2)
        self.ledger = None
        self.deadweight = None
        self.clear()

    def clear(self) -> None:
        """No result: nothing shown."""
        self._pending = None
        self.ledger = self.deadweight = None
        for b in (self.liability, self.deferred, *self.flows.values()):
            b.clear()
        for p in (self.liability_plot, self.flows_plot):
            p.set_empty(True)
        self.table.setRowCount(0)
        self.points_note.setText("No results yet.")
        self.dw_note.setText("")

    def set_result(self, res, sc) -> None:
        """The result on screen: drawn now if the tab is visible, else when it is shown.

        (The live preview must not pay for figures nobody is looking at.)
        """
        self._pending = (res, sc)
        if self.isVisible():
            self._draw_pending()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Draw a result that arrived while the tab was hidden."""
        super().showEvent(event)
        self._draw_pending()

    def _draw_pending(self) -> None:
        pending, self._pending = getattr(self, "_pending", None), None
        if pending is not None:
            self.show_result(*pending)

    def show_result(self, res, sc) -> None:
        """Fill from a RunResult of scenario ``sc``."""
        self.ledger = led = of_scenario(res, sc)
        if led is None:
            for b in (self.liability, self.deferred, *self.flows.values()):
                b.clear()
            for p in (self.liability_plot, self.flows_plot):
                p.set_empty(True)
            # two empty frames took most of the tab: the deadweight table gets the room
            self.points_charts.hide()
            self.points_note.setText("This scheme has no points: no points liability.")
        else:
            self.points_charts.show()
            for p in (self.liability_plot, self.flows_plot):
                p.set_empty(False)
            x = np.arange(1, led.horizon + 1)
            self.liability.set(x, *_band(led.values["liability_cny"]))
            self.deferred.set(x, *_band(led.values["deferred_revenue_cny"]))
            for k, col in (("issued", "points_issued"), ("redeemed", "points_redeemed"),
                           ("expired", "points_expired")):
                self.flows[k].set(x, *_band(led.values[col]))
            b = led.realised_breakage()
            last = led.stat("liability_cny")
            mean = led.values["liability_cny"].mean(axis=0)
            peak = int(np.argmax(mean))
            self.points_note.setText(
                f"Points liability (IFRS 15) at expected redemption value: "
                f"{metrics.stat_value(last, 'money')} at the horizon, at most "
                f"{metrics.money(float(mean[peak]))} (month {peak + 1}); breakage realised "
                f"{metrics.stat_value(b, 'share')} (assumed "
                f"{metrics.value(led.prior_breakage, 'share')}). Revenue is deferred at issue "
                "by relative stand-alone selling price and recognised as points are redeemed "
                "or expire.")
            for p in (self.liability_plot, self.flows_plot):
                p.fit()
        self.deadweight = dw = deadweight(res)
        if dw is None:
            self.table.setRowCount(0)
            self.dw_note.setText(f"Deadweight not available: {NOT_PAIRED}.")
            return
        rows = [(f"{by}: {label}" if by != "total" else "all customers", st)
                for by in ("total", "segment", "tier") for label, st in dw.stats(by).items()]
        self.table.setRowCount(len(rows))
        for r, (name, st) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            for j, c in enumerate(DW_SHOWN):
                s = st[c]
                text = metrics.stat_value(s, dw_kind(c))
                if c == "deadweight_share" and not metrics.not_defined(s):
                    ci = metrics.interval(max(s.ci95_low, 0.0), min(s.ci95_high, 1.0), "share")
                    text += f"  ({ci})" if ci else ""
                self.table.setItem(r, 1 + j, QTableWidgetItem(text))
        tot = dw.stats()["all customers"]["deadweight_share"]
        self.dw_note.setText(
            f"Deadweight: {metrics.stat_value(tot, 'share')} of the scheme's cost on orders "
            "went to purchases the same customers make in the same month without the scheme "
            "(common random numbers pair the arms customer by customer).")

    def deadweight_share(self) -> float:
        """The all-customers deadweight share shown (tests)."""
        if self.deadweight is None:
            return float("nan")
        return self.deadweight.stats()["all customers"]["deadweight_share"].mean
