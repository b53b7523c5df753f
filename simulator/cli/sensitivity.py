"""``benefit-sim sensitivity | goalseek | breakeven``: the commands of simulator.sensitivity."""

from __future__ import annotations

import json

from simulator import metrics
from simulator.metrics import counted
from simulator.sensitivity import (
    DEFAULT_SWING,
    KPIS,
    Solution,
    Unreachable,
    break_even,
    goal_seek,
    tornado,
)


def _load(args):
    from simulator.loader import load_scenario

    ld = load_scenario(args.scenario)
    sample = {"replications": args.replications, "agents": args.agents, "seed": args.seed,
              "horizon_months": getattr(args, "months", None),
              "workers": getattr(args, "workers", None)}
    return ld, {k: v for k, v in sample.items() if v is not None}


def _progress_work(console, fn, label):
    from simulator.console import with_progress

    return with_progress(console, fn, None, label)


def _parse_range(text: str) -> tuple[str, tuple[float, float]]:
    try:
        name, rng = text.rsplit("=", 1)
        lo, hi = (float(x) for x in rng.split(":"))
    except ValueError:
        raise ValueError(f"--range {text!r}: write INPUT=LOW:HIGH, e.g. "
                         "segments[0].churn_annual=0.2:0.4") from None
    return name.strip(), (lo, hi)


def print_tornado(console, t) -> None:
    """The tornado table, ranked (sensitivity and risk print the same)."""
    from rich.table import Table

    kind = metrics.kind_of(t.metric)
    console.print(f"[bold]{t.scenario}[/bold]: tornado of {metrics.label_of(t.metric)} "
                  f"(centre {metrics.stat_text(t.centre, kind)}); "
                  f"{counted(t.meta['runs'], 'run')} × "
                  f"{counted(t.meta['replications'], 'replication')}, seed {t.meta['seed']}, "
                  f"common "
                  "random numbers, every other input at its nominal value", highlight=False)
    tab = Table(title="Inputs ranked by swing (intervals: paired differences, 95 %)",
                title_justify="left")
    for col in ("input", "low → high", "KPI at low", "KPI at high", "swing", "swing 95 % CI"):
        tab.add_column(col, justify="left" if col in ("input", "low → high") else "right")
    for b in t.bars:
        fmtv = (metrics.money if b.unit else (lambda v: f"{v:,.4g}"))
        tab.add_row(b.label + (f"  ({b.input})" if b.label != b.input else ""),
                    b.range_text or (f"{fmtv(b.low)} → {fmtv(b.high)}"
                                     + (" /month" if b.unit else "")),
                    metrics.stat_value(b.kpi_low, kind), metrics.stat_value(b.kpi_high, kind),
                    metrics.delta(b.swing.mean, kind),
                    metrics.delta_interval(b.swing.ci95_low, b.swing.ci95_high, kind))
    console.print(tab)
    for skip in t.skipped:
        console.print(f"not swung: {skip}", markup=False)


def cli_sensitivity(args) -> int:
    """``benefit-sim sensitivity``: the tornado table, ranked."""
    from simulator.console import _console, write_output

    console = _console()
    ld, sample = _load(args)
    ranges = dict(_parse_range(r) for r in (args.range or []))
    t = _progress_work(console, lambda **pc: tornado(
        ld.scenario, args.kpi, args.inputs, args.swing, ranges, ld.base_scenario, **pc,
        spider_points=args.spider_points, **sample), "runs (replications)")
    print_tornado(console, t)
    if args.json:
        from simulator.uncertainty import json_safe

        write_output(args.json, json.dumps(json_safe(t.to_json()), indent=2, ensure_ascii=False)
                     .encode("utf-8"), "--json")
        console.print(f"wrote {args.json}")
    return 0


def _print_solution(console, s: Solution, what: str) -> None:
    kind = metrics.kind_of(s.metric)
    iv = metrics.about(*s.interval)
    console.print(f"{what}: [bold]{s.value:,.6g}[/bold]{iv}; {metrics.label_of(s.metric)} there "
                  f"{metrics.stat_text(s.kpi_at_value, kind)}", highlight=False)
    if s.note:
        console.print(f"  {s.note}", markup=False)
    console.print("  evaluations: " + ", ".join(f"{x:,.4g} → {metrics.value(y, kind)}"
                                                for x, y in s.evaluations), markup=False)


