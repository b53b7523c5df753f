"""The command line's view of uncertain inputs: what ``run`` adds when a scenario has ranges."""

from __future__ import annotations

import math

from simulator import metrics
from simulator.metrics import counted


def _pct(p: float) -> str:
    return "n/a" if not math.isfinite(p) else f"{100 * p:.0f} %"


def print_risk(console, risk: dict) -> None:
    """Print the probabilistic answers of :func:`simulator.uncertainty.risk_summary`."""
    from rich.table import Table

    n_in = len(risk["inputs"])
    console.print(f"[bold]With the uncertain inputs[/bold]: {n_in} input"
                  f"{'s' if n_in != 1 else ''} written as ranges, {risk['draws']} Latin "
                  f"hypercube draws × {counted(risk['replications_per_draw'], 'replication')} "
                  f"(inputs hash {risk['inputs_hash']})", highlight=False)
    t = Table(title="Assumptions and simulation noise (one replication's value; the split: "
              "one-way ANOVA over draws)", title_justify="left")
    for col in ("metric", "mean", "95 % CI of mean", "P10", "P50", "P90", "95 % range",
                "from assumptions", "from noise"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for key, k in risk["kpis"].items():
        kind = metrics.kind_of(key)
        t.add_row(k["label"], metrics.value(k["mean"], kind),
                  metrics.interval(k["ci95"][0], k["ci95"][1], kind) or "n/a",
                  metrics.value(k["p10"], kind), metrics.value(k["p50"], kind),
                  metrics.value(k["p90"], kind),
                  metrics.interval(k["range95"][0], k["range95"][1], kind) or "n/a",
                  _pct(k["share_assumptions"]), _pct(k["share_noise"]))
    console.print(t)
    roi = risk["p_roi_above_target"]
    console.print(f"P(NPV > 0) = {_pct(risk['p_npv_positive'])};  P(ROI > "
                  f"{metrics.value(roi['target'], metrics.kind_of('roi'))}) = {_pct(roi['p'])}",
                  highlight=False)
    g = risk["global"]
    if g["inputs"]:
        t = Table(title="Which assumptions move NPV (per draw: Spearman rank correlation, "
                  "standardised regression coefficient)", title_justify="left")
        for col in ("input", "range", "rank correlation", "SRC"):
            t.add_column(col, justify="left" if col in ("input", "range") else "right")
        text = {i["input"]: (i["label"], i["text"]) for i in risk["inputs"]}
        for row in g["inputs"]:
            lab, rng = text.get(row["input"], (row["input"], ""))
            t.add_row(lab, rng, _num(row["rank_correlation"]), _num(row["src"]))
        console.print(t)
        if g["why"]:
            console.print(f"  {g['why']}", markup=False)
        elif g["r2"] is not None:
            console.print(f"  linear model of NPV on the inputs: R² = {g['r2']:.2f}",
                          highlight=False)


def _num(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:+.2f}"


def cli_risk(args) -> int:
    """``benefit-sim risk``: the sampled run, tornado, spider data and break-even, one sample."""
    import json

    from simulator.cli.sensitivity import _load, _print_solution, print_tornado
    from simulator.console import _console, with_progress, write_output
    from simulator.sensitivity import risk_analysis
    from simulator.uncertainty import json_safe

    console = _console()
    ld, sample = _load(args)
    if args.excel:
        from simulator.excel import check_output

        check_output(args.excel, overwrite=args.force)
    ra = with_progress(console, lambda **pc: risk_analysis(
        ld.scenario, args.kpi, ld.base_scenario, args.roi_target, args.spider_points,
        **pc, **sample), None, "replications")
    if ra.risk is not None:
        print_risk(console, ra.risk)
    else:
        console.print("No input is written as a range: no distribution of NPV (the tornado "
                      "swings the budget levers).")
    print_tornado(console, ra.tornado)
    if ra.breakeven is not None:
        _print_solution(console, ra.breakeven, "share k of the assumed effects at which NPV = 0")
    else:
        console.print(f"break-even unreachable: {ra.breakeven_why}", markup=False)
    js = ra.to_json()
    if args.json:
        write_output(args.json, json.dumps(json_safe(js), indent=2, ensure_ascii=False)
                     .encode("utf-8"), "--json")
        console.print(f"wrote {args.json}")
    if args.excel:
        from simulator.excel import write_workbook
        from simulator.runner import run

        res = ra.result if ra.result is not None else run(
            ld.scenario, base=ld.base_scenario, **sample)
        p = write_workbook([(ld.scenario, ld.path, res)], args.excel, overwrite=args.force,
                           risk_sheet=js)
        console.print(f"wrote {p}")
    return 0


def register(sub, sample_args) -> None:
    """Add ``risk`` to the CLI's subparsers."""
    from simulator.console import SCENARIO_HELP
    from simulator.sensitivity import KPIS

    r = sub.add_parser("risk", help="how sure are we: the distribution of NPV over the inputs "
                       "written as ranges, tornado, spider and break-even on one sample")
    r.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    r.add_argument("--kpi", choices=list(KPIS), default="npv", help="the tornado's KPI")
    r.add_argument("--roi-target", type=float, default=0.0,
                   help="ROI for P(ROI > target) (0.2 = 20 %%; default 0)")
    r.add_argument("--spider-points", type=int, default=3, metavar="N",
                   help="values per input for the spider data (3: no extra runs)")
    r.add_argument("--json", help="write everything as JSON")
    r.add_argument("--excel", help="write the workbook with its Risk sheet")
    r.add_argument("--force", action="store_true", help="overwrite an existing workbook")
    sample_args(r)
    r.add_argument("--workers", type=int, help="processes (default: automatic)")
    r.set_defaults(func=cli_risk)
