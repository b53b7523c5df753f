"""``benefit-sim export SCENARIO --excel OUT.xlsx``: run a scenario and write its workbook."""

from __future__ import annotations

from simulator.excel import ExportError, check_output, write_workbook
from simulator.metrics import counted


def cli_export(args) -> int:
    """``benefit-sim export SCENARIO --excel OUT.xlsx [--force]``; exit 2 on a bad path."""
    import sys

    from simulator.console import _console, run_with_progress
    from simulator.loader import load_scenario

    try:
        check_output(args.excel, overwrite=args.force)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    console = _console()
    ld = load_scenario(args.scenario)
    sc, path = ld.scenario, ld.path
    res = run_with_progress(sc, console, replications=args.replications, agents=args.agents,
                            seed=args.seed, horizon_months=getattr(args, "months", None),
                            base=ld.base_scenario)
    res.meta["scenario_file"] = str(path)
    try:
        out = write_workbook([(sc, path, res)], args.excel, overwrite=args.force)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    m = res.meta
    console.print(f"wrote {out}  ({sc.name}: {counted(m['replications'], 'replication')} × "
                  f"{m['agents']:,} agents, {m['horizon_months']} months, seed {m['seed']})")
    return 0
