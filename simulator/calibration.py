"""Calibration targets of the shipped scenarios and the check that the model meets them.

Each shipped scenario (key = file stem in ``scenarios/``) has the figures the
source studies observed (studies A–E; docs/SCENARIOS.md) as data next to it, in
``scenarios/targets/<key>.toml``: one ``[[target]]`` table per :class:`Target`, its
fields as below and ``source`` naming the study and figure. :data:`TARGETS` holds
them, read by :func:`load_targets` (a malformed file is a ValueError naming the
file, the target and the field).
:func:`calibrate` runs the scenario (and, for intervention targets, its base
scenario on the same seed, i.e. common random numbers) and compares the
simulated mean with the observed value.

Target kinds (``mode``):

* ``"level"``: the scenario's own figure (e.g. key-account churn 18 %/year);
* ``"change"``: relative change vs the base run, ``scenario / base - 1``,
  computed per replication (paired), e.g. diamond complaints -52 %;
* ``"difference"``: ``scenario - base`` per replication.

A target passes when the simulated mean lies within ``tolerance`` (absolute,
in the metric's unit) of ``observed`` (``bound="near"``), or is at most /
at least ``observed`` + / - ``tolerance`` (``"at_most"`` / ``"at_least"``).
The 95 % interval shown is the t-interval of the mean across replications; it
says how well the sample pins the mean down, the tolerance says how close the
model must be to the study.

``where`` is ``"shop"``, ``"segment:<name>"`` or ``"tier:<name>"``. With
``versus`` set (another ``where``), the value is the ratio
``metric(where) / metric(versus)`` (e.g. HNW churn / ordinary churn).

Metrics are the summary metrics of :class:`simulator.results.RunResult` plus a
few derived here from the monthly table (see :data:`DERIVED`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

import numpy as np

from simulator.library import SHIPPED_DIR
from simulator.outputs import MI, SERVICE_METRICS
from simulator.results import Stat
from simulator.scenario import Scenario

# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Target:
    """One observed figure a scenario must reproduce."""

    metric: str
    where: str  # "shop" | "segment:<name>" | "tier:<name>"
    observed: float
    tolerance: float  # absolute, in the metric's unit
    source: str  # study letter and figure
    mode: Literal["level", "change", "difference"] = "level"
    bound: Literal["near", "at_most", "at_least"] = "near"
    versus: str | None = None  # ratio metric(where) / metric(versus)

    def label(self) -> str:
        """Short human-readable name of the target."""
        where = self.where if self.versus is None else f"{self.where} / {self.versus}"
        m = {"level": "", "change": " change vs base", "difference": " diff vs base"}[self.mode]
        return f"{self.metric} [{where}]{m}"


# Derived metrics (computed here from ``res.monthly``, months 1..12 for shares):
DERIVED = {
    "sales_share": "share of gross revenue in months 1-12",
    "order_share": "share of orders in months 1-12",
    "orders_per_customer_month": "orders / active customer-months over the horizon",
    "complaints_per_order": "complaints / orders over the horizon",
    "start_share": "share of today's customers in the tier at the start (tiers only)",
}

# Default sample for `benefit-sim calibrate` (the CLI flags override it).
DEFAULT_REPLICATIONS = 6
DEFAULT_AGENTS = 8000

TARGETS_DIR = SHIPPED_DIR / "targets"
_FIELDS = {f.name: f for f in fields(Target)}
_CHOICES = {k: get_args(get_type_hints(Target)[k]) for k in ("mode", "bound")}  # the Literals


def _target(d: Any, where: str) -> Target:
    """One ``[[target]]`` table as a :class:`Target`; ValueError saying what is wrong."""
    if not isinstance(d, dict):
        raise ValueError(f"{where}: must be a table of fields")
    unknown = sorted(set(d) - set(_FIELDS))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
    missing = [k for k, f in _FIELDS.items() if f.default is MISSING and k not in d]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    for k, v in d.items():
        if k in ("observed", "tolerance"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{where}: {k} = {v!r} must be a finite number")
        elif not isinstance(v, str) or not v.strip():
            raise ValueError(f"{where}: {k} = {v!r} must be non-empty text")
        if k in _CHOICES and v not in _CHOICES[k]:
            raise ValueError(f"{where}: {k} = {v!r} must be one of {list(_CHOICES[k])}")
    if d["tolerance"] < 0:
        raise ValueError(f"{where}: tolerance = {d['tolerance']!r} must be >= 0")
    values: dict[str, Any] = {k: float(v) if k in ("observed", "tolerance") else v
                              for k, v in d.items()}
    return Target(**values)


def load_targets(folder: Path = TARGETS_DIR) -> dict[str, list[Target]]:
    """Targets per scenario key from ``<folder>/<key>.toml`` (``[[target]]`` tables)."""
    out: dict[str, list[Target]] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot be read as TOML ({exc})") from exc
        unknown = sorted(set(data) - {"target"})
        if unknown or not isinstance(data.get("target"), list):
            raise ValueError(f"{path}: must hold [[target]] tables only"
                             + (f" (found {unknown})" if unknown else ""))
        out[path.stem] = [_target(d, f"{path} target {i}")
                          for i, d in enumerate(data["target"], 1)]
    return out


TARGETS: dict[str, list[Target]] = load_targets()

# --------------------------------------------------------------------- evaluation


@dataclass
class TargetResult:
    """A target with what the model gave."""

    target: Target
    simulated: Stat
    base: Stat | None = None  # base run's value (change/difference targets)
    passed: bool = False

    def to_json(self) -> dict:
        """JSON-safe dict."""
        return {"target": asdict(self.target), "label": self.target.label(),
                "simulated": self.simulated.to_json(),
                "base": self.base.to_json() if self.base else None, "passed": self.passed}


@dataclass
class CalibrationReport:
    """All targets of one scenario."""

    key: str
    scenario: str
    base: str | None
    replications: int
    agents: int
    seed: int
    results: list[TargetResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every target passes."""
        return all(r.passed for r in self.results)

    def failures(self) -> list[TargetResult]:
        """Targets missed."""
        return [r for r in self.results if not r.passed]

    def to_json(self) -> dict:
        """JSON-safe dict (the ``--json`` file)."""
        return {"format": "benefit-sim-calibration/1", "key": self.key,
                "scenario": self.scenario, "base": self.base,
                "replications": self.replications, "agents": self.agents, "seed": self.seed,
                "passed": self.passed, "targets": [r.to_json() for r in self.results]}