def _solve_cli(args, work, what) -> int:
    from simulator.console import _console, write_output

    console = _console()
    try:
        s = _progress_work(console, work, "runs (replications)")
    except Unreachable as exc:
        console.print(f"unreachable: {exc}", markup=False)
        if args.json:
            write_output(args.json, json.dumps({"reachable": False, "why": str(exc)},
                                               indent=2).encode("utf-8"), "--json")
        return 1
    _print_solution(console, s, what)
    if args.json:
        write_output(args.json, json.dumps({"reachable": True, **s.to_json()}, indent=2,
                                           ensure_ascii=False).encode("utf-8"), "--json")
        console.print(f"wrote {args.json}")
    return 0


def cli_goalseek(args) -> int:
    """``benefit-sim goalseek``: exit 1 when the target is unreachable in the range."""
    ld, sample = _load(args)
    return _solve_cli(args, lambda **pc: goal_seek(
        ld.scenario, args.input, args.kpi, args.target, args.low, args.high, ld.base_scenario,
        **pc, **sample), f"{args.input} for {args.kpi} = {args.target:g}")


def cli_breakeven(args) -> int:
    """``benefit-sim breakeven``: k with NPV(k) = 0; exit 1 when NPV keeps its sign."""
    ld, sample = _load(args)
    return _solve_cli(args, lambda **pc: break_even(ld.scenario, ld.base_scenario, args.high,
                                                    **pc, **sample),
                      "share k of the assumed effects at which NPV = 0")


def register(sub, sample_args) -> None:
    """Add ``sensitivity``, ``goalseek`` and ``breakeven`` to the CLI's subparsers."""
    from simulator.console import SCENARIO_HELP

    s = sub.add_parser("sensitivity", help="tornado: swing each lever or input and rank its "
                       "effect on a KPI (common random numbers)")
    s.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    s.add_argument("--kpi", choices=list(KPIS), default="npv")
    s.add_argument("--inputs", nargs="+", metavar="INPUT",
                   help="lever ids or parameter paths (default: every input written as a range, "
                   "else every lever)")
    s.add_argument("--range", action="append", metavar="INPUT=LOW:HIGH",
                   help="swing this input over its own range (repeatable)")
    s.add_argument("--spider-points", type=int, default=3, metavar="N",
                   help="values per input for the spider chart data in --json (3: low, "
                   "centre, high, no extra runs; more: N - 3 extra runs per input)")
    s.add_argument("--swing", type=float, default=DEFAULT_SWING,
                   help="relative swing when no range is given (default 0.2 = ±20 %%)")
    s.add_argument("--json", help="write the tornado as JSON")
    sample_args(s)
    s.add_argument("--workers", type=int, help="processes (default: automatic)")
    s.set_defaults(func=cli_sensitivity)

    g = sub.add_parser("goalseek", help="the value of one input at which a KPI reaches a target")
    g.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    g.add_argument("--input", required=True, help="parameter path or lever id")
    g.add_argument("--kpi", choices=list(KPIS), required=True)
    g.add_argument("--target", type=float, required=True, help="KPI value (shares as 0-1)")
    g.add_argument("--low", type=float, help="bracket low (default today's ÷ 4)")
    g.add_argument("--high", type=float, help="bracket high (default today's × 4)")
    g.add_argument("--json", help="write the answer as JSON")
    sample_args(g)
    g.add_argument("--workers", type=int, help="processes (default: automatic)")
    g.set_defaults(func=cli_goalseek)

    b = sub.add_parser("breakeven", help="the share of the assumed effects at which NPV = 0")
    b.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    b.add_argument("--high", type=float, help="largest k tried (default: what the effects' "
                   "ranges allow, at most 10)")
    b.add_argument("--json", help="write the answer as JSON")
    sample_args(b)
    b.add_argument("--workers", type=int, help="processes (default: automatic)")
    b.set_defaults(func=cli_breakeven)
