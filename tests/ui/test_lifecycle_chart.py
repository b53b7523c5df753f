"""The lifecycle stacked chart: active (not dormant), dormant, churned so far."""

import numpy as np

from simulator import scenario_io
from simulator.runner import run


def test_lifecycle_chart_stacks_active_dormant_and_cumulative_churn(qtbot):
    from tests.test_lifecycle import _plain
    from ui.charts import ResultCharts, lifecycle_series

    d = _plain(orders_per_month=0.4, churn_annual=0.4, dormant_after_months=2)
    res = run(scenario_io.from_dict(d, "lifecycle chart"), replications=2, agents=3000,
              horizon_months=8, workers=1)
    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.show_result(res)
    series = lifecycle_series(res)
    assert list(series) == ["Active (not dormant)", "Dormant customers", "Churned (cumulative)"]
    assert series["Dormant customers"].max() > 0
    top = charts.lifecycle.totals()
    expected = (res.band("active_customers")["mean"].to_numpy()
                + np.cumsum(res.band("churned_customers")["mean"].to_numpy()))
    np.testing.assert_allclose(top, expected, rtol=1e-9)
    assert "lifecycle" in charts.chart_names()
    table = charts.lifecycle_table
    assert not charts.lifecycle_box.isHidden()
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    from simulator.metrics import stat_text

    assert rows["Dormant share at end"] == stat_text(res.summary["dormant_share_end"], "share")
    charts.clear()
    assert charts.lifecycle.totals().size == 0
    assert charts.lifecycle_box.isHidden() and table.rowCount() == 0


def test_no_lifecycle_table_without_a_lifecycle_mechanism(qtbot):
    from tests.test_lifecycle import _plain
    from ui.charts import ResultCharts

    res = run(scenario_io.from_dict(_plain(orders_per_month=0.4, churn_annual=0.4), "off"),
              replications=1, agents=1000, horizon_months=3, workers=1)
    charts = ResultCharts()
    qtbot.addWidget(charts)
    charts.show_result(res)
    assert charts.lifecycle_box.isHidden() and charts.lifecycle_table.rowCount() == 0
