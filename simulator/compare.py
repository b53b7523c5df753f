"""Compare saved what-if scenarios with a base under common random numbers.

Used by ``benefit-sim compare`` and by the GUI (no Qt here)::

    results = run_scenarios([(base, base_path), (other, other_path)], seed=1, replications=20)
    table = compare_scenarios(results, base_index=0)   # tidy: one row per scenario x KPI
    rows = input_diff(base, other)                     # DataFrame path / base / other

``results`` is a list of ``(Scenario, Path | None, RunResult)``, the same list
:func:`simulator.excel.write_workbook` takes.

Why the deltas have narrow intervals: every scenario runs with the same seed,
replications, sample and horizon, so replication *r* of every scenario draws
the same random streams (common random numbers). The delta of a KPI is
computed per replication pair, ``other[r] - base[r]``, and its 95 % interval
comes from those paired differences (Student t), not from combining the two
scenarios' own intervals, which would ignore their positive correlation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from simulator.results import RunResult, Stat
from simulator.scenario import Scenario
from simulator.scenario_io import to_dict


@dataclass(frozen=True)
class Kpi:
    """A KPI shown in comparisons: metric key, label and display kind."""

    metric: str
    label: str
    kind: str  # cny | ratio | share | hours | month | count


KPIS: list[Kpi] = [  # the first four (CNY) are the bars of the workbook's KPI chart
    Kpi("npv", "NPV of incremental contribution", "cny"),
    Kpi("incremental_contribution", "Incremental contribution", "cny"),
    Kpi("incremental_cost", "Incremental cost", "cny"),
    Kpi("net_contribution", "Net contribution", "cny"),
    Kpi("roi", "ROI (incr. contribution / incr. cost)", "ratio"),
    Kpi("payback_month", "Payback month", "month"),
    Kpi("ltv_per_customer", "Discounted LTV per customer", "cny"),
    Kpi("revenue", "Gross revenue", "cny"),
    Kpi("gross_margin", "Gross margin", "cny"),
    Kpi("total_cost", "Total cost", "cny"),
    Kpi("benefit_cost", "Benefit cost", "cny"),
    Kpi("promotion_cost", "Promotion cost", "cny"),
    Kpi("service_cost", "Service cost", "cny"),
    Kpi("acquisition_cost", "Acquisition cost", "cny"),
    Kpi("churn_annual", "Churn (annualised)", "share"),
    Kpi("retention_12m", "Retention after 12 months", "share"),
    Kpi("members_end", "Members at end", "count"),
    Kpi("service_wait_mean_hours", "Service wait, mean (h)", "hours"),
    Kpi("service_wait_p90_hours", "Service wait, P90 (h)", "hours"),
    Kpi("sla_attainment", "SLA attainment", "share"),
]
BENEFIT_KIND_PREFIX = "benefit_cost_"

Result = tuple[Scenario, "Path | None", RunResult]


# --------------------------------------------------------------------- running
def run_scenarios(items: Sequence[tuple[Scenario, Path | None]], *, seed: int | None = None,
                  replications: int | None = None, agents: int | None = None,
                  horizon_months: int | None = None, workers: int | None = None,
                  bases: Sequence[Scenario | None] | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cancel=None) -> list[Result]:
    """Run every scenario with the same seed, replications, sample and horizon.

    Settings left as None come from the first (base) scenario, so all runs share
    their random streams. ``bases[i]`` is scenario i's counterfactual when its
    ``run.counterfactual.mode`` is ``"base_scenario"``. ``progress(done, total)``
    counts replications over all scenarios.
    """
    if not items:
        raise ValueError("scenarios: at least one scenario is required")
    from simulator.runner import run

    first = items[0][0].run
    seed = first.seed if seed is None else seed
    replications = first.replications if replications is None else replications
    agents = first.agents if agents is None else agents
    horizon_months = first.horizon_months if horizon_months is None else horizon_months
    total = replications * len(items)
    out: list[Result] = []
    for i, (sc, path) in enumerate(items):
        def prog(done, _tot, _i=i):
            if progress:
                progress(_i * replications + min(done, replications), total)

        res = run(sc, replications=replications, agents=agents, seed=seed,
                  horizon_months=horizon_months, workers=workers, progress=prog, cancel=cancel,
                  base=bases[i] if bases else None)
        if path is not None:
            res.meta["scenario_file"] = str(path)
        out.append((sc, None if path is None else Path(path), res))
    return out


# ------------------------------------------------------------------- KPI deltas
def kpi_table(res: RunResult) -> pd.DataFrame:
    """One row per replication: the summary KPIs plus benefit cost by kind (CNY)."""
    k = res.kpis.copy()
    m = res.monthly
    m = m[m["arm"] == "scenario"]
    kinds = [c for c in m.columns if c.startswith(BENEFIT_KIND_PREFIX)]
    by_rep = m.groupby("replication")[kinds].sum().sort_index()
    for c in kinds:
        k[c] = by_rep[c].to_numpy()
    return k


def benefit_kinds_used(results: Sequence[Result]) -> list[str]:
    """Benefit-cost-by-kind metrics that are non-zero in at least one scenario."""
    used: list[str] = []
    for _, _, res in results:
        k = kpi_table(res)
        for c in k.columns:
            if c.startswith(BENEFIT_KIND_PREFIX) and c not in used and np.nanmax(
                    np.abs(k[c].to_numpy())) > 0:
                used.append(c)
    return used


def kpi_catalogue(results: Sequence[Result]) -> list[Kpi]:
    """The KPIs compared: :data:`KPIS`, with benefit cost split by the kinds in use."""
    out: list[Kpi] = []
    kinds = benefit_kinds_used(results)
    for kp in KPIS:
        out.append(kp)
        if kp.metric == "benefit_cost":
            out += [Kpi(c, "  of which " + c[len(BENEFIT_KIND_PREFIX):].replace("_", " "), "cny")
                    for c in kinds]
    return out


def paired_delta(base: np.ndarray, other: np.ndarray, unit: str = "") -> Stat:
    """Mean and 95 % interval of ``other - base`` over replication pairs.

    Pairs are matched by replication index (same random streams under common
    random numbers); pairs where either value is NaN (e.g. no payback) are left out.
    """
    n = min(len(base), len(other))
    d = np.asarray(other[:n], dtype=float) - np.asarray(base[:n], dtype=float)
    return Stat.of(d, unit)


def compare_scenarios(results: Sequence[Result], base_index: int = 0,
                      kpis: Sequence[Kpi] | None = None) -> pd.DataFrame:
    """Tidy KPI comparison: one row per scenario x KPI.

    Columns: ``scenario_no`` (1-based), ``scenario``, ``is_base``, ``metric``,
    ``label``, ``kind``, ``mean``, ``ci95_low``, ``ci95_high``, ``n``,
    ``delta_mean``, ``delta_ci95_low``, ``delta_ci95_high``, ``delta_n``
    (delta = scenario - base per replication pair; NaN for the base itself).
    """
    if not 0 <= base_index < len(results):
        raise ValueError(f"base_index: {base_index} must be in 0..{len(results) - 1}")
    from simulator.provenance import check_matches, check_same_sample

    for sc, _, res in results:  # the figures must be these scenarios', on common streams
        check_matches(res, sc, check_base=False)
    check_same_sample([res for _, _, res in results])
    kpis = list(kpis) if kpis is not None else kpi_catalogue(results)
    tables = [kpi_table(r) for _, _, r in results]
    bt = tables[base_index]
    rows = []
    for i, ((sc, _, res), t) in enumerate(zip(results, tables)):
        for kp in kpis:
            x = t[kp.metric].to_numpy(dtype=float) if kp.metric in t else np.full(len(t), np.nan)
            s = Stat.of(x)
            if i == base_index:
                d = Stat(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, "", 0)
            else:
                b = bt[kp.metric].to_numpy(dtype=float) if kp.metric in bt else np.full(
                    len(bt), np.nan)
                d = paired_delta(b, x)
            rows.append({
                "scenario_no": i + 1, "scenario": sc.name, "is_base": i == base_index,
                "metric": kp.metric, "label": kp.label, "kind": kp.kind,
                "mean": s.mean, "ci95_low": s.ci95_low, "ci95_high": s.ci95_high, "n": s.n,
                "delta_mean": d.mean, "delta_ci95_low": d.ci95_low,
                "delta_ci95_high": d.ci95_high, "delta_n": d.n,
            })
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ input diff
def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a scenario dict to ``{"tiers[1].benefits[0].cost_cny": 0.1, ...}``.

    Lists of tables are indexed (``[i]``); lists of plain values stay one value,
    shown as comma-separated text; empty tables and lists show as ``{}`` / ``[]``.
    """
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        if not d and prefix:
            out[prefix] = "{}"
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(d, list):
        if not d:
            out[prefix] = "[]"
        elif all(not isinstance(v, (dict, list)) for v in d):
            out[prefix] = ", ".join(str(v) for v in d)
        else:
            for i, v in enumerate(d):
                out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = d
    return out


