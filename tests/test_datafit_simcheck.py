"""The fitted base run through the engine over the holdout, from the actual customers."""

import json

import numpy as np
import openpyxl
import pytest

from simulator.cli import main
from simulator.datafit import simcheck
from simulator.datafit.importlog import read_log
from tests.test_datafit_fit import TRUE, cdnow, cdnow_sample, synthetic_csv

SAMPLE = ["--customer", "1", "--date", "3", "--amount", "5", "--sep", "whitespace",
          "--no-header"]


def test_engine_reproduces_a_log_drawn_from_the_model(tmp_path):
    """On a log drawn from known BG/NBD parameters the engine run is unbiased like BG/NBD."""
    log = read_log(synthetic_csv(tmp_path, TRUE, 8000, seed=11))
    r = simcheck.run_holdout(log, "2020-09-30", replications=4)
    e = r["engine"]
    assert e["holdout_total"]["error"] == pytest.approx(0, abs=0.06)
    assert e["holdout_total"]["engine"] == pytest.approx(e["holdout_total"]["bgnbd"], rel=0.03)
    assert e["cumulative_at_end"]["error"] == pytest.approx(0, abs=0.03)
    assert e["alive_at_split"] == pytest.approx(e["expected_alive"], rel=0.02)
    for row in e["by_calibration_frequency"]:
        if row["customers"] >= 300:  # the engine's conditional expectation is the model's
            assert row["engine"] == pytest.approx(row["bgnbd"], rel=0.08, abs=0.03), row
    # Months: engine and BG/NBD's monthly curve agree; the log's months sum to the total.
    m = e["monthly"]
    assert sum(m["actual"]) == e["holdout_total"]["actual"]
    np.testing.assert_allclose(m["engine"], m["bgnbd"], rtol=0.08)


def test_cdnow_engine_at_least_as_close_as_bgnbd_by_frequency():
    """CDNOW master, 39/39 weeks, plain BG/NBD (--no-seasonality): the figures
    docs/DATA_FIT.md reports (the seasonal rate: tests/test_datafit_seasonal.py)."""
    from simulator.datafit.importlog import Columns

    log = read_log(cdnow("CDNOW_master.txt"), Columns(amount="dollar_value", sep="whitespace"))
    r = simcheck.run_holdout(log, "1997-10-01", replications=8, seasonality=False)
    e = r["engine"]
    assert e["customers"] == 23570 and e["months"] == 9
    assert e["holdout_total"]["actual"] == 19684
    # The engine misses CDNOW's holdout total as BG/NBD does (-14.5 %), a little less.
    assert -0.16 < e["holdout_total"]["error"] < -0.10
    assert abs(e["holdout_total"]["error"]) <= abs(r["holdout_total"]["error"])
    assert -0.08 < e["cumulative_at_end"]["error"] < -0.04
    assert e["conditional_mae"]["engine"] <= e["conditional_mae"]["bgnbd"]
    # Spend: each customer's own order value (gamma-gamma) from the customer file. The
    # miss is then mostly the transactions' (-13 %); per transaction within 5 %
    # (one spend per segment: -21.2 % in total).
    assert -0.19 < e["holdout_spend"]["error"] < -0.13
    per_tx = (e["holdout_spend"]["engine"] / e["holdout_total"]["engine"]) / (
        e["holdout_spend"]["actual"] / e["holdout_total"]["actual"])
    assert abs(per_tx - 1) < 0.05


def test_cdnow_sample_engine_converges_to_the_model_conditional_expectation():
    r = simcheck.run_holdout(cdnow_sample(), "1997-10-01", replications=24, seasonality=False)
    for row in r["engine"]["by_calibration_frequency"]:
        se = 3.0 * np.sqrt(max(row["bgnbd"], 0.2) * 2 / (row["customers"] * 24))
        assert row["engine"] == pytest.approx(row["bgnbd"], abs=se + 0.02), row
        # Like with like: the same customers' actual figure on both sides, and the engine's
        # Monte Carlo error reported (of the order of the closed-form bound above / 3).
        assert row["actual_check"] == row["actual"]
        assert 0 < row["engine_se"] < se, row
    mae = r["engine"]["conditional_mae"]
    assert 0 < mae["engine_mean_se"] < 0.1  # 0.070 with 24 runs of the 2,357 customers


def test_validate_fit_prints_engine_beside_bgnbd_and_writes_its_sheet(tmp_path, capsys):
    book, rep = tmp_path / "h.xlsx", tmp_path / "h.json"
    assert main(["validate-fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--split",
                 "1997-10-01", "--replications", "2", "--excel", str(book),
                 "--json", str(rep)]) == 0
    out = capsys.readouterr().out
    assert "engine" in out and "Repeat transactions per engine month" in out
    r = json.loads(rep.read_text())
    ws = openpyxl.load_workbook(book)["Engine"]
    cells = {ws.cell(i, 1).value: ws.cell(i, 3).value for i in range(1, ws.max_row + 1)}
    assert cells["Repeat transactions in the holdout"] == pytest.approx(
        r["engine"]["holdout_total"]["engine"])
    assert len(ws._charts) == 2
    # Every bold header fits its column at print (they ran into each other: "cumulative BG/NB").
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.font.b and c.column > 1 and c.row > 1:
                width = ws.column_dimensions[c.column_letter].width
                assert len(c.value) * 1.15 <= width, (c.coordinate, c.value, width)
    assert main(["validate-fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--split",
                 "1997-10-01", "--replications", "0"]) == 2
    assert "--replications (Run settings ▸ Replications): 0 runs" in capsys.readouterr().err


def test_fit_writes_the_customer_file_the_engine_starts_from(tmp_path, capsys):
    from simulator import customer_base
    from simulator.engine import Simulation
    from simulator.scenario_io import load

    out, cust = tmp_path / "shop.toml", tmp_path / "customers.csv"
    assert main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--split", "1997-10-01",
                 "--segments", "2", "--cny-per-unit", "7", "--out", str(out),
                 "--customers", str(cust)]) == 0
    assert "2,357 customers" in capsys.readouterr().out
    sc = load(out)
    cb = customer_base.read(cust, [s.name for s in sc.segments])
    assert len(cb) == 2357 and set(cb.segment.tolist()) == {0, 1}
    assert 0 < cb.p_alive.min() and cb.p_alive.max() == 1.0  # x = 0: alive for sure
    # The last 12 months' spend in CNY: the fit period is 39 weeks, all inside the window.
    log = cdnow_sample()
    assert cb.spend.sum() == pytest.approx(log.amount[log.day < 10135].sum() * 7, rel=1e-6)
    assert cb.orders.sum() == 2357 + 2457  # first and repeat purchase days
    sim = Simulation(sc, np.random.SeedSequence(1), 0, 2357, 3, customers=cb)
    assert sim.population.n0 == 2357
    assert sim.population.rolling_spend[:2357].sum() == pytest.approx(cb.spend.sum(), rel=1e-5)
