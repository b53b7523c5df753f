"""The tornado (each input swung low -> high, ranked) with its spider points."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Sequence

from simulator import metrics
from simulator.scenario import Scenario
from simulator.sensitivity.paths import get_value, with_value
from simulator.sensitivity.runs import (
    _is_lever,
    _kpi_key,
    _Runner,
    _sharing_arms,
    _stat_json,
    _values,
    sharing,
)

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not with the CLI

    from simulator.results import Stat


DEFAULT_SWING = 0.2
# Replications of a tornado unless given: every bar is a paired difference under common
# random numbers, whose spread is a small fraction of a run's own (the default scenario:
# ±¥0.03 B on a ¥1.1 B bar at 20), so 4 give honest (t with 3 degrees) and narrow intervals
# at a fifth of the scenario's 20 replications' cost.
TORNADO_REPLICATIONS = 4


@dataclass
class Bar:
    """One input swung low -> high."""

    input: str
    label: str
    unit: str  # "CNY/month" for levers, "" for parameter values
    low: float
    centre: float
    high: float
    kpi_low: Stat
    kpi_high: Stat
    delta_low: Stat  # KPI(low) − KPI(centre), paired per replication
    delta_high: Stat
    swing: Stat  # KPI(high) − KPI(low), paired per replication
    note: str = ""
    range_text: str = ""  # the input's range as written (uncertain inputs)
    spider: list = field(default_factory=list)  # [{x, kpi, delta, delta_ci95}] over the range

    def to_json(self) -> dict:
        """Plain data."""
        stats = ("kpi_low", "kpi_high", "delta_low", "delta_high", "swing")
        d = {k: v for k, v in asdict(self).items() if k not in stats}
        for k in stats:
            d[k] = _stat_json(getattr(self, k))
        return d


@dataclass
class Tornado:
    """Bars ranked by |swing| (largest first)."""

    scenario: str
    kpi: str
    metric: str
    centre: Stat
    bars: list[Bar]
    skipped: list[str] = field(default_factory=list)  # inputs that cannot move, with why
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """Plain data (the CLI's ``--json``)."""
        return {"scenario": self.scenario, "kpi": self.kpi, "metric": self.metric,
                "label": metrics.label_of(self.metric), "centre": _stat_json(self.centre),
                "bars": [b.to_json() for b in self.bars], "skipped": self.skipped,
                "meta": self.meta}


def uncertain_inputs(sc: Scenario) -> dict[str, tuple[float, float, str]]:
    """The inputs written as ranges: {path: (swing low, swing high, label)}.

    A bounded range swings from its low to its high; a normal or lognormal range
    without a stated bound swings over its 5th to 95th percentile. A shared
    assumption is one input (``assumptions.<name>``) that swings every field
    referring to it together.
    """
    from simulator.uncertainty import input_label, inputs_of, is_assumption, key_text, resolve

    out: dict[str, tuple[float, float, str]] = {}
    for k, i in sorted(inputs_of(sc).items(), key=lambda kv: key_text(kv[0])):
        if not is_assumption(k) and resolve(sc, k) is None:
            continue
        d = i.dist
        stated = d.kind in ("triangular", "uniform") or ("low" in d.stated
                                                        and "high" in d.stated)
        lo, hi = (d.lo, d.hi) if stated else (float(d.ppf(0.05)), float(d.ppf(0.95)))
        out[key_text(k)] = (lo, hi, input_label(sc, k, i))
    return out


def uncertain_texts(sc: Scenario) -> dict[str, str]:
    """{path: the range in the form's units} of the inputs written as ranges."""
    from simulator.uncertainty import input_unit, inputs_of, is_assumption, key_text, resolve

    out = {}
    for k, i in inputs_of(sc).items():
        if is_assumption(k) or resolve(sc, k) is not None:
            unit, scale = input_unit(sc, k, i)
            out[key_text(k)] = i.dist.text(unit, scale)
    return out


def _swings(sc: Scenario, names, ranges, swing: float, levers: dict, uncertain: dict,
            range_texts: dict, spider_points: int, runner: _Runner, key: str,
            c_vals) -> tuple[list[Bar], list[str]]:
    """The tornado's bars (with spider points): every swing planned, then run as one batch."""
    import numpy as np

    from simulator.optimiser.levers import apply_allocation
    from simulator.results import Stat

    plans = []  # (input, label, unit, lo, cur, hi, note, [x], [scenario])
    skipped: list[str] = []
    for n in names:
        if n in levers:
            lv = levers[n]
            cur = lv.current_cny
            lo, hi = ranges.get(n, (cur * (1 - swing), cur * (1 + swing)))
            if cur <= 0:
                skipped.append(f"{n}: no spend today, nothing to swing")
                runner.total_runs -= 2 + max(0, spider_points - 3)
                continue
            if lv.kind == "promotion" and lv.runs == 0:
                skipped.append(f"{n}: does not run within the horizon")
                runner.total_runs -= 2 + max(0, spider_points - 3)
                continue

            def make(x, lv=lv):
                return apply_allocation(sc, list(levers.values()), {lv.id: x})
            label, unit = lv.label, "CNY/month"
        else:
            cur = float(get_value(sc, n))
            lo, hi = ranges.get(n, (cur * (1 - swing), cur * (1 + swing)))
            if lo == hi == cur:
                skipped.append(f"{n}: today's value is 0; give a range to swing it")
                runner.total_runs -= 2 + max(0, spider_points - 3)
                continue

            def make(x, n=n):
                return with_value(sc, n, x)
            label, unit = (uncertain[n][2], "") if n in uncertain else (n, "")
        if lo > hi:
            raise ValueError(f"range of {n}: low {lo:g} is above high {hi:g}")
        s_lo, s_hi = make(lo), make(hi)
        note = ""
        if not _is_lever(n, sc) and isinstance(get_value(sc, n), int):
            lo, hi = float(get_value(s_lo, n)), float(get_value(s_hi, n))
            note = "whole number: rounded"
        # the spider: the KPI at evenly spaced values over the range (the ends and the
        # centre are the tornado's runs; interior points are runs of their own)
        xs, scs = [float(lo), float(hi)], [s_lo, s_hi]
        seen = [float(lo), float(cur), float(hi)]
        for x in np.linspace(lo, hi, spider_points)[1:-1] if spider_points > 3 else ():
            if note:  # a whole number
                x = float(round(x))
            if not any(math.isclose(x, k, rel_tol=1e-9, abs_tol=1e-12) for k in seen):
                seen.append(float(x))
                xs.append(float(x))
                scs.append(make(float(x)))
        plans.append((n, label, unit, lo, cur, hi, note, xs, scs))
    results = iter(runner.many([x for p in plans for x in p[8]]))
    bars: list[Bar] = []
    for n, label, unit, lo, cur, hi, note, xs, scs in plans:
        got = [next(results) for _ in scs]
        r_lo, r_hi = got[0], got[1]
        v_lo, v_hi = _values(r_lo, key), _values(r_hi, key)
        bar = Bar(n, label, unit, float(lo), float(cur), float(hi), r_lo.summary[key],
                  r_hi.summary[key], Stat.of(v_lo - c_vals), Stat.of(v_hi - c_vals),
                  Stat.of(v_hi - v_lo), note, range_texts.get(n, ""))
        pts = {float(lo): v_lo, float(cur): c_vals, float(hi): v_hi}
        for x, r in zip(xs[2:], got[2:]):
            pts[x] = _values(r, key)
        for x in sorted(pts):
            d = Stat.of(pts[x] - c_vals)
            bar.spider.append({"x": x, "kpi": float(np.nanmean(pts[x])), "delta": d.mean,
                               "delta_ci95": [d.ci95_low, d.ci95_high]})
        bars.append(bar)
    return bars, skipped


@_sharing_arms
def tornado(sc: Scenario, kpi: str = "npv", inputs: Sequence[str] | None = None,
            swing: float = DEFAULT_SWING, ranges: dict[str, tuple[float, float]] | None = None,
            base: Scenario | None = None, progress=None, cancel=None, spider_points: int = 3,
            **sample) -> Tornado:
    """Swing each input low -> high and rank by the KPI's swing (see module doc).

    ``inputs``: lever ids or parameter paths (default: every input written as a
    range, swung over its range; without ranges every lever). Every run holds the
    other inputs at their nominal values. ``spider_points``: values per input for
    the spider chart (3: low, centre, high from the tornado's own runs; more add
    runs at evenly spaced values).
    ``ranges``: {input: (low, high)} in the input's own units (CNY/month for a
    lever); others are swung ±``swing`` of today's value. ``sample``: replications,
    agents, seed, horizon_months, workers — passed to every run.
    """
    from simulator.optimiser.levers import extract_levers, lever_ids

    key = _kpi_key(kpi)
    if not 3 <= spider_points <= 21:
        raise ValueError(f"spider points: {spider_points} must be between 3 and 21")
    if not 0.0 < swing < 1.0:
        raise ValueError(f"swing: {swing} must be between 0 and 1 (0.2 = ±20 %)")
    uncertain = uncertain_inputs(sc)
    names = list(inputs) if inputs else (list(uncertain) or lever_ids(sc))
    # an input written as a range swings over it, unless a range is given here
    ranges = {**{n: (lo, hi) for n, (lo, hi, _) in uncertain.items() if n in names},
              **dict(ranges or {})}
    if len(set(names)) != len(names):
        raise ValueError("inputs: an input is named twice")
    for n in ranges:
        if n not in names:
            names.append(n)
    for n in names:  # every path readable before any run
        if not _is_lever(n, sc):
            get_value(sc, n)
    range_texts = {n: t for n, t in uncertain_texts(sc).items()}
    if not sample.get("replications"):
        sample = {**sample, "replications": min(sc.run.replications, TORNADO_REPLICATIONS)}
    runner = _Runner(sc, base, sample, progress, cancel,
                     1 + (2 + max(0, spider_points - 3)) * len(names))
    with sharing():
        centre = runner(sc)
        c_vals = _values(centre, key)
        levers = {lv.id: lv for lv in extract_levers(sc, centre)} if any(
            _is_lever(n, sc) for n in names) else {}
        bars, skipped = _swings(sc, names, ranges, swing, levers, uncertain, range_texts,
                                spider_points, runner, key, c_vals)
    bars.sort(key=lambda b: -abs(b.swing.mean) if math.isfinite(b.swing.mean) else 0.0)
    meta = {k: centre.meta.get(k) for k in ("seed", "replications", "agents", "horizon_months",
                                            "counterfactual")}
    meta["swing"] = swing
    meta["runs"] = runner.runs_done
    return Tornado(sc.name, kpi, key, centre.summary[key], bars, skipped, meta)