def flat_inputs(sc: Scenario) -> dict[str, Any]:
    """Every parameter of a scenario as path -> value (see :func:`flatten`)."""
    return flatten(to_dict(sc))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float)
                          and math.isnan(a) and math.isnan(b))
    return a == b


def union_paths(flats: Sequence[dict[str, Any]]) -> list[str]:
    """Paths of several flattened scenarios, in first-seen order."""
    seen: dict[str, None] = {}
    for f in flats:
        for p in f:
            seen.setdefault(p, None)
    return list(seen)


def input_diff(base: Scenario, other: Scenario) -> pd.DataFrame:
    """Inputs that differ: columns ``path, base, other`` (None where a path is absent).

    The scenario ``name`` and ``description`` are included when they differ.
    """
    fb, fo = flat_inputs(base), flat_inputs(other)
    rows = [(p, fb.get(p), fo.get(p)) for p in union_paths([fb, fo])
            if p not in fb or p not in fo or not _same(fb[p], fo[p])]
    return pd.DataFrame(rows, columns=["path", "base", "other"])


# ------------------------------------------------------------------------ CLI
def _fmt(x: float, kind: str, signed: bool = False) -> str:
    from simulator.cli import fmt_money

    if x is None or not math.isfinite(x):
        return "n/a"
    sign = "+" if signed and x > 0 else ""
    if kind == "cny":
        return sign + fmt_money(x)
    if kind in ("share", "ratio"):  # a difference of shares is in percentage points
        return f"{sign}{100 * x:.1f} pp" if signed else f"{100 * x:.1f} %"
    if kind == "hours":
        return f"{sign}{x:.2f} h"
    if kind == "month":
        return f"{sign}{x:.1f}"
    return f"{sign}{x:,.0f}"


