"""Issue 14 GUI: the Risk & sensitivity view and the live capacity panel."""

import time

import pytest

from simulator.capacity import capacity_check, erlang_c_staff
from simulator.scenario_io import from_dict
from simulator.sensitivity import risk_analysis
from tests.conftest import simple_dict

pytestmark = pytest.mark.gui


def _ranged(horizon=3):
    d = simple_dict()
    d["segments"][0].update(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.4},
                            contacts_per_order=0.2)
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [{
        "name": "Club", "kind": "other", "cost_model": "per_member_month",
        "cost_cny": {"low": 0.5, "mode": 1.0, "high": 2.0},
        "effect": {"order_rate": {"low": 0.02, "mode": 0.05, "high": 0.1}}}]}]
    d["run"].update(horizon_months=horizon, agents=300, replications=2)
    return from_dict(d)


def _doc(qtbot, sc):
    from ui.document import ScenarioDocument

    return ScenarioDocument(sc, None)


def test_risk_view_shows_the_engines_numbers(qtbot):
    from ui.risk_panel import RiskPanel, answers_text

    sc = _ranged()
    panel = RiskPanel(_doc(qtbot, sc))
    qtbot.addWidget(panel)
    panel.resize(1300, 700)
    panel.show()
    panel.reps.setValue(2)
    panel.agents.setValue(300)
    seen = []
    panel.runner.progress.connect(lambda d, n: seen.append((d, n)))
    with qtbot.waitSignal(panel.finished, timeout=300_000) as blocker:
        assert panel.start()
    ra = blocker.args[0]
    direct = risk_analysis(sc, "npv", roi_target=0.0, spider_points=5, replications=2,
                           agents=300)
    assert ra.risk["p_npv_positive"] == direct.risk["p_npv_positive"]
    assert ra.risk["kpis"]["npv"]["p50"] == direct.risk["kpis"]["npv"]["p50"]
    assert [b.swing.mean for b in ra.tornado.bars] == [b.swing.mean for b in direct.tornado.bars]
    assert {b.input for b in ra.tornado.bars} == {
        "segments[All].churn_annual", "tiers[Member].benefits[Club].cost_cny",
        "tiers[Member].benefits[Club].effect.order_rate"}
    assert panel.answers.text() == answers_text(ra) and "P(NPV &gt; 0)" in panel.answers.text()
    assert "))" not in panel.answers.text()  # "(k = 0.15 (95 % about …))" nested before
    assert all(not p.empty for p in (panel.tornado_plot, panel.spider_plot, panel.hist_plot,
                                     panel.cdf_plot, panel.breakeven_plot))
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached its total
    assert panel.is_current()
    panel.doc.set_value(("name",), "edited")
    assert "earlier version" in panel.status.text()
    panel.shutdown()


def test_risk_view_cancels_within_two_seconds(qtbot):
    from ui.risk_panel import RiskPanel

    sc = _ranged(horizon=24)
    panel = RiskPanel(_doc(qtbot, sc))
    qtbot.addWidget(panel)
    panel.reps.setValue(8)
    panel.agents.setValue(3000)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.progress.maximum() > 1, timeout=60_000)
    t0 = time.monotonic()
    with qtbot.waitSignal(panel.runner.cancelled, timeout=10_000):
        panel.cancel()
    assert time.monotonic() - t0 < 2.0
    assert panel.status.text() == "Risk analysis cancelled." and panel.btn_run.isEnabled()
    panel.shutdown()


