"""Uncertain inputs: a number written as a range, drawn per replication (Latin hypercube).

Any numeric scenario parameter may be written in the TOML as a distribution
instead of a number (issue 14)::

    churn_annual  = { low = 0.15, mode = 0.20, high = 0.28 }        # triangular
    order_rate    = { low = 0.05, high = 0.18 }                      # uniform
    handle_minutes = { mean = 12, sd = 2, low = 6, high = 20 }       # normal, bounded
    cac_cny       = { dist = "lognormal", mean = 300, sd = 80 }      # lognormal (of the value)

A plain number stays a plain number. Normal and lognormal ranges are truncated to
their ``low``/``high`` if given, always to the field's allowed range. The field
itself holds the distribution's **nominal** value (triangular: the mode; uniform:
the midpoint; normal/lognormal: the mean), so every part of the program that
reads a scenario sees an ordinary number, and a run at the nominal values gives
exactly the numbers of the same file written with plain numbers. The ranges ride
along on the scenario (:func:`uncertain_of`) and are written back when it is saved.

**Sampling.** A run with uncertain inputs (``run.uncertainty.mode = "sample"``,
the default) groups its replications in draws of ``replications_per_draw``
(default 2): replication r uses draw r // m. Each input's draws are a Latin
hypercube over the run's draws, from the run's seed and the input's name only
(not from the worker count, nor from which other inputs are uncertain). The
scenario and its counterfactual get the same quantile of each input they share
(common random numbers): the scheme-off counterfactual is the same scenario; a
base scenario uses its own range for the input, or the scenario's when the base
states the input as a plain number equal to the range's nominal value.

**Assumptions vs simulation noise** (:func:`variance_split`): replications of
one draw differ only by simulation noise, draws also by the assumptions. The
one-way random-effects ANOVA estimator over n draws of m replications,
MSW = ΣΣ(y_ij − ȳ_i)² / (n(m − 1)) and MSB = m Σ(ȳ_i − ȳ)² / (n − 1), gives
σ²_noise = MSW and σ²_assumptions = max(0, (MSB − MSW) / m), both unbiased
(before the truncation at 0); the 95 % interval of the mean uses the draws'
means (standard error √(MSB / nm)).
"""

from __future__ import annotations

import hashlib
import json
import math
import typing
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
from pydantic import BaseModel

from simulator import labels

Key = tuple  # steps: field names, Item(name, position) for a named list item, int for others


@dataclass(frozen=True)
class Item:
    """A named list item in a key: found by its name, else (renamed) at its position.

    Keys compare by name only, so a scenario and its base share an input by the
    items' names; the position lets a range follow an item renamed in the form.
    """

    name: str
    at: int = field(default=-1, compare=False)


ASSUMPTIONS = "assumptions"  # the top-level table of named ranges shared by several fields
REF_KEYS = frozenset({"assumption", "scale"})  # the keys of a reference to one


@dataclass(frozen=True)
class Ref:
    """A field that takes a shared assumption's value times ``scale``: ``{ assumption = "x" }``."""

    name: str
    scale: float = 1.0

    def to_table(self) -> dict:
        """The TOML table as written (``scale`` only when it is not 1)."""
        return {"assumption": self.name} if self.scale == 1 else \
            {"assumption": self.name, "scale": self.scale}


def assumption_key(name: str) -> Key:
    """The key of a shared assumption (its Latin-hypercube column): ``assumptions.<name>``."""
    return (ASSUMPTIONS, name)


def is_assumption(key: Key) -> bool:
    """Whether a key names a shared assumption (not a field)."""
    return len(key) == 2 and key[0] == ASSUMPTIONS and isinstance(key[1], str)


KINDS = ("triangular", "uniform", "normal", "lognormal")
_KEYS = {"dist", "low", "mode", "high", "mean", "sd"}
RANGE_KEYS = frozenset(_KEYS)  # the keys of a range table
_NEEDS = {"triangular": ("low", "mode", "high"), "uniform": ("low", "high"),
          "normal": ("mean", "sd"), "lognormal": ("mean", "sd")}
# Fields that cannot be uncertain: run settings and the optimiser's budget are choices,
# not assumptions; the others take part in rules across fields (shares add up to 100 %,
# thresholds rise from tier to tier, a shift ends after it starts, the first tier is free).
_NOT_ALLOWED_SECTIONS = ("run", "budget", "schema_version")
_NOT_ALLOWED_FIELDS = {("Segment", "share"): "segment shares must add up to 100 %",
                       ("Tier", "threshold_cny"): "thresholds must rise from tier to tier",
                       ("Tier", "min_orders"): "the entry tier's minimum orders must be 0",
                       ("Shift", "start_hour"): "a shift must end after it starts",
                       ("Shift", "end_hour"): "a shift must end after it starts",
                       ("Service", "window_contacts"): "it sets the simulation's precision, "
                       "not an assumption about the shop"}
LHS_TAG = 0x4C4853  # "LHS": the Latin hypercube's own seed address, apart from the streams
U_EPS = 1e-9


