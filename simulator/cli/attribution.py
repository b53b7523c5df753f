"""``benefit-sim attribute`` and ``benefit-sim explain``: print and write the analyses.

The domain (Shapley attribution, the "why different" waterfall) is
:mod:`simulator.attribution`; this module parses nothing itself (the parser is
in :mod:`simulator.cli`), it runs the analysis with progress and Ctrl+C, prints
it as rich tables and writes ``--json`` / ``--excel``.
"""

from __future__ import annotations

import math

from simulator import metrics
from simulator.attribution import (
    QUANTITIES,
    RELATIVE_KPIS,
    Attribution,
    Waterfall,
    attribute,
    explain,
)
from simulator.metrics import counted
from simulator.results import Stat


def _row(stat: Stat, kind: str, signed: bool = True) -> tuple[str, str]:
    nd = metrics.not_defined(stat)
    if nd:
        return nd, ""
    f = metrics.delta if signed else metrics.value
    fi = metrics.delta_interval if signed else metrics.interval
    return f(stat.mean, kind), fi(stat.ci95_low, stat.ci95_high, kind)


def attribution_table(att: Attribution):
    """A rich table: one row per part."""
    from rich.table import Table

    tb = Table(title=f"Attribution of {att.scenario} by {att.by} ({att.method}, "
               f"{counted(att.sets_run, 'set')}, "
               f"{counted(att.sample.replications, 'replication')} × "
               f"{att.sample.agents:,} agents, seed {att.sample.seed})")
    tb.add_column("part")
    for q in QUANTITIES:
        tb.add_column(metrics.label_of(q), justify="right")
    tb.add_column("ROI", justify="right")
    tb.add_column("NPV alone", justify="right")
    tb.add_column("NPV leave-one-out", justify="right")
    for p in att.parts:
        cells = []
        for q in QUANTITIES:
            m, ci = _row(getattr(p, q), "money")
            se = p.sampling_se.get(q)
            cells.append(f"{m}\n{ci}" + (f"\n± {metrics.money(1.96 * se)} sampling"
                                          if se is not None and math.isfinite(se) else ""))
        roi = metrics.stat_value(p.roi, "ratio")
        tb.add_row(p.label, *cells, roi, _row(p.npv_alone, "money")[0],
                   _row(p.npv_last, "money")[0])
    w = att.whole
    tb.add_row("[b]whole scheme[/b]", *("\n".join(_row(w[q], "money")) for q in QUANTITIES),
               "", "", "")
    return tb


def waterfall_table(wf: Waterfall):
    """A rich table: start, one bar per group, end."""
    from rich.markup import escape
    from rich.table import Table

    kind = metrics.kind_of(wf.kpi)
    tb = Table(title=f"Why {wf.other} differs from {wf.base}: {metrics.label_of(wf.kpi)} "
               f"({wf.method}, {counted(wf.sets_run, 'set')}, "
               f"{counted(wf.sample.replications, 'replication')} × "
               f"{wf.sample.agents:,} agents, seed {wf.sample.seed})")
    for c in ("step", "value", "95 % interval", "", "inputs changed"):
        tb.add_column(c)
    tb.add_row(escape(f"base {wf.base}"), *_row(wf.start, kind, signed=False), "", "")
    for b in wf.bars:
        paths = ", ".join(b.paths[:4]) + (f" (+{len(b.paths) - 4})" if len(b.paths) > 4 else "")
        tb.add_row(escape(b.group), *_row(b.value, kind),
                   "within noise" if b.within_noise else "", escape(paths))
    tb.add_row(escape(f"= {wf.other}"), *_row(wf.end, kind, signed=False), "", "")
    tb.add_row("difference (paired)", *_row(wf.delta, kind), "", "")
    return tb


def _write_json(path: str, data: dict) -> None:
    import json

    from simulator.scenario_io import atomic_write_bytes

    atomic_write_bytes(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))


def _excel_ok(args) -> bool:
    """A bad ``--excel`` target is reported (exit 2) before the analysis runs."""
    if getattr(args, "excel", None):
        import sys

        from simulator.excel import ExportError, check_output

        try:
            check_output(args.excel, overwrite=args.force)
        except ExportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return False
    return True


def _write_excel(console, args, data: dict) -> None:
    if getattr(args, "excel", None):
        from simulator.excel.attribution import write_analysis_workbook

        p = write_analysis_workbook(data, args.excel, overwrite=args.force)
        console.print(f"wrote {p}")


def cli_attribute(args) -> int:
    """``benefit-sim attribute SCENARIO [--by benefit|group] [--json OUT] [--excel OUT]``."""
    from simulator.console import _console, with_progress
    from simulator.loader import load_scenario

    console = _console()
    ld = load_scenario(args.scenario)
    if not _excel_ok(args):
        return 2
    att = with_progress(console, lambda **pc: attribute(
        ld.scenario, by=args.by, seed=args.seed, replications=args.replications,
        agents=args.agents, horizon_months=args.months, permutations=args.permutations, **pc),
        label="sets")
    console.print(attribution_table(att))
    console.print("Shapley values under common random numbers: every set of parts ran with the "
                  "same seed and sample; per replication the parts add up exactly to the whole. "
                  "'alone' = the part on its own, 'leave-one-out' = the whole minus the whole "
                  "without the part; leave-one-out well above alone means the part pays only "
                  f"with the others. {counted(att.runs, 'run')}, {att.elapsed_seconds:.1f} s.")
    if args.json:
        _write_json(args.json, att.to_json())
        console.print(f"wrote {args.json}")
    _write_excel(console, args, att.to_json())
    return 0


def cli_explain(args) -> int:
    """``benefit-sim explain BASE OTHER [--kpi npv] [--json OUT] [--excel OUT]``."""
    from simulator.console import _console, with_progress
    from simulator.loader import load_scenario

    console = _console()
    lb, lx = load_scenario(args.base), load_scenario(args.other)
    if not _excel_ok(args):
        return 2
    wf = with_progress(console, lambda **pc: explain(
        lb.scenario, lx.scenario, kpi=args.kpi, base_of_base=lb.base_scenario,
        base_of_other=lx.base_scenario, seed=args.seed, replications=args.replications,
        agents=args.agents, horizon_months=args.months, permutations=args.permutations, **pc),
        label="sets")
    console.print(waterfall_table(wf))
    console.print("Each bar is the group's Shapley share of the difference over every mix of "
                  "the groups (order does not matter), all mixes with the same seed and sample "
                  "(common random numbers); the bars add up to the paired difference. "
                  f"{wf.elapsed_seconds:.1f} s.")
    if (lb.scenario.run.counterfactual != lx.scenario.run.counterfactual
            and args.kpi in RELATIVE_KPIS):
        console.print(f"Note: the two scenarios are measured against different counterfactuals "
                      f"({lb.scenario.run.counterfactual.mode} vs "
                      f"{lx.scenario.run.counterfactual.mode}); the 'run settings' bar includes "
                      f"that change of yardstick. For the change in money itself use "
                      f"--kpi npv_net_contribution.")
    _write_excel(console, args, wf.to_json())
    if args.json:
        _write_json(args.json, wf.to_json())
        console.print(f"wrote {args.json}")
    return 0
