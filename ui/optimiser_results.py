"""The optimiser's results: headline, verdict, lever table, charts, Apply and Export buttons.

A view of one :class:`simulator.optimiser.Allocation`: a table of levers (today /
recommended ¥ per month, bounds, marginal return per extra ¥ at today's and at
the recommended split, which bound binds), the verification by full simulation
(gain with its 95 % interval and a plain statement when it is within noise) and
the charts (:mod:`ui.optimiser_charts`).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator.labels import wrap
from simulator.metrics import OBJECTIVES, interval, kind_of, money, value
from ui.charts import good_bad_color
from ui.optimiser_charts import OptimiserCharts
from ui.optimiser_controls import CONSTRAINTS, LEVER_ROLE

# Marginal return shown per objective: (column suffix in Allocation.levers, scale, unit text)
#  npv: net ¥ back per extra (discounted) ¥ spent, 0 = break even
#  roi: ROI percentage points per extra ¥1 M a month
#  ltv: ¥ of LTV per customer per extra ¥1 k a month
MARGINAL = {"npv": ("net_return_per_cny", 1.0, "net ¥ per extra ¥ (0 = break even)"),
            "roi": ("marginal_return", 1e6 * 100, "ROI points per extra ¥1 M/month"),
            "ltv": ("marginal_return", 1e3, "¥ LTV per extra ¥1 k/month")}

# short headers (the unit is in each figure and in the header's tooltip): the lever
# names need the width more than the headers do
TABLE_COLUMNS = ["Lever", "Today", "Recommended", "Change", "Min", "Max",
                 "Marginal now", "Marginal rec.", "Binds"]
HEADER_TIPS = {1: "today's spend, ¥ per month", 2: "recommended spend, ¥ per month",
               3: "recommended − today, ¥ per month", 4: "the lever's lowest spend, ¥ per month",
               5: "the lever's highest spend, ¥ per month"}
LEVER_WIDTH_MAX = 190  # px; a longer name is elided (the tooltip has it in full)
LEVER_WIDTH_MIN = 90  # px; the lever column gives way to this before the table scrolls


def marginal_values(alloc) -> tuple[np.ndarray, np.ndarray, str]:
    """(today, recommended) marginal return per lever in display units, and the unit."""
    col, scale, unit = MARGINAL[alloc.objective]
    lv = alloc.levers
    if f"{col}_current" not in lv.columns:
        col, scale, unit = "marginal_return", 1.0, f"{alloc.objective} per extra ¥/month"
    return (lv[f"{col}_current"].to_numpy(float) * scale,
            lv[f"{col}_recommended"].to_numpy(float) * scale, unit)


class _Num(QTableWidgetItem):
    """A right-aligned table cell that sorts by its number."""

    def __init__(self, text: str, number: float = math.nan):
        super().__init__(text)
        self.number = number
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other):  # noqa: D105
        if isinstance(other, _Num):
            return (self.number if math.isfinite(self.number) else -math.inf) < \
                (other.number if math.isfinite(other.number) else -math.inf)
        return super().__lt__(other)


class OptimiserResults(QWidget):
    """Headline, verdict, lever table, charts and the Apply / Export buttons."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        rl = QVBoxLayout(self)
        rl.setContentsMargins(4, 0, 0, 0)
        self.headline = QLabel("No optimisation yet: set the budget and press ▶ Optimise.")
        self.headline.setWordWrap(True)
        f = QFont(self.headline.font())
        f.setPointSizeF(f.pointSizeF() * 1.1)
        f.setBold(True)
        self.headline.setFont(f)
        rl.addWidget(self.headline)
        self.verdict = QLabel("")
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rl.addWidget(self.verdict)

        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("allocation_table")
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        # every column as wide as its text (the lever column, stretched into what the
        # figures left, showed "Prom…" four times at 1366 px); the table scrolls if need be
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        hh.setMaximumSectionSize(LEVER_WIDTH_MAX)
        hh.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setMinimumHeight(150)
        self._want: list[int] = []  # each column's width, measured when the table is filled
        self.table.installEventFilter(self)
        self.table.viewport().installEventFilter(self)
        rl.addWidget(self.table, 0)

        self.charts = OptimiserCharts()
        rl.addWidget(self.charts, 1)

        act = QHBoxLayout()
        self.btn_apply = QPushButton("Apply this split…")
        self.btn_apply.setToolTip(wrap("Save a copy of the scenario with the recommended split "
                                  "into your scenarios under a name you choose and open it "
                                  "(Ctrl+Z shows today's values again)"))
        self.btn_export = QPushButton("Export to Excel…")
        self.btn_export.setToolTip(wrap("Workbook with today's and the recommended split (the "
                                   "optimiser's verification runs) and the Optimisation sheet"))
        self.btn_apply.setEnabled(False)
        self.btn_export.setEnabled(False)
        act.addStretch(1)
        act.addWidget(self.btn_apply)
        act.addWidget(self.btn_export)
        rl.addLayout(act)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        """Refit the lever column when the table or its viewport changes width.

        The viewport too: a vertical scroll bar appearing narrows it, not the table.
        """
        if obj in (self.table, self.table.viewport()) and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return False

    def _fit_columns(self) -> None:
        """Every figure column whole; the lever column takes what is left (elided).

        Each column is as wide as its widest text over all rows (measured once, when the
        table is filled: Qt's ResizeToContents measures only the rows in view, so widths
        moved when a vertical scroll bar came), the lever column at most LEVER_WIDTH_MAX;
        when that is wider than the viewport (at 1366 px by ~40 px, hiding "Binds") the
        lever names give way, down to LEVER_WIDTH_MIN, before the table scrolls.
        """
        t, hh = self.table, self.table.horizontalHeader()
        want = self._want
        if not want or len(want) != t.columnCount():
            return
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for c in range(1, len(want)):
            hh.resizeSection(c, want[c])
        room = t.viewport().width() - sum(want[1:])
        hh.resizeSection(0, max(LEVER_WIDTH_MIN, min(want[0], LEVER_WIDTH_MAX, room)))

    def _measure_columns(self) -> list[int]:
        """Width each column needs: its header and its widest cell over every row."""
        t, hh = self.table, self.table.horizontalHeader()
        pad = 2 * t.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 8
        out = []
        for c in range(t.columnCount()):
            w = hh.sectionSizeHint(c)
            for r in range(t.rowCount()):
                it = t.item(r, c)
                if it is not None:
                    w = max(w, QFontMetrics(it.font()).horizontalAdvance(it.text()) + pad)
            out.append(w)
        return out

    def set_actions_enabled(self, on: bool) -> None:
        """Apply and Export (only with a result and no job running)."""
        self.btn_apply.setEnabled(on)
        self.btn_export.setEnabled(on)

    def show_allocation(self, alloc) -> None:
        """Fill the headline, verdict, table and charts from an Allocation."""
        h = alloc.headline()
        kind = kind_of(OBJECTIVES[alloc.objective])
        label = h["objective_label"]
        v = alloc.verification
        gain_ci = interval(v.gain.ci95_low, v.gain.ci95_high, kind)
        rec_ci = interval(v.recommended.ci95_low, v.recommended.ci95_high, kind)
        self.headline.setText(
            f"Maximise {label}, budget {money(h['budget_cny'])}/month "
            f"({CONSTRAINTS[h['constraint']]}): today {value(v.today.mean, kind)} → "
            f"recommended split {value(v.recommended.mean, kind)}"
            + (f" (95 % CI {rec_ci})" if rec_ci else "") + "; gain "
            f"{value(v.gain.mean, kind)}" + (f" (95 % CI {gain_ci})" if gain_ci else ""))
        spend = (f"Spend: today {money(h['today_spend_cny'])}/month, recommended "
                 f"{money(h['recommended_spend_cny'])}/month. ")
        pred = h.get("predicted_gain")
        pred_txt = (f"The fitted curves predicted a gain of {value(pred, kind)}. "
                    if pred is not None and math.isfinite(pred) else "")
        self.verdict.setText(
            f"{_bold_head(v.verdict)}<br><span style='color:#555'>{spend}{pred_txt}"
            f"Verification: {v.gain.n} paired full simulations of each split under common "
            f"random numbers, {h['agents']:,} customers, {h['horizon_months']} months, seed "
            f"{h['seed']}; {label} against the counterfactual: {h['counterfactual']}. A full "
            f"run of the applied split at these settings shows the recommended figure."
            f"</span>")
        # a light tint with dark text, readable in a dark palette too (the palette's light
        # text on the tint was unreadable)
        style = "color:#1a1a1a; padding:4px; " + (
            "background:#fff4e0;" if v.within_noise else
            ("background:#e8f4ea;" if v.gain.ci95_low > 0 else "background:#fdecea;"))
        self.verdict.setStyleSheet(style)

        now, rec, unit = marginal_values(alloc)
        self._fill_table(alloc, now, rec, unit)
        self.charts.show_frontier(alloc, kind)
        self.charts.show_marginal(list(alloc.levers["label"]), now, rec, unit)

    def _fill_table(self, alloc, now: np.ndarray, rec: np.ndarray, unit: str) -> None:
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        for c, tip in (*HEADER_TIPS.items(), (6, f"marginal return at today's split: {unit}"),
                       (7, f"marginal return at the recommended split: {unit}")):
            self.table.horizontalHeaderItem(c).setToolTip(wrap(tip))
        lv = alloc.levers
        self.table.setRowCount(len(lv))
        for r, row in enumerate(lv.itertuples()):
            name = QTableWidgetItem(row.label)
            name.setToolTip(wrap(f"{row.label}\n{row.lever}" + (f"\n{row.note}" if row.note else "")
                                 + (f"\nfitted curve: {row.curve}" if row.curve else "")))
            name.setData(LEVER_ROLE, row.lever)
            cells = [name,
                     _Num(money(row.current_cny), row.current_cny),
                     _Num(money(row.recommended_cny), row.recommended_cny),
                     _Num(("+" if row.change_cny > 0 else "") + money(row.change_cny),
                          row.change_cny),
                     _Num(money(row.min_cny), row.min_cny),
                     _Num(_money_or_none(row.max_cny), row.max_cny),
                     _Num(_fmt_marg(now[r]), now[r]),
                     _Num(_fmt_marg(rec[r]), rec[r]),
                     QTableWidgetItem(_binding_text(row.binding))]
            if abs(row.change_cny) > 1e-6 * max(1.0, row.current_cny):  # up green, down red
                cells[3].setForeground(good_bad_color(row.change_cny > 0,
                                                      self.table.palette()))
            f = QFont(cells[2].font())
            f.setBold(True)
            cells[2].setFont(f)
            for c, it in enumerate(cells):
                self.table.setItem(r, c, it)
        self.table.resizeRowsToContents()
        self._want = self._measure_columns()
        self._fit_columns()
        rows_h = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        bar = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setMaximumHeight(min(self.table.horizontalHeader().height() + rows_h +
                                        2 * self.table.frameWidth() + bar + 4, 360))


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bold_head(verdict: str) -> str:
    """The verification's verdict as HTML with its opening statement in bold.

    ("<b>The gain is within noise:</b> the recommended split changes ..."). The view
    used to put its own bold "The gain is within noise: the simulation cannot tell the
    recommended split from today's." in front, and the verdict then said it again.
    """
    head, sep, rest = verdict.partition(": ")
    if not sep or len(head) > 80:
        return _html(verdict)
    return f"<b>{_html(head)}:</b> {_html(rest)}"


def _money_or_none(v: float) -> str:
    return "no limit" if not math.isfinite(v) else money(v)


def _fmt_marg(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if abs(v) >= 100:
        return f"{v:+,.0f}"
    s = f"{v:+.2f}"
    return "0.00" if s in ("+0.00", "-0.00") else s


def _binding_text(b: str) -> str:
    return {"min": "at min", "max": "at max", "pinned": "pinned", "fixed": "fixed"}.get(b, "—")
