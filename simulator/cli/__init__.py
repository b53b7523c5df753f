"""Command-line interface: ``benefit-sim run|validate|list|export|compare|optimise|calibrate``.

Every command drives the same engine as the GUI and reads the same result
tables. Exit codes: 0 ok, 1 run failed or target missed, 2 bad input. This
module holds the parser, run, validate and list; the other commands have a
module each in this package (``fit``/``validate-fit``: :mod:`simulator.datafit.cli`).
Domain modules never import the CLI; the console conventions are in
:mod:`simulator.console`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from simulator import metrics
from simulator.console import (
    SCENARIO_HELP,
    OutputError,
    _console,
    _why,
    check_output_path,
    run_with_progress,
    write_output,
)
from simulator.loader import load_scenario, loaded_from
from simulator.metrics import counted
from simulator.scenario_io import ScenarioError, load


def summary_table(res, title: str, keys=metrics.CLI_HEADLINE):
    """A rich table of headline metrics with intervals (labels and units: simulator.metrics)."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for col in ("metric", "mean", "95 % CI", "P10", "P50", "P90", "key"):
        t.add_column(col, justify="left" if col in ("metric", "key") else "right")
    for k in keys:
        s = res.summary.get(k)
        if s is None:
            continue
        kind = metrics.kind_of(k)
        if metrics.not_defined(s):
            t.add_row(metrics.label_of(k), metrics.stat_value(s, kind), "", "", "", "", k)
            continue
        t.add_row(metrics.label_of(k), metrics.value(s.mean, kind),
                  metrics.interval(s.ci95_low, s.ci95_high, kind) or "n/a",
                  metrics.value(s.p10, kind), metrics.value(s.p50, kind),
                  metrics.value(s.p90, kind), k)
    return t


