"""Latin-hypercube draws of the uncertain inputs, shared by a scenario and its counterfactual."""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator import labels
from simulator.uncertainty.inputs import Input, _same, inputs_of
from simulator.uncertainty.keys import Key, _value_at, is_assumption, key_text, resolve

LHS_TAG = 0x4C4853  # "LHS": the Latin hypercube's own seed address, apart from the streams


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
        rows = (self.draws(r) for r in range(replications))  # each replication's draws once
        return {"inputs": [key_text(k) for k in used],
                "values": [[d.get(k) for k in used] for d in rows]}


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


def corners(sc: Any, fields: Collection[Key] | None = None) -> list[Any]:
    """The scenario with every uncertain input at its low end, then at its high end.

    For checks that must hold for any draw before a run starts (the memory a run
    needs grows with new customers per month and shrinks with the acquisition cost).
    ``fields``: only the inputs that set one of these fields (a check that reads only
    them); none such: no corners (the scenario as given is the only one to check).
    """
    inputs = inputs_of(sc)
    ends = [{fk: s * float(i.dist.ppf(q)) for i in inputs.values() for fk, s in i.targets
             if fields is None or fk in fields} for q in (0.0, 1.0)]
    if not ends[0]:
        return []
    return [materialise(sc, values) for values in ends]
