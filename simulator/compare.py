"""Compare saved what-if scenarios with a base under common random numbers.

Used by ``benefit-sim compare`` and by the GUI (no Qt here)::

    results = run_scenarios([(base, base_path), (other, other_path)], seed=1, replications=20)
    table = compare_scenarios(results, base_index=0)   # tidy: one row per scenario x KPI

The input diff (``input_diff(base, other)``: DataFrame path / base / other) is
:mod:`simulator.input_diff`; the console tables of ``benefit-sim compare`` are in
:mod:`simulator.cli.compare`.

``results`` is a list of ``(Scenario, Path | None, RunResult)``, the same list
:func:`simulator.excel.write_workbook` takes.

A comparison answers one question: what does scenario X change versus the
base scenario? Every figure in the table has a ``section`` saying what it is
measured against (also spelt out in ``measured_against``):

- ``vs_base``: X relative to the base, from the paired absolute monthly net
  contribution and total cost: NPV vs base (discounted with the base's rate),
  ROI vs base (Δ net contribution / Δ total cost) and payback month vs base.
  Empty for the base itself.
- ``absolute``: each scenario's own absolute figure (net contribution, its
  discounted value, costs, customers, service...), with the paired delta
  ``X − base``.
- ``own_counterfactual``: each scenario's figures against its *own*
  counterfactual (scheme off, or its base scenario). Shown, labelled, and
  never subtracted across scenarios (their baselines differ): no delta.

Why the deltas have narrow intervals: every scenario runs with the same seed,
replications, sample and horizon, so replication *r* of every scenario draws
the same random streams (common random numbers). The delta of a KPI is
computed per replication pair, ``other[r] - base[r]``, and its 95 % interval
comes from those paired differences (Student t), not from combining the two
scenarios' own intervals, which would ignore their positive correlation.
Known answer: if X's counterfactual is the base scenario, X's NPV vs base
equals its own NPV (the same paired runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from simulator import metrics
from simulator.results import RunResult, Stat
from simulator.scenario import Scenario


@dataclass(frozen=True)
class Kpi:
    """A KPI shown in comparisons: metric key, label, display kind and what it is against.

    Label and kind come from the metric catalogue (:mod:`simulator.metrics`).
    """

    metric: str
    label: str
    kind: str  # a simulator.metrics display kind: money | ratio | share | hours | months | count
    section: str = "absolute"  # vs_base | absolute | own_counterfactual (see module doc)

    @classmethod
    def of(cls, key: str, section: str = "absolute") -> "Kpi":
        """The KPI of a catalogue metric in a section (own-counterfactual ones say so)."""
        m = metrics.metric(key)
        label = m.label + (" vs own counterfactual" if section == "own_counterfactual" else "")
        return cls(key, label, m.kind, section)


SECTIONS = ("vs_base", "absolute", "own_counterfactual")
SECTION_TITLES = {
    "vs_base": "Versus the base scenario (paired replications, same seed)",
    "absolute": "Absolute figures (Δ = scenario − base, paired)",
    "own_counterfactual": "Each scenario vs its own counterfactual (baselines differ: "
                          "not subtracted)",
}
VS_BASE = ("npv_vs_base", "roi_vs_base", "payback_vs_base")
ABSOLUTE = ("net_contribution", "npv_net_contribution", "total_cost", "revenue", "gross_margin",
            "benefit_cost", "promotion_cost", "service_cost", "acquisition_cost",
            "ltv_per_customer", "members_end", "new_customers", "churn_annual", "retention_12m",
            "service_wait_mean_hours", "service_wait_p90_hours", "sla_attainment")
OWN_COUNTERFACTUAL = ("npv", "incremental_contribution", "incremental_cost", "roi",
                      "payback_month")

KPIS: list[Kpi] = (  # the four absolute money ones in a row are the workbook's KPI chart bars
    [Kpi.of(k, "vs_base") for k in VS_BASE] + [Kpi.of(k) for k in ABSOLUTE]
    + [Kpi.of(k, "own_counterfactual") for k in OWN_COUNTERFACTUAL])
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
    from simulator.runner import run_many

    first = items[0][0].run
    seed = first.seed if seed is None else seed
    replications = first.replications if replications is None else replications
    agents = first.agents if agents is None else agents
    horizon_months = first.horizon_months if horizon_months is None else horizon_months
    # one batch: every scenario's replications are in flight together (a cluster's
    # workers all busy), each result still the one run() would give
    results = run_many([sc for sc, _ in items], bases=bases, replications=replications,
                       agents=agents, seed=seed, horizon_months=horizon_months,
                       workers=workers, progress=progress, cancel=cancel)
    out: list[Result] = []
    for (sc, path), res in zip(items, results):
        if path is not None:
            res.meta["scenario_file"] = str(path)
        out.append((sc, None if path is None else Path(path), res))
    return out


# ------------------------------------------------------------------- KPI deltas
def vs_base(base: RunResult, other: RunResult) -> pd.DataFrame:
    """Per replication pair, ``other`` relative to ``base`` (both on the same streams).

    Columns ``npv_vs_base`` (Σ months of base discount × Δ net contribution),
    ``roi_vs_base`` (Δ net contribution / Δ total cost when Δ cost > 0) and
    ``payback_vs_base`` (first month from which the cumulative Δ net contribution
    stays ≥ 0; NaN if never), plus the Δ net contribution and Δ total cost they use.
    """
    from simulator.kpi_formulas import roi_and_payback

    d_net = other.totals("net_contribution") - base.totals("net_contribution")  # [R, H]
    cost_o, cost_b = other.totals("total_cost").sum(axis=1), base.totals("total_cost").sum(axis=1)
    d_cost = cost_o - cost_b
    scale = np.max(np.abs([cost_o, cost_b, other.totals("gross_margin").sum(axis=1),
                           base.totals("gross_margin").sum(axis=1)]), axis=0)
    (roi, roi_why), (payback, pay_why) = roi_and_payback(d_net, d_cost, scale)
    df = pd.DataFrame({
        "npv_vs_base": (d_net * base.discount).sum(axis=1),
        "roi_vs_base": roi,
        "payback_vs_base": payback,
        "net_contribution_vs_base": d_net.sum(axis=1),
        "total_cost_vs_base": d_cost,
    })
    df.attrs["not_defined"] = {k: v for k, v in (("roi_vs_base", roi_why),
                                                 ("payback_vs_base", pay_why)) if v}
    return df


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
    """The KPIs compared: :data:`KPIS`, with benefit cost split by the kinds in use.

    When a lifecycle mechanism acts in any scenario, the lifecycle headline figures
    (:data:`simulator.metrics.LIFECYCLE_HEADLINE`) follow the absolute ones.
    """
    out: list[Kpi] = []
    kinds = benefit_kinds_used(results)
    lifecycle = any(any(o.lifecycle for o in res.scn) for _, _, res in results)
    for kp in KPIS:
        out.append(kp)
        if kp.metric == "benefit_cost":
            out += [Kpi(c, "  of which " + c[len(BENEFIT_KIND_PREFIX):].replace("_", " "),
                        "money") for c in kinds]
        if lifecycle and kp.metric == ABSOLUTE[-1]:
            out += [Kpi.of(k) for k in metrics.LIFECYCLE_HEADLINE]
    return out


def paired_delta(base: np.ndarray, other: np.ndarray, unit: str = "") -> Stat:
    """Mean and 95 % interval of ``other - base`` over replication pairs.

    Pairs are matched by replication index (same random streams under common
    random numbers); pairs where either value is NaN (e.g. no payback) are left out.
    """
    n = min(len(base), len(other))
    d = np.asarray(other[:n], dtype=float) - np.asarray(base[:n], dtype=float)
    return Stat.of(d, unit)


def measured_against(kp: Kpi, res: RunResult, base_label: str, is_base: bool) -> str:
    """Plain words for what a figure is measured against."""
    if kp.section == "vs_base":
        return "(this is the base)" if is_base else f"base scenario {base_label}, paired"
    if kp.section == "own_counterfactual":
        return "own counterfactual: " + str(res.meta.get("counterfactual", "none"))
    return "absolute (no baseline)"


def _why(table: pd.DataFrame, metric: str) -> str | None:
    """Why a KPI table's metric has no value (see RunResult.kpis' attrs), or None."""
    return table.attrs.get("not_defined", {}).get(metric)


def compare_scenarios(results: Sequence[Result], base_index: int = 0,
                      kpis: Sequence[Kpi] | None = None) -> pd.DataFrame:
    """Tidy KPI comparison: one row per scenario x KPI.

    Columns: ``scenario_no`` (1-based), ``scenario``, ``is_base``, ``section``
    (vs_base | absolute | own_counterfactual), ``metric``, ``label``, ``kind``,
    ``measured_against``, ``mean``, ``ci95_low``, ``ci95_high``, ``n`` (the
    figure), ``delta_mean``, ``delta_ci95_low``, ``delta_ci95_high``, ``delta_n``
    (scenario − base per replication pair; only for ``absolute`` figures of
    non-base scenarios, NaN otherwise), ``delta_against`` (what the delta is
    measured against, "" when there is none), ``not_defined`` (why a figure has no
    mean, e.g. "no incremental cost"; None when it has one).
    """
    if not 0 <= base_index < len(results):
        raise ValueError(f"base_index: {base_index} must be in 0..{len(results) - 1}")
    from simulator.provenance import check_matches, check_same_sample

    for sc, _, res in results:  # the figures must be these scenarios', on common streams
        check_matches(res, sc, check_base=False)
    check_same_sample([res for _, _, res in results])
    kpis = list(kpis) if kpis is not None else kpi_catalogue(results)
    tables = [kpi_table(r) for _, _, r in results]
    bres = results[base_index][2]
    bt = tables[base_index]
    base_label = f"[{base_index + 1}] {results[base_index][0].name}"
    nan = Stat(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, "", 0)
    rows = []
    for i, ((sc, _, res), t) in enumerate(zip(results, tables)):
        is_base = i == base_index
        vb = None if is_base else vs_base(bres, res)
        for kp in kpis:
            d = nan
            if kp.section == "vs_base":
                s = nan if vb is None else Stat.of(vb[kp.metric].to_numpy(dtype=float),
                                                   not_defined=_why(vb, kp.metric))
            else:
                x = t[kp.metric].to_numpy(dtype=float) if kp.metric in t else np.full(
                    len(t), np.nan)
                s = Stat.of(x, not_defined=_why(t, kp.metric),
                            within=metrics.value_range(kp.metric))
                if kp.section == "absolute" and not is_base:
                    b = bt[kp.metric].to_numpy(dtype=float) if kp.metric in bt else np.full(
                        len(bt), np.nan)
                    d = paired_delta(b, x)
            rows.append({
                "scenario_no": i + 1, "scenario": sc.name, "is_base": is_base,
                "section": kp.section, "metric": kp.metric, "label": kp.label, "kind": kp.kind,
                "measured_against": measured_against(kp, res, base_label, is_base),
                "mean": s.mean, "ci95_low": s.ci95_low, "ci95_high": s.ci95_high, "n": s.n,
                "not_defined": s.not_defined,
                "delta_mean": d.mean, "delta_ci95_low": d.ci95_low,
                "delta_ci95_high": d.ci95_high, "delta_n": d.n,
                "delta_against": (f"base scenario {base_label}, paired per replication"
                                  if kp.section == "absolute" and not is_base else ""),
            })
    return pd.DataFrame(rows)


# ------------------------------------------------------------- comparison file
COMPARISON_FORMAT = "benefit-sim-comparison/1"


def _num(x) -> float | int | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def comparison_json(results: Sequence[Result], table: pd.DataFrame) -> dict:
    """The comparison file (docs/RESULTS.md), built from the same table the CLI prints."""
    m = results[0][2].meta
    base_no = int(table.loc[table["is_base"], "scenario_no"].iloc[0])
    scen = []
    for i, (sc, p, res) in enumerate(results, start=1):
        mm = res.meta
        scen.append({"no": i, "name": sc.name, "is_base": i == base_no,
                     "file": None if p is None else str(p),
                     "scenario_hash": mm.get("scenario_hash"), "base_scenario":
                     mm.get("base_scenario"), "base_hash": mm.get("base_hash"),
                     "counterfactual": mm.get("counterfactual"),
                     "discount_rate_annual": sc.run.discount_rate_annual})
    figures = []
    for r in table.itertuples(index=False):
        delta = None
        if r.delta_against:
            delta = {"mean": _num(r.delta_mean), "ci95_low": _num(r.delta_ci95_low),
                     "ci95_high": _num(r.delta_ci95_high), "n": int(r.delta_n),
                     "measured_against": r.delta_against}
        figures.append({"scenario_no": int(r.scenario_no), "section": r.section,
                        "metric": r.metric, "label": r.label.strip(), "kind": r.kind,
                        "measured_against": r.measured_against, "mean": _num(r.mean),
                        "ci95_low": _num(r.ci95_low), "ci95_high": _num(r.ci95_high),
                        "n": int(r.n), "not_defined": metrics.not_defined(r) or None,
                        "delta": delta})
    return {"format": COMPARISON_FORMAT, "product": "benefit-sim",
            "version": m.get("version"), "base_no": base_no,
            "sample": {k: m.get(k) for k in ("seed", "replications", "agents",
                                              "horizon_months")},
            "common_random_numbers": True,
            "sections": dict(SECTION_TITLES),
            "scenarios": scen, "figures": figures}
