"""The tables shown with the result charts (tier migration, lifecycle) and titled boxes.

Part of the result charts (:mod:`ui.charts` re-exports these names).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator import metrics as _metrics
from simulator.labels import wrap
from simulator.metrics import LIFECYCLE_HEADLINE, stat_text


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
        # "→ 黑钻\nBlack diamond": a column need only be as wide as a tier's longest name
        # (six tiers at 1920 px scrolled '→ (churned)' out of view)
        self.setHorizontalHeaderLabels(["→ " + str(c).replace(" ", "\n", 1) for c in cols])
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
        texts = [line for j in range(len(cols))
                 for line in self.horizontalHeaderItem(j).text().split("\n")]
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