def group_table(groups: dict, title: str, keys=metrics.CLI_GROUP):
    """Per-segment or per-tier means."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column("")
    for m in keys:
        t.add_column(metrics.label_of(m), justify="right")
    for name, d in groups.items():
        t.add_row(name, *[metrics.stat_value(d[m], metrics.kind_of(m)) for m in keys])
    return t


def cmd_run(args) -> int:
    """``benefit-sim run``."""
    console = _console()
    ld = load_scenario(args.scenario)
    sc, path = ld.scenario, ld.path
    assert path is not None  # load_scenario always reads a file
    res = run_with_progress(sc, console, replications=args.replications, agents=args.agents,
                            seed=args.seed, horizon_months=args.months, workers=args.workers,
                            base=ld.base_scenario, assumptions=args.assumptions)
    res.meta["scenario_file"] = str(path)
    m = res.meta
    console.print(f"[bold]{sc.name}[/bold]  ({path.name})")
    console.print(f"{counted(m['replications'], 'replication')} × {m['agents']:,} agents "
                  f"(1 agent = {m['customers_per_agent']:.1f} customers), {m['horizon_months']} "
                  f"months, seed {m['seed']}, counterfactual: {m['counterfactual']}, "
                  f"{m['elapsed_seconds']:.2f} s")
    for warning in res.service_warnings():
        console.print(f"[bold yellow]warning:[/bold yellow] {warning}", highlight=False)
    console.print(summary_table(res, "Summary over the horizon (CNY; 95 % CI across replications)"))
    console.print(group_table(res.by_segment, "By segment (means)"))
    if res.tiers_shared:
        console.print(group_table(res.by_tier, "By tier (means; flows by current tier, LTV by "
                                               "tier at start)"))
    else:  # the base has other tiers: no tier is paired with a base tier, so no increments
        per_arm = ("revenue", "net_contribution", "ltv_per_customer", "active_customers_end",
                   "churn_annual")
        console.print(group_table(res.by_tier, f"By tier of {sc.name} (means; the base has "
                                  "other tiers, so tiers have no incremental figures; "
                                  "increments are by segment and in total)", per_arm))
        console.print(group_table(res.by_tier_counterfactual,
                                  f"By tier of the base, {m.get('base_scenario')} "
                                  "(counterfactual arm; means)", per_arm))
    if any(k in res.summary for k in metrics.LIFECYCLE_HEADLINE):
        # dormancy, recall campaigns or word of mouth act in this scenario
        console.print(summary_table(res, "Customer lifecycle (95 % CI across replications)",
                                    metrics.LIFECYCLE_HEADLINE))
    from simulator.cli.accounting import accounting_csv, accounting_json, print_accounting

    print_accounting(console, res, sc)
    from simulator.uncertainty import json_safe, risk_summary

    risk = risk_summary(res, args.roi_target)
    if risk is not None:
        from simulator.cli.risk import print_risk

        print_risk(console, risk)
    elif m.get("uncertainty"):
        console.print(f"{counted(len(m['uncertainty']['inputs']), 'input')} are written as "
                      f"ranges; this run "
                      "used their nominal values (run.uncertainty.mode). Draw them with "
                      "--assumptions sample, or see `benefit-sim risk`.", highlight=False)
    if args.json:
        js = res.to_json()
        js.update(accounting_json(res, sc))
        if risk is not None:
            js["risk"] = json_safe(risk)
        write_output(args.json, json.dumps(js, indent=2, ensure_ascii=False)
                     .encode("utf-8"), "--json")
        console.print(f"wrote {args.json}")
    if args.csv:
        from simulator.csv_safe import csv_bytes

        d = Path(args.csv)
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--csv {d}: cannot create the folder ({_why(exc)})") from None
        for name in ("monthly", "service", "migration", "cohorts", "ltv", "kpis"):
            write_output(d / f"{name}.csv", csv_bytes(getattr(res, name)), "--csv")
        for name, frame in accounting_csv(res, sc).items():
            write_output(d / f"{name}.csv", csv_bytes(frame), "--csv")
        console.print(f"wrote CSV tables to {d}/")
    return 0


def check_options(args) -> None:
    """Sample options and output paths, checked before any work (ScenarioError/OutputError)."""
    from simulator.scenario_io import Issue, check_run_options

    opts = {k: getattr(args, k, None) for k in ("replications", "agents", "months", "seed",
                                                "budget")}
    issues = check_run_options(**opts)
    workers = getattr(args, "workers", None)
    if workers is not None and not 1 <= workers <= 256:
        issues.append(Issue("workers", workers, "must be between 1 and 256 processes"))
    cluster = getattr(args, "cluster", None)
    if cluster is not None:
        from simulator.execution import parse_spec

        try:
            parse_spec(cluster)
        except ValueError as exc:
            issues.append(Issue("cluster", cluster,
                                str(exc).removeprefix(f"cluster: {cluster!r} ")))
    if issues:
        flag = {"run.horizon_months": "--months", "workers": "--workers",
                "budget.total_cny_per_month": "--budget"}
        raise ScenarioError([Issue(i.path, i.value, i.message,
                                   f"{flag.get(i.path, '--' + i.path.split('.')[-1])} "
                                   f"({i.place()})") for i in issues],
                            what="the command-line options")
    if getattr(args, "json", None):
        check_output_path(args.json, "--json")
    if getattr(args, "csv", None):
        check_output_path(args.csv, "--csv", folder=True)


def cmd_validate(args) -> int:
    """``benefit-sim validate``: exit 2 with every problem listed."""
    from rich.markup import escape

    console = _console()
    bad = 0
    for f in args.files:
        try:
            ld = loaded_from(load(f), f)  # the scenario and its base, as a run loads them
            base = (f" (base: {ld.base.path.name})"
                    if ld.base is not None and ld.base.path is not None else "")
            console.print("[green]ok[/green] " + escape(f"{f}: {ld.scenario.name}{base}"))
        except ScenarioError as exc:
            bad += 1
            console.print(f"[red]invalid[/red] {f}: {len(exc.issues)} problem(s)")
            for i in exc.issues:
                at = "" if i.path.startswith("(") else f"  ({i.path})"
                console.print(f"  - {i}{at}", markup=False)
    return 2 if bad else 0


def cmd_list(args) -> int:
    """``benefit-sim list``: shipped and user scenarios."""
    from rich.table import Table

    from simulator import library as scenarios

    t = Table(title="Scenarios")
    for c in ("key", "name", "where", "status"):
        t.add_column(c)
    entries = scenarios.list_all()
    for e in entries:
        t.add_row(e.key, e.title, "shipped" if e.shipped else str(e.path.parent),
                  "ok" if e.error is None else "invalid")
    console = _console()
    console.print(t)
    for e in entries:
        if e.error is not None:
            first = e.error.splitlines()[1:2] or e.error.splitlines()[:1]
            console.print(f"invalid {e.path.name}: " + first[0].strip(" -"), markup=False)
    warning = scenarios.user_dir_warning()
    if warning:
        _console(stderr=True).print(f"warning: {warning}", markup=False)
    return 0


def _delegate(module: str, func: str):
    def handler(args):
        import importlib

        return getattr(importlib.import_module(module), func)(args)
    return handler


def _share_arg(text: str) -> float:
    """A share strictly between 0 and 1 (argparse type)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"{text} must be between 0 and 1, e.g. 0.8 for 80 %")
    return v


