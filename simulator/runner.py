"""Replications, the counterfactual under common random numbers, and parallel runs.

``run`` is the one entry point the CLI, the GUI, the Excel export and the
optimiser call. Replication r of a run with seed s always uses the random
streams addressed by (s, r), whichever process runs it, so a run on two cores
gives exactly the numbers of a run on one.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

import numpy as np

from simulator import __version__
from simulator.engine import SWITCHES, ArmOutput, Simulation
from simulator.loader import segment_mismatch
from simulator.outputs import Cancelled
from simulator.results import RunResult
from simulator.scenario import Scenario, size_problems
from simulator.scenario_io import Issue, ScenarioError, scenario_hash
from simulator.theory import discount_factors
from simulator.uncertainty import Plan, corners, distributions_hash, plan_for, uncertain_of
from simulator.worker_guard import worker_init


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


def run_replication(sc: Scenario, cf_sc: Scenario | None, switch_off: tuple[str, ...],
                    seed: int, rep: int, agents: int, horizon: int,
                    cancel=None, plan: Plan | None = None) -> tuple[ArmOutput, ArmOutput | None]:
    """Both arms of one replication, on the same random streams.

    ``plan``: the run's draws of its uncertain inputs (simulator.uncertainty); the
    replication's scenario and counterfactual take their values from (plan, rep).
    """
    if plan is not None:
        sc, cf_sc = plan.arms(sc, cf_sc, rep)
    root = np.random.SeedSequence(seed)
    a = Simulation(sc, root, rep, agents, horizon, (), cancel=cancel).run()
    b = None
    if cf_sc is not None:
        b = Simulation(cf_sc, root, rep, agents, horizon, switch_off, cancel=cancel).run()
    return a, b


def _task(args):
    return run_replication(*args)


# One process pool of a fixed size for the whole process, shared by concurrent runs
# (GUI preview, full run, compare, optimiser). It is never resized: a run asking for W
# workers keeps at most W of its replications in flight on it. Results are keyed by
# replication, so the numbers do not depend on W or on other runs sharing the pool.
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
POOL_SIZE_ENV = "BENEFIT_SIM_POOL_SIZE"


def pool_size() -> int:
    """Worker processes of the shared pool: ``$BENEFIT_SIM_POOL_SIZE`` or the core count."""
    env = os.environ.get(POOL_SIZE_ENV, "").strip()
    if env.isdigit() and int(env) >= 1:
        return min(int(env), 64)
    return max(1, os.cpu_count() or 1)


def _new_pool() -> ProcessPoolExecutor:
    """Create the pool and start all its workers from one owner thread that never ends.

    Linux ties a worker's parent-death signal to the *thread* that started it, so
    workers must not be started by a caller's thread (a GUI worker thread ends
    after its run and would take the workers with it).
    """
    box: list = []
    ready = threading.Event()

    def owner() -> None:
        try:
            ex = ProcessPoolExecutor(max_workers=pool_size(), mp_context=mp.get_context("spawn"),
                                     initializer=worker_init, initargs=(os.getpid(),))
            # all workers now, from this thread (none later); a private method of CPython's
            ex._launch_processes()  # type: ignore[attr-defined]
            box.append(ex)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box.append(exc)
        ready.set()
        threading.Event().wait()  # live as long as the process

    threading.Thread(target=owner, daemon=True, name="benefit-sim-pool-owner").start()
    ready.wait()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def _pool() -> ProcessPoolExecutor:
    """The shared process pool (spawned, so it is safe beside Qt threads); thread-safe."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or getattr(_POOL, "_broken", False):
            _POOL = _new_pool()
        return _POOL


def pool_pids() -> list[int]:
    """Process ids of the pool's live workers (for tests and diagnostics)."""
    with _POOL_LOCK:
        procs = getattr(_POOL, "_processes", None) or {}
        return [p.pid for p in list(procs.values()) if p.is_alive()]


def kill_pool() -> None:
    """Terminate the workers now (on SIGTERM): running replications are abandoned."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is None:
        return
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            p.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown_pool() -> None:
    """Stop the worker processes (called at exit)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(cancel_futures=True)


def _auto_workers(agents: int, horizon: int, replications: int) -> int:
    cores = os.cpu_count() or 1
    # Spawning workers costs about a second; only worth it for bigger runs.
    if cores < 2 or replications < 4 or agents * horizon * replications < 5_000_000:
        return 1
    return min(cores, replications)


