"""Compare's "Why different" panel: a waterfall from the base's KPI to another scenario's.

After a comparison, pick one of the compared scenarios and a KPI; the panel runs
:func:`simulator.attribution.explain` in its own worker thread (progress per mix,
Cancel) with the comparison's common sample and the base's seed: one bar per
group of changed inputs (tiers, each benefit, service staffing, each campaign,
acquisition, run settings, ...), each the group's Shapley share of the paired
difference, with its 95 % interval; bars within noise are drawn pale and say so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
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
from simulator.attribution import Waterfall, coupled_groups, explain
from simulator.metrics import counted
from ui.attribution_view import stat_cell
from ui.background_run import BackgroundRunMixin
from ui.waterfall import Row, WaterfallChart

KPIS = ("npv", "npv_net_contribution", "incremental_contribution", "incremental_cost",
        "net_contribution", "roi")


def waterfall_rows(wf: Waterfall) -> list[Row]:
    """Base total, one step per group, the other scenario's total."""
    return ([Row.of(f"base: {wf.base}", wf.start, total=True)]
            + [Row.of(b.group, b.value, noise=b.within_noise) for b in wf.bars]
            + [Row.of(wf.other, wf.end, total=True)])


class WhyDifferentPanel(BackgroundRunMixin, QWidget):
    """Waterfall and table of why a compared scenario differs from the base."""

    NOUN = "Explain"
    UNIT = "mixes"

    finished = Signal(object)  # Waterfall

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)

        self.comparison = None
        self.result: Waterfall | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Why does"))
        self.other = QComboBox()
        row.addWidget(self.other, 1)
        row.addWidget(QLabel("differ from the base in"))
        self.kpi = QComboBox()
        for k in KPIS:
            self.kpi.addItem(metrics.label_of(k), k)
        for combo in (self.other, self.kpi):  # long names must not widen the window
            combo.setMinimumContentsLength(8)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        row.addWidget(self.kpi, 1)
        lay.addLayout(row)
        row = QHBoxLayout()  # a second row: the compare tab must fit a 1366-px screen
        self._run_controls(row, "▶ Explain", progress_width=90)
        self.btn_run.setEnabled(False)
        lay.addLayout(row)
        lay.addWidget(self._status_label("why_status", "Run a comparison first; then explain "
                                         "any compared scenario against the base."))
        split = QSplitter(Qt.Orientation.Horizontal)
        self.chart = WaterfallChart("Why different")
        split.addWidget(self.chart.view)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("why_table")
        self.table.setHorizontalHeaderLabels(["Step", "Value (95 % interval)", "",
                                              "Inputs changed"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])
        lay.addWidget(split, 1)

        self._make_runner("why-different", self._show_payload)
        self.btn_run.clicked.connect(self.start)
        self.btn_cancel.clicked.connect(self.cancel)

    def set_comparison(self, cmp) -> None:
        """Offer the compared scenarios (``cmp.results[i] = (scenario, path, result)``)."""
        self.comparison = cmp
        self.other.clear()
        for i, (sc, path, _) in enumerate(cmp.results[1:], start=1):
            self.other.addItem(sc.name, i)
        self.btn_run.setEnabled(len(cmp.results) > 1 and not self.busy)
        s = cmp.settings
        self.status.setText(f"Explain a scenario against the base {cmp.names[0]!r} with the "
                            f"comparison's sample "
                            f"({counted(s.get('replications'), 'replication')} × "
                            f"{s.get('agents') or 0:,} agents, {s.get('horizon_months')} "
                            f"months, seed {s.get('seed')}).")

    def start(self) -> bool:
        """Run the waterfall of the chosen scenario against the base."""
        cmp = self.comparison
        if cmp is None or self.busy or self.other.currentData() is None:
            return False
        from ui.run_tasks import base_for

        base, base_path, _ = cmp.results[0]
        other, other_path, _ = cmp.results[int(self.other.currentData())]
        kpi = self.kpi.currentData()
        s = dict(cmp.settings)
        try:
            n = len(coupled_groups(base, other))
        except Exception as exc:  # noqa: BLE001 - a planner's message, never a traceback
            self.status.setText(f"Cannot explain: {exc}")
            return False

        def task(progress, cancel):
            return explain(base, other, kpi=kpi,
                           base_of_base=base_for(base, _path(base_path)),
                           base_of_other=base_for(other, _path(other_path)),
                           seed=s.get("seed"), replications=s.get("replications"),
                           agents=s.get("agents"), horizon_months=s.get("horizon_months"),
                           progress=progress, cancel=cancel)

        self._starting(f"Explaining {other.name!r} against {base.name!r}: {n} groups of "
                       f"changed inputs, {2 ** n if n <= 8 else 'sampled'} mixes…", task)
        return True

    def _can_run(self) -> bool:
        return self.comparison is not None

    def _show_payload(self, wf: Waterfall) -> Waterfall:
        self.show_waterfall(wf)
        return wf

    def show_waterfall(self, wf: Waterfall) -> None:
        """Fill the chart and the table from a waterfall."""
        self.result = wf
        kind = metrics.kind_of(wf.kpi)
        self.chart.kind = kind
        self.chart.set_rows(waterfall_rows(wf), f"{metrics.label_of(wf.kpi)}: base → other, "
                                                "95 % intervals")
        t = self.table
        t.setRowCount(len(wf.bars) + 3)
        rows = [(f"base: {wf.base}", stat_cell(wf.start, kind, signed=False), "", "")]
        for b in wf.bars:
            paths = ", ".join(b.paths[:4]) + (f" (+{len(b.paths) - 4})"
                                              if len(b.paths) > 4 else "")
            rows.append((b.group, stat_cell(b.value, kind),
                         "within noise" if b.within_noise else "", paths))
        rows.append((f"= {wf.other}", stat_cell(wf.end, kind, signed=False), "", ""))
        rows.append(("difference (paired)", stat_cell(wf.delta, kind), "", ""))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if c == 3:
                    it.setToolTip("\n".join(wf.bars[r - 1].paths) if 0 < r <= len(wf.bars)
                                  else "")
                t.setItem(r, c, it)
        self.status.setText(f"{wf.method}, {wf.sets_run} mixes, {wf.sample.replications} "
                            f"replications × {wf.sample.agents:,} agents, seed "
                            f"{wf.sample.seed} ({wf.elapsed_seconds:.1f} s). The bars add up "
                            "to the paired difference; their order does not matter.")


def _path(p) -> Path | None:
    return Path(p) if p is not None else None