# ------------------------------------------------------------------ distributions
@dataclass(frozen=True)
class Distribution:
    """One uncertain input's distribution, truncated to [lo, hi] (its support)."""

    kind: str
    lo: float  # support (the field's range and any stated bounds)
    hi: float
    mode: float = math.nan  # triangular
    mean: float = math.nan  # normal / lognormal: of the value itself
    sd: float = math.nan
    stated: tuple = ()  # the keys written in the file (saved back as written)
    is_int: bool = False

    @property
    def nominal(self) -> float:
        """The value the field holds: mode, midpoint or mean."""
        if self.kind == "triangular":
            v = self.mode
        elif self.kind == "uniform":
            v = (self.lo + self.hi) / 2
        else:
            v = self.mean
        return float(round(v)) if self.is_int else float(v)

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Quantile function (vectorised); whole-number fields are rounded."""
        u = np.clip(np.asarray(u, dtype=float), U_EPS, 1 - U_EPS)
        lo, hi = self.lo, self.hi
        if self.kind == "uniform":
            x = lo + u * (hi - lo)
        elif self.kind == "triangular":
            w = hi - lo
            if w <= 0:
                x = np.full_like(u, lo)
            else:
                c = (self.mode - lo) / w
                x = np.where(u < c, lo + np.sqrt(u * w * (self.mode - lo)),
                             hi - np.sqrt((1 - u) * w * (hi - self.mode)))
        else:
            from scipy import stats

            if self.kind == "normal":
                d = stats.norm(self.mean, self.sd)
            else:
                s2 = math.log1p((self.sd / self.mean) ** 2)
                d = stats.lognorm(math.sqrt(s2), scale=self.mean * math.exp(-s2 / 2))
            a, b = d.cdf(lo), d.cdf(hi)
            x = d.ppf(a + u * (b - a))
        out = np.clip(np.asarray(x, dtype=float), lo, hi)
        return np.round(out) if self.is_int else out

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Distribution function (for tests: the Latin hypercube's margins)."""
        x = np.clip(np.asarray(x, dtype=float), self.lo, self.hi)
        lo, hi = self.lo, self.hi
        if self.kind == "uniform":
            return np.asarray((x - lo) / (hi - lo))
        if self.kind == "triangular":
            w, m = hi - lo, self.mode
            return np.where(x < m, (x - lo) ** 2 / (w * (m - lo) or 1.0),
                            1 - (hi - x) ** 2 / (w * (hi - m) or 1.0))
        from scipy import stats

        if self.kind == "normal":
            d = stats.norm(self.mean, self.sd)
        else:
            s2 = math.log1p((self.sd / self.mean) ** 2)
            d = stats.lognorm(math.sqrt(s2), scale=self.mean * math.exp(-s2 / 2))
        a, b = d.cdf(lo), d.cdf(hi)
        return (d.cdf(x) - a) / (b - a)

    def to_table(self) -> dict:
        """The TOML table as written (keys of the file, numbers as floats)."""
        out: dict[str, Any] = {}
        if "dist" in self.stated or self.kind == "lognormal":
            out["dist"] = self.kind
        order = ("mean", "sd", "low", "high") if self.kind in ("normal", "lognormal") \
            else ("low", "mode", "high")
        for k in order:
            if k in self.stated:
                v = {"low": self.lo, "high": self.hi, "mode": self.mode, "mean": self.mean,
                     "sd": self.sd}[k]
                out[k] = int(v) if self.is_int and k != "sd" and float(v).is_integer() else v
        return out

    def text(self, unit: str = "", scale: float = 1.0) -> str:
        """Planner's words: ``triangular 5 % – 10 % – 18 %``."""
        def n(v: float) -> str:
            return labels.value_text(v, unit, scale, self.is_int)
        if self.kind == "triangular":
            return f"triangular {n(self.lo)} – {n(self.mode)} – {n(self.hi)}"
        if self.kind == "uniform":
            return f"uniform {n(self.lo)} – {n(self.hi)}"
        s = f"{self.kind} mean {n(self.mean)}, sd {labels.value_text(self.sd, unit, scale)}"
        if "low" in self.stated or "high" in self.stated:
            s += f", within {n(self.lo)} – {n(self.hi)}"
        return s


Problem = tuple[str, object, str]  # (path, value, message): scenario_io turns it into an Issue


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse(table: dict, field_lo: float | None, field_hi: float | None, lo_open: bool,
          hi_open: bool, is_int: bool, unit: str, scale: float) -> tuple[Distribution | None,
                                                                          list[str]]:
    """A distribution from its TOML table, or the messages of what is wrong with it."""
    def n(v: float) -> str:
        return labels.value_text(v, unit, scale, is_int)

    bad = sorted(set(table) - _KEYS)
    if bad:
        return None, [f"range: {', '.join(map(repr, bad))} is not a known key (a range is "
                      "{ low, mode, high } (triangular), { low, high } (uniform) or "
                      "{ mean, sd } with optional low/high and dist = \"normal\"/\"lognormal\")"]
    kind = table.get("dist")
    if kind is None:
        kind = "triangular" if "mode" in table else "normal" if "mean" in table else "uniform"
    if kind not in KINDS:
        return None, [f"range: dist {kind!r} must be one of {', '.join(KINDS)}"]
    msgs = []
    for k in _NEEDS[kind]:
        if k not in table:
            msgs.append(f"range ({kind}): {k} is required")
    for k in ("low", "mode", "high", "mean", "sd"):
        if k in table and not _num(table[k]):
            # "@key|" tags the message with the range's key (the problem's path ends in it)
            msgs.append(f"@{k}|range: {k} must be a finite number (found "
                        f"{labels.value_text(table[k])})")
    extra = {"triangular": {"mean", "sd"}, "uniform": {"mean", "sd", "mode"},
             "normal": {"mode"}, "lognormal": {"mode"}}[kind] & set(table)
    if extra:
        msgs.append(f"range ({kind}): {', '.join(sorted(extra))} does not belong to a {kind} "
                    "range")
    if msgs:
        return None, msgs
    f = {k: float(v) for k, v in table.items() if k != "dist"}
    flo = -math.inf if field_lo is None else float(field_lo)
    fhi = math.inf if field_hi is None else float(field_hi)
    allowed = labels.range_text(field_lo, field_hi, lo_open, hi_open, unit, scale, is_int)
    lo, hi = f.get("low", flo), f.get("high", fhi)
    for k in ("low", "high", "mode", "mean"):
        if k in f and not ((flo < f[k] if lo_open else flo <= f[k])
                           and (f[k] < fhi if hi_open else f[k] <= fhi)):
            msgs.append(f"range: {k} {n(f[k])} is outside what the field allows ({allowed})")
    if "low" in f and "high" in f and f["low"] > f["high"]:
        msgs.append(f"range: low {n(f['low'])} is above high {n(f['high'])}")
    if kind == "triangular" and not msgs and not f["low"] <= f["mode"] <= f["high"]:
        msgs.append(f"range: the most likely value (mode) {n(f['mode'])} must lie between "
                    f"low {n(f['low'])} and high {n(f['high'])}")
    if kind in ("normal", "lognormal"):
        if f["sd"] <= 0:
            msgs.append(f"range ({kind}): sd {labels.value_text(f['sd'], unit, scale)} must be "
                        "above 0 (a fixed value is written as a plain number)")
        if kind == "lognormal" and f["mean"] <= 0:
            msgs.append(f"range (lognormal): mean {n(f['mean'])} must be above 0")
        if not msgs and not lo <= f["mean"] <= hi:
            msgs.append(f"range: mean {n(f['mean'])} must lie between low {n(lo)} and high "
                        f"{n(hi)}")
        if kind == "lognormal":
            lo = max(lo, 0.0)
    if msgs:
        return None, msgs
    if kind in ("normal", "lognormal"):
        # an open end of the field's range is approached, never reached
        if lo_open and lo == flo:
            lo = flo + 1e-12 * max(1.0, abs(flo))
        if hi_open and hi == fhi:
            hi = fhi - 1e-12 * max(1.0, abs(fhi))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            # a field without a bound on that side: truncate at mean ± 6 sd
            lo = lo if math.isfinite(lo) else f["mean"] - 6 * f["sd"]
            hi = hi if math.isfinite(hi) else f["mean"] + 6 * f["sd"]
    return Distribution(kind, lo, hi, f.get("mode", math.nan), f.get("mean", math.nan),
                        f.get("sd", math.nan), tuple(sorted(table)), is_int), []


# ------------------------------------------------------------------ the file ↔ the scenario
def _field_kind(cls: Any, name: str) -> tuple[Any, list]:
    info = cls.model_fields[name]
    tp, meta = labels.unwrap(info.annotation)
    return tp, list(info.metadata) + meta


def key_of(path: tuple, data: Any) -> Key:
    """The name-based key of an index path: list items by name where they have one."""
    out: list = []
    node = data
    for part in path:
        if isinstance(part, int):
            item = labels._step(node, part)
            nm = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            out.append(Item(nm, part) if isinstance(nm, str) else part)
        else:
            out.append(part)
        node = labels._step(node, part)
    return tuple(out)


