"""Compare saved scenarios: overlaid charts, KPI deltas vs a base, and the inputs that differ.

The user ticks two or more library scenarios and picks the base. All of them
run in a worker thread with the same seed, replication count, sample and
horizon, so replication r of every scenario sees the same random streams
(common random numbers) and the deltas are paired: Δ = mean over r of
(KPI_r − base KPI_r), with its 95 % CI from ``simulator.results.Stat``.

This module is the view (choosing, running, showing); the comparison and its run task
are :mod:`ui.comparison`, the overlaid charts :mod:`ui.compare_charts`, the tables
:mod:`ui.compare_tables`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import scenarios
from simulator.labels import wrap
from simulator.metrics import counted
from simulator.scenario_io import ScenarioError, load
from ui.chart_style import muted_text_color
from ui.compare_charts import OverlayCharts
from ui.compare_tables import delta_rows, fill_diff_table, fill_kpi_table
from ui.comparison import Comparison, compare_task
from ui.dialogs import Prompter
from ui.why_different import WhyDifferentPanel
from ui.workers import TaskRunner, show_progress


class CompareView(QWidget):
    """Pick scenarios and a base, run them with common random numbers, see the differences."""

    def __init__(self, prompter: Prompter, quick: dict | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.prompter = prompter
        self.last: Comparison | None = None
        q = {"replications": 5, "agents": 5000, "horizon_months": 36}
        q.update(quick or {})

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(QLabel("Tick two or more scenarios:"))
        self.list = QListWidget()
        self.list.setObjectName("compare_list")
        self.list.itemChanged.connect(self._ticked)
        ll.addWidget(self.list, 1)
        form = QFormLayout()
        self.base = QComboBox()
        self.base.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.base.setMinimumContentsLength(18)
        form.addRow("Base", self.base)
        self.reps = QSpinBox()
        self.reps.setRange(2, 2000)
        self.reps.setValue(q["replications"])
        self.reps.setSuffix(" replications")
        form.addRow("Runs", self.reps)
        self.agents = QSpinBox()
        self.agents.setRange(100, 5_000_000)
        self.agents.setSingleStep(1000)
        self.agents.setGroupSeparatorShown(True)
        self.agents.setValue(q["agents"])
        self.agents.setSuffix(" agents")
        form.addRow("Sample", self.agents)
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 120)
        self.horizon.setValue(q["horizon_months"])
        self.horizon.setSuffix(" months")
        form.addRow("Horizon", self.horizon)
        self.own = QCheckBox("use the base's own sample and replications")
        form.addRow(self.own)
        ll.addLayout(form)
        note = QLabel("All scenarios use the base's seed (common random numbers), so "
                      "deltas are paired by replication.")
        note.setWordWrap(True)
        pal = note.palette()
        pal.setColor(QPalette.ColorRole.WindowText, muted_text_color(pal))
        note.setPalette(pal)
        ll.addWidget(note)
        row = QHBoxLayout()
        self.btn_run = QPushButton("▶ Compare")
        self.btn_cancel = QPushButton("Cancel")
        self.btn_cancel.setEnabled(False)
        row.addWidget(self.btn_run)
        row.addWidget(self.btn_cancel)
        ll.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        ll.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        ll.addWidget(self.status)

        right = QSplitter(Qt.Orientation.Vertical)
        self.charts = OverlayCharts()
        # the charts scroll rather than make the window taller than a 768-px screen
        chart_scroll = QScrollArea()
        chart_scroll.setWidgetResizable(True)
        chart_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        chart_scroll.setWidget(self.charts)
        right.addWidget(chart_scroll)
        self.tables = QTabWidget()
        self.kpi_table = QTableWidget(0, 0)
        self.kpi_table.setObjectName("kpi_deltas")
        self.kpi_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.diff_table = QTableWidget(0, 0)
        self.diff_table.setObjectName("input_diff")
        self.diff_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tables.addTab(self.kpi_table, "KPI deltas vs base")
        self.tables.addTab(self.diff_table, "Inputs that differ")
        self.why = WhyDifferentPanel()  # issue 15: waterfall of why a scenario differs
        self.tables.addTab(self.why, "Why different")
        right.addWidget(self.tables)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([600, 400])

        split = QSplitter(Qt.Orientation.Horizontal)
        box = QGroupBox("Scenarios")
        QVBoxLayout(box).addWidget(left)
        split.addWidget(box)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 4)
        split.setSizes([280, 1100])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)

        self.runner = TaskRunner("compare", parent=self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.btn_run.clicked.connect(self.run)
        self.btn_cancel.clicked.connect(self.cancel)
        self.refresh_library()

    # -- choosing ----------------------------------------------------------------------
    def refresh_library(self) -> None:
        """List the library (keeps ticks by file)."""
        ticked = set(self.checked_paths())
        self.list.blockSignals(True)
        self.list.clear()
        for e in scenarios.list_all():
            it = QListWidgetItem(e.title + (" (shipped)" if e.shipped else ""))
            it.setData(Qt.ItemDataRole.UserRole, str(e.path))
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            if e.error:
                it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                it.setToolTip(wrap(e.error))
            it.setCheckState(Qt.CheckState.Checked if e.path in ticked else
                             Qt.CheckState.Unchecked)
            self.list.addItem(it)
        self.list.blockSignals(False)
        self._ticked()

    def checked_paths(self) -> list[Path]:
        """Ticked scenario files, in list order."""
        out = []
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.checkState() == Qt.CheckState.Checked:
                out.append(Path(it.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_checked(self, paths: list[Path], base: Path | None = None) -> None:
        """Tick these files (and choose the base)."""
        want = {Path(p).resolve() for p in paths}
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            it = self.list.item(i)
            p = Path(it.data(Qt.ItemDataRole.UserRole)).resolve()
            it.setCheckState(Qt.CheckState.Checked if p in want else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._ticked()
        if base is not None:
            for i in range(self.base.count()):
                if Path(self.base.itemData(i)).resolve() == Path(base).resolve():
                    self.base.setCurrentIndex(i)

    def _ticked(self, *_) -> None:
        keep = self.base.currentData()
        self.base.clear()
        for p in self.checked_paths():
            title = next((self.list.item(i).text() for i in range(self.list.count())
                          if self.list.item(i).data(Qt.ItemDataRole.UserRole) == str(p)), p.stem)
            self.base.addItem(title, str(p))
        idx = self.base.findData(keep)
        if idx >= 0:
            self.base.setCurrentIndex(idx)
        self.btn_run.setEnabled(len(self.checked_paths()) >= 2 and not self.runner.busy)

    # -- running -----------------------------------------------------------------------
    def run(self) -> bool:
        """Start the comparison in the worker thread."""
        paths = self.checked_paths()
        if len(paths) < 2 or self.runner.busy:
            self.status.setText("Tick at least two scenarios.")
            return False
        base = Path(self.base.currentData() or paths[0])
        ordered = [base] + [p for p in paths if p != base]
        bad = []
        for p in ordered:
            try:
                load(p)
            except ScenarioError as exc:
                bad.append(f"{p.name}: {exc}")
        if bad:
            self.prompter.error(self, "Cannot compare", "Some scenarios cannot be read.",
                                "\n\n".join(bad))
            return False
        if self.own.isChecked():
            base_sc = load(base)
            reps, agents, horizon = (max(base_sc.run.replications, 2), base_sc.run.agents,
                                     base_sc.run.horizon_months)
        else:
            reps, agents, horizon = self.reps.value(), self.agents.value(), self.horizon.value()
        self.progress.setRange(0, reps * len(ordered))
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.btn_run.setEnabled(False)
        self.btn_cancel.setEnabled(True)
        self.status.setText(f"Running {counted(len(ordered), 'scenario')} × "
                            f"{counted(reps, 'replication')} "
                            f"({agents:,} agents, {horizon} months)…")
        self.runner.submit(compare_task(ordered, reps, agents, horizon))
        return True

    def cancel(self) -> None:
        """Stop the comparison."""
        if self.runner.busy:
            self.progress.setFormat("cancelling…")
            self.runner.cancel()

    def _progress(self, done, total) -> None:
        show_progress(self.progress, done, total, "runs")

    def _end(self) -> None:
        self.btn_cancel.setEnabled(False)
        self.btn_run.setEnabled(len(self.checked_paths()) >= 2)

    def _done(self, cmp: Comparison, seconds: float) -> None:
        self._end()
        self.last = cmp
        self.progress.setFormat(f"done in {seconds:.1f} s")
        s = cmp.settings
        self.status.setText(f"Compared {counted(len(cmp.names), 'scenario')}: {s['replications']} "
                            f"replications × {s['agents']:,} agents, {s['horizon_months']} "
                            f"months, common seed {s['seed']}.")
        self.charts.show_comparison(cmp)
        self._fill_kpis(cmp)
        self._fill_diff(cmp)
        self.why.set_comparison(cmp)

    def _failed(self, message: str) -> None:
        self._end()
        self.progress.setFormat("failed")
        self.status.setText("Comparison failed: " + message.splitlines()[0])

    def _cancelled(self) -> None:
        self._end()
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self.status.setText("Comparison cancelled.")

    # -- tables ------------------------------------------------------------------------
    def _fill_kpis(self, cmp: Comparison) -> None:
        fill_kpi_table(self.kpi_table, cmp)

    def _fill_diff(self, cmp: Comparison) -> None:
        fill_diff_table(self.diff_table, cmp)

    def delta_rows(self) -> dict[str, list[float]]:
        """Metric label -> Δ means per compared scenario (tests)."""
        return delta_rows(self.kpi_table)

    def shutdown(self) -> None:
        """Stop the worker threads."""
        self.runner.shutdown()
        self.why.shutdown()