def delta_table(table: pd.DataFrame, title: str):
    """A rich table: base value, then each scenario's delta with its paired 95 % interval."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column("KPI")
    nos = sorted(table["scenario_no"].unique())
    base_no = int(table.loc[table["is_base"], "scenario_no"].iloc[0])
    names = table.drop_duplicates("scenario_no").set_index("scenario_no")["scenario"]
    t.add_column(f"[{base_no}] {names[base_no]} (base)", justify="right")
    for no in nos:
        if no != base_no:
            t.add_column(f"[{no}] {names[no]}\nΔ vs base (95 % CI)", justify="right")
    for metric, g in table.groupby("metric", sort=False):
        g = g.set_index("scenario_no")
        kind = g["kind"].iloc[0]
        cells = [g.loc[base_no, "label"].strip(), _fmt(g.loc[base_no, "mean"], kind)]
        for no in nos:
            if no == base_no:
                continue
            r = g.loc[no]
            if math.isfinite(r["delta_mean"]):
                ci = ("" if not math.isfinite(r["delta_ci95_low"]) else
                      f"\n({_fmt(r['delta_ci95_low'], kind, True)} … "
                      f"{_fmt(r['delta_ci95_high'], kind, True)})")
                style = "" if not math.isfinite(r["delta_ci95_low"]) else (
                    "green" if r["delta_ci95_low"] > 0 else "red" if r["delta_ci95_high"] < 0
                    else "")
                txt = _fmt(r["delta_mean"], kind, True) + ci
                cells.append(f"[{style}]{_esc(txt)}[/{style}]" if style else _esc(txt))
            else:
                cells.append("n/a")
        t.add_row(_esc(cells[0]), *cells[1:])
    return t


def _esc(s: str) -> str:
    from rich.markup import escape

    return escape(str(s))


def diff_table(base: Scenario, other: Scenario, title: str, limit: int = 60):
    """A rich table of the inputs that differ between two scenarios."""
    from rich.table import Table

    d = input_diff(base, other)
    t = Table(title=title, title_justify="left")
    t.add_column("input", no_wrap=True)
    t.add_column("base", overflow="fold")
    t.add_column("other", overflow="fold")
    for _, r in d.head(limit).iterrows():
        t.add_row(*(_esc("—" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
                    for v in (r["path"], r["base"], r["other"])))
    if len(d) > limit:
        t.add_row(f"… {len(d) - limit} more", "", "")
    if d.empty:
        t.add_row("(no differences)", "", "")
    return t


def cli_compare(args) -> int:
    """``benefit-sim compare BASE OTHER... [--excel OUT.xlsx]``."""
    from simulator import excel
    from simulator.cli import _console
    from simulator.loader import load_scenario

    console = _console()
    err = _console_err()
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
    console.print(delta_table(table, "KPI deltas vs base (CNY over the horizon)"))
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
    return 0


def _console_err():
    from simulator.cli import _console

    return _console(stderr=True)


def _run_with_progress(console, items, bases, args) -> list[Result]:
    from simulator.cli import with_progress

    kw = dict(seed=args.seed, replications=args.replications, agents=args.agents,
              horizon_months=getattr(args, "months", None), bases=bases)
    return with_progress(console, lambda **pc: run_scenarios(items, **kw, **pc))