def key_text(key: Key) -> str:
    """``segments[HNW].churn_annual`` (for people and for JSON)."""
    s = ""
    for part in key:
        if isinstance(part, Item):
            s += f"[{part.name}]"
        elif isinstance(part, int):
            s += f"[{part}]"
        else:
            s += ("." if s else "") + part
    return s


def resolve(sc: Any, key: Key) -> tuple | None:
    """The index path of a key in a scenario (or its dict); None if it names nothing."""
    out: list = []
    node = sc
    for part in key:
        if isinstance(part, Item):
            items = node if isinstance(node, list) else None
            if items is None:
                return None
            hits = [i for i, x in enumerate(items)
                    if (x.get("name") if isinstance(x, dict) else getattr(x, "name", None))
                    == part.name]
            if hits:
                part = hits[0]
            elif 0 <= part.at < len(items):
                part = part.at  # renamed since: the item at the same place
            else:
                return None
        node = labels._step(node, part)
        if node is None:
            return None
        out.append(part)
    return tuple(out)


def _path_text(path: tuple) -> str:
    s = ""
    for p in path:
        s += f"[{p}]" if isinstance(p, int) else ("." if s else "") + str(p)
    return s


def extract(data: dict) -> tuple[dict, dict[Key, Any], list[tuple[Problem, str]]]:
    """Replace every range and every reference to a shared assumption by its nominal value.

    Returns (the dict with numbers, found, [(problem, where)]) where ``where`` names
    the field as the form does. ``found`` maps a field's key to its
    :class:`Distribution` (a range of its own) or :class:`Ref` (a reference to a
    shared assumption), and :func:`assumption_key` ``(name)`` to each shared
    assumption's :class:`Distribution` (the ``[assumptions]`` table).
    """
    from simulator.scenario import Scenario

    found: dict[Key, Any] = {}
    problems: list[tuple[Problem, str]] = []
    if not isinstance(data, dict) or (ASSUMPTIONS not in data
                                      and not _has_table_at_number(data, Scenario)):
        return data, found, problems
    import copy

    out = copy.deepcopy(data)
    shared = out.pop(ASSUMPTIONS, None)
    if shared is not None and not (isinstance(shared, dict)
                                   and all(isinstance(v, dict) for v in shared.values())):
        problems.append(((ASSUMPTIONS, None, "must be a table of named ranges, e.g. "
                          "[assumptions] repurchase_lift = { low = 0.2, mode = 0.4, high = 0.4 } "
                          "(a field then reads { assumption = \"repurchase_lift\" })"),
                         "Assumptions"))
        shared = {}
    shared = shared or {}
    refs: list[tuple[tuple, dict, str, Any, list, Ref]] = []  # (path, node, name, tp, meta, ref)

    def walk(node: dict, cls: Any, path: tuple) -> None:
        for name, value in list(node.items()):
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)) \
                    or name not in cls.model_fields:
                continue
            tp, meta = _field_kind(cls, name)
            here = path + (name,)
            if tp in (int, float) and isinstance(value, dict):
                where = labels.where(here, out)
                is_ref = "assumption" in value
                why = _NOT_ALLOWED_FIELDS.get((cls.__name__, name))
                if not path and name in _NOT_ALLOWED_SECTIONS or path and path[0] in \
                        _NOT_ALLOWED_SECTIONS:
                    why = "run settings and budget bounds are choices, not assumptions"
                if why:
                    what = "cannot refer to an assumption: " if is_ref else "cannot be a range: "
                    problems.append(((_path_text(here), None, what + why), where))
                    continue
                if is_ref:
                    ref, msg = _parse_ref(value, shared)
                    if msg:
                        problems.append(((_path_text(here), None, msg), where))
                    else:
                        assert ref is not None
                        refs.append((here, node, name, tp, meta, ref))
                    continue
                lo, hi, lo_open, hi_open = labels.bounds(meta)
                unit, scale, is_int = labels.display_unit(Scenario, here)
                dist, msgs = parse(value, lo, hi, lo_open, hi_open, tp is int, unit, scale)
                for m in msgs:
                    at = _path_text(here)
                    if m.startswith("@"):
                        k, m = m[1:].split("|", 1)
                        at = f"{at}.{k}"
                    problems.append(((at, None, m), where))
                if dist is not None:
                    found[key_of(here, out)] = dist
                    nom = dist.nominal
                    node[name] = int(nom) if tp is int else float(nom)
            elif isinstance(value, dict) and typing.get_origin(tp) is dict:
                if any(isinstance(v, dict) for v in value.values()):
                    problems.append(((_path_text(here), None, "cannot hold ranges (its values "
                                      "are a table of their own); write numbers"),
                                     labels.where(here, out)))
            elif isinstance(value, dict) and isinstance(tp, type) and issubclass(tp, BaseModel):
                walk(value, tp, here)
            elif isinstance(value, list) and typing.get_origin(tp) is list:
                item, _ = labels.unwrap(typing.get_args(tp)[0])
                if isinstance(item, type) and issubclass(item, BaseModel):
                    for i, x in enumerate(value):
                        if isinstance(x, dict):
                            walk(x, item, here + (i,))

    walk(out, Scenario, ())
    for aname, table in shared.items():
        mine = [r for r in refs if r[5].name == aname]
        dist, msgs, unfit = _parse_assumption(aname, table, mine, out)
        for at, m, where in msgs:
            problems.append(((at, None, m), where))
        if dist is not None:
            found[assumption_key(aname)] = dist
        for here, node, name, tp, meta, ref in mine:
            if dist is None or here in unfit:
                # the problem is the assumption's (reported there, naming this field): a
                # stand-in the field allows keeps the schema from reporting it again
                node[name] = _stand_in(meta, tp)
                continue
            v = ref.scale * dist.nominal
            node[name] = int(round(v)) if tp is int else float(v)
            found[key_of(here, out)] = ref
    return out, found, problems


def _parse_ref(value: dict, shared: dict) -> tuple[Ref | None, str]:
    """A reference ``{ assumption = "name", scale = k }``, or what is wrong with it."""
    bad = sorted(set(value) - REF_KEYS)
    if bad:
        return None, (f"{', '.join(map(repr, bad))} does not belong beside assumption: a field "
                      "either refers to a shared assumption ({ assumption = \"name\" }, "
                      "optionally with scale = 0.5) or is a range of its own, not both")
    name = value.get("assumption")
    if not isinstance(name, str) or not name.strip():
        return None, (f"assumption must name an entry of [assumptions] (found "
                      f"{labels.value_text(name)})")
    scale = value.get("scale", 1.0)
    if not _num(scale) or scale == 0:
        return None, (f"scale of assumption “{name}” must be a finite number other than 0 "
                      f"(found {labels.value_text(scale)})")
    if name not in shared:
        have = ", ".join(f"“{n}”" for n in shared)
        return None, (f"refers to assumption “{name}”, which is not in [assumptions] "
                      + (f"(there are {have})" if have else "(the file has no [assumptions] "
                         "table)"))
    return Ref(name, float(scale)), ""


