"""File ▸ Import transaction log…: mapping preview, background fit with cancel, charts, open."""

import numpy as np
import pandas as pd
import pytest

from simulator.datafit import simcheck
from simulator.datafit.importlog import Columns, read_log
from tests.test_datafit_fit import cdnow
from ui.import_dialog import ImportDialog


@pytest.fixture
def shop_csv(tmp_path):
    """The CDNOW sample as a CSV with a header and one bad row (negative amount, line 3)."""
    df = pd.read_csv(cdnow("CDNOW_sample.txt"), sep=r"\s+", header=None,
                     names=["customer_id", "id2", "order_date", "cds", "order_value"])
    df = df[["customer_id", "order_date", "order_value"]]
    df.loc[1, "order_value"] = -5.0
    p = tmp_path / "shop_orders.csv"
    df.to_csv(p, index=False)
    return p


def test_preview_maps_columns_and_counts_bad_rows(qtbot, shop_csv):
    dlg = ImportDialog()
    qtbot.addWidget(dlg)
    dlg.set_path(str(shop_csv))
    assert dlg.combos["customer"].currentText() == "customer_id"
    assert dlg.combos["date"].currentText() == "order_date"
    assert dlg.combos["amount"].currentText() == "order_value"
    assert dlg.combos["segment"].currentText() == "(none)"
    headers = [dlg.table.horizontalHeaderItem(j).text() for j in range(dlg.table.columnCount())]
    assert headers == ["customer", "date", "amount"]
    assert dlg.table.item(1, 2).text() == "-5.0"
    assert "set aside: 1 rows with negative amount (lines 3)" in dlg.bad.text()
    dlg.combos["amount"].setCurrentText("order_date")  # a wrong mapping shows at once
    assert "First 200 rows" in dlg.bad.text()


def test_fit_with_holdout_draws_the_engine_beside_bgnbd_and_opens(qtbot, shop_csv, tmp_path):
    opened = []
    dlg = ImportDialog(open_path=lambda p: opened.append(p) or True)
    qtbot.addWidget(dlg)
    dlg.set_path(str(shop_csv))
    dlg.split.setDate(dlg.split.date().fromString("1997-10-01", "yyyy-MM-dd"))
    dlg.replications.setValue(2)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result_data is not None or dlg.run_btn.isEnabled(),
                    timeout=120_000)
    assert dlg.result_data is not None, dlg.status.text()
    assert "6,918 valid rows of 6,919, 2,357 customers" in dlg.status.text()
    assert "1 rows with negative amount (lines 3)" in dlg.status.text()
    r = dlg.result_data["holdout"]
    log = read_log(shop_csv, Columns(customer="customer_id", date="order_date",
                                     amount="order_value"))
    direct = simcheck.run_holdout(log, "1997-10-01", replications=2)
    assert r["engine"]["holdout_total"] == direct["engine"]["holdout_total"]  # same numbers
    curves = dlg.track.getPlotItem().listDataItems()
    assert [c.name() for c in curves] == ["actual", "BG/NBD", "engine (fitted scenario)"]
    np.testing.assert_allclose(curves[2].yData, r["engine"]["monthly"]["engine"])
    cum = dlg.cumul.getPlotItem().listDataItems()[0].yData
    assert cum[-1] == pytest.approx(r["engine"]["holdout_total"]["actual"])
    assert f"{r['engine']['holdout_total']['error']:+.1%}" in dlg.summary.text()
    assert dlg.open_btn.isEnabled()
    path = dlg.open_scenario()
    assert opened == [path] and path.exists()
    assert path.read_text().startswith("# Fitted by `benefit-sim fit`")
    assert not list(path.parent.glob("*.tmp*"))
    # It starts from the actual customers: their file saved beside it, named in it.
    from simulator import customer_base
    from simulator.loader import load_scenario

    ld = load_scenario(path)
    assert ld.scenario.population.customer_file == f"{path.stem} customers.csv"
    assert len(customer_base.for_scenario(ld.scenario)) == 2357


def test_cancel_stops_within_seconds(qtbot, shop_csv):
    dlg = ImportDialog()
    qtbot.addWidget(dlg)
    dlg.set_path(str(shop_csv))
    dlg.split.setDate(dlg.split.date().fromString("1997-10-01", "yyyy-MM-dd"))
    dlg.replications.setValue(50)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.progress.value() > 500, timeout=60_000)  # in the engine runs
    import time

    t0 = time.monotonic()
    dlg.cancel_btn.click()
    qtbot.waitUntil(lambda: dlg.run_btn.isEnabled(), timeout=10_000)
    assert time.monotonic() - t0 < 3.0  # the engine stops at its next month (loaded machine)
    assert dlg.status.text() == "Cancelled." and dlg.result_data is None


def test_unreadable_log_is_a_message_not_a_crash(qtbot, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("customer_id,date,amount\nx,notadate,1\n")
    dlg = ImportDialog()
    qtbot.addWidget(dlg)
    dlg.set_path(str(p))
    dlg.use_split.setChecked(False)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.run_btn.isEnabled(), timeout=30_000)
    assert "no value reads as a date" in dlg.status.text() or "no valid rows" in \
        dlg.status.text()
    assert dlg.result_data is None
