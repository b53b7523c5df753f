"""A range's distribution: triangular, uniform, normal or lognormal, read from its TOML table."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator import labels

KINDS = ("triangular", "uniform", "normal", "lognormal")
_KEYS = {"dist", "low", "mode", "high", "mean", "sd"}
RANGE_KEYS = frozenset(_KEYS)  # the keys of a range table
_NEEDS = {"triangular": ("low", "mode", "high"), "uniform": ("low", "high"),
          "normal": ("mean", "sd"), "lognormal": ("mean", "sd")}
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
            d = self._scipy()
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
        d = self._scipy()
        a, b = d.cdf(lo), d.cdf(hi)
        return (d.cdf(x) - a) / (b - a)

    def _scipy(self) -> Any:
        """The unbounded normal or lognormal (mean and sd as stated), frozen in scipy."""
        from scipy import stats

        if self.kind == "normal":
            return stats.norm(self.mean, self.sd)
        s2 = math.log1p((self.sd / self.mean) ** 2)
        return stats.lognorm(math.sqrt(s2), scale=self.mean * math.exp(-s2 / 2))

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