def _sample_args(p: argparse.ArgumentParser, months: bool = True) -> None:
    """The sample options every simulating command shares."""
    p.add_argument("--replications", "-r", type=int, help="replications (default: the file's)")
    p.add_argument("--seed", "-s", type=int, help="seed (default: the file's)")
    p.add_argument("--agents", "-n", type=int, help="simulated customers (sample size)")
    if months:
        p.add_argument("--months", type=int, help="horizon in months")
    p.add_argument("--cluster", metavar="WHERE",
                   help="where replications run: tcp://HOST:PORT (a Dask scheduler), local:N "
                        "(N Dask workers here) or local (default; $BENEFIT_SIM_CLUSTER; "
                        "docs/CLUSTER.md)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    p = argparse.ArgumentParser(prog="benefit-sim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("run", help="simulate a scenario and print its summary")
    r.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    _sample_args(r)
    r.add_argument("--workers", type=int, help="processes (default: automatic)")
    r.add_argument("--json", help="write the result file (docs/RESULTS.md)")
    r.add_argument("--csv", help="write the tidy tables as CSV into this folder")
    r.add_argument("--assumptions", choices=["sample", "nominal"],
                   help="inputs written as ranges: draw them per replication (sample) or use "
                   "their nominal values (default: the file's run.uncertainty.mode)")
    r.add_argument("--roi-target", type=float, default=0.0,
                   help="ROI for P(ROI > target) when inputs are ranges (0.2 = 20 %%; default 0)")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check scenario files; exit 2 if any is invalid")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=cmd_validate)

    ls = sub.add_parser("list", help="list shipped and user scenarios")
    ls.set_defaults(func=cmd_list)

    e = sub.add_parser("export", help="run a scenario and write its Excel workbook")
    e.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    e.add_argument("--excel", required=True, help="output .xlsx")
    _sample_args(e)
    e.add_argument("--force", action="store_true", help="overwrite an existing file")
    e.set_defaults(func=_delegate("simulator.cli.export", "cli_export"))

    c = sub.add_parser("compare", help="compare scenarios with a base; print KPI deltas")
    c.add_argument("base", help="the base scenario")
    c.add_argument("others", nargs="+", help="scenarios to compare with the base")
    c.add_argument("--excel", help="also write the comparison workbook")
    c.add_argument("--json", help="also write the comparison file (docs/RESULTS.md)")
    _sample_args(c)
    c.add_argument("--force", action="store_true", help="overwrite an existing file")
    c.set_defaults(func=_delegate("simulator.cli.compare", "cli_compare"))

    o = sub.add_parser("optimise", aliases=["optimize"],
                       help="split a budget across levers to maximise an objective")
    o.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    o.add_argument("--budget", type=float, help="total CNY per month (default: today's spend)")
    o.add_argument("--objective", choices=["npv", "roi", "ltv"])
    o.add_argument("--json", help="write the allocation result")
    o.add_argument("--excel", help="write the allocation workbook")
    _sample_args(o, months=False)
    o.add_argument("--force", action="store_true", help="overwrite an existing file")
    o.set_defaults(func=_delegate("simulator.cli.optimise", "cli_optimise"))

    k = sub.add_parser("calibrate", help="compare a scenario with the studies' observed figures")
    k.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    _sample_args(k, months=False)
    k.add_argument("--json", help="write the report as JSON")
    k.set_defaults(func=_delegate("simulator.cli.calibrate", "cli_calibrate"))

    q = sub.add_parser("capacity", help="offered load vs staff per pool and period, and the "
                       "staff Erlang C says the SLA needs (theory, instant)")
    q.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    q.add_argument("--sla-target", type=_share_arg, default=0.8,
                   help="share to answer within the SLA hours, 0-1 (default 0.8)")
    q.add_argument("--json", help="write the check as JSON")
    q.set_defaults(func=_delegate("simulator.cli.capacity", "cli_capacity"))

    a = sub.add_parser("attribute", help="split the scheme's result across its parts (Shapley)")
    a.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    a.add_argument("--by", choices=["benefit", "group"], default="benefit",
                   help="parts: each benefit, or lever groups (default: benefit)")
    a.add_argument("--permutations", type=int, help="sampled permutations above 8 parts")
    a.add_argument("--json", help="write the attribution as JSON")
    a.add_argument("--excel", help="write the Attribution sheet (a workbook of its own)")
    a.add_argument("--force", action="store_true", help="overwrite an existing workbook")
    _sample_args(a)
    a.set_defaults(func=_delegate("simulator.cli.attribution", "cli_attribute"))

    x = sub.add_parser("explain", help="why OTHER differs from BASE: a waterfall over the "
                       "groups of changed inputs")
    x.add_argument("base", help="the base scenario")
    x.add_argument("other", help="the scenario to explain")
    x.add_argument("--kpi", default="npv", help="metric key (default: npv)")
    x.add_argument("--permutations", type=int, help="sampled permutations above 8 groups")
    x.add_argument("--json", help="write the waterfall as JSON")
    x.add_argument("--excel", help="write the Why different sheet (a workbook of its own)")
    x.add_argument("--force", action="store_true", help="overwrite an existing workbook")
    _sample_args(x)
    x.set_defaults(func=_delegate("simulator.cli.attribution", "cli_explain"))

    from simulator.cli.sensitivity import register as register_sensitivity

    register_sensitivity(sub, _sample_args)  # sensitivity, goalseek, breakeven

    from simulator.cli.risk import register as register_risk

    register_risk(sub, _sample_args)  # risk

    from simulator.datafit.cli import register as register_datafit

    register_datafit(sub)  # fit, validate-fit
    return p


def _on_sigterm(signum, frame) -> None:
    """SIGTERM: end the worker processes with us, then exit (128 + signal)."""
    runner = sys.modules.get("simulator.runner")
    if runner is not None:
        runner.kill_pool()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``benefit-sim`` console script."""
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = parser.parse_args(["run"])
    try:
        check_options(args)
        if getattr(args, "cluster", None) is not None:
            from simulator.execution import configure

            configure(args.cluster)  # connects at the first replication
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # anything else the system refuses: one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{_why(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130

