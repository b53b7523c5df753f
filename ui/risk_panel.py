"""The "Risk & sensitivity" view: how sure we are, and what the answer hinges on.

For the scenario on screen, one background run of
:func:`simulator.sensitivity.risk_analysis` (its own worker thread,
:class:`ui.workers.TaskRunner`, with progress and Cancel) gives:

- with inputs written as ranges: NPV's distribution over the Latin hypercube
  draws (histogram and CDF), P(NPV > 0), P(ROI > target), P10/P50/P90 and the
  variance split into assumptions and simulation noise;
- the tornado of the chosen KPI over every uncertain input (or every budget
  lever without ranges), each bar low → high with its paired 95 % interval;
- the spider chart: the KPI against each input across its range;
- the break-even: the share k of the assumed effects at which NPV = 0.

The charts compute nothing; the numbers are the engine's (the CLI's ``run``,
``sensitivity`` and ``breakeven`` print the same ones).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from simulator import metrics
from simulator.labels import wrap
from simulator.metrics import counted
from simulator.scenario_io import scenario_hash
from simulator.sensitivity import KPIS, RiskAnalysis, risk_analysis
from ui.background_run import BackgroundRunMixin
from ui.charts import color, make_plot, neutral_line
from ui.waterfall import short

LOW, HIGH = "#d62728", "#2ca02c"
TORNADO_AXIS_WIDTH = 210  # px for the inputs' names left of the tornado
CDF_TITLE = "Cumulative: P(NPV ≤ x)"


class RiskPanel(BackgroundRunMixin, QWidget):
    """Run and show the risk analysis of the open scenario."""

    NOUN = "Risk analysis"
    UNIT = "replications"

    finished = Signal(object)  # RiskAnalysis

    def __init__(self, doc, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.result: RiskAnalysis | None = None
        self.result_hash: str | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("KPI"))
        self.kpi = QComboBox()
        for k, key in KPIS.items():
            self.kpi.addItem(metrics.label_of(key), k)
        row.addWidget(self.kpi)
        self._sample_boxes(row, replications=8)  # 4 draws of 2 replications
        row.addWidget(QLabel("ROI target"))
        self.roi_target = QDoubleSpinBox()
        self.roi_target.setRange(-100.0, 1000.0)
        self.roi_target.setSuffix(" %")
        self.roi_target.setDecimals(0)
        row.addWidget(self.roi_target)
        self._run_controls(row, "▶ Analyse risk")
        self.btn_run.setToolTip(wrap("Sampled run over the ranges, tornado, spider and break-even, "
                                "all with the scenario's seed and this sample"))
        lay.addLayout(row)
        lay.addWidget(self._status_label("risk_status"))
        self.answers = QLabel("")
        self.answers.setObjectName("risk_answers")
        self.answers.setWordWrap(True)
        self.answers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.answers)

        grid = QGridLayout()
        self.tornado_plot = make_plot("Tornado", "", legend=True, x_label="", money_x=True,
                                      left_width=TORNADO_AXIS_WIDTH, grid_y=False,
                                      min_size=(300, 200))
        self.tornado_plot.getPlotItem().invertY(True)
        self.tornado_plot.setMouseEnabled(x=False, y=False)
        self.spider_plot = make_plot("Spider", "", legend=True, money_axis=True,
                                     x_label="position in the input's range (%)",
                                     min_size=(200, 110))
        self.hist_plot = make_plot("NPV over the assumptions", "replications", legend=False,
                                   x_label="", money_x=True, min_size=(200, 110))
        self.cdf_plot = make_plot(CDF_TITLE, "share", legend=False, x_label="",
                                  money_x=True, min_size=(200, 110))
        self.breakeven_plot = make_plot("Break-even: NPV vs share k of the effects",
                                        "", legend=False, money_axis=True,
                                        x_label="k (1 = as assumed)", min_size=(200, 110))
        # the tornado tall on the left; spider, distribution, CDF and break-even beside it
        # (all on one 1366×768 screen)
        grid.addWidget(self.tornado_plot, 0, 0, 2, 1)
        grid.addWidget(self.spider_plot, 0, 1)
        grid.addWidget(self.hist_plot, 0, 2)
        grid.addWidget(self.breakeven_plot, 1, 1)
        grid.addWidget(self.cdf_plot, 1, 2)
        for c, st in ((0, 4), (1, 3), (2, 3)):
            grid.setColumnStretch(c, st)
        lay.addLayout(grid, 1)
        for p in self.plots():
            p.set_empty(True)
            # the charts share what the window has (their own size hints, with titles and
            # legends, made the tab taller than a 1366×768 screen)
            p.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)

        self._make_runner("risk", self._show_payload)
        self.btn_run.clicked.connect(self.start)
        self.btn_cancel.clicked.connect(self.cancel)
        doc.edited.connect(self._mark_stale)
        doc.replaced.connect(self._replaced)
        self._describe()

    def plots(self) -> list:
        """Every chart of the view."""
        return [self.tornado_plot, self.spider_plot, self.hist_plot, self.cdf_plot,
                self.breakeven_plot]

    # -- running -----------------------------------------------------------------------
    def _describe(self) -> None:
        if self.busy or self.result is not None:
            return
        from simulator.sensitivity import uncertain_inputs

        n = len(uncertain_inputs(self.doc.scenario))
        self.status.setText(
            f"{counted(n, 'input')} written as ranges: a sampled run over them, then a tornado "
            f"and spider "
            "over their ranges and the break-even." if n else
            "No input is written as a range: the tornado swings every budget lever ±20 %; "
            "write ranges in the scenario file (docs/UNCERTAINTY.md) for the distribution of NPV.")

    def start(self) -> bool:
        """Start the analysis of the scenario on screen in the worker thread."""
        if self.busy:
            return False
        issues = self.doc.issues()
        if issues:
            self.status.setText(f"Cannot analyse: {len(issues)} problem(s) in the scenario.")
            return False
        sc = self.doc.snapshot()
        h = scenario_hash(sc)
        kpi = self.kpi.currentData()
        reps, agents = self.reps.value(), self.agents.value()
        target = self.roi_target.value() / 100.0
        base = self._base(sc)

        def task(progress, cancel):
            return risk_analysis(sc, kpi, base=base, roi_target=target, spider_points=5,
                                 replications=reps, agents=agents, progress=progress,
                                 cancel=cancel), h

        self._starting(f"Analysing {sc.name!r}: {counted(reps, 'replication')} × {agents:,} "
                       f"agents, "
                       f"seed {sc.run.seed}…", task)
        return True

    def _base(self, sc):
        from simulator.loader import loaded_from

        try:
            return loaded_from(sc, self.doc.path).base_scenario
        except Exception:  # noqa: BLE001 - the problems panel lists a bad base
            return None

    def _show_payload(self, payload):
        ra, h = payload
        self.show_analysis(ra, h)
        return ra

    # -- showing -----------------------------------------------------------------------
    def is_current(self) -> bool:
        """True if the shown analysis was run from the scenario on screen."""
        return self.result is not None and self.result_hash == scenario_hash(self.doc.scenario)

    def _mark_stale(self) -> None:
        if self.result is None:
            self._describe()
        elif not self.is_current():
            self.status.setText("⚠ This analysis is for an earlier version of the scenario: "
                                "press Analyse risk to run it again.")

    def _replaced(self) -> None:
        self.runner.cancel()
        self.result = None
        self.result_hash = None
        for p in self.plots():
            p.getPlotItem().clear()
            p.set_empty(True)
        self.answers.setText("")
        self._describe()

    def show_analysis(self, ra: RiskAnalysis, h: str | None = None) -> None:
        """Draw the charts and the answers from an analysis."""
        self.result, self.result_hash = ra, h
        self._tornado(ra)
        self._spider(ra)
        self._distribution(ra)
        self._breakeven(ra)
        self.answers.setText(answers_text(ra))
        s = ra.sample
        self.status.setText(f"{ra.scenario}: {counted(s.get('replications'), 'replication')} × "
                            f"{s.get('agents'):,} agents, seed {s.get('seed')}; every run with "
                            "the same random numbers (paired).")

    def _tornado(self, ra: RiskAnalysis) -> None:
        t = ra.tornado
        p = self.tornado_plot
        pi = p.getPlotItem()
        pi.clear()
        kind = metrics.kind_of(t.metric)
        p.setTitle(f"Tornado: {metrics.label_of(t.metric)} − centre "
                   f"({metrics.value(t.centre.mean, kind)}), low → high")
        bars = t.bars[:12]
        if not bars:
            p.set_empty(True)
            return
        p.set_empty(False)
        y = np.arange(len(bars))
        lo = np.array([b.delta_low.mean for b in bars])
        hi = np.array([b.delta_high.mean for b in bars])
        pi.addItem(pg.BarGraphItem(x0=np.minimum(lo, 0), x1=np.maximum(lo, 0), y=y, height=0.6,
                                   brush=LOW, pen=None, name="input at its low end"))
        pi.addItem(pg.BarGraphItem(x0=np.minimum(hi, 0), x1=np.maximum(hi, 0), y=y, height=0.6,
                                   brush=HIGH, pen=None, name="input at its high end"))
        lg = getattr(pi, "legend", None)
        if lg is not None:
            lg.clear()
            lg.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=LOW), "low end")
            lg.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=HIGH), "high end")
        pi.addItem(neutral_line(pos=0, angle=90))
        ax = pi.getAxis("left")
        ax.setTicks([list(enumerate(axis_labels([b.label for b in bars], p.font(),
                                                TORNADO_AXIS_WIDTH - 16)))])
        pi.setYRange(-0.6, len(bars) - 0.4, padding=0)

    def _spider(self, ra: RiskAnalysis) -> None:
        t = ra.tornado
        p = self.spider_plot
        pi = p.getPlotItem()
        pi.clear()
        lg = getattr(pi, "legend", None)
        if lg is not None:
            lg.clear()
        bars = [b for b in t.bars if len(b.spider) >= 2][:4]
        p.setTitle(f"Spider: {metrics.label_of(t.metric)} across each input's range "
                   f"(top {len(bars)})")
        if not bars:
            p.set_empty(True)
            return
        p.set_empty(False)
        for i, b in enumerate(bars):
            span = (b.high - b.low) or 1.0
            xs = [100 * (q["x"] - b.low) / span for q in b.spider]
            ys = [q["kpi"] for q in b.spider]
            pi.plot(xs, ys, pen=pg.mkPen(color(i), width=2), symbol="o", symbolSize=5,
                    symbolBrush=color(i), name=short(short_label(b.label), 18))

    def _distribution(self, ra: RiskAnalysis) -> None:
        hp, cp = self.hist_plot, self.cdf_plot
        for p in (hp, cp):
            p.getPlotItem().clear()
        if ra.risk is None:
            for p in (hp, cp):
                p.set_empty(True)
            hp.setTitle("NPV over the assumptions: no input is written as a range")
            cp.setTitle(f"{CDF_TITLE}: none (no input is written as a range)")
            return
        d = ra.risk["npv_distribution"]
        edges, counts = np.array(d["edges"]), np.array(d["counts"])
        hp.set_empty(False)
        cp.set_empty(False)
        cp.setTitle(CDF_TITLE)
        hp.setTitle(f"NPV over the assumptions ({counted(ra.risk['replications'], 'replication')}, "
                    f"{counted(ra.risk['draws'], 'draw')})")
        if len(edges) > 1:
            hp.getPlotItem().addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts,
                                                     brush=color(0, 170), pen=None))
        hp.getPlotItem().addItem(neutral_line(pos=0, angle=90))
        cp.getPlotItem().plot(d["cdf_x"], d["cdf_p"], stepMode=None,
                              pen=pg.mkPen(color(0), width=2), symbol="o", symbolSize=4)
        cp.getPlotItem().addItem(neutral_line(pos=0, angle=90))
        cp.getPlotItem().setYRange(0, 1)

    def _breakeven(self, ra: RiskAnalysis) -> None:
        p = self.breakeven_plot
        pi = p.getPlotItem()
        pi.clear()
        be = ra.breakeven
        if be is None and not ra.breakeven_why:
            p.set_empty(True)
            return
        p.set_empty(False)
        if be is not None:
            pts = sorted(be.evaluations)
            pi.plot([x for x, _ in pts], [y for _, y in pts], pen=pg.mkPen(color(1), width=2),
                    symbol="o", symbolSize=5)
            pi.addItem(neutral_line(pos=0, angle=0))
            pi.addItem(pg.InfiniteLine(pos=be.value, angle=90,
                                       pen=pg.mkPen(color(2), width=1, style=Qt.PenStyle.DashLine)))
            p.setTitle(f"Break-even: NPV = 0 at k = {be.value:.2f} of the assumed effects")
        else:  # no k tried reaches NPV = 0: nothing to draw, the title says so
            p.set_empty(True)
            p.setTitle("Break-even: not reached (see above)")


def axis_labels(labels: list[str], font: QFont, width: float) -> list[str]:
    """Short labels for a chart's category axis, each at most ``width`` px and all different.

    pyqtgraph silently leaves out a tick label wider than its axis, and labels cut at a
    number of characters read alike ('黄金 Gold ▸ Express logistics ▸…' three times):
    they are cut in the middle to the pixel width instead (the field at the end stays),
    and any two still alike are numbered.
    """
    fm = QFontMetricsF(font)
    out = [fm.elidedText(short_label(lb), Qt.TextElideMode.ElideMiddle, width) for lb in labels]
    seen: dict[str, int] = {}
    for i, text in enumerate(out):
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            out[i] = fm.elidedText(short_label(labels[i]), Qt.TextElideMode.ElideMiddle,
                                   width - fm.horizontalAdvance(f" #{seen[text]}")) + \
                f" #{seen[text]}"
    return out


def short_label(label: str) -> str:
    """A form label without its section and item words, for a chart's axis.

    ``Tiers & benefits ▸ Tier 'Silver' ▸ Benefit 'Free shipping' ▸ Effect ▸ Order rate``
    reads ``Silver ▸ Free shipping ▸ Order rate``; a shared assumption, ``Assumption
    “name” (first field and 5 more)``, reads ``name (6 fields)`` (it was its first
    field's path alone).
    """
    import re

    m = re.fullmatch(r"Assumption “(.+?)” \((.*?)(?: and (\d+) more)?\)", label)
    if m:
        return m.group(1) + (f" ({int(m.group(3)) + 1} fields)" if m.group(3) else "")
    parts = label.split(" ▸ ")
    if len(parts) > 1:
        parts = parts[1:]
    out = []
    for p in parts:
        m = re.fullmatch(r"\w+ '(.*)'", p)
        if m:
            out.append(m.group(1))
        elif p not in ("Effect", "Acquisition"):
            out.append(p)
    if len(out) >= 2 and out[-2] == "Sensitivity":  # "Key accounts ▸ Benefits sens."
        out[-2:] = [out[-1] + " sens."]
    return " ▸ ".join(out) or label


def answers_text(ra: RiskAnalysis) -> str:
    """The probabilistic answers in one paragraph (also used by tests)."""
    parts = []
    r = ra.risk
    if r is not None:
        k = r["kpis"]["npv"]
        roi = r["p_roi_above_target"]
        sa = k["share_assumptions"]
        split = (f"; variance from assumptions {100 * sa:.0f} %, simulation noise "
                 f"{100 * (1 - sa):.0f} %" if math.isfinite(sa) else "")
        parts.append(f"<b>P(NPV &gt; 0) = {_pct(r['p_npv_positive'])}</b>, "
                     f"P(ROI &gt; {100 * roi['target']:.0f} %) = {_pct(roi['p'])}; NPV P10 "
                     f"{metrics.money(k['p10'])}, P50 {metrics.money(k['p50'])}, P90 "
                     f"{metrics.money(k['p90'])}{split}.")
    be = ra.breakeven
    if be is not None:
        iv = metrics.about(*be.interval, bracket=False)
        parts.append(f"Break-even: NPV = 0 when {100 * be.value:.0f} % of the assumed effects "
                     f"materialise (k = {be.value:.2f}{'; ' + iv if iv else ''}).")
    elif ra.breakeven_why:
        parts.append("Break-even: " + ra.breakeven_why.rstrip(".") + ".")
    if ra.tornado.bars:
        b = ra.tornado.bars[0]
        kind = metrics.kind_of(ra.tornado.metric)
        parts.append(f"Largest swing: {b.label} ({metrics.delta(b.swing.mean, kind)} "
                     f"{metrics.label_of(ra.tornado.metric)} from low to high).")
    return " ".join(parts)


def _pct(p: float) -> str:
    return "n/a" if p is None or not math.isfinite(p) else f"{100 * p:.0f} %"