def test_capacity_panel_flags_overload_and_follows_edits(qtbot):
    from ui.capacity_panel import CapacityPanel

    d = simple_dict()
    d["segments"][0].update(contacts_per_order=2.0)
    d["population"]["customers"] = 200_000
    d["service"]["pools"][0].update(handle_minutes=20.0, shifts=[
        {"start_hour": 0, "end_hour": 24, "staff": 1}])
    doc = _doc(qtbot, from_dict(d))
    panel = CapacityPanel(doc)
    qtbot.addWidget(panel)
    pools = capacity_check(doc.scenario, 0.8)
    p = pools[0].periods[0]
    assert p.overloaded and panel.overloaded_rows() == [0]
    assert panel.table.item(0, 5).text() == str(p.staff_needed)
    assert p.staff_needed == erlang_c_staff(p.contacts_per_hour, 20 / 60,
                                            doc.scenario.service.sla_hours, 0.8)
    assert "cannot keep up" in panel.flags.text()
    t0 = time.perf_counter()
    assert doc.set_value(("service", "pools", 0, "shifts", 0, "staff"), p.staff_needed) == []
    assert time.perf_counter() - t0 < 0.5  # instant: theory, no simulation
    assert panel.overloaded_rows() == []
    assert panel.table.item(0, 2).text() == str(p.staff_needed)
    assert panel.flags.text().startswith("✓")
    panel.target.setValue(99.0)  # a stricter SLA needs more staff
    assert int(panel.table.item(0, 5).text()) >= p.staff_needed


def test_editor_service_section_has_the_capacity_panel(qtbot):
    from ui.editor import Editor

    doc = _doc(qtbot, from_dict(simple_dict()))
    ed = Editor(doc)
    qtbot.addWidget(ed)
    assert ed.capacity.isVisibleTo(ed.pages["service"]) or ed.capacity.parent() is not None
    assert ed.capacity.table.rowCount() == 1


def test_every_tornado_bar_has_its_own_readable_label(qtbot):
    """xinghe_yinhe_6tier at 1920 x 1080: labels wider than the axis were silently not drawn
    (5 of 12 bars unlabelled), three inputs read the same '黄金 Gold ▸ Express logistics ▸…'
    (cut at 30 characters), and a shared assumption read as its first field only."""
    from types import SimpleNamespace as NS

    from PySide6.QtGui import QImage, QPainter

    import scenarios
    from simulator.scenario_io import load
    from simulator.sensitivity.tornado import uncertain_inputs
    from ui.risk_panel import RiskPanel

    sc = load(scenarios.shipped_path("xinghe_yinhe_6tier"))
    labels = [label for _, _, label in uncertain_inputs(sc).values()]
    panel = RiskPanel(_doc(qtbot, sc))
    qtbot.addWidget(panel)
    panel.resize(1700, 900)
    panel.show()
    stat = NS(mean=1e6)
    bars = [NS(label=lb, delta_low=NS(mean=-1e6 * (i + 1)), delta_high=NS(mean=1e6 * (i + 1)))
            for i, lb in enumerate(labels[:12])]
    panel._tornado(NS(tornado=NS(metric="npv", centre=stat, bars=bars)))
    qtbot.wait(50)
    ax = panel.tornado_plot.getPlotItem().getAxis("left")
    img = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(img)
    drawn = [t for _, _, t in ax.generateDrawSpecs(painter)[2]]
    painter.end()
    assert len(drawn) == len(bars)
    assert len(set(drawn)) == len(drawn), drawn
    # a shared assumption by its name and how many fields it moves
    assert any(t.startswith("express_logistic") and t.endswith("(4 fields)") for t in drawn)
    panel.shutdown()


def test_risk_view_says_why_the_distribution_is_empty(qtbot):
    """With no input written as a range the cumulative chart stayed empty under its plain
    title ("Cumulative: P(NPV ≤ x)"), as if something had failed; both charts say why."""
    from types import SimpleNamespace

    from ui.risk_panel import CDF_TITLE, RiskPanel

    panel = RiskPanel(_doc(qtbot, _ranged()))
    qtbot.addWidget(panel)
    panel._distribution(SimpleNamespace(risk=None))
    for p in (panel.hist_plot, panel.cdf_plot):
        assert p.empty
        assert "no input is written as a range" in p.getPlotItem().titleLabel.text
    assert panel.cdf_plot.getPlotItem().titleLabel.text.startswith(CDF_TITLE)
    panel.shutdown()
