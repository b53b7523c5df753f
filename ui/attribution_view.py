"""Attribution in the results: which part of the scheme earns its keep.

A table and a waterfall of :func:`simulator.attribution.attribute` for the open
scenario: per part (each benefit, or lever group) its Shapley share of the
scheme's incremental contribution, incremental cost and NPV with 95 %
intervals, its ROI, and "alone" / "leave-one-out" / interaction so a user sees
when two benefits only pay together. The run goes to its own worker thread
(:class:`ui.workers.TaskRunner`) with progress per set of parts and Cancel;
every set runs with the scenario's seed on the sample chosen here (common
random numbers). The figures are stamped with the scenario's hash and marked
when the scenario on screen has changed since.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator import metrics
from simulator.attribution import EXACT_MAX, Attribution, attribute, parts_of
from simulator.labels import wrap
from simulator.metrics import counted
from simulator.scenario_io import scenario_hash
from ui.background_run import BackgroundRunMixin
from ui.waterfall import Row, WaterfallChart

COLUMNS = ("Part", "Incremental contribution", "Incremental cost", "NPV", "ROI", "NPV alone",
           "NPV leave-one-out", "Interaction")
BY_CHOICES = (("each benefit", "benefit"), ("lever group", "group"))


def stat_cell(stat, kind: str, signed: bool = True) -> str:
    """Mean and 95 % interval on one line (or why the figure is not defined)."""
    nd = metrics.not_defined(stat)
    if nd:
        return nd
    f = metrics.delta if signed else metrics.value
    fi = metrics.delta_interval if signed else metrics.interval
    ci = fi(stat.ci95_low, stat.ci95_high, kind)
    return f(stat.mean, kind) + (f"  ({ci})" if ci else "")


def waterfall_rows(att: Attribution) -> list[Row]:
    """The NPV waterfall: each part's Shapley share, then the whole scheme."""
    rows = [Row.of(p.label, p.npv) for p in att.parts]
    rows.append(Row.of("whole scheme", att.whole["npv"], total=True))
    return rows