def _stand_in(meta: list, tp: Any) -> float | int:
    """A value a field allows (0 moved inside its bounds)."""
    lo, hi, lo_open, hi_open = labels.bounds(meta)
    v = 0.0
    if lo is not None and (v < lo or (lo_open and v == lo)):
        v = float(lo) + (1e-9 * max(1.0, abs(lo)) if lo_open else 0.0)
    if hi is not None and (v > hi or (hi_open and v == hi)):
        v = float(hi) - (1e-9 * max(1.0, abs(hi)) if hi_open else 0.0)
    return int(math.ceil(v)) if tp is int else v


def _parse_assumption(name: str, table: dict, refs: list, data: Any) -> tuple[
        Distribution | None, list[tuple[str, str, str]], set]:
    """A shared assumption's distribution, truncated to what every referring field allows.

    ``refs``: (path, node, field name, type, metadata, Ref) of the fields that refer to
    it. A value of the range that, times a field's scale, falls outside what that field
    allows is reported at the assumption's value, naming the field; that field takes
    no value (the others do). Returns (distribution or None, [(problem path, message,
    where)], {paths of the fields the range does not fit}).
    """
    from simulator.scenario import Scenario

    at, where = _path_text(assumption_key(name)), f"Assumptions ▸ {name}"
    unit, dscale = "", 1.0
    if refs:
        unit, dscale, _ = labels.display_unit(Scenario, refs[0][0])
    dist, msgs = parse(table, None, None, False, False, False, unit, dscale)
    if dist is None:
        return None, [(f"{at}.{m[1:].split('|', 1)[0]}" if m.startswith("@") else at,
                       m.split("|", 1)[1] if m.startswith("@") else m, where) for m in msgs], set()
    unfit: dict[str, list[str]] = {}  # key -> fields (with what they allow) it does not fit
    first: dict[str, str] = {}
    bad_paths: set = set()
    lo, hi, lo_open, hi_open = -math.inf, math.inf, False, False
    for here, _node, _name, tp, meta, ref in refs:
        flo, fhi, flo_open, fhi_open = labels.bounds(meta)
        funit, fscale, _ = labels.display_unit(Scenario, here)
        allowed = labels.range_text(flo, fhi, flo_open, fhi_open, funit, fscale, tp is int)
        a = -math.inf if flo is None else float(flo)
        b = math.inf if fhi is None else float(fhi)
        fits = True
        for k in ("low", "mode", "high", "mean"):
            if k not in table:
                continue
            v = ref.scale * float(table[k])
            if not ((a < v if flo_open else a <= v) and (v < b if fhi_open else v <= b)):
                fits = False
                shown = labels.value_text(v, funit, fscale, tp is int)
                if k not in first:
                    times = (f" (× {labels.number(ref.scale)} there: {shown})"
                             if ref.scale != 1 else "")
                    first[k] = (f"{k} {labels.value_text(float(table[k]), funit, fscale)}"
                                f"{times} is outside what {labels.where(here, data)} allows "
                                f"({allowed}), which refers to it")
                unfit.setdefault(k, []).append(_path_text(here))
        if not fits:
            bad_paths.add(here)
            continue
        # the field's range in the assumption's units (a negative scale turns it round)
        ra, rb = sorted((a / ref.scale, b / ref.scale))
        ra_open, rb_open = (flo_open, fhi_open) if ref.scale > 0 else (fhi_open, flo_open)
        if ra > lo or (ra == lo and ra_open):
            lo, lo_open = ra, ra_open
        if rb < hi or (rb == hi and rb_open):
            hi, hi_open = rb, rb_open
    out = [(f"{at}.{k}", first[k] + (f" (and {len(v) - 1} more field"
                                      f"{'s' if len(v) > 2 else ''} referring to it)"
                                      if len(v) > 1 else ""), where)
           for k, v in unfit.items()]
    dist, msgs = parse(table, None if lo == -math.inf else lo, None if hi == math.inf else hi,
                       lo_open, hi_open, False, unit, dscale)
    return dist, out + [(at, m.split("|", 1)[-1], where) for m in msgs], bad_paths


def _has_table_at_number(data: Any, cls: Any) -> bool:
    """Whether any number of the schema is written as a table (a range)."""
    if not isinstance(data, dict) or not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return False
    for name, value in data.items():
        if name not in cls.model_fields:
            continue
        tp, _ = _field_kind(cls, name)
        if tp in (int, float) and isinstance(value, dict):
            return True
        if isinstance(value, dict) and typing.get_origin(tp) is dict:
            if any(isinstance(v, dict) for v in value.values()):
                return True
        elif isinstance(value, dict) and _has_table_at_number(value, tp):
            return True
        elif isinstance(value, list) and typing.get_origin(tp) is list:
            item, _ = labels.unwrap(typing.get_args(tp)[0])
            if any(_has_table_at_number(x, item) for x in value):
                return True
    return False


def _all(sc: Any) -> dict[Key, Any]:
    d = getattr(sc, "__pydantic_private__", None) or {}
    return d.get("_uncertain") or {}


def uncertain_of(sc: Any) -> dict[Key, Distribution]:
    """The fields written as ranges of their own, {key: distribution}.

    Fields that refer to a shared assumption are in :func:`references_of`, the
    assumptions in :func:`assumptions_of`; :func:`inputs_of` gives both kinds as
    the inputs a run draws.
    """
    return {k: d for k, d in _all(sc).items()
            if isinstance(d, Distribution) and not is_assumption(k)}


def assumptions_of(sc: Any) -> dict[str, Distribution]:
    """The shared assumptions (the ``[assumptions]`` table), {name: distribution}."""
    return {k[1]: d for k, d in _all(sc).items() if is_assumption(k)}


def references_of(sc: Any) -> dict[Key, Ref]:
    """The fields that take a shared assumption's value, {key: reference}."""
    return {k: r for k, r in _all(sc).items() if isinstance(r, Ref)}


def has_ranges(sc: Any) -> bool:
    """Whether the scenario has any range, shared assumption or reference to one."""
    return bool(_all(sc))


def set_uncertain(sc: Any, dists: dict[Key, Any]) -> None:
    """Attach ranges, shared assumptions and references (as :func:`extract` finds them).

    The fields should hold their nominal values.
    """
    sc._uncertain = dict(dists)


@dataclass(frozen=True)
class Input:
    """One uncertain input a run draws: a distribution and the fields it sets.

    A range of a field's own sets that field; a shared assumption sets every field
    that refers to it, each to ``scale`` × the drawn value, from one draw.
    """

    dist: Distribution
    targets: tuple  # ((field key, scale), ...)

    def nominal_of(self, scale: float) -> float:
        """A target's nominal value."""
        return scale * self.dist.nominal


