"""The optimiser's settings column: budget, objective, pinned levers, sample, Run/Cancel.

A view: it shows the open scenario's budget block and run settings, and reports
what the next run will use (:meth:`OptimiserControls.settings`). The controller
(:class:`ui.optimiser_panel.OptimiserPanel`) starts the run and drives the
progress bar and status line kept here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from simulator.labels import wrap
from simulator.metrics import OBJECTIVES, label_of
from simulator.optimiser import OPTIMISER_DEFAULTS
from simulator.scenario import LeverBound, Scenario

OBJECTIVE_NAMES = {k: label_of(m) for k, m in OBJECTIVES.items()}  # the metric catalogue's
CONSTRAINTS = {"at_most": "spend at most the budget", "equal": "spend exactly the budget"}
LEVER_ROLE = Qt.ItemDataRole.UserRole


def lever_label(lever_id: str) -> str:
    """'benefits:Gold' -> 'Gold tier benefits' (before a run, when only ids are known)."""
    kind, _, name = lever_id.partition(":")
    return {"benefits": f"{name} tier benefits", "service": f"Service staff, {name} pool",
            "promotion": f"Promotion: {name}", "acquisition": "Paid acquisition"}.get(
        kind, lever_id)


def scenario_for_run(sc: Scenario, s: dict) -> Scenario:
    """``sc`` with the settings' objective, rule, budget and pins in its budget block."""
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


class OptimiserControls(QWidget):
    """Budget and objective, levers to pin, sample size, Run/Cancel, progress and status."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(280)
        self.setMaximumWidth(420)
        ll = QVBoxLayout(self)
        ll.setContentsMargins(0, 0, 4, 0)
        box = QGroupBox("Budget and objective")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.budget_auto = QCheckBox("today's spend on all levers")
        self.budget_auto.setToolTip(wrap("Split what the levers cost today (measured by the "
                                    "baseline simulation); untick to set an amount"))
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
        self.reps.setToolTip(wrap("replications per response-curve point"))
        self.verify_reps = QSpinBox()
        self.verify_reps.setRange(2, 100)
        self.verify_reps.setToolTip(wrap("paired replications of today's and the "
                                         "recommended split"))
        self.levels = QSpinBox()
        self.levels.setRange(2, 8)
        self.levels.setToolTip(wrap("spend levels simulated per lever for its response curve"))
        self.local_check = QCheckBox("probes around the optimum")
        self.local_check.setToolTip(wrap("simulate a budget-neutral +20 % probe per free lever "
                                    "around the recommendation (catches lever interactions)"))
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
        self.btn_run.setToolTip(wrap("Run the optimiser in the background"))
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

    # -- from the document ---------------------------------------------------------------
    def load(self, sc: Scenario) -> None:
        """Fill the controls from a scenario (its budget block and run settings)."""
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
        self.refresh_levers(sc, keep=False)

    def refresh_levers(self, sc: Scenario, keep: bool = True) -> None:
        """List the scenario's levers; ``keep``: pins as ticked now, else as in the file."""
        from simulator.optimiser.levers import lever_ids

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

    # -- what the next run uses ----------------------------------------------------------
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

    # -- state shown ---------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        """Run disabled and Cancel enabled while a job runs."""
        self.btn_run.setEnabled(not busy)
        self.btn_cancel.setEnabled(busy)

    def set_status(self, text: str, error: bool = False) -> None:
        """The status line under the progress bar (red for errors)."""
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")

    def show_progress(self, done: int, total: int, fmt: str) -> None:
        """Progress ``done``/``total`` (total 0: busy, no count yet) with ``fmt`` as text."""
        self.progress.setRange(0, total)
        self.progress.setValue(min(done, total))
        self.progress.setFormat(fmt)