def _group(res, where: str) -> tuple[slice, slice, str]:
    """(segment slice, tier slice, kind) for a ``where`` string."""
    if where == "shop":
        return slice(None), slice(None), "shop"
    kind, _, name = where.partition(":")
    if kind == "segment":
        if name not in res.segments:
            raise ValueError(f"where: segment {name!r} must be one of {res.segments}")
        i = res.segments.index(name)
        return slice(i, i + 1), slice(None), kind
    if kind == "tier":
        if name not in res.tiers:
            raise ValueError(f"where: tier {name!r} must be one of {res.tiers}")
        i = res.tiers.index(name)
        return slice(None), slice(i, i + 1), kind
    raise ValueError(f"where: {where!r} must be 'shop', 'segment:<name>' or 'tier:<name>'")


def values(res, metric: str, where: str, sc: Scenario | None = None) -> np.ndarray:
    """Per-replication values of a metric for a group of the scenario arm."""
    sel_s, sel_t, kind = _group(res, where)
    if metric in DERIVED:
        a = res._stack("scenario")[:, :, sel_s, sel_t, :]  # [R, H, S', T', M]
        full = res._stack("scenario")
        if metric in ("sales_share", "order_share"):
            col = MI["gross_revenue" if metric == "sales_share" else "orders"]
            num = a[:, :12, ..., col].sum(axis=(1, 2, 3))
            den = full[:, :12, ..., col].sum(axis=(1, 2, 3))
            return num / den
        if metric == "orders_per_customer_month":
            return (a[..., MI["orders"]].sum(axis=(1, 2, 3))
                    / a[..., MI["active_customers"]].sum(axis=(1, 2, 3)))
        if metric == "complaints_per_order":
            return (a[..., MI["complaints"]].sum(axis=(1, 2, 3))
                    / a[..., MI["orders"]].sum(axis=(1, 2, 3)))
        if metric == "start_share":
            if kind != "tier":
                raise ValueError("start_share is defined for tiers only")
            mig = np.stack([o.migration for o in res.scn])  # [R, T, T+1]
            return mig[:, sel_t, :].sum(axis=(1, 2)) / mig.sum(axis=(1, 2))
    if metric == "complaint_resolution_hours" and kind != "shop":
        # Resolution is reported per pool: use the pools this group's tiers use.
        return _group_resolution(res, sel_s, sel_t, sc)
    df = res.kpis if kind == "shop" else res._kpis_for(sel_s=sel_s, sel_t=sel_t, level="group")
    if metric not in df.columns:
        raise ValueError(f"metric: {metric!r} must be one of {sorted(df.columns)} "
                         f"or {sorted(DERIVED)}")
    return df[metric].to_numpy(dtype=float)


