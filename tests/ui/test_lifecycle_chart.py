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
    charts.clear()
    assert charts.lifecycle.totals().size == 0
