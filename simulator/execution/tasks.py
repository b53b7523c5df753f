"""The unit of work: one replication of one run, both arms, a pure function of its fields.

A :class:`Task` carries everything a worker needs, the pydantic scenario itself
included (pickled to our own workers, never read from a file); :func:`run_task` runs
it in whichever process the back end chose and refuses a task from another version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Hashable

import numpy as np

from simulator import __version__, customer_base
from simulator.engine import ArmOutput, Simulation
from simulator.outputs import Cancelled
from simulator.scenario import Scenario
from simulator.sizing import (
    SLOT_BYTES,
    SLOT_BYTES_PER_WINDOW_MONTH,
    memory_budget,
    simulated_slots,
)

if TYPE_CHECKING:
    from simulator.uncertainty import Plan


POLL_SECONDS = 0.1  # how often a waiting caller looks at its cancel flag


@dataclass(frozen=True)
class Task:
    """One replication of one run: both arms, everything a worker needs."""

    key: Hashable  # the caller's name for the result, e.g. (run index, replication)
    scenario: Scenario
    counterfactual: Scenario | None
    switch_off: tuple[str, ...]
    seed: int
    replication: int
    agents: int
    horizon: int
    plan: Plan | None = None  # the run's draws of its uncertain inputs (simulator.uncertainty)
    pair: bool = True  # pair the arms customer by customer (deadweight) where they can be
    version: str = __version__  # a worker running other code refuses the task


def pairing_fits(sc: Scenario, agents: int, horizon: int) -> bool:
    """Whether the counterfactual's orders log (1 byte per customer and month) fits too.

    The log is what lets the scenario arm report deadweight; a run at the limit of
    :func:`simulator.sizing.size_problems` (about 12 M simulated customers) runs
    without it, and reports deadweight as not available.
    """
    slots = simulated_slots(sc, agents, horizon)
    need = slots * (SLOT_BYTES + SLOT_BYTES_PER_WINDOW_MONTH * sc.tier_rules.window_months
                    + horizon)
    return need <= memory_budget()


def run_replication(sc: Scenario, cf_sc: Scenario | None, switch_off: tuple[str, ...],
                    seed: int, rep: int, agents: int, horizon: int,
                    cancel=None, plan: Plan | None = None, pair: bool = True
                    ) -> tuple[ArmOutput, ArmOutput | None]:
    """Both arms of one replication, on the same random streams.

    ``plan``: the run's draws of its uncertain inputs (simulator.uncertainty); the
    replication's scenario and counterfactual take their values from (plan, rep).
    """
    if plan is not None:
        sc, cf_sc = plan.arms(sc, cf_sc, rep)
    # The shop's actual customers (population.customer_file), shipped with the scenario:
    # both arms start from them.
    cb = customer_base.for_scenario(sc)
    root = np.random.SeedSequence(seed)
    if pair and cf_sc is not None and pairing_fits(sc, agents, horizon):
        # The same customers in both arms, index by index (the scheme switched off, or a
        # base scenario with the same segments: simulator.runner.counterfactual_of). The
        # counterfactual runs first and keeps each customer's orders per month, so the
        # scenario arm can tell purchases that happen anyway from incremental ones.
        rec = Simulation(cf_sc, root, rep, agents, horizon, switch_off, cancel=cancel,
                         pairing="record", customers=cb)
        cf_out = rec.run()
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        sim = Simulation(sc, root, rep, agents, horizon, (), cancel=cancel, pairing="paired",
                         customers=cb)
        sim.cf_log = rec.orders_log
        del rec
        return sim.run(), cf_out
    a = Simulation(sc, root, rep, agents, horizon, (), cancel=cancel, customers=cb).run()
    b = None
    if cf_sc is not None:
        if cancel is not None and cancel.is_set():  # before the second arm's set-up
            raise Cancelled()
        b = Simulation(cf_sc, root, rep, agents, horizon, switch_off, cancel=cancel,
                       customers=cb).run()
    return a, b


def run_task(task: Task, cancel=None) -> tuple[ArmOutput, ArmOutput | None]:
    """A task's result (runs in whichever process the back end chose)."""
    if task.version != __version__:
        raise RuntimeError(f"this worker runs benefit-sim {__version__}, the task comes from "
                           f"{task.version}: install the same version on every machine")
    if not isinstance(task, Task):  # one arm (simulator.arms.ArmTask): it runs itself
        return task.run(cancel)
    return run_replication(task.scenario, task.counterfactual, task.switch_off, task.seed,
                           task.replication, task.agents, task.horizon, cancel, task.plan,
                           task.pair)