def _group_resolution(res, sel_s: slice, sel_t: slice, sc: Scenario | None) -> np.ndarray:
    """Resolution hours of a segment/tier: its tiers' pools, weighted by its contacts."""
    if sc is None:
        raise ValueError("complaint_resolution_hours by group needs the scenario")
    default = sc.service.default_pool or sc.service.pools[0].name
    out = []
    for r, o in enumerate(res.scn):
        svc = o.service  # [H, P, X]
        ri = SERVICE_METRICS.index("resolution_mean_hours")
        contacts = o.monthly[:, sel_s, sel_t, MI["contacts"]].sum(axis=(0, 1))  # [T']
        tiers = sc.tiers[sel_t]
        num = den = 0.0
        for t, c in zip(tiers, contacts):
            pool = t.pool or default
            if pool not in o.pool_names:
                continue
            p = o.pool_names.index(pool)
            w = svc[:, p, 0]
            mean_res = float((w * svc[:, p, ri]).sum() / w.sum()) if w.sum() > 0 else math.nan
            num += c * mean_res
            den += c
        out.append(num / den if den > 0 else math.nan)
    return np.array(out)


def target_values(t: Target, res, sc: Scenario) -> np.ndarray:
    """Per-replication value of a target's metric (ratio if ``versus``)."""
    v = values(res, t.metric, t.where, sc)
    if t.versus is not None:
        v = v / values(res, t.metric, t.versus, sc)
    return v


