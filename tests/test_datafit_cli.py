"""`benefit-sim fit` and `validate-fit`: scenario written, accepted by validate, errors in words."""

import json

import pytest

from simulator.cli import main
from simulator.scenario_io import load
from tests.test_datafit_fit import cdnow

SAMPLE = ["--customer", "1", "--date", "3", "--amount", "5", "--sep", "whitespace",
          "--no-header"]


def test_fit_writes_a_scenario_that_validate_accepts(tmp_path, capsys):
    out = tmp_path / "shop.toml"
    rep = tmp_path / "fit.json"
    rc = main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--out", str(out),
               "--split", "1997-10-01", "--currency", "USD", "--cny-per-unit", "7.2",
               "--json", str(rep), "--no-seasonality"])  # the published plain BG/NBD
    assert rc == 0, capsys.readouterr()
    assert main(["validate", str(out)]) == 0
    text = out.read_text()
    assert "CDNOW_sample.txt" in text and "split 1997-10-01" in text
    assert "r 0.2426" in text and "alpha 4.414" in text and "churn_heterogeneity = " in text
    sc = load(out)
    seg, = sc.segments
    r, alpha = 0.2426, 4.414
    assert seg.orders_per_month == pytest.approx(r / alpha * 365.25 / 12 / 7, rel=2e-3)
    assert seg.order_rate_cv == pytest.approx(r ** -0.5, rel=2e-3)
    assert 0 < seg.churn_annual < 1 and sc.population.customers == 2357
    assert seg.spend_per_order_cny == pytest.approx(json.loads(rep.read_text())
                                                    ["segments"][0]["spend_mean"] * 7.2)


def test_fit_segments_are_equal_share_bands_that_keep_the_mean_rate(tmp_path):
    out = tmp_path / "shop.toml"
    assert main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--out", str(out),
                 "--split", "1997-10-01", "--segments", "3", "--segment-by", "bands",
                 "--no-seasonality"]) == 0  # the published plain BG/NBD's mean rate
    sc = load(out)
    assert sc.population.seasonality is None
    assert [round(s.share, 6) for s in sc.segments] == [0.333333] * 3
    rates = [s.orders_per_month for s in sc.segments]
    assert rates == sorted(rates)
    assert sum(rates) / 3 == pytest.approx(0.2426 / 4.414 * 365.25 / 12 / 7, rel=5e-3)
    churn = [s.churn_annual for s in sc.segments]
    assert churn == sorted(churn)  # dropout follows purchases: faster buyers churn sooner


def test_segment_column_gets_one_fit_per_segment(tmp_path):
    import pandas as pd

    from tests.test_datafit_fit import TRUE, synthetic_csv

    p = synthetic_csv(tmp_path, TRUE, 1500, seed=5)
    df = pd.read_csv(p)
    df["seg"] = df["customer_id"].map(lambda c: "VIP" if c % 4 == 0 else "Regular")
    df.to_csv(p, index=False)
    out = tmp_path / "shop.toml"
    assert main(["fit", str(p), "--segment", "seg", "--out", str(out)]) == 0
    sc = load(out)
    shares = {s.name: s.share for s in sc.segments}
    assert shares == pytest.approx({"Regular": 0.75, "VIP": 0.25}, abs=0.01)
    assert main(["fit", str(p), "--segment", "seg", "--segments", "2", "--out", str(out),
                 "--force"]) == 2


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\na,nope,1\nb,2024-01-01,-3\n")
    out = tmp_path / "shop.toml"
    assert main(["fit", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no valid rows" in err and "line" in err and "Traceback" not in err
    assert not out.exists()
    out.write_text("keep")
    assert main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "keep"
    assert main(["validate-fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE,
                 "--split", "2030-01-01"]) == 2
    assert "split date" in capsys.readouterr().err


def test_validate_fit_prints_and_writes_the_holdout_comparison(tmp_path, capsys):
    rep = tmp_path / "vf.json"
    assert main(["validate-fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE,
                 "--split", "1997-10-01", "--json", str(rep)]) == 0
    out = capsys.readouterr().out
    assert "1,882" in out and "-11.6%" in out and "7+" in out
    r = json.loads(rep.read_text())
    assert r["holdout_total"]["actual"] == 1882
    assert len(r["weekly"]["cumulative_forecast"]) == 78


def test_fitted_scenario_is_a_baseline_without_scheme_and_runs(tmp_path):
    out = tmp_path / "shop.toml"
    assert main(["fit", str(cdnow("CDNOW_sample.txt")), *SAMPLE, "--out", str(out)]) == 0
    sc = load(out)
    assert not sc.tier_rules.enabled and sc.promotions == []
    assert main(["run", str(out), "-r", "2", "-n", "500", "--months", "6", "--workers", "1"]) == 0


def test_validate_fit_workbook_has_the_figures_charts_and_text_stays_text(tmp_path):
    import shutil

    import openpyxl

    log = tmp_path / "=cmd.txt"  # a file name that would be a formula
    shutil.copy(cdnow("CDNOW_sample.txt"), log)
    book, rep = tmp_path / "holdout.xlsx", tmp_path / "h.json"
    assert main(["validate-fit", str(log), *SAMPLE, "--split", "1997-10-01",
                 "--excel", str(book), "--json", str(rep)]) == 0
    r = json.loads(rep.read_text())
    wb = openpyxl.load_workbook(book)
    ws = wb["Holdout"]
    assert ws["B1"].value == "=cmd.txt" and ws["B1"].data_type == "s"
    cells = {ws.cell(i, 1).value: [ws.cell(i, j).value for j in (2, 3, 4)]
             for i in range(1, ws.max_row + 1)}
    assert cells["Repeat transactions in the holdout"] == [
        1882, pytest.approx(r["holdout_total"]["forecast"]), pytest.approx(-0.1158, abs=1e-3)]
    wk = wb["Weekly"]
    assert [wk.cell(79, j).value for j in (1, 4)] == [78, 4339]
    assert len(wk._charts) == 2
    assert not list(tmp_path.glob("*.tmp*"))
