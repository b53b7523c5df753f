"""Arms, not runs: each distinct arm of a batch is simulated once per replication.

A run is a scenario arm paired with its counterfactual arm under common random
numbers; a sweep (tornado, goal seek, Latin hypercube, attribution, the
waterfall, the optimiser) asks for many runs whose arms often coincide: every
attribution set and every tornado swing of a scheme-only input (a benefit's
effect or cost, a campaign) has the same scheme-off counterfactual.

An arm's result is a pure function of its :func:`arm_key`: a hash of the compiled
arm (:class:`~simulator.compiled.CompiledScenario`, every number the engine reads,
the switched-off parts included), the seed, the replication, the agents, the
horizon and its pairing (a scheme arm paired customer by customer reads its
counterfactual's orders, so its key includes that counterfactual's key). Same key,
same arrays: :func:`execute_runs` plans a batch of run tasks
(:class:`simulator.execution.Task`) as arms, simulates each distinct arm once
(on whichever back end is in force: the arm tasks go through
:func:`simulator.execution.execute`) and hands every run the arms it needs. A
counterfactual shared by several runs runs first, recording its orders per
customer and month (1 byte each), and its scheme arms run paired against that
record, exactly as :func:`simulator.execution.run_replication` pairs them.

Within a :func:`sharing` block (the sweeps open one) arms are also kept across
batches, so a set already run (the nominal run, the scheme-off counterfactual)
is not simulated again; the block's cache is dropped at its end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterator, Sequence

import numpy as np
from pydantic import BaseModel

from simulator import __version__, customer_base, sizing
from simulator.compiled import CompiledScenario, compile_scenario
from simulator.engine import ArmOutput, Simulation
from simulator.execution import Task, execute, pairing_fits, prepare
from simulator.outputs import Cancelled
from simulator.scenario import Scenario

CACHE_BYTES = 1 << 30  # a sharing block keeps at most this much (least recently used go)


# ------------------------------------------------------------------ the key
def _feed(h, x: Any) -> None:
    """Feed a compiled value into the hash, type-tagged (arrays by dtype, shape, bytes)."""
    if isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        h.update(f"A{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    elif isinstance(x, BaseModel):
        h.update(b"M" + type(x).__name__.encode() + x.model_dump_json().encode())
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        h.update(b"D" + type(x).__name__.encode())
        for f in dataclasses.fields(x):
            h.update(f.name.encode())
            _feed(h, getattr(x, f.name))
    elif isinstance(x, (tuple, list)):
        h.update(f"T{len(x)}".encode())
        for v in x:
            _feed(h, v)
    elif isinstance(x, dict):
        h.update(f"E{len(x)}".encode())
        for k in sorted(x, key=repr):
            _feed(h, k)
            _feed(h, x[k])
    elif x is None or isinstance(x, (bool, int, float, str, np.generic)):
        h.update(f"S{type(x).__name__}:{x!r}".encode())
    else:  # a new kind of field: refuse rather than hash it wrongly
        raise TypeError(f"arm key: cannot hash a {type(x).__name__} in the compiled scenario")


def compiled_hash(cs: CompiledScenario) -> str:
    """Hash of what the engine reads of one arm (everything compiled but the name)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(__version__.encode())
    for f in dataclasses.fields(cs):
        if f.name == "name":  # a label: no number depends on it
            continue
        h.update(f.name.encode())
        _feed(h, getattr(cs, f.name))
    return h.hexdigest()


def arm_key(cs: CompiledScenario | Any, seed: int, replication: int, agents: int,
            paired_with: str | None = None, customers: str | None = None, *,
            hashed: str | None = None, horizon: int | None = None) -> str:
    """The key that determines an arm's result.

    ``paired_with``: its counterfactual's key; ``customers``: the SHA-256 of the
    customer file both arms start from (population.customer_file), if any.
    ``hashed``: :func:`compiled_hash` of the arm, already computed (``horizon`` its
    compiled horizon; ``cs`` is then not read).
    """
    if hashed is None:
        hashed, horizon = compiled_hash(cs), cs.horizon
    return (f"{hashed}/s{seed}/r{replication}/n{agents}/h{horizon}"
            f"/p{paired_with or '-'}/c{customers or '-'}")


