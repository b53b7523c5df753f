"""``benefit-sim optimise``: print the recommended split; write JSON / Excel."""

from __future__ import annotations

import json
import math

from simulator.optimiser.levers import describe_changes


def cli_optimise(args) -> int:
    """``benefit-sim optimise``: print the recommended split; write JSON / Excel."""
    from pathlib import Path

    from rich.table import Table

    from simulator.console import _console
    from simulator.loader import load_scenario
    from simulator.metrics import OBJECTIVES, interval, kind_of, money, value
    from simulator.optimiser import OPTIMISER_DEFAULTS, optimise
    from simulator.scenario_io import atomic_write_bytes

    console = _console()
    if args.json and Path(args.json).exists() and not args.force:
        raise FileExistsError(f"{args.json} exists (use --force to overwrite)")
    if args.excel:
        from simulator.excel import check_output

        check_output(args.excel, overwrite=bool(args.force))  # fail before the long run
    ld = load_scenario(args.scenario)
    sc, path, base = ld.scenario, ld.path, ld.base_scenario
    assert path is not None  # load_scenario always reads a file
    progress = None
    if console.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        prog = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                        transient=True)
        prog.start()
        task = prog.add_task("simulations", total=None)

        def progress(done, total):
            prog.update(task, completed=done, total=total)
    try:
        d = OPTIMISER_DEFAULTS
        reps = args.replications or d.replications
        alloc = optimise(sc, budget=args.budget, objective=args.objective, agents=args.agents,
                         replications=reps, levels=d.levels,
                         verify_replications=max(d.verify_replications, reps),
                         local_check=d.local_check, seed=args.seed, progress=progress,
                         base=base)
    finally:
        if progress is not None:
            prog.stop()
    h = alloc.headline()
    kind = kind_of(OBJECTIVES[alloc.objective])

    def fv(x):
        if x is None or not math.isfinite(x):
            return "n/a"
        return value(x, kind)

    console.print(f"[bold]{sc.name}[/bold]  ({path.name}) — maximise {h['objective_label']}, "
                  f"budget {money(h['budget_cny'])}/month ({h['constraint']}), "
                  f"{h['simulations']} simulations, {h['elapsed_seconds']:.1f} s")
    t = Table(title="Recommended split (CNY per month)", title_justify="left")
    for c in ("lever", "today", "recommended", "change", "min", "max", "binds",
              "marginal now", "marginal rec.", "curve"):
        t.add_column(c, justify="left" if c in ("lever", "binds", "curve") else "right")
    for r in alloc.levers.itertuples():
        t.add_row(r.label, money(r.current_cny), money(r.recommended_cny),
                  money(r.change_cny), money(r.min_cny), money(r.max_cny),
                  r.binding, f"{r.marginal_return_current:,.3f}",
                  f"{r.marginal_return_recommended:,.3f}", r.curve)
    console.print(t)
    f = Table(title=f"Budget vs best {h['objective_label']} (simulated, against today's "
                    "counterfactual; 95 % CI)",
              title_justify="left")
    for c in ("budget", "CNY/month", "best", "95 % CI"):
        f.add_column(c, justify="right")
    for r in alloc.frontier.itertuples():
        f.add_row(f"{100 * r.budget_share:.0f} %", money(r.budget_cny), fv(r.objective_mean),
                  interval(r.ci_low, r.ci_high, kind) or "n/a" if r.feasible else "infeasible")
    console.print(f)
    v = alloc.verification
    gain_ci = interval(v.gain.ci95_low, v.gain.ci95_high, kind) or "n/a"
    console.print(f"Today {fv(v.today.mean)}  →  recommended {fv(v.recommended.mean)}; gain "
                  f"{fv(v.gain.mean)} (95 % CI {gain_ci}, {v.gain.n} paired replications)")
    console.print(f"[bold]{v.verdict}[/bold]")
    changes = describe_changes(sc, alloc.apply(sc))
    console.print(f"The recommended split, as the app's “Apply this split” writes it into a "
                  f"copy of {path.name} (a run of that copy with --agents {h['agents']} "
                  f"--replications {h['verify_replications']} --seed {h['seed']} "
                  f"--months {h['horizon_months']} gives the recommended figure):", markup=False)
    for c in changes or ["nothing changes (today's split)"]:
        console.print(f"  • {c}", markup=False)
    if args.json:
        atomic_write_bytes(args.json, json.dumps(alloc.to_json(), indent=2, ensure_ascii=False)
                           .encode("utf-8"))
        console.print(f"wrote {args.json}")
    if args.excel:
        from simulator.optimisation_workbook import export_optimisation_workbook

        out = export_optimisation_workbook(sc, path, alloc, args.excel, overwrite=bool(args.force))
        console.print(f"wrote {out}")
    return 0
