"""Compare's tables: KPIs with paired deltas vs the base, and the inputs that differ.

Each function fills a :class:`QTableWidget` from a :class:`~ui.comparison.Comparison`;
the figures are formatted by the one metric catalogue (:mod:`simulator.metrics`).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from simulator.labels import wrap
from simulator.metrics import delta, delta_interval, interval, metric, not_defined, value
from ui.charts import good_bad_color
from ui.comparison import Comparison


def fill_kpi_table(t: QTableWidget, cmp: Comparison) -> None:
    """KPI rows: the base's figure, then each scenario's figure and its Δ vs the base."""
    table = cmp.table()
    headers = ["Metric", f"Base: {cmp.names[0]}"]
    tips = list(headers)
    # the Δ column follows its scenario's column: its header need not repeat a long name
    # (it was wider than the last column and cut at both ends); the tooltip has it
    for name in cmp.names[1:]:
        headers += [name, "Δ vs base (95 % CI)"]
        tips += [name, f"Δ {name} vs base (95 % CI)"]
    t.clear()
    t.setColumnCount(len(headers))
    t.setHorizontalHeaderLabels(headers)
    for c, tip in enumerate(tips):
        t.horizontalHeaderItem(c).setToolTip(wrap(tip))
    metrics = list(dict.fromkeys(table["metric"]))
    t.setRowCount(len(metrics))
    for r, m in enumerate(metrics):
        rows = table[table["metric"] == m].sort_values("scenario_no")
        first = rows.iloc[0]
        kind = first["kind"]
        t.setItem(r, 0, QTableWidgetItem(first["label"]))
        for i, (_, row) in enumerate(rows.iterrows()):
            col = 1 if i == 0 else 2 * i
            t.setItem(r, col, _stat_item(row["mean"], row["ci95_low"],
                                         row["ci95_high"], kind, not_defined(row)))
            if i == 0:
                continue
            it = QTableWidgetItem(_delta_text(row["delta_mean"], row["delta_ci95_low"],
                                              row["delta_ci95_high"], kind))
            it.setData(Qt.ItemDataRole.UserRole, float(row["delta_mean"]))
            lo, hi = row["delta_ci95_low"], row["delta_ci95_high"]
            if math.isfinite(lo) and (lo > 0 or hi < 0):  # the interval excludes 0
                better = metric(m).higher_is_better
                if better is not None:
                    good = (row["delta_mean"] > 0) == better
                    it.setForeground(good_bad_color(good, t.palette()))
            t.setItem(r, col + 1, it)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)


def _stat_item(mean, lo, hi, kind: str, why: str = "") -> QTableWidgetItem:
    ci = interval(lo, hi, kind)
    it = QTableWidgetItem(why or value(mean, kind) + (f"  ({ci})" if ci else ""))
    it.setData(Qt.ItemDataRole.UserRole, float(mean))
    return it


def _delta_text(mean, lo, hi, kind: str) -> str:
    if not math.isfinite(mean):
        return "—"
    ci = delta_interval(lo, hi, kind)
    return delta(mean, kind) + (f"  ({ci})" if ci else "")


def fill_diff_table(t: QTableWidget, cmp: Comparison) -> None:
    """One row per input that differs from the base; differing values highlighted."""
    rows = cmp.input_diff()
    t.clear()
    t.setColumnCount(1 + len(cmp.names))
    t.setHorizontalHeaderLabels(["Input"] + [("base: " if i == 0 else "") + n
                                             for i, n in enumerate(cmp.names)])
    t.setRowCount(len(rows))
    for r, (label, vals) in enumerate(rows):
        item = QTableWidgetItem(label)
        item.setToolTip(wrap(label))
        t.setItem(r, 0, item)
        for c, v in enumerate(vals):
            it = QTableWidgetItem(v)
            if c > 0 and v != vals[0]:
                it.setBackground(Qt.GlobalColor.yellow)
                it.setForeground(Qt.GlobalColor.black)  # readable in a dark palette
            t.setItem(r, c + 1, it)
    hh = t.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    hh.setStretchLastSection(True)
    # a long field label keeps its end (the field's own name), whole in the tooltip
    t.setTextElideMode(Qt.TextElideMode.ElideLeft)
    hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    t.resizeColumnToContents(0)
    t.setColumnWidth(0, min(t.columnWidth(0), 440))


def delta_rows(t: QTableWidget) -> dict[str, list[float]]:
    """Metric label -> Δ means per compared scenario (tests)."""
    out = {}
    for r in range(t.rowCount()):
        label = t.item(r, 0).text()
        out[label] = [t.item(r, c).data(Qt.ItemDataRole.UserRole)
                      for c in range(3, t.columnCount(), 2)]
    return out