# ------------------------------------------------------------------ one arm
@dataclass(frozen=True)
class ArmTask:
    """One arm of one replication (run by :func:`simulator.execution.run_task`)."""

    key: Hashable
    arm: Scenario  # with its drawn values already applied
    switch_off: tuple[str, ...]
    seed: int
    replication: int
    agents: int
    horizon: int
    record: bool = False  # keep the orders per customer and month (a shared counterfactual)
    cf_log: tuple[np.ndarray, ...] | None = None  # pair against these orders (a scheme arm)
    customers_of: Scenario | None = None  # the run's scenario: both arms start from its customers
    version: str = __version__  # a worker running other code refuses the task

    def run(self, cancel=None) -> tuple[ArmOutput, list[np.ndarray] | None]:
        """The arm's output, and its orders log when recording."""
        pairing = "record" if self.record else ("paired" if self.cf_log is not None else None)
        cb = customer_base.for_scenario(self.customers_of if self.customers_of is not None
                                        else self.arm)
        sim = Simulation(self.arm, np.random.SeedSequence(self.seed), self.replication,
                         self.agents, self.horizon, self.switch_off, cancel=cancel,
                         pairing=pairing, customers=cb)
        if self.cf_log is not None:
            sim.cf_log = list(self.cf_log)
        out = sim.run()
        return out, (sim.orders_log if self.record else None)


# ------------------------------------------------------------------ the cache
class ArmCache:
    """Arms by key, least recently used dropped beyond a byte budget."""

    def __init__(self, budget: int = CACHE_BYTES):
        self.budget = budget
        self.items: OrderedDict[str, tuple[ArmOutput, list[np.ndarray] | None, int]] = \
            OrderedDict()
        self.size = 0

    def get(self, key: str, need_log: bool):
        """The arm and its orders log (None: not kept, or kept without the log needed)."""
        hit = self.items.get(key)
        if hit is None or (need_log and hit[1] is None):
            return None
        self.items.move_to_end(key)
        return hit[0], hit[1]

    def put(self, key: str, out: ArmOutput, log: list[np.ndarray] | None) -> None:
        """Keep an arm (a log kept before stays if this one comes without)."""
        old = self.items.pop(key, None)
        if old is not None:
            self.size -= old[2]
            if log is None:
                log = old[1]
        n = _nbytes(out) + sum(a.nbytes for a in log or ())
        self.items[key] = (out, log, n)
        self.size += n
        self.size = sizing.trim_to_budget(self.items, lambda item: item[2], self.budget,
                                          self.size)


def _nbytes(out: ArmOutput) -> int:
    return sum(v.nbytes for v in vars(out).values() if isinstance(v, np.ndarray)) + \
        sum(v.nbytes for v in out.y1.values())


_LOCAL = threading.local()  # .cache: the innermost sharing block's cache in this thread
_COUNTS = {"simulated": 0, "reused": 0}  # arms simulated / handed out again (this process)
_COUNTS_LOCK = threading.Lock()
_REUSE = [True]


@contextlib.contextmanager
def sharing(cache: ArmCache | None = None) -> Iterator[ArmCache]:
    """Keep arms across batches in this thread until the block ends (nested: the outer one).

    ``cache``: one to carry on (e.g. an optimiser's, over its many calls); default a new one.
    """
    outer = getattr(_LOCAL, "cache", None)
    if outer is not None:
        yield outer
        return
    _LOCAL.cache = cache if cache is not None else ArmCache()
    try:
        yield _LOCAL.cache
    finally:
        _LOCAL.cache = None


def set_reuse(on: bool) -> bool:
    """Plan runs as arms (True, default) or run every run's two arms (False); the old value.

    Both give the same numbers (``tests/test_arms.py``); False is for tests and
    benchmarks that compare the two.
    """
    old = _REUSE[0]
    _REUSE[0] = bool(on)
    return old


