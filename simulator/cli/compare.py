"""``benefit-sim compare BASE OTHER...``: paired KPI deltas, input differences, workbook, JSON."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from simulator import metrics
from simulator.compare import (
    SECTION_TITLES,
    SECTIONS,
    Result,
    compare_scenarios,
    comparison_json,
    run_scenarios,
)
from simulator.input_diff import shown_input_diff
from simulator.metrics import counted
from simulator.scenario import Scenario


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
    console.print(f"{counted(len(results), 'scenario')}, each "
                  f"{counted(m['replications'], 'replication')} × "
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


# ------------------------------------------------------- console tables
def _fmt(x: float, kind: str, signed: bool = False) -> str:
    if signed:
        return metrics.delta(x, kind)
    return metrics.value(x, kind) if metrics.finite(x) else "n/a"


def delta_table(table: pd.DataFrame, title: str, section: str = "absolute"):
    """A rich table of one section of :func:`compare_scenarios` (see :data:`SECTIONS`).

    ``absolute``: the base's value, then each scenario's Δ vs base with its paired
    95 % interval. ``vs_base``: each scenario's figure relative to the base.
    ``own_counterfactual``: each scenario's own figure and what it is measured against.
    """
    from rich.table import Table

    table = table[table["section"] == section]
    t = Table(title=title, title_justify="left")
    t.add_column("KPI")
    nos = sorted(table["scenario_no"].unique())
    base_no = int(table.loc[table["is_base"], "scenario_no"].iloc[0])
    names = table.drop_duplicates("scenario_no").set_index("scenario_no")["scenario"]
    others = [no for no in nos if no != base_no]
    if section == "absolute":
        t.add_column(f"[{base_no}] {_esc(names[base_no])} (base)", justify="right")
        for no in others:
            t.add_column(f"[{no}] {_esc(names[no])}\nΔ vs base (95 % CI)", justify="right")
    elif section == "vs_base":
        for no in others:
            t.add_column(f"[{no}] {_esc(names[no])}\nvs [{base_no}] base (95 % CI)",
                         justify="right")
    else:
        for no in nos:
            t.add_column(f"[{no}] {_esc(names[no])}" + (" (base)" if no == base_no else ""),
                         justify="right")
    for metric, g in table.groupby("metric", sort=False):
        g = g.set_index("scenario_no")
        kind = g["kind"].iloc[0]
        cells = [_esc(g.loc[base_no, "label"].strip())]
        if section == "absolute":
            cells.append(_esc(metrics.not_defined(g.loc[base_no])
                              or _fmt(g.loc[base_no, "mean"], kind)))
            for no in others:
                r = g.loc[no]
                cells.append(_styled(r["delta_mean"], r["delta_ci95_low"],
                                     r["delta_ci95_high"], kind))
        elif section == "vs_base":
            for no in others:
                r = g.loc[no]
                cells.append(_esc(metrics.not_defined(r)) or _styled(
                    r["mean"], r["ci95_low"], r["ci95_high"], kind, signed=kind == "money"))
        else:
            for no in nos:
                cells.append(_esc(metrics.not_defined(g.loc[no])
                                  or _fmt(g.loc[no, "mean"], kind)))
        t.add_row(*cells)
    if section == "own_counterfactual":
        t.add_row("measured against", *[_esc(table[(table.scenario_no == no)]
                                             ["measured_against"].iloc[0]) for no in nos])
    return t


def print_comparison(console, table: pd.DataFrame) -> None:
    """The three sections of a comparison, each titled with what it is measured against."""
    for section in SECTIONS:
        console.print(delta_table(table, SECTION_TITLES[section] + " (CNY over the horizon)",
                                  section))


def _styled(mean, lo, hi, kind: str, signed: bool = True) -> str:
    """A value with its interval, green/red when the interval excludes 0 (markup-safe)."""
    if not math.isfinite(mean):
        return "n/a"
    ci = "" if not math.isfinite(lo) else \
        f"\n({(metrics.delta_interval if signed else metrics.interval)(lo, hi, kind)})"
    style = "" if not math.isfinite(lo) or not signed else (
        "green" if lo > 0 else "red" if hi < 0 else "")
    txt = _esc(_fmt(mean, kind, signed) + ci)
    return f"[{style}]{txt}[/{style}]" if style else txt


def _esc(s: str) -> str:
    from rich.markup import escape

    return escape(str(s))


def diff_table(base: Scenario, other: Scenario, title: str, limit: int = 60):
    """A rich table of the inputs that differ between two scenarios."""
    from rich.table import Table

    d = shown_input_diff([base, other])
    t = Table(title=title, title_justify="left")
    t.add_column("input", overflow="fold")
    t.add_column("base", overflow="fold")
    t.add_column("other", overflow="fold")
    for label, (b, o) in d[:limit]:
        t.add_row(_esc(label), _esc(b), _esc(o))
    if len(d) > limit:
        t.add_row(f"… {len(d) - limit} more", "", "")
    if not d:
        t.add_row("(no differences)", "", "")
    return t