def evaluate(t: Target, res, sc: Scenario, base_res=None, base_sc: Scenario | None = None
             ) -> TargetResult:
    """Compare one target with a run (and the base run for change/difference targets)."""
    v = target_values(t, res, sc)
    base_stat = None
    if t.mode != "level":
        if base_res is None or base_sc is None:
            raise ValueError(f"target {t.label()!r} compares with a base run: none given")
        b = target_values(t, base_res, base_sc)
        base_stat = Stat.of(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = v / b - 1.0 if t.mode == "change" else v - b
    s = Stat.of(v)
    m = s.mean
    if not math.isfinite(m):
        ok = False
    elif t.bound == "near":
        ok = abs(m - t.observed) <= t.tolerance + 1e-12
    elif t.bound == "at_most":
        ok = m <= t.observed + t.tolerance
    else:
        ok = m >= t.observed - t.tolerance
    return TargetResult(t, s, base_stat, bool(ok))


def calibrate(key: str, sc: Scenario, path: Path | None = None, base: Scenario | None = None,
              replications: int = DEFAULT_REPLICATIONS, agents: int = DEFAULT_AGENTS,
              seed: int | None = None, horizon_months: int | None = None,
              workers: int | None = None) -> CalibrationReport:
    """Run a scenario (and its base on the same seed if needed) and check its targets.

    ``base`` is the counterfactual base scenario (loaded from
    ``run.counterfactual.base_scenario`` relative to ``path`` when not given).
    With a base, the scenario's own ROI/NPV are vs that base.
    """
    from simulator.runner import run

    targets = TARGETS.get(key, [])
    seed = sc.run.seed if seed is None else seed
    if base is None and path is not None:
        from simulator.loader import base_of

        base = base_of(sc, path)
    needs_base = any(t.mode != "level" for t in targets)
    if needs_base and base is None:
        raise ValueError(f"{key}: intervention targets need run.counterfactual.mode = "
                         f"'base_scenario' with a base_scenario file")
    # At the nominal values of any inputs written as ranges: the targets calibrate those
    # values; the ranges say how sure we are of them (docs/UNCERTAINTY.md).
    kw: dict[str, Any] = dict(replications=replications, agents=agents, seed=seed,
                              horizon_months=horizon_months, workers=workers,
                              assumptions="nominal")
    res = run(sc, base=base, **kw)
    base_res = None
    if base is not None and needs_base:
        # Same seed -> same random streams: the base run equals the counterfactual arm.
        base_res = run(base.model_copy(update={"run": base.run.model_copy(update={
            "counterfactual": base.run.counterfactual.model_copy(update={"mode": "none"})})}),
            **kw)
    rep = CalibrationReport(key, sc.name, base.name if base is not None else None,
                            replications, agents, seed)
    for t in targets:
        rep.results.append(evaluate(t, res, sc, base_res, base))
    return rep


# ------------------------------------------------------------------- report text


def _fmt(x: float, metric: str, mode: str) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if mode == "change":
        return f"{100 * x:+.1f} %"
    if metric.endswith("_hours"):
        return f"{x:.2f} h"
    if metric in ("roi", "orders_per_customer_month") or abs(x) > 1.5:
        return f"{x:,.2f}"
    sign = "+" if mode == "difference" else ""
    return f"{100 * x:{sign}.1f} %"


def row_texts(r: TargetResult) -> list[str]:
    """Target, observed, simulated, interval, base, tolerance and pass/fail as text."""
    tg, s = r.target, r.simulated
    unit = tg.metric if tg.versus is None else "roi"

    def f(x):
        return _fmt(x, unit, tg.mode)

    bound = {"near": "±", "at_most": "≤ obs +", "at_least": "≥ obs -"}[tg.bound]
    tol = f"{bound}{_fmt(tg.tolerance, unit, tg.mode).lstrip('+')}"
    ci = "n/a" if not math.isfinite(s.ci95_low) else f"{f(s.ci95_low)} – {f(s.ci95_high)}"
    base = _fmt(r.base.mean, unit, "level") if r.base else ""
    return [tg.label(), f(tg.observed), f(s.mean), ci, base, tol,
            "pass" if r.passed else "FAIL"]


def report_text(rep: CalibrationReport) -> str:
    """Plain-text report (one line per target), for logs and tests."""
    lines = [f"{rep.key}: {rep.scenario} ({rep.replications} x {rep.agents} agents, "
             f"seed {rep.seed}{', base ' + rep.base if rep.base else ''})"]
    for r in rep.results:
        label, obs, sim, ci, base, tol, ok = row_texts(r)
        lines.append(f"  {ok:4s} {label}: observed {obs}, simulated {sim} [{ci}] "
                     f"{'base ' + base + ' ' if base else ''}tol {tol} -- {r.target.source}")
    return "\n".join(lines)