def inputs_of(sc: Any) -> dict[Key, Input]:
    """The scenario's uncertain inputs, {key: input}: each shared assumption once.

    A shared assumption that no field refers to is not an input (nothing to draw).
    """
    out: dict[Key, Input] = {k: Input(d, ((k, 1.0),)) for k, d in uncertain_of(sc).items()}
    refs = references_of(sc)
    for name, d in assumptions_of(sc).items():
        targets = tuple(sorted(((k, r.scale) for k, r in refs.items() if r.name == name),
                               key=lambda t: key_text(t[0])))
        if targets:
            out[assumption_key(name)] = Input(d, targets)
    return out


def input_named(sc: Any, text: str) -> tuple[Key, Input] | None:
    """The shared assumption an input path names (``assumptions.<name>``), else None."""
    prefix = ASSUMPTIONS + "."
    if not text.startswith(prefix):
        return None
    key = assumption_key(text[len(prefix):])
    inp = inputs_of(sc).get(key)
    return (key, inp) if inp is not None else None


def input_label(sc: Any, key: Key, inp: Input | None = None) -> str:
    """An input as the form names it; a shared assumption with the fields it sets."""
    if not is_assumption(key):
        path = resolve(sc, key)
        return labels.where(path if path is not None else key, sc)
    inp = inp or inputs_of(sc).get(key)
    fields = [labels.where(p, sc) for k, _ in (inp.targets if inp else ())
              if (p := resolve(sc, k)) is not None]
    more = f" ({fields[0]}" + (f" and {len(fields) - 1} more" if len(fields) > 1 else "") \
        + ")" if fields else ""
    return f"Assumption “{key[1]}”{more}"


def input_unit(sc: Any, key: Key, inp: Input | None = None) -> tuple[str, float]:
    """(unit, display scale) of an input: its field's, or its first referring field's."""
    from simulator.scenario import Scenario

    if is_assumption(key):
        inp = inp or inputs_of(sc).get(key)
        path = resolve(sc, inp.targets[0][0]) if inp and inp.targets else None
    else:
        path = resolve(sc, key)
    unit, scale, _ = labels.display_unit(Scenario, path or ())
    return unit, scale


def inline(d: dict, sc: Any) -> dict:
    """A scenario dict (``to_dict``) with each range and reference written back in place.

    The shared assumptions go in an ``[assumptions]`` table before the first table.
    """
    everything = _all(sc)
    if not everything:
        return d
    for key, x in everything.items():
        if is_assumption(key):
            continue
        path = resolve(sc, key)
        if path is None:
            continue
        node: Any = d
        for p in path[:-1]:
            node = node[p]
        if isinstance(node, dict) and path[-1] in node:
            node[path[-1]] = x.to_table()
    shared = assumptions_of(sc)
    if shared:
        items = list(d.items())
        d.clear()
        for k, v in items:
            if ASSUMPTIONS not in d and isinstance(v, (dict, list)):
                d[ASSUMPTIONS] = {n: dist.to_table() for n, dist in shared.items()}
            d[k] = v
        d.setdefault(ASSUMPTIONS, {n: dist.to_table() for n, dist in shared.items()})
    return d


def _same(now: Any, expected: float) -> bool:
    """Whether a field holds ``expected`` (a whole-number field: rounded)."""
    if not _num(now):
        return False
    if isinstance(now, int) and now == round(expected):
        return True
    return math.isclose(float(now), expected, rel_tol=1e-9, abs_tol=1e-12)


def problems(sc: Any) -> list[Problem]:
    """Ranges and references that no longer fit the scenario (an edit in the form since)."""
    from simulator.scenario import Scenario

    out: list[Problem] = []
    for key, dist in uncertain_of(sc).items():
        path = resolve(sc, key)
        if path is None:
            out.append((key_text(key), None, "has a range, but the item it belongs to is gone "
                        "(renamed or removed): remove the range or restore the name"))
            continue
        v = _value_at(sc, path)
        if not _same(v, dist.nominal):
            unit, scale, _ = labels.display_unit(Scenario, path)
            out.append((_path_text(path), v, f"differs from the nominal value of its range "
                        f"({dist.text(unit, scale)}: "
                        f"{labels.value_text(dist.nominal, unit, scale, dist.is_int)}); the "
                        "range decides a run: change the range, or write a plain number"))
    shared = assumptions_of(sc)
    for key, ref in references_of(sc).items():
        path = resolve(sc, key)
        if path is None:
            continue  # the item went with its reference: nothing to draw there
        a = shared.get(ref.name)
        if a is None:
            out.append((_path_text(path), _value_at(sc, path), f"refers to assumption "
                        f"“{ref.name}”, which is gone: write a number or a range"))
            continue
        v = _value_at(sc, path)
        want = ref.scale * a.nominal
        if not _same(v, want):
            unit, scale, is_int = labels.display_unit(Scenario, path)
            times = f" × {labels.number(ref.scale)}" if ref.scale != 1 else ""
            out.append((_path_text(path), v, f"differs from the nominal value of the shared "
                        f"assumption “{ref.name}”{times} ({a.text(unit, scale)}: "
                        f"{labels.value_text(want, unit, scale, is_int)}); the assumption "
                        "decides a run: change it, or write a plain number"))
    return out


def _value_at(sc: Any, path: tuple) -> Any:
    node = sc
    for p in path:
        node = labels._step(node, p)
    return node


