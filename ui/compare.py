"""Compare saved scenarios: overlaid charts, KPI deltas vs a base, and the inputs that differ.

The user ticks two or more library scenarios and picks the base. All of them
run in a worker thread with the same seed, replication count, sample and
horizon, so replication r of every scenario sees the same random streams
(common random numbers) and the deltas are paired: Δ = mean over r of
(KPI_r − base KPI_r), with its 95 % CI from ``simulator.results.Stat``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import scenarios
from simulator.labels import wrap
from simulator.metrics import counted, delta, delta_interval, interval, metric, not_defined, value
from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, load
from ui.charts import Band, color, good_bad_color, make_plot
from ui.dialogs import Prompter
from ui.why_different import WhyDifferentPanel
from ui.workers import TaskRunner


@dataclass
class Comparison:
    """A comparison run: ``results[i] = (scenario, path, RunResult)``; index 0 is the base."""

    results: list
    settings: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Scenario names, base first."""
        return [sc.name for sc, _, _ in self.results]

    @property
    def scenarios(self) -> list[Scenario]:
        """The scenarios, base first."""
        return [sc for sc, _, _ in self.results]

    def table(self):
        """Tidy KPI table with paired deltas vs the base (``simulator.compare``)."""
        from simulator.compare import compare_scenarios

        return compare_scenarios(self.results, base_index=0)

    def input_diff(self) -> list[tuple[str, list[str]]]:
        """(field label, [value text per scenario]) of every input that differs from the base.

        The form's labels, units and formatting (``8 %`` vs ``15 %``, Yes/No), from the
        one input diff (:func:`simulator.compare.shown_input_diff`).
        """
        from simulator.compare import shown_input_diff

        return shown_input_diff(self.scenarios)


def compare_task(paths: list[Path], replications: int, agents: int | None,
                 horizon: int | None):
    """Task: load the scenarios and run them with common settings (base's seed)."""
    def task(progress, cancel):
        from simulator.compare import run_scenarios
        from simulator.loader import loaded_from

        # The one loader: each scenario with its base and its customer file.
        lds = [loaded_from(load(p), p) for p in paths]
        scs = [ld.scenario for ld in lds]
        results = run_scenarios([(sc, p) for sc, p in zip(scs, paths)],
                                replications=replications, agents=agents,
                                horizon_months=horizon or min(sc.run.horizon_months
                                                              for sc in scs),
                                bases=[ld.base_scenario for ld in lds],
                                progress=progress, cancel=cancel)
        res0 = results[0][2]
        return Comparison(results, {"replications": res0.replications,
                                    "agents": res0.meta.get("agents"),
                                    "seed": res0.meta.get("seed"),
                                    "horizon_months": res0.horizon})
    return task


class OverlayCharts(QWidget):
    """The same charts for several results, one colour per scenario (base first)."""

    SPECS = [("net_revenue", "Net revenue per month (¥)", True),
             ("net_contribution", "Net contribution per month (¥)", True),
             ("cash", "Cumulative incremental cash flow (¥)", True),
             ("active_customers", "Active customers", False),
             ("wait", "Mean service wait (hours)", False),
             ("benefit_cost", "Benefit cost per month (¥)", True)]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.plots = {}
        self.bands: dict[str, list[Band]] = {}
        for i, (key, title, money_axis) in enumerate(self.SPECS):
            p = make_plot(title, "¥" if money_axis else
                          ("hours" if key == "wait" else "customers"), money_axis=money_axis)
            p.setMinimumHeight(170)
            p.set_empty(True)  # no dummy axes before the first comparison
            self.plots[key] = p
            self.bands[key] = []
            grid.addWidget(p, i // 2, i % 2)

    def _band(self, key: str, i: int, name: str) -> Band:
        bands = self.bands[key]
        while len(bands) <= i:
            j = len(bands)
            bands.append(Band(self.plots[key].getPlotItem(), name, color(j),
                              dash=False, width=2.5 if j == 0 else 1.8))
        b = bands[i]
        legend = self.plots[key].getPlotItem().legend
        legend.removeItem(b.mean)
        legend.addItem(b.mean, name)
        return b

    def show_comparison(self, cmp: Comparison) -> None:
        """Draw every scenario of a comparison."""
        n = len(cmp.results)
        for p in self.plots.values():
            p.set_empty(False)
        for key in self.bands:
            for b in self.bands[key][n:]:
                b.clear()
                self.plots[key].getPlotItem().legend.removeItem(b.mean)
        for i, (name, (_, _, res)) in enumerate(zip(cmp.names, cmp.results)):
            label = ("base: " if i == 0 else "") + name
            for key in self.bands:
                b = self._band(key, i, label)
                if key == "cash":
                    frame = (res.incremental_band("net_contribution", cumulative=True)
                             if res.cf else res.band("net_contribution", cumulative=True))
                elif key == "wait":
                    frame = res.service_band("wait_mean_hours")
                else:
                    frame = res.band(key)
                b.set_band(frame)
        for p in self.plots.values():
            p.fit()  # one legend entry per scenario: re-flow to the chart's width


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
        note.setStyleSheet("color: #555;")
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
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))
        self.progress.setFormat(f"{int(done)}/{int(total)} runs")

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
        t = self.kpi_table
        table = cmp.table()
        headers = ["Metric", f"Base: {cmp.names[0]}"]
        for name in cmp.names[1:]:
            headers += [name, f"Δ {name} vs base (95 % CI)"]
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        metrics = list(dict.fromkeys(table["metric"]))
        t.setRowCount(len(metrics))
        for r, m in enumerate(metrics):
            rows = table[table["metric"] == m].sort_values("scenario_no")
            first = rows.iloc[0]
            kind = first["kind"]
            t.setItem(r, 0, QTableWidgetItem(first["label"]))
            for i, (_, row) in enumerate(rows.iterrows()):
                col = 1 if i == 0 else 2 * i
                t.setItem(r, col, self._stat_item(row["mean"], row["ci95_low"],
                                                  row["ci95_high"], kind, not_defined(row)))
                if i == 0:
                    continue
                it = QTableWidgetItem(self._delta_text(row["delta_mean"], row["delta_ci95_low"],
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

    @staticmethod
    def _stat_item(mean, lo, hi, kind: str, why: str = "") -> QTableWidgetItem:
        ci = interval(lo, hi, kind)
        it = QTableWidgetItem(why or value(mean, kind) + (f"  ({ci})" if ci else ""))
        it.setData(Qt.ItemDataRole.UserRole, float(mean))
        return it

    @staticmethod
    def _delta_text(mean, lo, hi, kind: str) -> str:
        if not math.isfinite(mean):
            return "—"
        ci = delta_interval(lo, hi, kind)
        return delta(mean, kind) + (f"  ({ci})" if ci else "")

    def _fill_diff(self, cmp: Comparison) -> None:
        t = self.diff_table
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

    def delta_rows(self) -> dict[str, list[float]]:
        """Metric label -> Δ means per compared scenario (tests)."""
        out = {}
        for r in range(self.kpi_table.rowCount()):
            label = self.kpi_table.item(r, 0).text()
            out[label] = [self.kpi_table.item(r, c).data(Qt.ItemDataRole.UserRole)
                          for c in range(3, self.kpi_table.columnCount(), 2)]
        return out

    def shutdown(self) -> None:
        """Stop the worker threads."""
        self.runner.shutdown()
        self.why.shutdown()
