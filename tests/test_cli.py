"""The CLI drives the same engine and writes the documented JSON."""

import dataclasses
import json

from simulator.cli import main

REQUIRED = ["revenue", "net_contribution", "incremental_contribution", "npv", "roi",
            "ltv_per_customer", "active_customers_end", "service_wait_mean_hours"]


def test_run_writes_documented_json_and_csv(tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(["run", "xinghe_today", "-r", "2", "-n", "800", "--months", "6",
               "--json", str(out), "--csv", str(tmp_path / "csv")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "npv" in text and "95 % CI" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    for k in REQUIRED:
        s = data["summary"][k]
        assert set(s) >= {"mean", "ci95_low", "ci95_high", "p10", "p50", "p90", "unit"}
        assert s["mean"] is not None
    assert data["meta"]["replications"] == 2 and data["meta"]["agents"] == 800
    seg = next(iter(data["by_segment"].values()))
    tier = next(iter(data["by_tier"].values()))
    for k in ("revenue", "ltv_per_customer", "active_customers_end"):
        assert k in seg and k in tier
    assert (tmp_path / "csv" / "monthly.csv").stat().st_size > 0


def test_run_prints_the_lifecycle_only_where_it_acts(capsys):
    """A scenario with dormancy, recall and referrals gets a lifecycle table; others none."""
    from simulator import metrics

    assert main(["run", "lifecycle_recall_referrals", "-r", "2", "-n", "800", "--months",
                 "6"]) == 0
    text = capsys.readouterr().out
    assert "Customer lifecycle" in text
    for k in ("dormant_share_end", "recall_success"):
        assert metrics.label_of(k) in text
    assert main(["run", "xinghe_today", "-r", "2", "-n", "500", "--months", "3"]) == 0
    assert "Customer lifecycle" not in capsys.readouterr().out


def test_run_without_arguments_uses_default(capsys, monkeypatch):
    import simulator.cli as cli

    called = {}
    orig = cli.load_scenario

    def spy(arg):
        called["arg"] = arg
        ld = orig(arg)
        sc = ld.scenario.model_copy(update={"run": ld.scenario.run.model_copy(
            update={"agents": 500, "replications": 1, "horizon_months": 3})})
        return dataclasses.replace(ld, scenario=sc)

    monkeypatch.setattr(cli, "load_scenario", spy)
    assert main([]) == 0
    assert called["arg"] is None


def test_bad_inputs_exit_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert main(["run", "xinghe_today", "-r", "0"]) == 2
    err = capsys.readouterr().err
    assert "--replications (Run settings ▸ Replications): 0 runs — must be between 1 and " \
        "2,000 runs" in err