def distributions_hash(sc: Any) -> str | None:
    """Short hash of the ranges (which inputs, which distributions); None without any.

    A scenario without shared assumptions hashes as it did before they existed.
    """
    if not has_ranges(sc):
        return None
    own = sorted((key_text(k), d.kind, d.lo, d.hi, d.to_table())
                 for k, d in uncertain_of(sc).items())
    shared = sorted((n, d.kind, d.lo, d.hi, d.to_table()) for n, d in assumptions_of(sc).items())
    refs = sorted((key_text(k), r.name, r.scale) for k, r in references_of(sc).items())
    blob = json.dumps(own if not (shared or refs) else [own, shared, refs], sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------ editing (the form)
def all_of(sc: Any) -> dict[Key, Any]:
    """Every range, shared assumption and reference of a scenario, as :func:`extract` finds them."""
    return dict(_all(sc))


def not_allowed(path: tuple) -> str | None:
    """Why the field at ``path`` (an index path) cannot be uncertain; None if it can."""
    from simulator.scenario import Scenario

    owner, name, tp, _ = labels.field_at(Scenario, tuple(path))
    if name is None or tp not in (int, float):
        return "only a number can be a range"
    if path and path[0] in _NOT_ALLOWED_SECTIONS:
        return "run settings and budget bounds are choices, not assumptions"
    return _NOT_ALLOWED_FIELDS.get((owner.__name__ if owner else "", name))


def value_problem(path: tuple, value: float) -> str | None:
    """What is wrong with a plain number for the field at ``path`` (None: it is allowed)."""
    from simulator.scenario import Scenario

    _, _, tp, meta = labels.field_at(Scenario, tuple(path))
    lo, hi, lo_open, hi_open = labels.bounds(meta)
    unit, scale, is_int = labels.display_unit(Scenario, tuple(path))
    ok = _num(value) and (lo is None or (lo < value if lo_open else lo <= value)) and (
        hi is None or (value < hi if hi_open else value <= hi))
    if ok:
        return None
    return (f"{labels.value_text(value, unit, scale, is_int)} is outside what the field allows "
            f"({labels.range_text(lo, hi, lo_open, hi_open, unit, scale, is_int)})")


def _kind_of(table: dict) -> str:
    return table.get("dist") or ("triangular" if "mode" in table else
                                 "normal" if "mean" in table else "uniform")


def check_range(path: tuple, table: dict) -> tuple[Distribution | None, list[str]]:
    """A range for the field at ``path``, or what is wrong with it in the planner's words."""
    from simulator.scenario import Scenario

    why = not_allowed(path)
    if why:
        return None, ["cannot be a range: " + why]
    _, _, tp, meta = labels.field_at(Scenario, tuple(path))
    lo, hi, lo_open, hi_open = labels.bounds(meta)
    unit, scale, is_int = labels.display_unit(Scenario, tuple(path))
    dist, msgs = parse(table, lo, hi, lo_open, hi_open, tp is int, unit, scale)
    return dist, [m.split("|", 1)[-1] for m in msgs]


def _refs_info(sc: Any, name: str, extra: tuple | None = None) -> list:
    from simulator.scenario import Scenario

    out = []
    targets = [(resolve(sc, k), r) for k, r in references_of(sc).items() if r.name == name]
    if extra is not None:
        targets = [t for t in targets if t[0] != tuple(extra[0])] + [(tuple(extra[0]),
                                                                      Ref(name, extra[1]))]
    for path, ref in sorted((t for t in targets if t[0] is not None), key=lambda t: str(t[0])):
        _, fname, tp, meta = labels.field_at(Scenario, tuple(path or ()))
        out.append((path, None, fname, tp, meta, ref))
    return out


def check_assumption(sc: Any, name: str, table: dict, extra: tuple | None = None
                     ) -> tuple[Distribution | None, list[tuple[str, str]]]:
    """A shared assumption's range checked against every field referring to it.

    ``extra``: (path, scale) of a field about to refer to it. Returns (distribution
    or None, [(where, message)]).
    """
    refs = _refs_info(sc, name, extra)
    dist, msgs, _ = _parse_assumption(name, table, refs, sc)
    return (None if msgs else dist), [(w, m) for _, m, w in msgs]


def with_nominal(table: dict, v: float) -> dict:
    """The range moved so that its nominal value is ``v`` (the rule of the form).

    Triangular: the most likely value becomes ``v``; uniform: the range shifts, keeping
    its width; normal and lognormal: the mean becomes ``v``. A stated low or high that
    ``v`` passes widens to include it.
    """
    out = dict(table)
    kind = _kind_of(table)
    if kind == "uniform":
        d = v - (float(table["low"]) + float(table["high"])) / 2
        out["low"], out["high"] = float(table["low"]) + d, float(table["high"]) + d
        return out
    out["mode" if kind == "triangular" else "mean"] = v
    if "low" in out and _num(out["low"]) and v < out["low"]:
        out["low"] = v
    if "high" in out and _num(out["high"]) and v > out["high"]:
        out["high"] = v
    return out


NOMINAL_RULE = {"triangular": "typing a number moves the most likely value (low and high "
                              "widen to include it)",
                "uniform": "typing a number moves the range (its width stays)",
                "normal": "typing a number moves the mean (stated bounds widen to include it)",
                "lognormal": "typing a number moves the mean (stated bounds widen to include "
                             "it)"}


class EditRefused(ValueError):
    """A range edit that would not be valid; ``messages`` in the planner's words."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _drop_ref(everything: dict, key: Key) -> None:
    old = everything.pop(key, None)
    if isinstance(old, Ref) and not any(isinstance(r, Ref) and r.name == old.name
                                        for r in everything.values()):
        everything.pop(assumption_key(old.name), None)  # its last field: nothing shares it


def edit_range(sc: Any, path: tuple, table: dict | None) -> tuple[dict, dict]:
    """(ranges, {path: value}) after giving the field at ``path`` a range of its own.

    ``table`` None turns the field back into a plain number (it keeps its value); a
    field that referred to a shared assumption stops referring to it. Raises
    :class:`EditRefused` for a range that is not valid.
    """
    path = tuple(path)
    key = key_of(path, sc)
    everything = all_of(sc)
    if table is None:
        _drop_ref(everything, key)
        return everything, {}
    dist, msgs = check_range(path, table)
    if dist is None:
        raise EditRefused(msgs)
    _drop_ref(everything, key)
    everything[key] = dist
    nom = dist.nominal
    return everything, {path: int(nom) if dist.is_int else float(nom)}


def edit_assumption(sc: Any, name: str, table: dict) -> tuple[dict, dict]:
    """(ranges, {path: value}) after changing a shared assumption (every referring field)."""
    dist, msgs = check_assumption(sc, name, table)
    if dist is None:
        raise EditRefused([f"{w} — {m}" if not w.startswith("Assumptions") else m
                           for w, m in msgs])
    everything = all_of(sc)
    everything[assumption_key(name)] = dist
    values = {}
    for k, r in references_of(sc).items():
        if r.name == name and (p := resolve(sc, k)) is not None:
            v = r.scale * dist.nominal
            values[p] = int(round(v)) if isinstance(_value_at(sc, p), int) else float(v)
    return everything, values


def set_nominal(sc: Any, path: tuple, value: float) -> tuple[dict, dict] | None:
    """(ranges, {path: value}) after typing ``value`` into a field with a range.

    The range moves by :func:`with_nominal`; a field referring to a shared assumption
    moves the assumption (value / scale), and so every field referring to it. None
    if the field has no range.
    """
    key = key_of(tuple(path), sc)
    x = _all(sc).get(key)
    if isinstance(x, Distribution):
        return edit_range(sc, path, with_nominal(x.to_table(), float(value)))
    if isinstance(x, Ref):
        a = assumptions_of(sc).get(x.name)
        if a is None:
            return None
        return edit_assumption(sc, x.name, with_nominal(a.to_table(), float(value) / x.scale))
    return None


# ------------------------------------------------------------------ sampling
def lhs_column(seed: int, key: Key, n: int) -> np.ndarray:
    """One input's Latin hypercube quantiles over n draws: one in each 1/n stratum.

    From the run's seed and the input's key only, so a column does not change when
    other inputs become uncertain, nor with the number of worker processes.
    """
    tag = zlib.crc32(json.dumps(key_text(key)).encode("utf-8"))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(LHS_TAG, tag)))
    return (rng.permutation(n) + rng.random(n)) / n


@dataclass(frozen=True)
class Plan:
    """The draws of one run: which value each uncertain input takes in each replication.

    One column per input (:func:`inputs_of`): a shared assumption is drawn once per
    draw and sets every field that refers to it.
    """

    keys: tuple  # Key per column, sorted by text
    scenario: tuple  # Input | None per key, for the scenario arm
    counterfactual: tuple  # Input | None per key, for a base scenario arm
    u: np.ndarray  # [draws, keys] quantiles
    per_draw: int

    def draw_of(self, rep: int) -> int:
        """The draw replication ``rep`` uses."""
        return rep // self.per_draw

    def draws(self, rep: int, arm: str = "scenario") -> dict[Key, float]:
        """{input key: drawn value} of replication ``rep`` for one arm."""
        inputs = self.scenario if arm == "scenario" else self.counterfactual
        row = self.u[min(self.draw_of(rep), len(self.u) - 1)]
        return {k: float(i.dist.ppf(row[j])) for j, (k, i) in enumerate(zip(self.keys, inputs))
                if i is not None}

    def values(self, rep: int, arm: str = "scenario") -> dict[Key, float]:
        """{field key: value} of replication ``rep`` for one arm."""
        inputs = dict(zip(self.keys, self.scenario if arm == "scenario"
                          else self.counterfactual))
        out: dict[Key, float] = {}
        for k, x in self.draws(rep, arm).items():
            for fk, s in inputs[k].targets:
                out[fk] = s * x
        return out

    def arms(self, sc: Any, cf_sc: Any, rep: int) -> tuple[Any, Any]:
        """Both arms of replication ``rep`` with their drawn values.

        An input whose value is no longer its range's nominal value was changed on
        purpose (a tornado swing, a goal-seek step, effects scaled for break-even)
        and keeps that value.
        """
        a = materialise(sc, self._unchanged(sc, self.scenario, self.values(rep, "scenario")))
        if cf_sc is None:
            return a, None
        if cf_sc is sc:  # scheme off: the same scenario with parts switched off
            return a, a
        return a, materialise(cf_sc, self._unchanged(cf_sc, self.counterfactual,
                                                     self.values(rep, "counterfactual")))

    @staticmethod
    def _unchanged(arm: Any, inputs: tuple, values: dict) -> dict:
        nominal = {fk: i.nominal_of(s) for i in inputs if i is not None for fk, s in i.targets}
        out = {}
        for k, v in values.items():
            path = resolve(arm, k)
            now = _value_at(arm, path) if path is not None else None
            if _same(now, nominal[k]):
                out[k] = v
        return out

    def table(self, replications: int) -> dict:
        """The drawn values per replication (the scenario arm): for global measures."""
        used = [k for k, i in zip(self.keys, self.scenario) if i is not None]
        return {"inputs": [key_text(k) for k in used],
                "values": [[self.draws(r).get(k) for k in used]
                           for r in range(replications)]}


def plan_for(sc: Any, cf_sc: Any, seed: int, replications: int, per_draw: int) -> Plan | None:
    """The run's draws (None when neither arm has an uncertain input)."""
    mine = inputs_of(sc)
    other = inputs_of(cf_sc) if cf_sc is not None and cf_sc is not sc else {}
    mine = _join_shared(mine, other)
    other = _join_shared(other, mine)
    keys = tuple(sorted(set(mine) | set(other), key=key_text))
    if not keys:
        return None
    n = max(1, math.ceil(replications / per_draw))

    def borrow(arm: Any, own: dict, theirs: dict, k: Key) -> Input | None:
        # the other arm's input, on the fields of this arm that hold its nominal value
        # and are not set by an input of this arm's own
        i = theirs.get(k)
        if i is None or arm is None or (k in own and own[k].dist != i.dist):
            return own.get(k)
        covered = {fk for x in own.values() for fk, _ in x.targets}
        keep = list(own[k].targets) if k in own else []
        for fk, s in i.targets:
            path = resolve(arm, fk)
            if fk not in covered and path is not None and _same(_value_at(arm, path),
                                                                  i.nominal_of(s)):
                keep.append((fk, s))
        dist = own[k].dist if k in own else i.dist
        return Input(dist, tuple(keep)) if keep else None

    s_d = tuple(borrow(sc, mine, other, k) for k in keys)
    c_d = tuple(borrow(cf_sc, other, mine, k) if cf_sc is not None and cf_sc is not sc
                else None for k in keys)
    u = np.column_stack([lhs_column(seed, k, n) for k in keys])
    return Plan(keys, s_d, c_d, u, per_draw)


def _join_shared(own: dict[Key, Input], theirs: dict[Key, Input]) -> dict[Key, Input]:
    """One arm's inputs, a field's own range joining the other arm's shared assumption.

    When the other arm draws a field from a shared assumption and this arm states
    the same range on that field itself (a base written before the assumption was
    shared), the field takes the assumption's draw here too: the arms share it.
    """
    out = dict(own)
    for ak, ai in theirs.items():
        if not is_assumption(ak):
            continue
        joined = tuple((fk, s) for fk, s in ai.targets
                       if s == 1 and fk in out and not is_assumption(fk)
                       and out[fk].dist.to_table() == ai.dist.to_table())
        if not joined:
            continue
        for fk, _ in joined:
            del out[fk]
        mine = out.get(ak)
        out[ak] = Input(ai.dist, (mine.targets if mine else ()) + joined)
    return out


def materialise(sc: Any, values: dict[Key, float]) -> Any:
    """A copy of ``sc`` with the given values (validated by the schema on assignment)."""
    if not values:
        return sc
    out = sc.model_copy(deep=True)
    for key, v in values.items():
        path = resolve(out, key)
        if path is None:
            continue
        owner = out
        for p in path[:-1]:
            owner = labels._step(owner, p)
        old = getattr(owner, path[-1])
        setattr(owner, path[-1], int(round(v)) if isinstance(old, int) else float(v))
    return out


def corners(sc: Any) -> list[Any]:
    """The scenario with every uncertain input at its low end, then at its high end.

    For checks that must hold for any draw before a run starts (the memory a run
    needs grows with new customers per month and shrinks with the acquisition cost).
    """
    inputs = inputs_of(sc)
    if not inputs:
        return []
    return [materialise(sc, {fk: s * float(i.dist.ppf(q)) for i in inputs.values()
                             for fk, s in i.targets}) for q in (0.0, 1.0)]


# ------------------------------------------------------------------ assumptions vs noise
@dataclass(frozen=True)
class Split:
    """Variance of one replication's KPI, split into assumptions and simulation noise."""

    mean: float
    ci95_low: float
    ci95_high: float
    var_assumptions: float
    var_noise: float
    draws: int
    per_draw: int

    @property
    def var_total(self) -> float:
        """σ²_assumptions + σ²_noise."""
        return self.var_assumptions + self.var_noise

    @property
    def share_assumptions(self) -> float:
        """Share of the variance the assumptions explain (0–1)."""
        t = self.var_total
        return self.var_assumptions / t if t > 0 else math.nan


def variance_split(y: Iterable[float], per_draw: int) -> Split:
    """One-way random-effects ANOVA over draws of ``per_draw`` replications (module doc).

    ``y`` in replication order (replication r belongs to draw r // per_draw); an
    incomplete last draw is left out of the split but not of the mean.
    """
    from scipy import stats

    y = np.asarray(list(y), dtype=float)
    y = y[np.isfinite(y)] if per_draw == 1 else y
    m = int(per_draw)
    n = len(y) // m
    mean = float(np.mean(y)) if y.size else math.nan
    if m < 2 or n < 2 or not np.all(np.isfinite(y[:n * m])):
        v = float(np.var(y, ddof=1)) if y.size > 1 else math.nan
        half = float(stats.t.ppf(0.975, y.size - 1) * math.sqrt(v / y.size)) if y.size > 1 \
            else math.nan
        return Split(mean, mean - half, mean + half, math.nan, math.nan, n, m)
    g = y[:n * m].reshape(n, m)
    gm = g.mean(axis=1)
    msw = float(((g - gm[:, None]) ** 2).sum() / (n * (m - 1)))
    msb = float(m * ((gm - gm.mean()) ** 2).sum() / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1) * math.sqrt(msb / (n * m)))
    gmean = float(gm.mean())
    return Split(gmean, gmean - half, gmean + half, max(0.0, (msb - msw) / m), msw, n, m)


