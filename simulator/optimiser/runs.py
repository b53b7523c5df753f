"""The optimiser's simulations (one sample and seed, counted, with progress); levers as arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from simulator.optimiser.levers import Lever
from simulator.results import RunResult


@dataclass(frozen=True)
class Sample:
    """What every simulation of one optimisation shares."""

    replications: int  # per response-curve point and local-check probe
    verify_replications: int  # per verification and frontier run
    agents: int
    seed: int
    horizon_months: int
    workers: int | None  # None: each run's own choice (simulator.runner)


class Simulations:
    """Runs simulations at the sample, counts them, reports progress in replications."""

    def __init__(self, sample: Sample, base, progress: Callable[[int, int], None] | None,
                 cancel):
        self.sample = sample
        self.base = base
        self.progress = progress
        self.cancel = cancel
        self.count = 0  # simulations run
        self.done_reps = 0  # replications run
        self.total = 0  # replications planned (an upper bound until the end)
        self._arms: Any = None  # simulator.arms.ArmCache: arms kept over the optimisation

    def report(self, extra: int = 0) -> None:
        """Tell the progress callback how far the optimisation is."""
        if self.progress:
            self.progress(self.done_reps + extra, self.total)

    def run(self, scn, reps: int, with_cf: bool = False) -> RunResult:
        """Simulate ``scn`` (its counterfactual too if ``with_cf``) with ``reps`` replications."""
        return self.run_many([scn], reps, with_cf)[0]

    def run_many(self, scns, reps: int, with_cf: bool = False) -> list[RunResult]:
        """Simulate candidates as one batch (all their replications in flight at once).

        Arms are kept over the whole optimisation (:func:`simulator.arms.sharing`), so
        a candidate already simulated (a spend level equal to today's, a split run
        again at verification) or a counterfactual shared is not simulated again.
        """
        from simulator import arms
        from simulator.runner import run_many

        s = self.sample
        if not with_cf:
            scns = [x.model_copy(deep=True) for x in scns]
            for x in scns:
                x.run.counterfactual.mode = "none"
        if self._arms is None:
            self._arms = arms.ArmCache()
        with arms.sharing(self._arms):
            res = run_many(scns, replications=reps, agents=s.agents, seed=s.seed,
                           horizon_months=s.horizon_months,
                           workers=None if s.workers is None else min(s.workers,
                                                                      reps * len(scns)),
                           cancel=self.cancel,
                           bases=[self.base if with_cf else None] * len(scns),
                           progress=(lambda d, t: self.report(d)) if self.progress else None)
        self.count += len(scns)
        self.done_reps += reps * len(scns)
        self.report()
        return res


@dataclass
class LeverArrays:
    """The levers as arrays: today's spend, bounds, pinned, and which the optimiser moves."""

    levers: list[Lever]
    today: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    pinned: np.ndarray
    free_idx: list[int]

    @classmethod
    def of(cls, levers: list[Lever]) -> LeverArrays:
        """The arrays of ``levers``."""
        return cls(levers, np.array([lv.current_cny for lv in levers]),
                   np.array([lv.min_cny for lv in levers]),
                   np.array([lv.max_cny for lv in levers]),
                   np.array([lv.pinned for lv in levers]),
                   [i for i, lv in enumerate(levers) if lv.free])

    def split(self, x) -> dict[str, float]:
        """Spend per lever id."""
        return dict(zip([lv.id for lv in self.levers], x))