def run(sc: Scenario, *, replications: int | None = None, agents: int | None = None,
        seed: int | None = None, horizon_months: int | None = None, workers: int | None = None,
        progress: Callable[[int, int], None] | None = None, cancel=None,
        base: Scenario | None = None, window_contacts: int | None = None,
        assumptions: str | None = None) -> RunResult:
    """Run a scenario's replications and its counterfactual; see docs/ENGINE_API.md.

    ``assumptions``: "sample" or "nominal" for inputs written as ranges (default:
    the scenario's ``run.uncertainty.mode``); see simulator.uncertainty.
    """
    t0 = time.perf_counter()
    R = replications if replications is not None else sc.run.replications
    N = agents if agents is not None else sc.run.agents
    S = seed if seed is not None else sc.run.seed
    H = horizon_months if horizon_months is not None else sc.run.horizon_months
    for name, v, lo in (("replications", R, 1), ("agents", N, 10), ("horizon_months", H, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name}: {v} must be a whole number >= {lo}")
    if S < 0:
        raise ValueError(f"seed: {S} must be >= 0")
    for arm in (sc, base, *corners(sc), *(corners(base) if base is not None else ())):
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
    target_total = conv.max_replications if conv.enabled else R
    W = workers if workers is not None else _auto_workers(N, H, R)
    mode = assumptions if assumptions is not None else sc.run.uncertainty.mode
    if mode not in ("sample", "nominal"):
        raise ValueError(f"assumptions: {mode!r} must be 'sample' or 'nominal'")
    per_draw = sc.run.uncertainty.replications_per_draw
    plan = plan_for(sc, cf_sc, S, target_total, per_draw) if mode == "sample" else None

    results: dict[int, tuple[ArmOutput, ArmOutput | None]] = {}

    def batch(reps: list[int], total: int) -> None:
        if W <= 1:
            for r in reps:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                results[r] = run_replication(sc, cf_sc, off, S, r, N, H, cancel, plan)
                if progress:
                    progress(len(results), total)
            return
        ex = _pool()
        todo = list(reps)
        futs: dict = {}
        try:
            pending: set = set()
            while todo or pending:
                while todo and len(pending) < W:  # at most W of this run's reps in flight
                    r = todo.pop(0)
                    f = ex.submit(_task, (sc, cf_sc, off, S, r, N, H, None, plan))
                    futs[f] = r
                    pending.add(f)
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for f in done:
                    results[futs[f]] = f.result()
                    if progress:
                        progress(len(results), total)
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
        except BaseException:
            for f in futs:
                f.cancel()
            raise

    batch(list(range(R)), target_total if conv.enabled else R)
    converged = None
    if conv.enabled:
        while True:
            res = _assemble(sc, cf_sc, results, H, {})
            st = res.summary.get(conv.metric)
            if st is None:
                raise ValueError(f"run.convergence.metric: {conv.metric!r} must be one of "
                                 f"{sorted(res.summary)}")
            rel = abs(st.half_width / st.mean) if st.mean else float("inf")
            converged = bool(np.isfinite(rel) and rel <= conv.relative_half_width)
            n = len(results)
            if converged or n >= conv.max_replications:
                break
            # Estimate the replications needed from the current spread.
            need = int(np.ceil(n * (rel / conv.relative_half_width) ** 2)) if np.isfinite(rel) \
                else 2 * n
            more = int(min(conv.max_replications, max(need, n + W)) - n)
            batch(list(range(n, n + more)), conv.max_replications)
    meta: dict[str, object] = {
        "product": "benefit-sim",
        "version": __version__,
        "scenario": sc.name,
        "scenario_hash": sc_hash,
        "base_scenario": base_name,
        "base_hash": base_hash,
        "seed": S,
        "replications": len(results),
        "agents": N,
        "customers": sc.population.customers,
        "customers_per_agent": sc.population.customers / N,
        "horizon_months": H,
        "counterfactual": cf_desc,
        "discount_rate_annual": sc.run.discount_rate_annual,
        "workers": W,
        "window_contacts": window_contacts,
        "convergence": ({"metric": conv.metric, "target_relative_half_width":
                         conv.relative_half_width, "converged": converged}
                        if conv.enabled else None),
        "elapsed_seconds": None,
    }
    if uncertain_of(sc) or (cf_sc is not None and uncertain_of(cf_sc)):
        meta["uncertainty"] = {
            "mode": mode, "replications_per_draw": per_draw if plan is not None else None,
            "draws": len(plan.u) if plan is not None else None,
            "inputs_hash": distributions_hash(sc),
            "base_inputs_hash": distributions_hash(cf_sc) if cf_sc is not None
            and cf_sc is not sc else None,
            "inputs": _inputs_meta(sc),
            "drawn": plan.table(len(results)) if plan is not None else None}
    res = _assemble(sc, cf_sc, results, H, meta)
    meta["elapsed_seconds"] = round(time.perf_counter() - t0, 3)
    return res


def _inputs_meta(sc: Scenario) -> list[dict]:
    from simulator import labels
    from simulator.uncertainty import key_text, resolve

    out = []
    for k, d in sorted(uncertain_of(sc).items(), key=lambda kv: key_text(kv[0])):
        path = resolve(sc, k)
        unit, scale, _ = labels.display_unit(Scenario, path or ())
        out.append({"input": key_text(k), "label": labels.where(path or (), sc),
                    "dist": d.kind, "low": d.lo, "high": d.hi, "nominal": d.nominal,
                    "text": d.text(unit, scale), "table": d.to_table()})
    return out


def _assemble(sc, cf_sc, results, H, meta) -> RunResult:
    order = sorted(results)
    disc = discount_factors(sc.run.discount_rate_annual, H)
    scn = [results[r][0] for r in order]
    cf = [results[r][1] for r in order] if cf_sc is not None else None
    return RunResult([s.name for s in sc.segments], [t.name for t in sc.tiers],
                     scn[0].pool_names, H, disc, scn, cf, meta,
                     [t.name for t in cf_sc.tiers] if cf_sc is not None else None)
