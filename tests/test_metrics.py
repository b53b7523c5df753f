"""The one metric catalogue and formatter: every reported figure declared, one way to write it."""

from __future__ import annotations

import math

import pytest

from simulator import compare, excel, metrics
from simulator.metrics import METRICS, delta, delta_interval, interval, value
from simulator.results import Stat
from simulator.runner import run


@pytest.fixture(scope="module")
def result():
    from simulator.scenario_io import from_dict
    from tests.conftest import simple_dict

    d = simple_dict()
    d["tiers"][0]["benefits"] = [{"name": "Gift", "kind": "gift", "cost_model": "per_member_month",
                                  "cost_cny": 2.0,
                                  "effect": {"churn": -0.2}}]
    d["run"].update(horizon_months=6, agents=500, replications=2)
    sc = from_dict(d)
    res = run(sc, workers=1)
    res.meta["_scenario"] = sc  # for the workbook test (not part of the result file)
    return res


def test_every_reported_metric_is_declared(result):
    """Summary, segment and tier figures all have a catalogue entry (label, unit, kind)."""
    for key in result.kpis.columns:
        assert key in METRICS, key
        m = METRICS[key]
        assert m.label and m.definition and m.kind in metrics.KINDS
        assert result.summary[key].unit == m.unit
    for view in (metrics.CLI_HEADLINE, metrics.CLI_GROUP, metrics.MONTHLY, compare.VS_BASE,
                 compare.ABSOLUTE, compare.OWN_COUNTERFACTUAL):
        assert set(view) <= set(METRICS)
    assert set(metrics.OBJECTIVES.values()) <= set(METRICS)


def test_views_read_the_catalogue():
    """compare's KPIs and the workbook's monthly columns take label and kind from METRICS."""
    for kp in compare.KPIS:
        assert kp.label.startswith(METRICS[kp.metric].label)
        assert kp.kind == METRICS[kp.metric].kind
    for key, header, kind in excel.MONTHLY_SIM:
        assert (header, kind) == (METRICS[key].label, METRICS[key].kind)
    for kind in metrics.KINDS:
        assert kind in excel.FMT


def test_roi_reads_the_same_everywhere(result, capsys):
    """ROI 1.5 is '150.0 %' in the console, on screen (same formatter) and in the workbook."""
    assert value(1.5, METRICS["roi"].kind) == "150.0 %"
    assert excel.FMT[METRICS["roi"].kind] == "0.0%"  # Excel shows 1.5 as 150.0%
    from rich.console import Console

    from simulator.cli import summary_table

    console = Console(width=200, record=True)
    console.print(summary_table(result, "t"))
    row = next(line for line in console.export_text().splitlines() if "ROI" in line)
    s = result.summary["roi"]
    assert value(s.mean, "ratio") in row and "%" in row


def test_formats():
    assert interval(-1.24, -1.09, "hours") == "−1.24 to −1.09 h"
    assert interval(10.1e6, 14.2e6, "money") == "¥10.1 to ¥14.2 M"
    assert interval(-2.0e9, -1.9e9, "money") == "−¥2.0 to −¥1.9 B"
    assert interval(0.12, 0.145, "share") == "12.0 to 14.5 %"
    assert value(-1_234_567, "money") == "−¥1.2 M"
    assert value(950, "money") == "¥950"
    assert value(7, "months") == "month 7.0"
    assert value(12_345, "count") == "12.3 k"
    assert value(math.nan, "money") == "—"
    assert delta(0.012, "share") == "+1.2 pp"
    assert delta_interval(-0.03, 0.01, "share") == "−3.0 to +1.0 pp"
    assert delta_interval(1.2e6, 3.4e6, "money") == "+¥1.2 to +¥3.4 M"
    assert delta(-0.5, "hours") == "−0.50 h"

def test_not_defined_is_said():
    s = Stat(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, "ratio", 0,
             "no incremental cost")
    assert metrics.stat_value(s, "ratio") == "not defined (no incremental cost)"
    assert metrics.stat_text(s, "ratio", "ROI") == "ROI not defined (no incremental cost)"
    p = Stat(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, "month", 0,
             "not reached within the horizon")
    assert metrics.stat_value(p, "months") == "not reached within the horizon"


def test_workbook_notes_define_every_figure(result):
    """The Definitions sheet gives each compared figure's definition from the catalogue."""
    wb = excel.build_workbook([(result.meta["_scenario"], None, result)])
    ws = wb["Definitions"]
    texts = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    start = texts.index("Definitions")
    defs = [t for t in texts[start + 1:] if isinstance(t, str)]
    for kp in compare.KPIS:
        if kp.section == "vs_base":  # one scenario: nothing to compare with
            continue
        m = METRICS[kp.metric]
        assert f"{m.label}: {m.definition}." in defs, kp.metric


def test_a_count_of_none_reads_0():
    """No customers lost reads "0", not "0.00"; a fractional mean count keeps its decimals."""
    assert metrics.value(0.0, "count") == "0"
    assert metrics.value(2.5, "count") == "2.50"


def test_counted_puts_the_noun_in_the_right_number():
    from simulator.metrics import counted

    assert counted(1, "draw") == "1 draw"
    assert counted(3, "draw") == "3 draws"
    assert counted(0, "run") == "0 runs"
    assert counted(1200, "run") == "1,200 runs"
    assert counted(1.0, "replication") == "1 replication"
    assert counted(1.5, "set") == "1.5 sets"
    assert counted(None, "input") == "None inputs"


def test_solved_value_interval_uses_the_one_formatter():
    """The break-even interval read "(95 % about -3.09 to 3.39)" in the GUI (a hyphen,
    two decimals) and "-3.091 to 3.394" in the CLI (its own format); both now print it
    with metrics.about: a true minus, three significant figures, no exponent."""
    assert metrics.number(-3.0912) == "−3.09"
    assert metrics.number(0.15) == "0.150"
    assert metrics.number(250_000.0) == "250,000"
    assert metrics.number(0.0) == "0"
    assert metrics.about(-3.0912, 3.394) == " (95 % about −3.09 to 3.39)"
    assert metrics.about(float("nan"), 1.0) == ""
    assert metrics.about(-3.0912, 3.394, bracket=False) == "95 % about −3.09 to 3.39"


def test_waits_counts_and_months_have_no_negative_interval():
    """The workbook's Summary printed 'Service wait, mean 0.03 h, 95 % low −0.09' (3
    replications) and the CLI a payback month from −1.9; counts and hours are cut at 0,
    months at 1, like shares at 0 and 1."""
    from simulator.replication_stats import Stat

    for key in ("service_wait_mean_hours", "service_wait_p90_hours", "members_end",
                "new_customers"):
        assert metrics.value_range(key) == (0.0, math.inf), key
    assert metrics.value_range("payback_month") == (1.0, math.inf)  # months count from 1
    assert metrics.value_range("sla_attainment") == (0.0, 1.0)
    assert metrics.value_range("npv") is None  # money has either sign
    st = Stat.of([0.0, 0.09, 0.0], "hours", within=metrics.value_range("service_wait_mean_hours"))
    assert st.ci95_low == 0.0 and st.mean == pytest.approx(0.03) and st.ci95_high > 0.09
