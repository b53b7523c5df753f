"""``benefit-sim calibrate SCENARIO``: the studies' observed figures against a run."""

from __future__ import annotations

import json

from simulator.calibration import (
    DEFAULT_AGENTS,
    DEFAULT_REPLICATIONS,
    TARGETS,
    CalibrationReport,
    calibrate,
    row_texts,
)
from simulator.metrics import counted


def cli_calibrate(args) -> int:
    """``benefit-sim calibrate SCENARIO``: exit 1 if any target is missed."""
    from simulator.console import _console
    from simulator.loader import load_scenario
    from simulator.scenario_io import atomic_write_bytes

    console = _console()
    ld = load_scenario(args.scenario)
    sc, path = ld.scenario, ld.path
    assert path is not None  # load_scenario always reads a file
    key = path.stem
    if key not in TARGETS:
        console.print(f"{key}: no calibration targets (known: {', '.join(sorted(TARGETS))})")
        return 0
    rep = calibrate(key, sc, path, base=ld.base_scenario,
                    replications=args.replications or DEFAULT_REPLICATIONS,
                    agents=args.agents or DEFAULT_AGENTS, seed=args.seed)
    console.print(report_table(rep))
    for i, r in enumerate(rep.results, 1):
        console.print(f"  {i}. {r.target.source}", markup=False)
    n_bad = len(rep.failures())
    console.print(f"{len(rep.results) - n_bad}/{len(rep.results)} targets met"
                  + ("" if not n_bad else f"; [red]{n_bad} missed[/red]"))
    if args.json:
        atomic_write_bytes(args.json, json.dumps(rep.to_json(), indent=2, ensure_ascii=False)
                           .encode("utf-8"))
        console.print(f"wrote {args.json}")
    return 0 if rep.passed else 1


def report_table(rep: CalibrationReport):
    """A rich table: target, observed, simulated, interval, tolerance, pass/fail, source."""
    from rich.table import Table

    title = (f"Calibration of {rep.key}: "
             f"{rep.scenario}\n{counted(rep.replications, 'replication')} × "
             f"{rep.agents:,} agents, seed {rep.seed}"
             + (f"; base: {rep.base} (same seed)" if rep.base else ""))
    t = Table(title=title, title_justify="left", show_lines=False)
    for c in ("#", "target", "observed", "simulated", "95 % CI", "base", "tolerance", "result"):
        t.add_column(c, justify="left" if c in ("target", "result") else "right",
                     overflow="fold")
    for i, r in enumerate(rep.results, 1):
        row = row_texts(r)
        row[-1] = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
        t.add_row(str(i), *row)
    return t