def counts() -> dict[str, int]:
    """Arms simulated and arms reused by :func:`execute_runs` in this process so far."""
    with _COUNTS_LOCK:
        return dict(_COUNTS)


def _count(name: str, n: int = 1) -> None:
    with _COUNTS_LOCK:
        _COUNTS[name] += n


# ------------------------------------------------------------------ planning
@dataclass
class _Run:
    task: Task
    sc_key: str
    cf_key: str | None
    pair: bool
    arms: tuple[Scenario, Scenario | None] | None = None  # with drawn values (a task's plan)


def _plan(task: Task, memo: dict[tuple, Any]) -> tuple[_Run, Scenario, Scenario | None]:
    """The task's run as arm keys; ``memo`` keeps what the batch's runs share.

    A run's replications have the same scenario objects (unless drawn values apply), so
    each is compiled and hashed once, not once per replication.
    """
    sc, cf = task.scenario, task.counterfactual
    if task.plan is not None:
        sc, cf = task.plan.arms(sc, cf, task.replication)
    S, r, N, H = task.seed, task.replication, task.agents, task.horizon

    def once(key: tuple, make: Callable[[], Any]) -> Any:
        if key not in memo:
            memo[key] = make()
        return memo[key][1]

    # the objects are kept in the memo too, so their ids stay theirs for the whole batch
    pair = task.pair and cf is not None and \
        once(("fits", id(sc), N, H), lambda: (sc, pairing_fits(sc, N, H)))
    cust = sc.population.customer_file_sha256 if sc.population.customer_file else None
    cf_key = None
    if cf is not None:
        cf_key = arm_key(cf, S, r, N, customers=cust, hashed=once(
            ("hash", id(cf), H, task.switch_off),
            lambda: (cf, compiled_hash(compile_scenario(cf, H, task.switch_off)))), horizon=H)
    sc_key = arm_key(sc, S, r, N, cf_key if pair else None, cust, hashed=once(
        ("hash", id(sc), H, ()), lambda: (sc, compiled_hash(compile_scenario(sc, H, ())))),
        horizon=H)
    drawn = (sc, cf) if task.plan is not None else None
    return _Run(task, sc_key, cf_key, pair, drawn), sc, cf


