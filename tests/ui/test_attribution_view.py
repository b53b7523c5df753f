"""Attribution view in the results and compare's "Why different" waterfall (issue 15)."""

import math
import time

import numpy as np
import pytest

from simulator.attribution import attribute, explain
from simulator.results import Stat
from ui.waterfall import Row, WaterfallChart

pytestmark = pytest.mark.gui


def test_waterfall_steps_start_where_the_last_bar_ended(qtbot):
    chart = WaterfallChart("t")
    qtbot.addWidget(chart.view)
    rows = [Row("base", 100.0, 90.0, 110.0, total=True),
            Row("a", 30.0, 20.0, 40.0), Row("b", -50.0, -55.0, -45.0),
            Row("c", 2.0, -3.0, 7.0, within_noise=True),
            Row("other", 82.0, 70.0, 95.0, total=True)]
    chart.set_rows(rows)
    assert chart.spans == [(0.0, 100.0), (100.0, 130.0), (130.0, 80.0), (80.0, 82.0),
                           (0.0, 82.0)]
    assert chart.end() == pytest.approx(82.0)
    assert "within noise" in chart.value_text(rows[3])
    assert "within noise" not in chart.value_text(rows[1])
    ticks = chart.plot.getAxis("left")._tickLevels[0]
    assert [t for _, t in ticks] == ["base", "a", "b", "c", "other"]
    # noise is decided from the interval when built from a Stat
    assert Row.of("x", Stat(1.0, -1.0, 3.0, 0, 0, 0)).within_noise
    assert not Row.of("x", Stat(1.0, 0.5, 1.5, 0, 0, 0)).within_noise
    assert not Row.of("x", Stat(1.0, -1.0, 3.0, 0, 0, 0), total=True).within_noise
    chart.clear()
    assert chart.rows == [] and math.isnan(chart.end())


@pytest.mark.parametrize("width", [430, 900])
def test_waterfall_value_labels_stay_inside_the_chart(qtbot, width):
    """At 1366 px "why different" is ~430 px wide: labels placed by shares of the data
    range ran out of it ("−¥29.8 M  (with") and over the row names on the left."""
    chart = WaterfallChart("NPV: base → other, 95 % intervals")
    qtbot.addWidget(chart.view)
    chart.view.resize(width, 320)
    chart.view.show()
    m = 1e6
    rows = [Row("base: HNW deep service", 72.6 * m, 20 * m, 125 * m, total=True),
            Row("tiers + service staffing", -29.8 * m, -45 * m, 12 * m, within_noise=True),
            Row("benefit: Named personal agent", -0.21 * m, -2 * m, 1.6 * m,
                within_noise=True),
            Row("benefit: Personal styling recommendations", -15.2 * m, -25 * m, -5 * m),
            Row("benefit: Exclusive courier", -1.1 * m, -3 * m, 0.8 * m, within_noise=True),
            Row("HNW apparel brand today", 26.3 * m, -20 * m, 70 * m, total=True)]
    chart.set_rows(rows)
    qtbot.wait(100)
    vb = chart.plot.getViewBox()
    box = vb.sceneBoundingRect().adjusted(-1, -1, 1, 1)
    labels = [it for it in chart._items if hasattr(it, "textItem")]
    assert len(labels) == len(rows)
    for t in labels:
        assert box.contains(t.sceneBoundingRect()), (t.toPlainText(), chart.label_sides)


def _small_view(window):
    view = window.results.attribution
    view.by.setCurrentIndex(view.by.findData("group"))
    view.reps.setValue(2)
    view.agents.setValue(300)
    return view


def test_attribution_view_runs_in_background_and_adds_up(window, qtbot):
    view = _small_view(window)
    assert window.results.views.tabText(1) == "Attribution"
    seen = []
    view.runner.progress.connect(lambda d, t: seen.append((int(d), int(t))))
    with qtbot.waitSignal(view.finished, timeout=180_000) as sig:
        assert view.start()
        assert view.busy and not view.btn_run.isEnabled() and view.btn_cancel.isEnabled()
    att = sig.args[0]
    assert seen and seen[-1][0] == seen[-1][1] == att.sets_run
    assert view.is_current()
    npv = view.npv_column()
    parts, whole = npv[:-1], npv[-1]
    assert len(parts) == len(att.parts) >= 2
    assert sum(parts) == pytest.approx(whole, rel=1e-9, abs=1.0)  # Shapley efficiency
    assert view.chart.end() == pytest.approx(whole, rel=1e-9, abs=1.0)
    # the same numbers as the analysis called directly (same seed and sample)
    direct = attribute(window.doc.scenario, by="group", replications=2, agents=300)
    assert [p.npv.mean for p in direct.parts] == pytest.approx(parts, rel=1e-12)
    # noise marks follow the intervals
    for p, row in zip(att.parts, view.chart.rows):
        assert row.within_noise == (not (p.npv.ci95_low > 0 or p.npv.ci95_high < 0))
    # an edit makes the figures stale, and says so
    window.doc.set_value(("run", "seed"), window.doc.scenario.run.seed + 1)
    assert not view.is_current()
    assert "earlier version" in view.status.text()