class AttributionView(BackgroundRunMixin, QWidget):
    """Run and show the attribution of the open scenario's scheme."""

    NOUN = "Attribution"
    UNIT = "sets"

    finished = Signal(object)  # Attribution

    def __init__(self, doc, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.result: Attribution | None = None
        self.result_hash: str | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Split by"))
        self.by = QComboBox()
        for text, key in BY_CHOICES:
            self.by.addItem(text, key)
        row.addWidget(self.by)
        self._sample_boxes(row, replications=4)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()  # a second row: the panel must fit beside the editor at 1366 px
        self._run_controls(row, "▶ Attribute")
        self.btn_run.setToolTip("Run every set of parts with the scenario's seed and this sample")
        lay.addLayout(row)
        lay.addWidget(self._status_label("attribution_status"))

        split = QSplitter(Qt.Orientation.Vertical)
        self.chart = WaterfallChart("NPV by part: Shapley shares")
        split.addWidget(self.chart.view)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("attribution_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        split.addWidget(self.table)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self.note = QLabel("Shapley shares over every set of parts (same seed and customers): "
                           "the parts add up to the whole. Interaction = leave-one-out − "
                           "alone (> 0: pays only with the others). Pale dashed bars: within "
                           "noise.")
        self.note.setWordWrap(True)
        self.note.setToolTip(wrap("'Alone' = the part on its own against nothing on; "
                             "'leave-one-out' = the whole scheme minus the scheme without the "
                             "part. ROI = the part's incremental contribution / its "
                             "incremental cost, per replication."))
        self.note.setStyleSheet("color: palette(placeholder-text);")
        lay.addWidget(self.note)

        self._make_runner("attribution", self._show_payload)
        self.btn_run.clicked.connect(self.start)
        self.btn_cancel.clicked.connect(self.cancel)
        self.by.currentIndexChanged.connect(lambda _: self._describe())
        doc.edited.connect(self._mark_stale)
        doc.replaced.connect(self._replaced)
        self._describe()

    # -- running -----------------------------------------------------------------------
    def _describe(self) -> None:
        """Say what a run will do (parts, sets) before it starts."""
        if self.busy or self.result is not None:
            return
        try:
            parts = parts_of(self.doc.scenario, self.by.currentData())
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        n = len(parts)
        sets = 2 ** n if n <= EXACT_MAX else "sampled"
        self.status.setText(f"{n} parts ({', '.join(p.label for p in parts) or 'none'}): "
                            f"{counted(sets, 'set')} of parts, each a paired run of the sample "
                            f"above.")

    def start(self) -> bool:
        """Start the attribution of the scenario on screen in the worker thread."""
        if self.busy:
            return False
        issues = self.doc.issues()
        if issues:
            self.status.setText(f"Cannot attribute: {len(issues)} problem(s) in the scenario.")
            return False
        sc = self.doc.snapshot()
        by = self.by.currentData()
        try:
            n = len(parts_of(sc, by))
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        if n == 0:
            self.status.setText("This scenario has no scheme parts to attribute (no benefits, "
                                "points, campaigns, service priority or paid acquisition).")
            return False
        h = scenario_hash(sc)
        reps, agents = self.reps.value(), self.agents.value()

        def task(progress, cancel):
            return attribute(sc, by=by, replications=reps, agents=agents,
                             progress=progress, cancel=cancel), h

        self._starting(f"Attributing {sc.name!r} by {self.by.currentText()}: {n} parts, "
                       f"{counted(reps, 'replication')} × {agents:,} agents, seed "
                       f"{sc.run.seed}…", task)
        return True

    def _show_payload(self, payload):
        att, h = payload
        self.show_attribution(att, h)
        return att

    # -- showing -----------------------------------------------------------------------
    def is_current(self) -> bool:
        """True if the shown attribution was run from the scenario on screen."""
        return self.result is not None and self.result_hash == scenario_hash(self.doc.scenario)

    def _mark_stale(self) -> None:
        if self.result is None:
            self._describe()
            return
        if not self.is_current():
            self.status.setText("⚠ This attribution is for an earlier version of the scenario: "
                                "press Attribute to run it again.")

    def _replaced(self) -> None:
        self.runner.cancel()
        self.result = None
        self.result_hash = None
        self.chart.clear()
        self.table.setRowCount(0)
        self._describe()

    def show_attribution(self, att: Attribution, h: str | None = None) -> None:
        """Fill the table and the waterfall from an attribution."""
        self.result, self.result_hash = att, h
        s = att.sample
        # a short title: a long one sets the plot's minimum width and clips it (1366 px)
        self.chart.set_rows(waterfall_rows(att), f"NPV by {att.by}: Shapley shares, 95 % "
                                                 "intervals")
        t = self.table
        t.setRowCount(len(att.parts) + 1)
        for r, p in enumerate(att.parts):
            cells = [p.label, stat_cell(p.incremental_contribution, "money"),
                     stat_cell(p.incremental_cost, "money"), stat_cell(p.npv, "money"),
                     stat_cell(p.roi, "ratio", signed=False),
                     stat_cell(p.npv_alone, "money"), stat_cell(p.npv_last, "money"),
                     metrics.delta(p.interaction, "money")
                     if math.isfinite(p.interaction) else "—"]
            se = p.sampling_se.get("npv")
            if se is not None and math.isfinite(se):
                cells[3] += f"  ± {metrics.money(1.96 * se)} sampling"
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if c == 3:
                    it.setData(Qt.ItemDataRole.UserRole, float(p.npv.mean))
                t.setItem(r, c, it)
        w = att.whole
        bold = QFont(t.font())
        bold.setBold(True)
        whole = ["whole scheme", stat_cell(w["incremental_contribution"], "money"),
                 stat_cell(w["incremental_cost"], "money"), stat_cell(w["npv"], "money"),
                 "", "", "", ""]
        for c, text in enumerate(whole):
            it = QTableWidgetItem(text)
            it.setFont(bold)
            if c == 3:
                it.setData(Qt.ItemDataRole.UserRole, float(w["npv"].mean))
            t.setItem(len(att.parts), c, it)
        self.status.setText(
            f"{att.scenario} by {att.by}: {att.method}, {counted(att.sets_run, 'set')} in "
            f"{counted(att.runs, 'run')}, "
            f"{counted(s.replications, 'replication')} × {s.agents:,} agents, seed {s.seed} "
            f"({att.elapsed_seconds:.1f} s).")

    def npv_column(self) -> list[float]:
        """The NPV column's numbers, parts then the whole (tests)."""
        return [self.table.item(r, 3).data(Qt.ItemDataRole.UserRole)
                for r in range(self.table.rowCount())]
