"""The sweeps' runs: variants of one scenario as one batch (common random numbers, arms shared)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from simulator import metrics
from simulator.scenario import Scenario

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not with the CLI
    import numpy as np

    from simulator.results import RunResult, Stat


KPIS = {**metrics.OBJECTIVES, "churn": "churn_annual", "sla": "sla_attainment"}


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
        # break-even compare variants of one scenario, not draws of its ranges. Their
        # KPIs (KPIS) need no deadweight: the arms run unpaired (every KPI the same, no
        # orders recorded and read customer by customer).
        kw = {"assumptions": "nominal", **self.kw}
        res = run_many(list(scs), bases=[self.base] * len(scs), progress=cb,
                       cancel=self.cancel, deadweight=False, **kw)
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


def _is_lever(name: str, sc: Scenario) -> bool:
    from simulator.optimiser.levers import lever_ids

    return name in lever_ids(sc)
