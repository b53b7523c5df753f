"""Sensitivity (tornado), goal seek and break-even, under common random numbers.

Every evaluation is a full :func:`simulator.runner.run` of a changed scenario
with the **same seed, replications, sample and horizon** as the centre run, so
replication r of every run uses the same random streams: differences between
runs are paired per replication and their 95 % intervals are those of the paired
differences (much narrower than the runs' own intervals).

**Inputs** are either budget levers (ids of :mod:`simulator.optimiser.levers`:
``benefits:<tier>``, ``service:<pool>``, ``promotion:<name>``,
``acquisition``), swung in monthly spend and applied with
:func:`simulator.optimiser.levers.apply_allocation`, or scenario parameter paths such as
``segments[0].churn_annual``, ``segments[HNW].sensitivity.price``,
``tiers[Gold].benefits[0].effect.order_rate`` or
``service.pools[General].shifts[0].staff`` (a list item by position or by
name). A changed scenario is validated like a file (a value outside the field's
range is a :class:`~simulator.scenario_io.ScenarioError` naming the field).
Whole-number fields (staff) are rounded.

**KPIs** (:data:`KPIS`): ``npv``, ``roi``, ``ltv`` (discounted LTV per
customer), ``churn`` (annualised), ``sla`` (SLA attainment); labels, units and
formatting come from :mod:`simulator.metrics`.

Public API (each takes ``progress(done, total)`` and ``cancel`` like
:func:`simulator.runner.run`; ``done``/``total`` count replications over all runs)::

    t = tornado(sc, kpi="npv", inputs=None, swing=0.2, ranges=None, base=None, **sample)
    g = goal_seek(sc, "service.pools[0].shifts[0].staff", "sla", 0.8, low=1, high=40, ...)
    b = break_even(sc, base=None, **sample)        # NPV(k) = 0, effects scaled by k
    scale_effects(sc, k)                           # the scenario with every effect × k
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from simulator import metrics
from simulator.scenario import Effect, Scenario
from simulator.scenario_io import ScenarioError, from_dict

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not with the CLI
    import numpy as np

    from simulator.results import RunResult, Stat

KPIS = {**metrics.OBJECTIVES, "churn": "churn_annual", "sla": "sla_attainment"}
DEFAULT_SWING = 0.2
# Replications of a tornado unless given: every bar is a paired difference under common
# random numbers, whose spread is a small fraction of a run's own (the default scenario:
# ±¥0.03 B on a ¥1.1 B bar at 20), so 4 give honest (t with 3 degrees) and narrow intervals
# at a fifth of the scenario's 20 replications' cost.
TORNADO_REPLICATIONS = 4
EFFECT_FIELDS = ("order_rate", "spend_per_order", "churn", "satisfaction", "complaints")
MAX_EFFECT_SCALE = 10.0


class Unreachable(ValueError):
    """The target is not reached anywhere in the bracket (the message says the KPI at its ends)."""


# ------------------------------------------------------------------ paths
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]+\])*)")


def _steps(path: str) -> list[str | int]:
    if not path or len(path) > 300:
        raise ValueError(f"input {path!r}: give a parameter path such as "
                         "segments[0].churn_annual or a lever id such as service:General")
    out: list[str | int] = []
    for part in path.split("."):
        m = _STEP.fullmatch(part.strip())
        if not m:
            raise ValueError(f"input {path!r}: cannot read {part!r} (a path is names joined by "
                             "dots, with [n] or [name] for a list item)")
        out.append(m.group(1))
        for idx in re.findall(r"\[([^\]]+)\]", m.group(2)):
            idx = idx.strip().strip("'\"")
            out.append(int(idx) if idx.lstrip("-").isdigit() else f"[{idx}]")
    return out


def _locate(d: dict, path: str) -> tuple[object, object]:
    """Find the container and key of ``path`` in a scenario dict (ValueError naming the path)."""
    steps = _steps(path)
    cur: object = d
    for i, s in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(s, str) and s.startswith("["):
            name = s[1:-1]
            if not isinstance(cur, list):
                raise ValueError(f"input {path!r}: {name!r} names a list item, but there is no "
                                 "list there")
            hits = [k for k, x in enumerate(cur) if isinstance(x, dict) and x.get("name") == name]
            if not hits:
                names = [x.get("name") for x in cur if isinstance(x, dict)]
                raise ValueError(f"input {path!r}: no item named {name!r} (there are "
                                 f"{', '.join(map(repr, names)) or 'none'})")
            s = hits[0]
        if isinstance(s, int):
            if not isinstance(cur, list) or not -len(cur) <= s < len(cur):
                n = len(cur) if isinstance(cur, list) else 0
                raise ValueError(f"input {path!r}: item [{s}] does not exist ({n} items)")
        elif not isinstance(cur, dict) or s not in cur:
            have = sorted(cur) if isinstance(cur, dict) else []
            raise ValueError(f"input {path!r}: {s!r} is not a field here"
                             + (f" (fields: {', '.join(have[:20])})" if have else ""))
        if last:
            return cur, s
        cur = cur[s]  # type: ignore[index]
    raise ValueError(f"input {path!r}: empty path")


def get_value(sc: Scenario, path: str) -> float:
    """Read the number at ``path`` (defaults filled in); ValueError if it is not a number."""
    d = sc.model_dump(mode="json")
    box, key = _locate(d, path)
    v = box[key]  # type: ignore[index]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"input {path!r}: {v!r} is not a number")
    return v


def with_value(sc: Scenario, path: str, value: float) -> Scenario:
    """Return a validated copy of ``sc`` with ``path`` set to ``value`` (whole numbers rounded)."""
    d = sc.model_dump(mode="json")
    box, key = _locate(d, path)
    old = box[key]  # type: ignore[index]
    if isinstance(old, bool) or not isinstance(old, (int, float)):
        raise ValueError(f"input {path!r}: {old!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"input {path!r}: {value} is not a finite number")
    box[key] = int(round(value)) if isinstance(old, int) else float(value)  # type: ignore[index]
    try:
        return from_dict(_drop_none(d))
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, f"{sc.name} with {path} = {value:g}") from None


def _drop_none(x):
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x


# ------------------------------------------------------------------ runs
@dataclass
class _Runner:
    """Runs variants of one scenario under common random numbers, counting replications."""

    sc: Scenario
    base: Scenario | None
    kw: dict
    progress: Callable[[int, int], None] | None
    cancel: object
    total_runs: int
    runs_done: int = 0

    @property
    def reps(self) -> int:
        return self.kw.get("replications") or self.sc.run.replications

    def __call__(self, sc: Scenario) -> RunResult:
        return self.many([sc])[0]

    def many(self, scs: Sequence[Scenario]) -> list[RunResult]:
        """Run variants as one batch (every replication of all of them in flight at once).

        Inside the sweep's :func:`simulator.arms.sharing` block, so an arm already run
        (the scheme-off counterfactual of every variant that leaves it unchanged) is
        not simulated again.
        """
        from simulator.runner import run_many

        R = self.reps
        done0 = self.runs_done * R

        def cb(done, _total):
            if self.progress:
                self.progress(done0 + done,
                              max(self.total_runs, self.runs_done + len(scs)) * R)

        # every input at its nominal value unless swung: a tornado, a goal seek and a
        # break-even compare variants of one scenario, not draws of its ranges
        kw = {"assumptions": "nominal", **self.kw}
        res = run_many(list(scs), bases=[self.base] * len(scs), progress=cb,
                       cancel=self.cancel, **kw)
        self.runs_done += len(scs)
        return res


def sharing():
    """The sweep's :func:`simulator.arms.sharing` block (imported when a sweep runs)."""
    from simulator import arms

    return arms.sharing()