def probability_above(y: Iterable[float], threshold: float) -> float:
    """Share of replications whose value is above ``threshold`` (NaN ones left out)."""
    x = np.asarray(list(y), dtype=float)
    x = x[np.isfinite(x)]
    return float(np.mean(x > threshold)) if x.size else math.nan


def histogram(y: Iterable[float], bins: int = 20) -> dict:
    """Histogram (edges, counts) and empirical CDF (sorted values, F) of replication values."""
    x = np.sort(np.asarray(list(y), dtype=float))
    x = x[np.isfinite(x)]
    if not x.size:
        return {"edges": [], "counts": [], "cdf_x": [], "cdf_p": []}
    counts, edges = np.histogram(x, bins=min(bins, max(1, x.size)))
    return {"edges": edges.tolist(), "counts": counts.astype(int).tolist(),
            "cdf_x": x.tolist(), "cdf_p": (np.arange(1, x.size + 1) / x.size).tolist()}


# ------------------------------------------------------------------ a run's probabilistic answers
RISK_KPIS = ("npv", "roi", "ltv_per_customer", "churn_annual")


def global_measures(drawn: dict, y: Iterable[float], per_draw: int) -> dict:
    """Which inputs move the KPI across the Latin hypercube run, as @RISK ranks them.

    Per draw (its replications' mean KPI against the draw's input values):
    Spearman rank correlation of each input with the KPI, and standardised
    regression coefficients (least squares on inputs and KPI in standard units;
    with independent inputs the squares add up to the linear model's R²). The
    coefficients need more draws than inputs + 1; ``why`` says when they are missing.
    """
    from scipy import stats

    names = list(drawn.get("inputs") or [])
    vals = np.asarray(drawn.get("values") or [], dtype=float)
    yv = np.asarray(list(y), dtype=float)
    m = max(1, int(per_draw))
    n = min(len(yv), len(vals)) // m
    out: dict = {"inputs": [], "draws": n, "r2": None, "why": None}
    if n < 3 or not names:
        out["why"] = "fewer than 3 draws"
        return out
    X = vals[: n * m: m]
    Y = yv[: n * m].reshape(n, m).mean(axis=1)
    ok = np.isfinite(Y) & np.all(np.isfinite(X), axis=1)
    X, Y = X[ok], Y[ok]
    sx = X.std(axis=0, ddof=1)
    sy = Y.std(ddof=1) if len(Y) > 1 else 0.0
    rows = []
    for j, name in enumerate(names):
        if sx[j] > 0 and sy > 0:
            rho = float(stats.spearmanr(X[:, j], Y).statistic)
        else:
            rho = math.nan
        rows.append({"input": name, "rank_correlation": rho, "src": math.nan})
    live = [j for j in range(len(names)) if sx[j] > 0]
    if sy > 0 and live and len(Y) > len(live) + 1:
        Z = (X[:, live] - X[:, live].mean(axis=0)) / sx[live]
        zy = (Y - Y.mean()) / sy
        A = np.column_stack([np.ones(len(Y)), Z])
        coef, *_ = np.linalg.lstsq(A, zy, rcond=None)
        fit = A @ coef
        out["r2"] = float(1 - ((zy - fit) ** 2).sum() / ((zy - zy.mean()) ** 2).sum())
        for c, j in zip(coef[1:], live):
            rows[j]["src"] = float(c)
    else:
        out["why"] = (f"standardised regression needs more draws ({len(Y)}) than inputs "
                      f"({len(live)}) + 1")
    rows.sort(key=lambda r: -abs(r["rank_correlation"]) if math.isfinite(r["rank_correlation"])
              else 0.0)
    out["inputs"] = rows
    return out


