"""Running the sets (coalitions, mixes) of an attribution or waterfall on one common sample."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from simulator.results import RunResult
from simulator.scenario import Scenario


@dataclass(frozen=True)
class Sample:
    """The common sample every set runs with (common random numbers)."""

    seed: int
    replications: int
    agents: int
    horizon_months: int | None = None


def _sample(sc: Scenario, seed, replications, agents, horizon_months) -> Sample:
    return Sample(sc.run.seed if seed is None else seed,
                  sc.run.replications if replications is None else replications,
                  sc.run.agents if agents is None else agents, horizon_months)


BATCH = 32  # sets sent to the workers at once (their results are reduced batch by batch)


def _start_workers(sc: Scenario, smp: Sample, n_sets: int) -> None:
    """Start the pool's workers now if the first batch will use them, without waiting.

    They start (the interpreter, the engine's imports) while the sets are built, as
    :func:`simulator.runner.run_many` would choose them for the first batch.
    """
    from simulator.execution import prepare
    from simulator.runner import _auto_workers

    horizon = smp.horizon_months or sc.run.horizon_months
    prepare(_auto_workers(smp.agents, horizon, smp.replications * min(BATCH, n_sets)))


def _run_sets(sets: list[tuple[Scenario, Scenario | None]], smp: Sample, cancel,
              progress: Callable[[int], None] | None = None, deadweight: bool = True
              ) -> Iterator[RunResult]:
    """Each set's run, in order; the sets go to the workers in batches of :data:`BATCH`.

    Call inside a :func:`simulator.arms.sharing` block: an arm several sets share (a
    counterfactual, a scheme arm already run) is simulated once.
    ``progress(sets done)`` after each batch.
    """
    from simulator.runner import run_many

    for i in range(0, len(sets), BATCH):
        chunk = sets[i:i + BATCH]

        def reps_done(done: int, _total: int, i=i) -> None:
            if progress:  # runs whose replications are all in (runs finish about in turn)
                progress(i + done // smp.replications)

        yield from run_many([s for s, _ in chunk], bases=[b for _, b in chunk],
                            seed=smp.seed, replications=smp.replications, agents=smp.agents,
                            horizon_months=smp.horizon_months, cancel=cancel,
                            deadweight=deadweight, progress=reps_done)
        if progress:
            progress(i + len(chunk))


def _arm_values(res: RunResult, arm: str) -> np.ndarray:
    """Per replication [R, 4]: net contribution, total cost, gross margin, discounted net."""
    net = res.totals("net_contribution", arm)
    return np.stack([net.sum(axis=1), res.totals("total_cost", arm).sum(axis=1),
                     res.totals("gross_margin", arm).sum(axis=1),
                     (net * res.discount).sum(axis=1)], axis=1)


def _increments(a: np.ndarray) -> np.ndarray:
    """Arm differences [.., 4] -> the QUANTITIES (contribution, cost, margin, NPV)."""
    return a



def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
