"""Replications, the counterfactual under common random numbers, and parallel runs.

``run`` is the one entry point the CLI, the GUI, the Excel export and the
optimiser call; ``run_many`` runs several scenarios on one sample as one batch
(compare and the sweeps), so a cluster has all their replications at once.
Replication r of a run with seed s always uses the random streams addressed by
(s, r), whichever process or machine runs it (:mod:`simulator.execution`), so a
run on two cores or on a Dask cluster gives exactly the numbers of a run on one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence, cast

import numpy as np

from simulator import __version__, customer_base
from simulator.arms import execute_runs
from simulator.engine import SWITCHES, ArmOutput
from simulator.execution import (  # noqa: F401 - the pool's controls, re-exported
    POOL_SIZE_ENV,
    Task,
    execute,
    kill_pool,
    pool_pids,
    pool_size,
    run_replication,
)
from simulator.execution import shutdown as shutdown_pool  # noqa: F401
from simulator.loader import segment_mismatch
from simulator.outputs import Cancelled  # noqa: F401 - raised by run() on cancel
from simulator.results import RunResult
from simulator.scenario import Scenario
from simulator.scenario_io import Issue, ScenarioError, scenario_hash
from simulator.sizing import SIZE_FIELDS, size_problems
from simulator.theory import discount_factors
from simulator.uncertainty import Plan, corners, distributions_hash, has_ranges, plan_for


def counterfactual_of(sc: Scenario, base: Scenario | None = None
                      ) -> tuple[Scenario | None, tuple[str, ...], str]:
    """The counterfactual arm: (scenario, switched-off parts, description)."""
    cf = sc.run.counterfactual
    if cf.mode == "none":
        return None, (), "none"
    if cf.mode == "base_scenario":
        if base is None:
            raise ValueError("run.counterfactual.mode is 'base_scenario' but no base scenario "
                             "was given (load it with simulator.loader.load_scenario)")
        why = segment_mismatch(sc, base)
        if why:
            raise ValueError(f"run.counterfactual.base_scenario: {base.name!r} {why}")
        return base, (), f"base scenario {base.name!r}"
    off = tuple(x for x in SWITCHES if x in cf.switch_off)
    return sc, off, "scheme off (" + ", ".join(off) + ")"


def _auto_workers(agents: int, horizon: int, replications: int) -> int:
    cores = os.cpu_count() or 1
    # Spawning workers costs about a second; only worth it for bigger runs.
    if cores < 2 or replications < 4 or agents * horizon * replications < 5_000_000:
        return 1
    return min(cores, replications)


@dataclass
class _Job:
    """One run of a batch: its settled inputs and the replications done so far."""

    sc: Scenario
    cf_sc: Scenario | None
    off: tuple[str, ...]
    cf_desc: str
    R: int
    N: int
    S: int
    H: int
    sc_hash: str
    base_hash: str | None
    base_name: str | None
    window_contacts: int | None
    mode: str  # inputs written as ranges: "sample" or "nominal"
    plan: Plan | None  # the run's draws of its uncertain inputs (None: none drawn)
    pair: bool = True  # pair the arms customer by customer (deadweight)
    results: dict[int, tuple[ArmOutput, ArmOutput | None]] = field(default_factory=dict)
    converged: bool | None = None
    finished: bool = False

    @property
    def planned(self) -> int:
        """Replications this run may reach (for progress)."""
        conv = self.sc.run.convergence
        return conv.max_replications if conv.enabled else self.R

    def tasks(self, index: int, reps: Sequence[int]) -> list[Task]:
        """Tasks for replications ``reps``, keyed (run index, replication)."""
        return [Task((index, r), self.sc, self.cf_sc, self.off, self.S, r, self.N, self.H,
                     self.plan, self.pair) for r in reps]


def _prepare(sc: Scenario, replications, agents, seed, horizon_months,
             base: Scenario | None, window_contacts: int | None,
             assumptions: str | None) -> _Job:
    R = replications if replications is not None else sc.run.replications
    N = agents if agents is not None else sc.run.agents
    S = seed if seed is not None else sc.run.seed
    H = horizon_months if horizon_months is not None else sc.run.horizon_months
    for name, v, lo in (("replications", R, 1), ("agents", N, 10), ("horizon_months", H, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name}: {v} must be a whole number >= {lo}")
    if S < 0:
        raise ValueError(f"seed: {S} must be >= 0")
    ends = [*corners(sc, SIZE_FIELDS), *(corners(base, SIZE_FIELDS) if base is not None else ())]
    for arm in (sc, base, *ends):
        if arm is not None and (too_big := size_problems(arm, N, H)):
            # before any work: a run that cannot fit says what to reduce
            raise ScenarioError([Issue(p, v, m) for p, v, m in too_big])
    sc_hash = scenario_hash(sc)  # of the inputs as given (before any preview override)
    base_hash = scenario_hash(base) if base is not None else None
    base_name = base.name if base is not None else None
    if window_contacts is not None:
        # A preview may simulate smaller queue windows (noisier waits, faster).
        sc = sc.model_copy(update={"service": sc.service.model_copy(
            update={"window_contacts": int(window_contacts)})})
        if base is not None:
            base = base.model_copy(update={"service": base.service.model_copy(
                update={"window_contacts": int(window_contacts)})})
    cf_sc, off, cf_desc = counterfactual_of(sc, base)
    if cf_sc is not base:  # a base given but not used (mode is not base_scenario)
        base_hash = base_name = None
    conv = sc.run.convergence
    mode = assumptions if assumptions is not None else sc.run.uncertainty.mode
    if mode not in ("sample", "nominal"):
        raise ValueError(f"assumptions: {mode!r} must be 'sample' or 'nominal'")
    planned = conv.max_replications if conv.enabled else R
    plan = plan_for(sc, cf_sc, S, planned, sc.run.uncertainty.replications_per_draw) \
        if mode == "sample" else None
    return _Job(sc, cf_sc, off, cf_desc, int(R), int(N), int(S), int(H), sc_hash, base_hash,
                base_name, window_contacts, mode, plan)


def _more_needed(job: _Job, W: int) -> int:
    """Replications a converging run still needs (0: done); sets ``converged``."""
    conv = job.sc.run.convergence
    res = _assemble(job.sc, job.cf_sc, job.results, job.H, {})
    st = res.summary.get(conv.metric)
    if st is None:
        raise ValueError(f"run.convergence.metric: {conv.metric!r} must be one of "
                         f"{sorted(res.summary)}")
    rel = abs(st.half_width / st.mean) if st.mean else float("inf")
    job.converged = bool(np.isfinite(rel) and rel <= conv.relative_half_width)
    n = len(job.results)
    if job.converged or n >= conv.max_replications:
        return 0
    # Estimate the replications needed from the current spread.
    need = int(np.ceil(n * (rel / conv.relative_half_width) ** 2)) if np.isfinite(rel) \
        else 2 * n
    return int(min(conv.max_replications, max(need, n + W)) - n)


def run(sc: Scenario, *, replications: int | None = None, agents: int | None = None,
        seed: int | None = None, horizon_months: int | None = None, workers: int | None = None,
        progress: Callable[[int, int], None] | None = None, cancel=None,
        base: Scenario | None = None, window_contacts: int | None = None,
        assumptions: str | None = None) -> RunResult:
    """Run a scenario's replications and its counterfactual; see docs/ENGINE_API.md.

    ``assumptions``: "sample" or "nominal" for inputs written as ranges (default:
    the scenario's ``run.uncertainty.mode``); see simulator.uncertainty.
    """
    return run_many([sc], bases=[base], replications=replications, agents=agents, seed=seed,
                    horizon_months=horizon_months, workers=workers, progress=progress,
                    cancel=cancel, window_contacts=window_contacts,
                    assumptions=assumptions)[0]


def run_many(scenarios: Sequence[Scenario], *, bases: Sequence[Scenario | None] | None = None,
             replications: int | None = None, agents: int | None = None,
             seed: int | None = None, horizon_months: int | None = None,
             workers: int | None = None, progress: Callable[[int, int], None] | None = None,
             cancel=None, window_contacts: int | None = None,
             assumptions: str | None = None, deadweight: bool = True) -> list[RunResult]:
    """Run several scenarios as one batch of tasks; each result as :func:`run` gives it.

    Settings left as None come from each scenario's own file. ``bases[i]`` is
    scenario i's base (its counterfactual in ``base_scenario`` mode).
    ``progress(done, total)`` counts replications over all the scenarios.
    ``deadweight=False``: the arms are not paired customer by customer (no deadweight,
    every other number the same), so a sweep that needs only totals shares scheme arms
    across runs whose counterfactuals differ (attribution's sets).
    """
    t0 = time.perf_counter()
    bases = list(bases) if bases is not None else [None] * len(scenarios)
    if len(bases) != len(scenarios):
        raise ValueError("bases: one per scenario (None where there is none)")
    jobs = [_prepare(sc, replications, agents, seed, horizon_months, b, window_contacts,
                     assumptions) for sc, b in zip(scenarios, bases)]
    for j in jobs:
        j.pair = deadweight
    if not jobs:
        return []
    W = workers if workers is not None else \
        _auto_workers(jobs[0].N, jobs[0].H, sum(j.R for j in jobs))
    total = sum(j.planned for j in jobs)
    done = [0]

    def arrived(task: Task, result) -> None:
        i, r = cast(tuple[int, int], task.key)
        jobs[i].results[r] = result
        done[0] += 1
        if progress:
            progress(done[0], total)

    tasks = [t for i, j in enumerate(jobs) for t in j.tasks(i, range(j.R))]
    while tasks:
        # as arms: an arm several runs share (a counterfactual) is simulated once
        execute_runs(tasks, workers=W, on_result=arrived, cancel=cancel)
        tasks = []
        for i, j in enumerate(jobs):
            if j.finished or not j.sc.run.convergence.enabled:
                continue
            more = _more_needed(j, W)
            if more == 0:
                j.finished = True
            n = len(j.results)
            tasks += j.tasks(i, range(n, n + more))
    out = []
    for j in jobs:
        conv = j.sc.run.convergence
        # What ran: with a customer file its customers, or a sample of j.N of them.
        cb = customer_base.for_scenario(j.sc) if j.sc.population.customer_file else None
        ran = min(len(cb), j.N) if cb is not None else j.N
        meta: dict[str, object] = {
            "product": "benefit-sim",
            "version": __version__,
            "scenario": j.sc.name,
            "scenario_hash": j.sc_hash,
            "base_scenario": j.base_name,
            "base_hash": j.base_hash,
            "seed": j.S,
            "replications": len(j.results),
            "agents": ran,
            "agents_requested": j.N,
            "customers": j.sc.population.customers,
            "customers_per_agent": j.sc.population.customers / ran,
            "horizon_months": j.H,
            "counterfactual": j.cf_desc,
            "discount_rate_annual": j.sc.run.discount_rate_annual,
            "workers": W,
            "window_contacts": j.window_contacts,
            "convergence": ({"metric": conv.metric, "target_relative_half_width":
                             conv.relative_half_width, "converged": j.converged}
                            if conv.enabled else None),
            "elapsed_seconds": None,
        }
        if has_ranges(j.sc) or (j.cf_sc is not None and has_ranges(j.cf_sc)):
            meta["uncertainty"] = {
                "mode": j.mode,
                "replications_per_draw": (j.sc.run.uncertainty.replications_per_draw
                                          if j.plan is not None else None),
                "draws": len(j.plan.u) if j.plan is not None else None,
                "inputs_hash": distributions_hash(j.sc),
                "base_inputs_hash": distributions_hash(j.cf_sc) if j.cf_sc is not None
                and j.cf_sc is not j.sc else None,
                "inputs": _inputs_meta(j.sc),
                "drawn": j.plan.table(len(j.results)) if j.plan is not None else None}
        res = _assemble(j.sc, j.cf_sc, j.results, j.H, meta)
        meta["elapsed_seconds"] = round(time.perf_counter() - t0, 3)
        out.append(res)
    return out


def _inputs_meta(sc: Scenario) -> list[dict]:
    from simulator.uncertainty import input_label, input_unit, inputs_of, key_text

    out = []
    for k, i in sorted(inputs_of(sc).items(), key=lambda kv: key_text(kv[0])):
        d = i.dist
        unit, scale = input_unit(sc, k, i)
        out.append({"input": key_text(k), "label": input_label(sc, k, i),
                    "dist": d.kind, "low": d.lo, "high": d.hi, "nominal": d.nominal,
                    "text": d.text(unit, scale), "table": d.to_table(),
                    "fields": len(i.targets)})
    return out


def _assemble(sc, cf_sc, results, H, meta) -> RunResult:
    order = sorted(results)
    disc = discount_factors(sc.run.discount_rate_annual, H)
    scn = [results[r][0] for r in order]
    cf = [results[r][1] for r in order] if cf_sc is not None else None
    return RunResult([s.name for s in sc.segments], [t.name for t in sc.tiers],
                     scn[0].pool_names, H, disc, scn, cf, meta,
                     [t.name for t in cf_sc.tiers] if cf_sc is not None else None)