def execute_runs(tasks: Sequence[Task], *, workers: int = 1,
                 on_result: Callable[[Task, Any], None] | None = None, cancel=None) -> None:
    """Run tasks (each a replication's two arms) as their distinct arms; see the module text.

    ``on_result(task, (scenario arm, counterfactual arm))`` is called as each
    run's arms are all there; the numbers are those :func:`execution.execute`
    gives for the same tasks.
    """
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    prepare(workers)  # the pool's workers start while the batch is planned
    if not _REUSE[0]:
        _count("simulated", sum(1 + (t.counterfactual is not None) for t in tasks))
        execute(tasks, workers=workers, on_result=on_result, cancel=cancel)
        return
    runs: list[_Run] = []
    arms: dict[str, tuple[Scenario, tuple[str, ...], Task]] = {}
    owner: dict[str, Scenario] = {}  # the run's scenario arm (its customers start both arms)
    memo: dict[tuple, Any] = {}
    for t in tasks:
        rn, sc, cf = _plan(t, memo)
        runs.append(rn)
        arms.setdefault(rn.sc_key, (sc, (), t))
        owner.setdefault(rn.sc_key, sc)
        if rn.cf_key is not None:
            arms.setdefault(rn.cf_key, (cf, t.switch_off, t))  # type: ignore[arg-type]
            owner.setdefault(rn.cf_key, sc)
    shared = getattr(_LOCAL, "cache", None)
    cache: ArmCache = shared if shared is not None else ArmCache()
    got: dict[str, ArmOutput] = {}
    logs: dict[str, list[np.ndarray]] = {}
    need_log = {r.cf_key for r in runs if r.pair}
    for k in arms:
        hit = cache.get(k, k in need_log)
        if hit is not None:
            got[k] = hit[0]
            if hit[1] is not None:
                logs[k] = hit[1]
    _count("reused", sum(1 for r in runs for k in (r.sc_key, r.cf_key) if k in got))
    waiting = list(runs)

    def deliver() -> None:
        nonlocal waiting
        left = []
        for r in waiting:
            if r.sc_key in got and (r.cf_key is None or r.cf_key in got):
                if on_result:
                    on_result(r.task, (got[r.sc_key], got.get(r.cf_key or "")))
            else:
                left.append(r)
        waiting = left

    def store(key: str, out: ArmOutput, log: list[np.ndarray] | None) -> None:
        got[key] = out
        if log is not None:
            logs[key] = log
        cache.put(key, out, log)

    deliver()
    # 1. counterfactuals more than one missing run needs (in a sharing block: every one,
    #    as later batches may need them): once each, recording their orders if paired
    uses: dict[str, int] = {}
    for r in waiting:
        if r.cf_key is not None and r.cf_key not in got:
            uses[r.cf_key] = uses.get(r.cf_key, 0) + 1
    first: list[Any] = []
    for k, n in uses.items():
        if n > 1 or shared is not None:
            sc, off, t = arms[k]
            first.append(ArmTask(k, sc, off, t.seed, t.replication, t.agents, t.horizon,
                                 record=k in need_log, customers_of=owner[k]))

    def arm_arrived(task: Any, result) -> None:
        _count("simulated")
        store(str(task.key), result[0], result[1])
        deliver()

    # Paired runs read those counterfactuals' orders: they run first. Without pairing
    # nothing waits for them, so they go with the rest in one call (no idle worker
    # between the two while the last counterfactual finishes).
    together = not need_log
    if first and not together:
        execute(first, workers=workers, on_result=arm_arrived, cancel=cancel)
    # 2. everything else: a scheme arm against a counterfactual already there, or both
    #    arms of a replication together (a counterfactual no other run needs)
    second: list[Any] = list(first) if together else []
    pairs: dict[str, _Run] = {}
    scheduled: set[str] = {str(t.key) for t in first} if together else set()
    for r in waiting:
        need_sc = r.sc_key not in got and r.sc_key not in scheduled
        need_cf = r.cf_key is not None and r.cf_key not in got and r.cf_key not in scheduled
        if need_sc and (need_cf or (r.pair and r.cf_key not in got)):
            pairs[r.sc_key] = r  # both arms in one task, as execution.run_replication runs them
            pair_task = dataclasses.replace(r.task, key=("pair", r.sc_key))
            if r.arms is not None:  # the arms with their drawn values, as planned here: the
                # worker does not draw and copy them again (the same scenarios, the same numbers)
                pair_task = dataclasses.replace(pair_task, scenario=r.arms[0],
                                                counterfactual=r.arms[1], plan=None)
            second.append(pair_task)
            scheduled |= {r.sc_key, r.cf_key or ""}
        elif need_sc:
            sc, _, t = arms[r.sc_key]
            log = tuple(logs[r.cf_key]) if r.pair and r.cf_key is not None else None
            second.append(ArmTask(r.sc_key, sc, (), t.seed, t.replication, t.agents,
                                  t.horizon, cf_log=log, customers_of=owner[r.sc_key]))
            scheduled.add(r.sc_key)
        elif need_cf and r.cf_key is not None:
            cf, off, t = arms[r.cf_key]
            second.append(ArmTask(r.cf_key, cf, off, t.seed, t.replication, t.agents,
                                  t.horizon, customers_of=owner[r.cf_key]))
            scheduled.add(r.cf_key)

    def arrived(task: Any, result) -> None:
        if isinstance(task, ArmTask):
            _count("simulated")
            store(str(task.key), result[0], result[1])
        else:
            r = pairs[task.key[1]]
            _count("simulated", 2)
            store(r.sc_key, result[0], None)
            if r.cf_key is not None and result[1] is not None:
                store(r.cf_key, result[1], None)
        deliver()

    if second:
        execute(second, workers=workers, on_result=arrived, cancel=cancel)
    if waiting:  # cannot happen: every arm was planned above
        raise RuntimeError(f"{len(waiting)} runs were left without their arms")