def test_attribution_view_cancels_within_a_second(window, qtbot):
    view = _small_view(window)
    view.agents.setValue(20_000)
    with qtbot.waitSignal(view.runner.started, timeout=5_000):
        assert view.start()
    qtbot.wait(300)
    t0 = time.perf_counter()
    with qtbot.waitSignal(view.runner.cancelled, timeout=10_000):
        view.cancel()
    assert time.perf_counter() - t0 < 2.0
    assert view.progress.format() == "cancelled" and view.btn_run.isEnabled()


def test_why_different_waterfall_in_compare(window, qtbot, small_path):
    import scenarios
    from simulator.scenario_io import load
    from ui.comparison import Comparison

    base = load(small_path)
    other = base.model_copy(deep=True)
    other.name = "星河 other"
    for t in other.tiers:
        for b in t.benefits:
            if b.kind == "discount":
                b.cost_share = 0.08
    other.service.pools[0].shifts[0].staff += 3
    other_path = scenarios.save_user(other)
    other = load(other_path)
    panel = window.compare.why
    assert window.compare.tables.tabText(window.compare.tables.count() - 1) == "Why different"
    assert not panel.btn_run.isEnabled()
    settings = {"replications": 2, "agents": 300, "seed": base.run.seed, "horizon_months": 6}
    panel.set_comparison(Comparison([(base, small_path, None), (other, other_path, None)],
                                    settings))
    assert panel.btn_run.isEnabled()
    with qtbot.waitSignal(panel.finished, timeout=180_000) as sig:
        assert panel.start()
    wf = sig.args[0]
    assert len(wf.bars) >= 2
    per_rep = wf.per_replication.sum(axis=0)
    assert np.allclose(per_rep.mean(), wf.delta.mean, rtol=1e-9, atol=1.0)
    assert panel.chart.end() == pytest.approx(wf.end.mean, rel=1e-9, abs=1.0)
    assert panel.table.rowCount() == len(wf.bars) + 3
    noise_rows = [panel.table.item(r + 1, 2).text() for r in range(len(wf.bars))]
    assert noise_rows == ["within noise" if b.within_noise else "" for b in wf.bars]
    direct = explain(base, other, seed=base.run.seed, replications=2, agents=300,
                     horizon_months=6)
    assert [b.value.mean for b in direct.bars] == pytest.approx(
        [b.value.mean for b in wf.bars], rel=1e-12)


def test_points_and_deadweight_tab_follows_the_shown_result(window, qtbot):
    from simulator.deadweight import deadweight
    from simulator.points_ledger import of_scenario

    panel = window.results
    view = panel.accounting
    assert panel.views.tabText(2) == "Points && deadweight"  # &&: a literal &
    panel.views.setCurrentWidget(view)  # drawn when shown (not on every hidden preview)
    res = panel.result
    assert res is not None
    sc = window.doc.scenario
    assert view.deadweight is not None  # the default scheme's counterfactual is scheme-off
    assert view.deadweight_share() == pytest.approx(
        deadweight(res).stats()["all customers"]["deadweight_share"].mean, rel=1e-12)
    assert view.table.rowCount() == 1 + len(res.segments) + len(res.tiers)
    assert (view.ledger is None) == (of_scenario(res, sc) is None)
    assert "no points" in view.points_note.text()
    # no empty liability frames: the deadweight table has the tab
    assert not view.liability_plot.isVisible() and not view.flows_plot.isVisible()
    # a scheme with points: the liability chart follows the next preview
    with qtbot.waitSignal(panel.preview_shown, timeout=90_000):
        window.doc.set_value(("tier_rules", "points", "enabled"), True)
    qtbot.waitUntil(lambda: view.ledger is not None, timeout=90_000)
    led = of_scenario(panel.result, window.doc.scenario)
    assert view.liability.y() == pytest.approx(led.values["liability_cny"].mean(axis=0))
    assert "Points liability (IFRS 15)" in view.points_note.text()
    assert view.liability_plot.isVisible() and view.flows_plot.isVisible()


def test_many_rows_keep_a_text_line_each(qtbot):
    """A dozen changed-input groups in the compare tab's low pane: the chart grows and
    scrolls rather than overprinting its labels (at 1366 x 768 the rows were 9 px apart)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QFontMetrics

    from ui.why_different import WhyDifferentPanel

    panel = WhyDifferentPanel()
    qtbot.addWidget(panel)
    panel.resize(750, 240)
    panel.show()
    rows = [Row("base: a scenario with a long name", 100.0, 90.0, 110.0, total=True)]
    rows += [Row(f"benefit: number {i}", 3.0 * (-1) ** i, -1.0, 7.0) for i in range(12)]
    rows += [Row("the other scenario", 106.0, 95.0, 117.0, total=True)]
    panel.chart.set_rows(rows)
    qtbot.wait(50)
    vb = panel.chart.plot.vb
    y0 = vb.mapViewToDevice(QPointF(0.0, 0.0)).y()
    y1 = vb.mapViewToDevice(QPointF(0.0, 1.0)).y()
    assert abs(y1 - y0) >= QFontMetrics(panel.chart.widget.font()).height()
    bar = panel.chart.view.verticalScrollBar()
    assert bar.maximum() > 0  # the chart scrolls inside the panel
    panel.chart.set_rows(rows[:3])
    qtbot.wait(50)
    assert panel.chart.view.verticalScrollBar().maximum() == 0  # few rows: no scrolling
    panel.shutdown()
