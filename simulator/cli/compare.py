"""``benefit-sim compare BASE OTHER...``: paired KPI deltas, input differences, workbook, JSON."""

from __future__ import annotations

from pathlib import Path

from simulator.compare import (
    Result,
    compare_scenarios,
    comparison_json,
    diff_table,
    print_comparison,
    run_scenarios,
)


def cli_compare(args) -> int:
    """``benefit-sim compare BASE OTHER... [--excel OUT.xlsx]``."""
    from simulator import excel
    from simulator.console import _console
    from simulator.loader import load_scenario

    console = _console()
    err = _console_err()
    if args.json and Path(args.json).exists() and not args.force:
        err.print(f"error: {args.json} exists (use --force to overwrite)", markup=False)
        return 2
    if args.excel:
        try:
            excel.check_output(args.excel, overwrite=args.force)
        except excel.ExportError as exc:
            err.print(f"error: {exc}", markup=False)
            return 2
    loaded = [load_scenario(a) for a in [args.base, *args.others]]
    bases = [ld.base_scenario for ld in loaded]
    items = [(ld.scenario, ld.path) for ld in loaded]
    results = _run_with_progress(console, items, bases, args)
    _, _, r0 = results[0]
    m = r0.meta
    console.print(f"{len(results)} scenarios, each {m['replications']} replications × "
                  f"{m['agents']:,} agents, {m['horizon_months']} months, seed {m['seed']}.")
    console.print("All scenarios ran with the same seed: replication r of every scenario uses "
                  "the same random streams (common random numbers), so each delta and its "
                  "95 % interval are computed from the per-replication differences "
                  "(scenario[r] − base[r]).")
    table = compare_scenarios(results, 0)
    print_comparison(console, table)
    base = results[0][0]
    for i, (sc, p, _) in enumerate(results[1:], start=2):
        console.print(diff_table(base, sc, f"Inputs that differ: [{i}] {sc.name} vs base"))
    if args.excel:
        try:
            excel.write_workbook(results, args.excel, base_index=0, overwrite=args.force)
        except excel.ExportError as exc:
            err.print(f"error: {exc}", markup=False)
            return 2
        console.print(f"wrote {args.excel}")
    if args.json:
        import json

        from simulator.scenario_io import atomic_write_bytes

        atomic_write_bytes(args.json, json.dumps(comparison_json(results, table), indent=2,
                                                 ensure_ascii=False).encode("utf-8"))
        console.print(f"wrote {args.json}")
    return 0


def _console_err():
    from simulator.console import _console

    return _console(stderr=True)


def _run_with_progress(console, items, bases, args) -> list[Result]:
    from simulator.console import with_progress

    kw = dict(seed=args.seed, replications=args.replications, agents=args.agents,
              horizon_months=getattr(args, "months", None), bases=bases)
    return with_progress(console, lambda **pc: run_scenarios(items, **kw, **pc))