def risk_summary(res: Any, roi_target: float = 0.0) -> dict | None:
    """The probabilistic answers of a run that sampled its uncertain inputs (None otherwise).

    For each of :data:`RISK_KPIS`: the mean with its 95 % interval (over draws),
    P10/P50/P90 and the 95 % range of one replication's value (assumptions and
    noise), and the variance split (:func:`variance_split`). Also P(NPV > 0),
    P(ROI > ``roi_target``), NPV's histogram and CDF, and the global measures
    (:func:`global_measures`) for NPV. ``res``: a :class:`simulator.results.RunResult`.
    """
    from simulator import metrics

    unc = res.meta.get("uncertainty") or {}
    if unc.get("mode") != "sample" or not unc.get("drawn"):
        return None
    m = int(unc["replications_per_draw"])
    kp = res.kpis
    out: dict = {"inputs": unc["inputs"], "inputs_hash": unc["inputs_hash"],
                 "draws": unc["draws"], "replications_per_draw": m,
                 "replications": int(len(kp)), "kpis": {}}
    for key in RISK_KPIS:
        if key not in kp:
            continue
        y = kp[key].to_numpy(dtype=float)
        sp = variance_split(y, m)
        fin = y[np.isfinite(y)]
        q = np.percentile(fin, [2.5, 10, 50, 90, 97.5]).tolist() if fin.size else [math.nan] * 5
        out["kpis"][key] = {
            "label": metrics.label_of(key), "mean": sp.mean,
            "ci95": [sp.ci95_low, sp.ci95_high],
            "p10": q[1], "p50": q[2], "p90": q[3], "range95": [q[0], q[4]],
            "var_assumptions": sp.var_assumptions, "var_noise": sp.var_noise,
            "share_assumptions": sp.share_assumptions,
            "share_noise": 1 - sp.share_assumptions if math.isfinite(sp.share_assumptions)
            else math.nan}
    npv = kp["npv"].to_numpy(dtype=float)
    out["p_npv_positive"] = probability_above(npv, 0.0)
    roi = kp["roi"].to_numpy(dtype=float) if "roi" in kp else np.array([])
    out["p_roi_above_target"] = {"target": roi_target,
                                 "p": probability_above(roi, roi_target)}
    out["npv_distribution"] = histogram(npv)
    out["global"] = global_measures(unc["drawn"], npv, m)
    return out


def json_safe(x: Any) -> Any:
    """NaN and infinities as null, recursively (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x
