"""A figure summarised across replications: mean, 95 % confidence interval, percentiles."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass
class Stat:
    """Mean with a 95 % confidence interval and percentiles across replications."""

    mean: float
    ci95_low: float
    ci95_high: float
    p10: float
    p50: float
    p90: float
    unit: str = ""
    n: int = 0
    not_defined: str | None = None  # why no replication has a value (e.g. no incremental cost)

    @classmethod
    def of(cls, values, unit: str = "", not_defined: str | None = None,
           within: tuple[float, float] | None = None) -> "Stat":
        """Summarise replication values (NaNs, e.g. 'no payback', are left out).

        ``not_defined`` is the reason kept when no replication has a value. ``within``:
        the range a value can take (a share: 0-1, :func:`simulator.metrics.value_range`);
        the Student-t interval is cut to it (with 2 replications at 99-100 % SLA it ran
        to 101.5 %).
        """
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            nan = math.nan
            return cls(nan, nan, nan, nan, nan, nan, unit, 0, not_defined)
        m = float(x.mean())
        if x.size > 1:
            half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        else:
            half = math.nan
        p10, p50, p90 = (float(v) for v in np.percentile(x, [10, 50, 90]))
        lo, hi = m - half, m + half
        if within is not None and math.isfinite(half):
            lo, hi = max(lo, within[0]), min(hi, within[1])
        return cls(m, lo, hi, p10, p50, p90, unit, int(x.size))

    @property
    def half_width(self) -> float:
        """Half the 95 % interval."""
        return (self.ci95_high - self.ci95_low) / 2.0

    def to_json(self) -> dict:
        """JSON-safe dict (NaN becomes null)."""
        d = asdict(self)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}
