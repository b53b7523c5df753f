"""Budget optimiser panel: split the monthly budget across levers, verify, apply.

Drives :func:`simulator.optimizer.optimise` (the same call as ``benefit-sim
optimize``) in a worker thread with progress and Cancel. Results: a table of
levers (today / recommended ¥ per month, bounds, marginal return per extra ¥
at today's and at the recommended split, which bound binds), the verification
by full simulation (gain with its 95 % interval and a plain statement when it
is within noise), the frontier (best objective at 50–200 % of the budget, the
current budget marked) and a marginal-return bar chart.

"Apply this split…" lists what the split changes in the planner's terms
(discount depths, staff per shift, campaign budgets, acquisition spend) and
asks for a name; it then saves a user copy of the optimised scenario with the
recommended split and opens it; the lever changes are one undoable step
(Ctrl+Z shows today's values again). That scenario is the one the optimiser
verified, so its full run at the optimiser's sample and seed shows the
headline's figures. "Export to Excel" writes the audit workbook (today and the
recommended split, plus the Optimisation sheet) from those runs
(:func:`simulator.optimisation_workbook.export_optimisation_workbook`, shared
with the CLI).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from pydantic import BaseModel
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import scenarios
from simulator.metrics import OBJECTIVES, interval, kind_of, label_of, money, value
from simulator.optimizer import OPTIMISER_DEFAULTS
from simulator.scenario import LeverBound, Scenario
from ui.charts import PALETTE, Band, color, make_plot
from ui.results_panel import base_for
from ui.workers import TaskRunner

OBJECTIVE_NAMES = {k: label_of(m) for k, m in OBJECTIVES.items()}  # the metric catalogue's
CONSTRAINTS = {"at_most": "spend at most the budget", "equal": "spend exactly the budget"}
LEVER_ROLE = Qt.ItemDataRole.UserRole

# Marginal return shown per objective: (column suffix in Allocation.levers, scale, unit text)
#  npv: net ¥ back per extra (discounted) ¥ spent, 0 = break even
#  roi: ROI percentage points per extra ¥1 M a month
#  ltv: ¥ of LTV per customer per extra ¥1 k a month
MARGINAL = {"npv": ("net_return_per_cny", 1.0, "net ¥ per extra ¥ (0 = break even)"),
            "roi": ("marginal_return", 1e6 * 100, "ROI points per extra ¥1 M/month"),
            "ltv": ("marginal_return", 1e3, "¥ LTV per extra ¥1 k/month")}

TABLE_COLUMNS = ["Lever", "Today ¥/month", "Recommended ¥/month", "Change", "Min", "Max",
                 "Marginal now", "Marginal rec.", "Binds"]


def lever_label(lever_id: str) -> str:
    """'benefits:Gold' -> 'Gold tier benefits' (before a run, when only ids are known)."""
    kind, _, name = lever_id.partition(":")
    return {"benefits": f"{name} tier benefits", "service": f"Service staff, {name} pool",
            "promotion": f"Promotion: {name}", "acquisition": "Paid acquisition"}.get(
        kind, lever_id)


def scenario_diff(old: Any, new: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, new value) of every leaf where ``new`` differs from ``old`` (same structure).

    Lists of different length (and values of different types) are replaced whole.
    """
    if isinstance(old, BaseModel) and type(old) is type(new):
        out = []
        for name in type(old).model_fields:
            out += scenario_diff(getattr(old, name), getattr(new, name), path + (name,))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += scenario_diff(a, b, path + (i,))
        return out
    if old == new and type(old) is type(new):
        return []
    return [(path, copy.deepcopy(new))]


def _money_or_none(v: float) -> str:
    return "no limit" if not math.isfinite(v) else money(v)


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