def _sharing_arms(fn):
    """Run the sweep ``fn`` in one :func:`simulator.arms.sharing` block (arms kept across runs)."""
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        with sharing():
            return fn(*args, **kwargs)
    return inner


def _kpi_key(kpi: str) -> str:
    if kpi not in KPIS:
        raise ValueError(f"KPI: {kpi!r} must be one of {', '.join(KPIS)}")
    return KPIS[kpi]


def _values(res: RunResult, key: str) -> np.ndarray:
    return res.kpis[key].to_numpy(dtype=float)


def _stat_json(s: Stat) -> dict:
    return s.to_json()


# ------------------------------------------------------------------ tornado
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
    without a stated bound swings over its 5th to 95th percentile.
    """
    from simulator import labels
    from simulator.uncertainty import key_text, resolve, uncertain_of

    out: dict[str, tuple[float, float, str]] = {}
    for k, d in sorted(uncertain_of(sc).items(), key=lambda kv: key_text(kv[0])):
        path = resolve(sc, k)
        if path is None:
            continue
        stated = d.kind in ("triangular", "uniform") or ("low" in d.stated
                                                        and "high" in d.stated)
        lo, hi = (d.lo, d.hi) if stated else (float(d.ppf(0.05)), float(d.ppf(0.95)))
        out[key_text(k)] = (lo, hi, labels.where(path, sc))
    return out


def uncertain_texts(sc: Scenario) -> dict[str, str]:
    """{path: the range in the form's units} of the inputs written as ranges."""
    from simulator import labels
    from simulator.uncertainty import key_text, resolve, uncertain_of

    out = {}
    for k, d in uncertain_of(sc).items():
        path = resolve(sc, k)
        if path is not None:
            unit, scale, _ = labels.display_unit(Scenario, path)
            out[key_text(k)] = d.text(unit, scale)
    return out


def _is_lever(name: str, sc: Scenario) -> bool:
    from simulator.optimiser.levers import lever_ids

    return name in lever_ids(sc)


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


# ------------------------------------------------------------------ solving
@dataclass
class Solution:
    """Where a KPI reaches a target, found by bracketing under common random numbers."""

    input: str
    kpi: str
    metric: str
    target: float
    value: float  # the input's value at the target
    interval: tuple[float, float]  # 95 %: the KPI's CI at the solution, through the local slope
    kpi_at_value: Stat
    evaluations: list[tuple[float, float]]  # (input value, KPI mean) in the order run
    whole_number: bool = False
    note: str = ""

    def to_json(self) -> dict:
        """Plain data."""
        d = asdict(self)
        d["kpi_at_value"] = _stat_json(self.kpi_at_value)
        d["interval"] = [None if not math.isfinite(x) else x for x in self.interval]
        return d


def _bracket_solve(f, lo: float, hi: float, target: float, integer: bool, tol: float,
                   max_iter: int, what: str, fmt) -> tuple[float, list, dict]:
    """Illinois regula falsi (or integer bisection) for f(x) = target on [lo, hi].

    ``f`` returns (mean, RunResult). Raises :class:`Unreachable` when the target is
    not between f(lo) and f(hi).
    """
    evals: list[tuple[float, float]] = []
    cache: dict[float, tuple[float, object]] = {}

    def F(x):
        if x not in cache:
            cache[x] = f(x)
            evals.append((x, cache[x][0]))
        return cache[x][0] - target

    a, b = lo, hi
    fa, fb = F(a), F(b)
    if not (math.isfinite(fa) and math.isfinite(fb)):
        raise Unreachable(f"{what} is not defined at an end of the range ({fmt(a)}: "
                          f"{evals[0][1]}, {fmt(b)}: {evals[1][1]})")
    if fa == 0:
        return a, evals, cache
    if fb == 0:
        return b, evals, cache
    if fa * fb > 0:
        raise Unreachable(f"the target is not reached between {fmt(a)} and {fmt(b)}: "
                          f"{what} is {evals[0][1]:.6g} and {evals[1][1]:.6g} there")
    if integer:
        rising = fa < 0  # the KPI climbs to the target from the low end
        while b - a > 1:
            m = float(math.floor((a + b) / 2))
            fm = F(m)
            if fm == 0:
                return m, evals, cache
            if fa * fm < 0:
                b, fb = m, fm
            else:
                a, fa = m, fm
        # the end on the target's side (the first whole value that reaches it)
        reached_a = fa >= 0 if rising else fa <= 0
        return (a if reached_a else b), evals, cache
    side = 0
    for _ in range(max_iter):
        m = b - fb * (b - a) / (fb - fa)
        if not a < m < b and not b < m < a:
            m = (a + b) / 2
        fm = F(m)
        if abs(b - a) <= tol or fm == 0:
            return m, evals, cache
        if fm * fb < 0:
            a, fa = b, fb
            b, fb = m, fm
            side = 0
        else:
            b, fb = m, fm
            fa = fa / 2 if side == -1 else fa  # Illinois: halve the stale end
            side = -1
        if abs(b - a) <= tol:
            break
    return b, evals, cache


def _interval(x: float, st: Stat, evals, target: float) -> tuple[float, float]:
    """Carry the KPI's 95 % CI at x to the input through the secant slope."""
    import numpy as np

    pts = sorted(set(evals))
    if len(pts) < 2 or not math.isfinite(st.half_width):
        return (math.nan, math.nan)
    near = sorted(pts, key=lambda p: abs(p[0] - x))[:3]
    xs = np.array([p[0] for p in near])
    ys = np.array([p[1] for p in near])
    if np.ptp(xs) == 0:
        return (math.nan, math.nan)
    slope = float(np.polyfit(xs, ys, 1)[0])
    if slope == 0:
        return (-math.inf, math.inf)
    d = abs(st.half_width / slope)
    return (x - d, x + d)


@_sharing_arms
def goal_seek(sc: Scenario, input: str, kpi: str, target: float, low: float | None = None,
              high: float | None = None, base: Scenario | None = None, tol: float | None = None,
              max_iter: int = 12, progress=None, cancel=None, **sample) -> Solution:
    """Find the value of one input at which the KPI's mean reaches ``target``.

    ``input``: a parameter path or a lever id (a lever moves in CNY per month).
    Default bracket: today's value ÷ 4 to × 4 (levers: their bounds). Whole-number
    inputs are bisected on integers and the answer is the first whole value on the
    target's side. Raises :class:`Unreachable` when the KPI does not cross the
    target inside the bracket.
    """
    from simulator.optimiser.levers import apply_allocation, extract_levers

    key = _kpi_key(kpi)
    if not math.isfinite(target):
        raise ValueError(f"target: {target} must be a finite number")
    lever = _is_lever(input, sc)
    integer = False
    runner = _Runner(sc, base, sample, progress, cancel, max_iter + 2)
    if lever:
        centre = runner(sc)
        levers = extract_levers(sc, centre)
        lv = next(x for x in levers if x.id == input)
        cur = lv.current_cny
        lo = low if low is not None else lv.min_cny
        hi = high if high is not None else (lv.max_cny if math.isfinite(lv.max_cny)
                                            else 4 * cur)

        def make(x):
            return apply_allocation(sc, levers, {input: x})
    else:
        cur = float(get_value(sc, input))
        integer = isinstance(get_value(sc, input), int)
        lo = low if low is not None else cur / 4
        hi = high if high is not None else (cur * 4 if cur else 1.0)
        if integer:
            lo, hi = float(math.floor(lo)), float(math.ceil(hi))

        def make(x):
            return with_value(sc, input, x)
    if not lo < hi:
        raise ValueError(f"range of {input}: low {lo:g} must be below high {hi:g}")
    results: dict[float, RunResult] = {}
    ends: dict[float, RunResult] = {}

    def f(x):
        r = ends.pop(x) if x in ends else runner(make(x))
        results[x] = r
        return float(r.summary[key].mean), r

    tol = tol if tol is not None else 1e-3 * (hi - lo)
    label = metrics.label_of(key)
    with sharing():  # every step shares the arms it does not change (the counterfactual)
        ends.update(zip((lo, hi), runner.many([make(lo), make(hi)])))  # the bracket: one batch
        x, evals, _ = _bracket_solve(f, lo, hi, target, integer, tol, max_iter, label,
                                     lambda v: f"{v:,.6g}")
        if x not in results:
            f(x)
    st = results[x].summary[key]
    iv = _interval(x, st, evals, target)
    note = ("whole number: the first value on the target's side" if integer else "")
    return Solution(input, kpi, key, target, x, iv, st, evals, integer, note)


def scale_effects(sc: Scenario, k: float) -> Scenario:
    """``sc`` with every assumed effect (tier benefits, points, promotions) multiplied by k.

    Raises ``ValueError`` naming the first effect that k would push outside its range.
    """
    if not (math.isfinite(k) and k >= 0):
        raise ValueError(f"k: {k} must be a finite number >= 0")
    new = sc.model_copy(deep=True)
    lims = {n: (Effect.model_fields[n].metadata) for n in EFFECT_FIELDS}

    def bounds(name):
        lo, hi = -math.inf, math.inf
        for m in lims[name]:
            lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
            hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
        return lo, hi

    def scale(e: Effect, where: str) -> None:
        for n in EFFECT_FIELDS:
            v = getattr(e, n) * k
            lo, hi = bounds(n)
            if not lo <= v <= hi:
                raise ValueError(f"{where}.effect.{n}: {getattr(e, n):g} × {k:g} = {v:g} is "
                                 f"outside {lo:g} to {hi:g}")
            setattr(e, n, v)

    for i, t in enumerate(new.tiers):
        for j, b in enumerate(t.benefits):
            scale(b.effect, f"tiers[{i}].benefits[{j}]")
    scale(new.tier_rules.points.effect, "tier_rules.points")
    for i, p in enumerate(new.promotions):
        scale(p.effect, f"promotions[{i}]")
    return new


def max_effect_scale(sc: Scenario) -> float:
    """Return the largest k every effect can take within its field's range (at most 10)."""
    kmax = MAX_EFFECT_SCALE
    effects = [b.effect for t in sc.tiers for b in t.benefits]
    effects += [sc.tier_rules.points.effect] + [p.effect for p in sc.promotions]
    for e in effects:
        for n in EFFECT_FIELDS:
            v = getattr(e, n)
            if v == 0:
                continue
            for m in Effect.model_fields[n].metadata:
                lim = getattr(m, "le", None) if v > 0 else getattr(m, "ge", None)
                if lim is not None:
                    kmax = min(kmax, lim / v)
    return max(kmax, 0.0)


@_sharing_arms
def break_even(sc: Scenario, base: Scenario | None = None, high: float | None = None,
               tol: float = 1e-3, max_iter: int = 12, progress=None, cancel=None,
               **sample) -> Solution:
    """Find the share k of the assumed effects at which NPV = 0 (k = 1: as assumed).

    Solved on [0, high] (default: the largest k the effects' ranges allow, at most
    10) by regula falsi under common random numbers; :class:`Unreachable` when NPV
    does not change sign there (e.g. NPV > 0 even with no effect at all).
    """
    kmax = high if high is not None else max_effect_scale(sc)
    if not 0 < kmax <= MAX_EFFECT_SCALE:
        raise ValueError(f"high: {kmax:g} must be above 0 and at most {MAX_EFFECT_SCALE:g}")
    runner = _Runner(sc, base, sample, progress, cancel, max_iter + 2)
    results: dict[float, RunResult] = {}
    ends: dict[float, RunResult] = {}

    def f(k):
        r = ends.pop(k) if k in ends else runner(scale_effects(sc, k))
        results[k] = r
        return float(r.summary["npv"].mean), r

    with sharing():  # every k shares the scheme-off counterfactual
        ends.update(zip((0.0, kmax), runner.many([scale_effects(sc, 0.0),
                                                  scale_effects(sc, kmax)])))
        try:
            k, evals, _ = _bracket_solve(f, 0.0, kmax, 0.0, False, tol, max_iter, "NPV",
                                         lambda v: f"k = {v:.3g}")
        except Unreachable:
            if 0.0 in results and kmax in results:
                a, b = (float(results[x].summary["npv"].mean) for x in (0.0, kmax))
                raise Unreachable(f"NPV does not reach 0 for k from 0 to {kmax:.3g}: it is "
                                  f"{metrics.money(a)} with no effect (k = 0) and "
                                  f"{metrics.money(b)} at k = {kmax:.3g}") from None
            raise
        if k not in results:
            f(k)
    st = results[k].summary["npv"]
    return Solution("effects × k", "npv", "npv", 0.0, k, _interval(k, st, evals, 0.0), st,
                    evals, False, "k = 1: every effect as assumed; k = 0: no effect")


# ------------------------------------------------------------------ all of it
@dataclass
class RiskAnalysis:
    """What the risk view and the Risk sheet show: one call, one set of numbers.

    ``risk``: the sampled run's probabilistic answers
    (:func:`simulator.uncertainty.risk_summary`; None without ranges);
    ``tornado`` (with spider data); ``breakeven`` (None with ``why`` when unreachable).
    """

    scenario: str
    risk: dict | None
    tornado: Tornado
    breakeven: Solution | None
    breakeven_why: str = ""
    sample: dict = field(default_factory=dict)
    result: RunResult | None = None  # the sampled run (with ranges), for a workbook

    def to_json(self) -> dict:
        """Plain data (NaN as null)."""
        from simulator.uncertainty import json_safe

        return json_safe({"scenario": self.scenario, "sample": self.sample, "risk": self.risk,
                          "tornado": self.tornado.to_json(),
                          "breakeven": (self.breakeven.to_json() if self.breakeven else None),
                          "breakeven_why": self.breakeven_why})


@_sharing_arms
def risk_analysis(sc: Scenario, kpi: str = "npv", base: Scenario | None = None,
                  roi_target: float = 0.0, spider_points: int = 3, breakeven: bool = True,
                  progress=None, cancel=None, **sample) -> RiskAnalysis:
    """The sampled run (if the scenario has ranges), the tornado and the break-even.

    All on one sample (``sample``: replications, agents, seed, horizon_months,
    workers); ``progress(done, total)`` counts replications over the three parts
    (the break-even's total is an upper bound).
    """
    from simulator.runner import run
    from simulator.uncertainty import risk_summary, uncertain_of

    R = sample.get("replications") or sc.run.replications
    n_in = len(uncertain_inputs(sc)) if uncertain_of(sc) else len(_lever_ids(sc))
    total = {"sampled": R if uncertain_of(sc) else 0,
             "tornado": (1 + (2 + max(0, spider_points - 3)) * n_in) * R,
             "breakeven": 14 * R if breakeven else 0}
    offset = {"sampled": 0, "tornado": total["sampled"],
              "breakeven": total["sampled"] + total["tornado"]}
    grand = sum(total.values())

    def part(name):
        def cb(done, _t):
            if progress:
                progress(min(offset[name] + done, grand), grand)
        return cb

    risk, res = None, None
    if uncertain_of(sc):
        res = run(sc, base=base, progress=part("sampled"), cancel=cancel,
                  **{**sample, "assumptions": "sample"})
        risk = risk_summary(res, roi_target)
    t = tornado(sc, kpi, base=base, progress=part("tornado"), cancel=cancel,
                spider_points=spider_points, **sample)
    be, why = None, ""
    if breakeven:
        try:
            be = break_even(sc, base=base, progress=part("breakeven"), cancel=cancel, **sample)
        except (Unreachable, ValueError) as exc:
            why = str(exc)
    if progress:
        progress(grand, grand)
    meta = {k: t.meta.get(k) for k in ("seed", "replications", "agents", "horizon_months")}
    return RiskAnalysis(sc.name, risk, t, be, why, meta, res)


def _lever_ids(sc: Scenario) -> list[str]:
    from simulator.optimiser.levers import lever_ids

    return lever_ids(sc)


__all__ = ["KPIS", "Bar", "RiskAnalysis", "Solution", "Tornado", "Unreachable", "break_even",
           "risk_analysis", "uncertain_inputs",
           "get_value", "goal_seek", "scale_effects", "tornado", "with_value"]
