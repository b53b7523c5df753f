"""Live capacity check in the editor's Service section (issue 14 item 5).

For each service pool and each stretch of the day with one staff level: the
offered load (contacts per hour × handling time, in Erlangs) against the staff
on duty, ρ = load / staff with ρ ≥ 1 flagged (the queue cannot keep up), and the
staff Erlang C says the SLA needs. From theory only
(:func:`simulator.capacity.capacity_check`, a few milliseconds), so it follows
every edit of service, staffing or members at once, before any simulation.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator.capacity import DEFAULT_SLA_TARGET, PoolCapacity, capacity_check
from simulator.labels import wrap

COLUMNS = ("Pool", "Hours", "Staff", "Offered load", "ρ", "Erlang C staff", "Within SLA now")
OVER = QColor(214, 39, 40, 70)


def _hours(a: float, b: float) -> str:
    return f"{a:g}–{b:g} h"


class CapacityPanel(QGroupBox):
    """Offered load vs staff per pool and shift, recomputed on every edit."""

    def __init__(self, doc, parent: QWidget | None = None):
        super().__init__("Capacity check (queueing theory, before any simulation)", parent)
        self.setObjectName("capacity_panel")
        self.doc = doc
        self.pools: list[PoolCapacity] = []
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("SLA target: answer within the SLA hours"))
        self.target = QDoubleSpinBox()
        self.target.setRange(1.0, 99.9)
        self.target.setDecimals(1)
        self.target.setValue(100 * DEFAULT_SLA_TARGET)
        self.target.setSuffix(" %")
        self.target.setToolTip(wrap("Share of contacts to answer within Service ▸ SLA hours; "
                               "Erlang C gives the staff that reaches it"))
        row.addWidget(self.target)
        row.addStretch(1)
        lay.addLayout(row)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("capacity_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.table)
        self.flags = QLabel("")
        self.flags.setObjectName("capacity_flags")
        self.flags.setWordWrap(True)
        lay.addWidget(self.flags)
        note = QLabel("Offered load = contacts per hour × handling time (Erlangs), today's "
                      "customers, before the scheme acts; ρ = load / staff on duty (ρ ≥ 1: the "
                      "queue cannot keep up); Erlang C staff: the fewest agents answering the "
                      "target share within the SLA (M/M/c).")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        lay.addWidget(note)
        self.target.valueChanged.connect(lambda _: self.refresh())
        doc.edited.connect(self.refresh)
        doc.replaced.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Recompute from the scenario on screen (a few milliseconds)."""
        try:
            self.pools = capacity_check(self.doc.scenario, self.target.value() / 100.0)
        except (ValueError, ZeroDivisionError, KeyError, IndexError) as exc:
            self.pools = []
            self.table.setRowCount(0)
            self.flags.setText(f"No capacity check while the service settings have a problem "
                               f"({exc}).")
            return
        rows = [(p, q) for p in self.pools for q in p.periods]
        t = self.table
        t.setRowCount(len(rows))
        for r, (p, q) in enumerate(rows):
            rho = "closed" if q.closed else (f"{q.utilisation:.0%}" if math.isfinite(
                q.utilisation) else "∞")
            cells = [p.pool, _hours(q.start_hour, q.end_hour), str(q.staff),
                     f"{q.offered_erlangs:,.2f} Erlangs", rho,
                     "—" if q.closed else str(q.staff_needed),
                     "—" if q.closed else f"{q.sla_share:.0%}"]
            bad = q.overloaded and not q.closed
            short = not q.closed and q.staff < q.staff_needed
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if bad or (short and c == 5):
                    it.setBackground(QBrush(OVER))
                if bad and c == 4:
                    it.setText(f"{text}  ρ ≥ 1")
                    it.setToolTip(wrap("The offered load is at or above the staff on duty: the "
                                  "queue cannot keep up in these hours"))
                t.setItem(r, c, it)
        flags = [f for p in self.pools for f in p.flags()]
        ok = "✓ Every pool keeps up with its offered load" if not any(
            p.overloaded for p in self.pools) else ""
        self.flags.setText("\n".join(f"⚠ {f}" for f in flags) or ok)

    def overloaded_rows(self) -> list[int]:
        """Rows flagged ρ ≥ 1 (tests)."""
        return [r for r in range(self.table.rowCount())
                if "ρ ≥ 1" in (self.table.item(r, 4).text() or "")]