class OptimiserPanel(QWidget):
    """Controls, background run, results table, verification and charts."""

    finished = Signal(object)  # Allocation
    applied = Signal(object)  # Path of the new user scenario
    exported = Signal(object)  # Path of the workbook
    state_changed = Signal()

    def __init__(self, host, parent: QWidget | None = None):
        """``host``: the main window (doc, prompter, maybe_save, library, compare)."""
        super().__init__(parent)
        self.host = host
        self.doc = host.doc
        self.alloc = None  # the last Allocation
        self.optimised: Scenario | None = None  # the scenario as it was optimised
        self.optimised_run: Scenario | None = None  # ... with the panel's budget block (run)
        self.optimised_path: Path | None = None
        self._job = ""  # "optimise" | "export"
        self._export_path: Path | None = None
        self.runner = TaskRunner("optimiser", parent=self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self._build()
        self.doc.replaced.connect(self.load_from_document)
        self.doc.structure_changed.connect(lambda _p: self._refresh_levers())
        self.load_from_document()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split)

        # left: settings
        left = QWidget()
        left.setMinimumWidth(300)
        left.setMaximumWidth(420)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 4, 0)
        box = QGroupBox("Budget and objective")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.budget_auto = QCheckBox("today's spend on all levers")
        self.budget_auto.setToolTip("Split what the levers cost today (measured by the "
                                    "baseline simulation); untick to set an amount")
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0, 1e12)
        self.budget.setDecimals(0)
        self.budget.setSingleStep(100_000)
        self.budget.setGroupSeparatorShown(True)
        self.budget.setPrefix("¥ ")
        self.budget.setSuffix(" /month")
        self.budget_auto.toggled.connect(lambda on: self.budget.setEnabled(not on))
        form.addRow("Total budget", self.budget_auto)
        form.addRow("", self.budget)
        self.objective = QComboBox()
        for k, t in OBJECTIVE_NAMES.items():
            self.objective.addItem(t, k)
        form.addRow("Maximise", self.objective)
        self.constraint = QComboBox()
        for k, t in CONSTRAINTS.items():
            self.constraint.addItem(t, k)
        form.addRow("Budget rule", self.constraint)
        ll.addWidget(box)

        box = QGroupBox("Levers (tick to pin at today's spend)")
        bl = QVBoxLayout(box)
        self.levers_list = QListWidget()
        self.levers_list.setObjectName("pinned_levers")
        self.levers_list.setMinimumHeight(110)
        self.levers_list.setMaximumHeight(260)
        bl.addWidget(self.levers_list)
        ll.addWidget(box)

        box = QGroupBox("Sample")
        form = QFormLayout(box)
        self.agents = QSpinBox()
        self.agents.setRange(10, 2_000_000)
        self.agents.setSingleStep(1000)
        self.agents.setGroupSeparatorShown(True)
        self.agents.setSuffix(" customers")
        self.months = QSpinBox()
        self.months.setRange(1, 240)
        self.months.setSuffix(" months")
        self.reps = QSpinBox()
        self.reps.setRange(1, 50)
        self.reps.setToolTip("replications per response-curve point")
        self.verify_reps = QSpinBox()
        self.verify_reps.setRange(2, 100)
        self.verify_reps.setToolTip("paired replications of today's and the recommended split")
        self.levels = QSpinBox()
        self.levels.setRange(2, 8)
        self.levels.setToolTip("spend levels simulated per lever for its response curve")
        self.local_check = QCheckBox("probes around the optimum")
        self.local_check.setToolTip("simulate a budget-neutral +20 % probe per free lever "
                                    "around the recommendation (catches lever interactions)")
        self.local_check.setChecked(True)
        form.addRow("Simulated", self.agents)
        form.addRow("Horizon", self.months)
        form.addRow("Replications", self.reps)
        form.addRow("Verification", self.verify_reps)
        form.addRow("Curve points", self.levels)
        form.addRow("Local check", self.local_check)
        ll.addWidget(box)

        runrow = QHBoxLayout()
        self.btn_run = QPushButton("▶ Optimise")
        self.btn_run.setToolTip("Run the optimiser in the background")
        self.btn_cancel = QPushButton("Cancel")
        self.btn_cancel.setEnabled(False)
        runrow.addWidget(self.btn_run, 1)
        runrow.addWidget(self.btn_cancel)
        ll.addLayout(runrow)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        ll.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setObjectName("optimiser_status")
        self.status.setWordWrap(True)
        ll.addWidget(self.status)
        ll.addStretch(1)
        split.addWidget(left)

        # right: results
        right = QWidget()
        rl = QVBoxLayout(right)
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
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(150)
        rl.addWidget(self.table, 0)

        charts = QWidget()
        cg = QGridLayout(charts)
        cg.setContentsMargins(0, 0, 0, 0)
        self.frontier_plot = self._make_frontier()
        self.marginal_plot = self._make_marginal()
        cg.addWidget(self.frontier_plot, 0, 0)
        cg.addWidget(self.marginal_plot, 0, 1)
        self.frontier_key = _key_label([("line", PALETTE[0], "best split (simulated)"),
                                        ("■", PALETTE[7], "today (simulated)"),
                                        ("★", PALETTE[1], "recommended (simulated)"),
                                        ("┆", PALETTE[3], "current budget")])
        self.marginal_key = _key_label([("■", PALETTE[7], "today's split"),
                                        ("■", PALETTE[0], "recommended split")])
        cg.addWidget(self.frontier_key, 1, 0)
        cg.addWidget(self.marginal_key, 1, 1)
        cg.setColumnStretch(0, 1)
        cg.setColumnStretch(1, 1)
        rl.addWidget(charts, 1)

        act = QHBoxLayout()
        self.btn_apply = QPushButton("Apply this split…")
        self.btn_apply.setToolTip("Save a copy of the scenario with the recommended split "
                                  "into your scenarios under a name you choose and open it "
                                  "(Ctrl+Z shows today's values again)")
        self.btn_export = QPushButton("Export to Excel…")
        self.btn_export.setToolTip("Workbook with today's and the recommended split (the "
                                   "optimiser's verification runs) and the Optimisation sheet")
        self.btn_apply.setEnabled(False)
        self.btn_export.setEnabled(False)
        act.addStretch(1)
        act.addWidget(self.btn_apply)
        act.addWidget(self.btn_export)
        rl.addLayout(act)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 1100])

        self.btn_run.clicked.connect(self.start)
        self.btn_cancel.clicked.connect(self.cancel)
        self.btn_apply.clicked.connect(self.apply_split)
        self.btn_export.clicked.connect(lambda: self.export_excel())

    def _make_frontier(self) -> pg.PlotWidget:
        w = make_plot("Best objective vs budget (simulated, 95 % band)", "",
                      money_axis=True, legend=False, x_label="budget per month", money_x=True,
                      min_size=(300, 230), pan_x=False)
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
                      min_size=(300, 230), left_width=180, grid_y=False, pan_x=False)
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

    # -- settings from the document -------------------------------------------------------
    def load_from_document(self) -> None:
        """Fill the controls from the open scenario (its budget block and run settings)."""
        sc = self.doc.scenario
        b = sc.budget
        self.budget_auto.setChecked(b.total_cny_per_month is None)
        if b.total_cny_per_month is not None:
            self.budget.setValue(float(b.total_cny_per_month))
        self.budget.setEnabled(not self.budget_auto.isChecked())
        self.objective.setCurrentIndex(max(0, self.objective.findData(b.objective)))
        self.constraint.setCurrentIndex(max(0, self.constraint.findData(b.constraint)))
        d = OPTIMISER_DEFAULTS
        self.agents.setValue(min(int(sc.run.agents), d.gui_agents_cap))
        self.months.setValue(int(sc.run.horizon_months))
        self.reps.setValue(d.replications)
        self.verify_reps.setValue(d.verify_replications)
        self.levels.setValue(d.levels)
        self.local_check.setChecked(d.local_check)
        self._refresh_levers(keep=False)

    def _refresh_levers(self, keep: bool = True) -> None:
        from simulator.budget import lever_ids

        sc = self.doc.scenario
        was = self.pinned() if keep else None
        bounds = {bd.lever: bd for bd in sc.budget.bounds}
        self.levers_list.clear()
        for lid in lever_ids(sc):
            it = QListWidgetItem(lever_label(lid))
            it.setData(LEVER_ROLE, lid)
            it.setToolTip(lid)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            pin = (lid in was) if was is not None else bool(
                bounds.get(lid) is not None and bounds[lid].pinned)
            it.setCheckState(Qt.CheckState.Checked if pin else Qt.CheckState.Unchecked)
            self.levers_list.addItem(it)

    def lever_items(self) -> dict[str, QListWidgetItem]:
        """Lever id -> its item in the pin list."""
        return {self.levers_list.item(i).data(LEVER_ROLE): self.levers_list.item(i)
                for i in range(self.levers_list.count())}

    def set_pinned(self, ids) -> None:
        """Pin exactly these levers (ids); the others are free."""
        ids = set(ids)
        for lid, it in self.lever_items().items():
            it.setCheckState(Qt.CheckState.Checked if lid in ids else Qt.CheckState.Unchecked)

    def pinned(self) -> set[str]:
        """Ids of the pinned levers."""
        return {lid for lid, it in self.lever_items().items()
                if it.checkState() == Qt.CheckState.Checked}

    def settings(self) -> dict:
        """What the next run will use (plain values)."""
        return {"budget": None if self.budget_auto.isChecked() else float(self.budget.value()),
                "objective": self.objective.currentData(),
                "constraint": self.constraint.currentData(), "pinned": sorted(self.pinned()),
                "agents": self.agents.value(), "horizon_months": self.months.value(),
                "replications": self.reps.value(), "verify_replications": self.verify_reps.value(),
                "levels": self.levels.value(), "local_check": self.local_check.isChecked()}

    def scenario_for_run(self, sc: Scenario, s: dict) -> Scenario:
        """``sc`` with the panel's objective, rule, budget and pins in its budget block."""
        out = sc.model_copy(deep=True)
        out.budget.objective = s["objective"]
        out.budget.constraint = s["constraint"]
        out.budget.total_cny_per_month = s["budget"]
        bounds = [bd.model_copy() for bd in out.budget.bounds]
        have = {bd.lever for bd in bounds}
        for bd in bounds:
            bd.pinned = bd.lever in s["pinned"]
        for lid in s["pinned"]:
            if lid not in have:
                bounds.append(LeverBound(lever=lid, pinned=True))
        out.budget.bounds = bounds
        return out

    # -- run -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while the optimiser (or an export) runs."""
        return self.runner.busy

    def start(self) -> bool:
        """Run the optimiser on the open scenario in the background."""
        if self.runner.busy:
            return False
        issues = self.doc.issues()
        if issues:
            self._set_status(f"Cannot optimise: {len(issues)} problem(s) in the scenario "
                             "(listed under the editor) must be fixed first.", error=True)
            return False
        s = self.settings()
        if len(s["pinned"]) >= self.levers_list.count():
            self._set_status("Every lever is pinned: unpin at least one.", error=True)
            return False
        snap = self.doc.snapshot()
        sc = self.scenario_for_run(snap, s)
        path = self.doc.path

        def task(progress, cancel):
            from simulator.optimizer import optimise

            return optimise(sc, budget=s["budget"], objective=s["objective"],
                            agents=s["agents"], replications=s["replications"],
                            levels=s["levels"], verify_replications=s["verify_replications"],
                            local_check=s["local_check"], horizon_months=s["horizon_months"],
                            progress=progress, cancel=cancel, base=base_for(sc, path))

        self._pending = (snap, path, sc)
        self._job = "optimise"
        self.progress.setRange(0, 0)  # busy until the first report gives the total
        self.progress.setFormat("baseline…")
        self._set_status(f"Optimising {OBJECTIVE_NAMES[s['objective']]}: "
                         f"{s['agents']:,} customers × {s['horizon_months']} months, "
                         f"{s['replications']} replication(s) per point…")
        self._busy_ui(True)
        self.runner.submit(task)
        return True

    def cancel(self) -> None:
        """Stop the optimiser (between replications)."""
        if self.runner.busy:
            self.progress.setFormat("cancelling…")
            self.runner.cancel()

    def _busy_ui(self, busy: bool) -> None:
        self.btn_run.setEnabled(not busy)
        self.btn_cancel.setEnabled(busy)
        self.btn_apply.setEnabled(not busy and self.alloc is not None)
        self.btn_export.setEnabled(not busy and self.alloc is not None)
        self.state_changed.emit()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")

    def _progress(self, done, total) -> None:
        total = max(int(total), 1)
        self.progress.setRange(0, total)
        self.progress.setValue(min(int(done), total))
        unit = "replications" if self._job == "optimise" else "steps"
        self.progress.setFormat(f"{int(done)}/{total} {unit}")

    def _done(self, result, seconds: float) -> None:
        job = self._job
        self._job = ""
        if job == "export":
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setFormat("exported")
            self._set_status(f"Wrote {result}")
            self._busy_ui(False)
            self.host.statusBar().showMessage(f"Wrote {result}", 5000)
            self.exported.emit(result)
            return
        self.alloc = result
        self.optimised, self.optimised_path, self.optimised_run = self._pending
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(f"done in {seconds:.1f} s")
        m = result.meta
        self._set_status(f"{m.get('simulations')} simulations ({m.get('replication_runs')} "
                         f"replication runs) in {seconds:.1f} s; method: {m.get('method')}.")
        try:
            self.show_allocation(result)
        except Exception as exc:  # noqa: BLE001 - a display problem must not crash the app
            self._set_status(f"Cannot show the result: {type(exc).__name__}: {exc}", error=True)
        if self.budget_auto.isChecked():
            self.budget.setValue(float(result.budget_cny))
        self._busy_ui(False)
        self.finished.emit(result)

    def _failed(self, message: str) -> None:
        job = self._job
        self._job = ""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        first = message.splitlines()[0]
        what = "Optimisation" if job == "optimise" else "Excel export"
        self._set_status(f"{what} failed: {first}", error=True)
        self._busy_ui(False)
        self.host.prompter.error(self, f"{what} failed", first, message)

    def _cancelled(self) -> None:
        self._job = ""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self._set_status("Cancelled." + (" The table still shows the previous result."
                                         if self.alloc is not None else ""))
        self._busy_ui(False)

    # -- results -------------------------------------------------------------------------
    def marginal_values(self, alloc) -> tuple[np.ndarray, np.ndarray, str]:
        """(today, recommended) marginal return per lever in display units, and the unit."""
        col, scale, unit = MARGINAL[alloc.objective]
        lv = alloc.levers
        if f"{col}_current" not in lv.columns:
            col, scale, unit = "marginal_return", 1.0, f"{alloc.objective} per extra ¥/month"
        return (lv[f"{col}_current"].to_numpy(float) * scale,
                lv[f"{col}_recommended"].to_numpy(float) * scale, unit)

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
        noise = ""
        if v.within_noise:
            noise = ("<b>The gain is within noise:</b> the simulation cannot tell the "
                     "recommended split from today's. ")
        spend = (f"Spend: today {money(h['today_spend_cny'])}/month, recommended "
                 f"{money(h['recommended_spend_cny'])}/month. ")
        pred = h.get("predicted_gain")
        pred_txt = (f"The fitted curves predicted a gain of {value(pred, kind)}. "
                    if pred is not None and math.isfinite(pred) else "")
        self.verdict.setText(
            f"{noise}{_html(v.verdict)}<br><span style='color:#555'>{spend}{pred_txt}"
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

        now, rec, unit = self.marginal_values(alloc)
        self.table.setHorizontalHeaderLabels(
            TABLE_COLUMNS[:6] + ["Marginal now", "Marginal rec.", "Binds"])
        for c, tip in ((6, f"marginal return at today's split: {unit}"),
                       (7, f"marginal return at the recommended split: {unit}")):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        lv = alloc.levers
        self.table.setRowCount(len(lv))
        for r, row in enumerate(lv.itertuples()):
            name = QTableWidgetItem(row.label)
            name.setToolTip(f"{row.lever}" + (f"\n{row.note}" if row.note else "") +
                            (f"\nfitted curve: {row.curve}" if row.curve else ""))
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
            if row.change_cny > 1e-6 * max(1.0, row.current_cny):
                cells[3].setForeground(QColor("#1b7d33"))
            elif row.change_cny < -1e-6 * max(1.0, row.current_cny):
                cells[3].setForeground(QColor("#b00020"))
            f = QFont(cells[2].font())
            f.setBold(True)
            cells[2].setFont(f)
            for c, it in enumerate(cells):
                self.table.setItem(r, c, it)
        self.table.resizeRowsToContents()
        rows_h = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setMaximumHeight(min(self.table.horizontalHeader().height() + rows_h +
                                        2 * self.table.frameWidth() + 4, 360))
        self._show_frontier(alloc, kind)
        self._show_marginal(alloc, now, rec, unit)

    def _show_frontier(self, alloc, kind: str) -> None:
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

    def _show_marginal(self, alloc, now: np.ndarray, rec: np.ndarray, unit: str) -> None:
        n = len(now)
        y = np.arange(n, dtype=float)
        self.bars_now.setOpts(x0=np.zeros(n), y=y - 0.19, width=np.nan_to_num(now),
                              height=0.36)
        self.bars_rec.setOpts(x0=np.zeros(n), y=y + 0.19, width=np.nan_to_num(rec),
                              height=0.36)
        labels = [_short(lab) for lab in alloc.levers["label"]]
        pi = self.marginal_plot.getPlotItem()
        pi.getAxis("left").setTicks([[(float(i), t) for i, t in enumerate(labels)]])
        pi.setLabel("bottom", unit)
        pi.setYRange(-0.6, n - 0.4, padding=0)
        vals = np.concatenate([np.nan_to_num(now), np.nan_to_num(rec), [0.0]])
        lo, hi = float(vals.min()), float(vals.max())
        span = max(hi - lo, 1e-9)
        pi.setXRange(lo - 0.05 * span, hi + 0.35 * span, padding=0)

    # -- apply & export ------------------------------------------------------------------
    def apply_split(self) -> Path | None:
        """Ask for a name, then save a user copy with the recommended split and open it.

        The dialog lists what changes, in the editor's terms; Cancel saves nothing.
        The lever changes are one undo step on the new document.
        """
        from simulator.budget import describe_changes

        host = self.host
        if self.alloc is None or self.optimised is None:
            host.prompter.error(self, "Nothing to apply", "Run the optimiser first.")
            return None
        if self.runner.busy:
            return None
        today = self.optimised.model_copy(deep=True)
        try:
            new = self.alloc.apply(today)
        except Exception as exc:  # noqa: BLE001
            host.prompter.error(self, "Cannot apply the split", str(exc))
            return None
        changes = describe_changes(today, new)
        shown = changes[:14] + ([f"… and {len(changes) - 14} more"] if len(changes) > 14 else [])
        taken = [e.title for e in scenarios.list_all()]
        label = (f"Saves a copy of “{today.name}” with the recommended split in your "
                 f"scenarios and opens it. What changes:\n"
                 + ("\n".join(f"• {c}" for c in shown) or "• nothing (today's split)")
                 + "\n\nName of the new scenario:")
        name = host.prompter.text(self, "Apply this split", label,
                                  _unique(new.name, taken))
        if name is None or not name.strip():
            self._set_status("Apply cancelled: nothing was saved.")
            return None
        name = " ".join(name.split())
        if len(name) > 80:
            host.prompter.error(self, "Cannot apply the split",
                                f"Name: {len(name)} characters; at most 80 are allowed.")
            return None
        if not host.maybe_save():
            return None
        name = _unique(name, taken)
        new.name = name
        today.name = name
        try:
            path = scenarios.save_user(new)
        except Exception as exc:  # noqa: BLE001 - disk full, permissions ...
            host.prompter.error(self, "Cannot save the new scenario", str(exc))
            return None
        doc = self.doc
        doc.replace(today, path, [f"recommended split from the optimiser "
                                  f"({self.alloc.headline()['objective_label']})"])
        diff = scenario_diff(today, new)
        refused = []
        doc.undo_stack.beginMacro("Apply recommended split")
        try:
            for p, val in diff:
                refused += doc.set_value(p, val)
        finally:
            doc.undo_stack.endMacro()
        doc.undo_stack.setClean()  # the file holds the recommended split
        if refused:
            host.prompter.error(self, "Some values were not applied",
                                "\n".join(str(i) for i in refused))
        try:
            host.library.refresh()
            host.compare.refresh_library()
        except AttributeError:
            pass
        msg = (f"Created “{name}” ({path.name}) with the recommended split: "
               f"{len(changes)} change(s); Ctrl+Z shows today's values.")
        self._set_status(msg)
        host.statusBar().showMessage(msg, 8000)
        self.applied.emit(path)
        return path

    def export_excel(self, path: str | None = None) -> bool:
        """Write the workbook with the Optimisation sheet (in the background)."""
        host = self.host
        if self.alloc is None or self.optimised is None:
            host.prompter.error(self, "Nothing to export", "Run the optimiser first.")
            return False
        if self.runner.busy:
            return False
        try:
            from simulator import excel
        except ImportError as exc:
            host.prompter.error(self, "Excel export unavailable", str(exc))
            return False
        if path is None:
            from ui.export import _stem

            start = str(Path.home() / f"{_stem(self.optimised.name)}_optimisation.xlsx")
            path = host.prompter.save_path(self, "Export optimisation workbook", start,
                                           "Excel workbook (*.xlsx)")
            if not path:
                return False
        try:
            excel.check_output(path, overwrite=True)
        except Exception as exc:  # noqa: BLE001
            host.prompter.error(self, "Excel export failed", str(exc))
            return False
        alloc = self.alloc
        sc = self.optimised_run.model_copy(deep=True)  # the inputs today's run came from
        file = self.optimised_path
        out = Path(path)

        def task(progress, cancel):
            from simulator.optimisation_workbook import export_optimisation_workbook

            return export_optimisation_workbook(sc, file, alloc, out, overwrite=True)

        self._job = "export"
        self.progress.setRange(0, 0)
        self.progress.setFormat("exporting…")
        self._set_status("Writing the workbook (today's and the recommended split's "
                         "verification runs)…")
        self._busy_ui(True)
        self.runner.submit(task)
        return True

    def shutdown(self) -> None:
        """Stop the worker thread (window closing)."""
        self.runner.shutdown()


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fmt_marg(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if abs(v) >= 100:
        return f"{v:+,.0f}"
    s = f"{v:+.2f}"
    return "0.00" if s in ("+0.00", "-0.00") else s


def _key_label(entries) -> QLabel:
    """A one-line chart key under a plot (keeps legends off the data)."""
    parts = []
    for sym, col, text in entries:
        mark = f"<span style='color:{col}; font-weight:bold'>" + \
            ("━━" if sym == "line" else sym) + "</span>"
        parts.append(f"{mark}&nbsp;{text.replace(' ', '&nbsp;')}")  # wrap between entries
    lab = QLabel("&nbsp;&nbsp;&nbsp;".join(parts))
    lab.setAlignment(Qt.AlignmentFlag.AlignHCenter)  # text in the palette's colour
    lab.setWordWrap(True)  # never force the chart column wider than its share
    return lab


def _binding_text(b: str) -> str:
    return {"min": "at min", "max": "at max", "pinned": "pinned", "fixed": "fixed"}.get(b, "—")


def _short(label: str, n: int = 26) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _unique(name: str, taken: list[str]) -> str:
    name = name[:80]
    if name not in taken:
        return name
    i = 2
    while True:
        cand = f"{name[:74]} ({i})"
        if cand not in taken:
            return cand
        i += 1
