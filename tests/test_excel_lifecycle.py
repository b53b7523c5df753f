"""The workbook's Lifecycle sheet: the lifecycle columns, headline and stacked chart."""

from __future__ import annotations

import numpy as np
import pytest
from openpyxl import load_workbook

from simulator import scenario_io
from simulator.excel import write_workbook
from simulator.metrics import LIFECYCLE_MONTHLY, label_of
from simulator.runner import run
from tests.test_lifecycle import _plain


def _book(tmp_path, **seg):
    sc = scenario_io.from_dict(_plain(orders_per_month=0.4, churn_annual=0.4, **seg), "lc")
    res = run(sc, replications=2, agents=2000, horizon_months=6, workers=1)
    out = write_workbook([(sc, None, res)], tmp_path / "lc.xlsx")
    return res, load_workbook(out)


def test_lifecycle_sheet_holds_the_monthly_means_and_a_stacked_chart(tmp_path):
    res, wb = _book(tmp_path, dormant_after_months=2)
    ws = wb["Lifecycle"]
    cells = {ws.cell(row=r, column=c).value: (r, c) for r in range(1, 40) for c in range(1, 20)}
    r0, c0 = cells["Month"]
    for j, key in enumerate(LIFECYCLE_MONTHLY):
        assert ws.cell(row=r0, column=c0 + 1 + j).value == label_of(key)
        got = [ws.cell(row=r0 + 1 + m, column=c0 + 1 + j).value for m in range(6)]
        np.testing.assert_allclose(got, res.band(key)["mean"].to_numpy(), rtol=1e-12)
    stack = ws.cell(row=r0 + 3, column=c0 + 1 + len(LIFECYCLE_MONTHLY)).value
    assert stack.startswith("=") and "-" in stack  # active minus dormant, a formula
    churn = ws.cell(row=r0 + 3, column=c0 + 3 + len(LIFECYCLE_MONTHLY)).value
    assert churn.startswith("=SUM(")
    assert len(ws._charts) == 1
    assert ws.cell(row=cells["Recall success"][0], column=3).value is None  # no recall: n/a
    dormant_end = ws.cell(row=cells["Dormant customers at end"][0], column=3).value
    assert dormant_end == pytest.approx(res.summary["dormant_customers_end"].mean)


def test_no_lifecycle_sheet_without_a_lifecycle_mechanism(tmp_path):
    _, wb = _book(tmp_path)
    assert "Lifecycle" not in wb.sheetnames
