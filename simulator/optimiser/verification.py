"""Verification and frontier (steps 5-6): full runs of splits against today's reference."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from simulator.optimiser.allocate import allocate
from simulator.optimiser.levers import apply_allocation
from simulator.optimiser.report import recommended_name
from simulator.optimiser.response import ResponseModel, components_of, objective_from, reference_of
from simulator.optimiser.runs import LeverArrays, Simulations
from simulator.optimiser.settings import OBJECTIVES, unit_of
from simulator.results import Stat


def split_key(x) -> tuple:
    """A split's key for the cache of simulated splits (spends rounded to 1e-6 CNY)."""
    return tuple(np.round(np.asarray(x, dtype=float), 6).tolist())


class Verifier:
    """Steps 5-6: full runs of splits at the verification sample, against today's reference.

    Today's scenario runs first, with its own counterfactual like a full run of its
    file; that counterfactual is the one reference every split is measured against.
    Each split is simulated once (remembered by its rounded spends).
    """

    def __init__(self, sims: Simulations, sc, lv: LeverArrays, obj: str):
        self.sims, self.sc, self.lv, self.obj = sims, sc, lv, obj
        reps = sims.sample.verify_replications
        self.res_today = sims.run(sc, reps, with_cf=True)
        ref = reference_of(self.res_today)
        self.ref = ref if ref is not None else np.zeros((reps, 3))
        self.today = objective_from(components_of(self.res_today), self.ref, obj)
        self.by_split: dict[tuple, np.ndarray] = {split_key(lv.today): self.today}

    def simulated(self, x) -> np.ndarray:
        """Objective per replication of split ``x`` (against today's reference)."""
        k = split_key(x)
        if k not in self.by_split:
            scn = apply_allocation(self.sc, self.lv.levers, self.lv.split(x))
            res = self.sims.run(scn, self.sims.sample.verify_replications)
            self.by_split[k] = objective_from(components_of(res), self.ref, self.obj)
        return self.by_split[k]

    def verified(self, x) -> tuple:
        """The applied scenario of split ``x`` and its run with its own counterfactual."""
        scn = apply_allocation(self.sc, self.lv.levers, self.lv.split(x))
        scn.name = recommended_name(self.sc.name)
        res = self.sims.run(scn, self.sims.sample.verify_replications, with_cf=True)
        self.by_split[split_key(x)] = objective_from(components_of(res), self.ref, self.obj)
        return scn, res


def plan_frontier(ver: Verifier, model: ResponseModel, lv: LeverArrays, x_rec: np.ndarray,
                   budget: float, constraint: str, shares: Sequence[float]) -> list[tuple]:
    """(share, budget, split or None) per share: the best fitted split, simulated.

    At 100 % the split is the recommendation; ``None`` where the share cannot pay
    for the pinned levers and the minimums.
    """
    plans = []
    for share in shares:
        share_budget = float(share) * budget
        xf = x_rec if share == 1.0 else None
        if xf is None:
            try:
                xf = allocate(model, lv.lower, lv.upper, share_budget, constraint=constraint,
                              pinned=lv.pinned, start=lv.today).x
            except ValueError:  # below the pinned levers' and minimums' spend
                xf = None
            else:
                ver.simulated(xf)
        plans.append((float(share), share_budget, xf))
    return plans


def cheaper_split(ver: Verifier, plans: list[tuple], x_rec: np.ndarray, budget: float,
                   obj: str) -> tuple | None:
    """Under "at most": the affordable frontier split that beats ``x_rec`` beyond noise.

    (mean gain, split, share) of the best one whose paired 95 % interval lies above zero.
    """
    tol = 1e-9 * max(1.0, budget)
    rec_v = ver.by_split[split_key(x_rec)]
    best = None
    for share, _, xf in plans:
        if xf is None or share == 1.0 or xf.sum() > budget + tol:
            continue
        d = Stat.of(ver.simulated(xf) - rec_v, OBJECTIVES[obj])
        if d.n > 1 and d.ci95_low > 0 and (best is None or d.mean > best[0]):
            best = (d.mean, xf, share)
    return best


def frontier_table(ver: Verifier, model: ResponseModel, plans: list[tuple], constraint: str,
                    obj: str) -> pd.DataFrame:
    """Step 6's rows: the best simulated split per budget share and its gain over today.

    Under "at most" each share's point is the best simulated split it can afford (its
    own fitted split, the recommendation or a smaller share's); at 100 % it is the
    recommendation itself, so the recommended point lies on the frontier.
    """
    cands = [(xf, ver.simulated(xf), "recommended" if sh == 1.0 else f"best at {100 * sh:.0f} %")
             for sh, _, xf in plans if xf is not None]
    rows = []
    for share, share_budget, xf in plans:
        if xf is None:
            rows.append({"budget_share": share, "budget_cny": share_budget,
                         "objective_mean": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                         "gain_vs_today_mean": math.nan, "gain_ci_low": math.nan,
                         "gain_ci_high": math.nan, "predicted": math.nan, "feasible": False,
                         "spent_cny": math.nan, "split": ""})
            continue
        byrep, src = ver.simulated(xf), ("recommended" if share == 1.0 else
                                         f"best at {100 * share:.0f} %")
        if constraint == "at_most" and share != 1.0:
            tol = 1e-9 * max(1.0, share_budget)
            for c_x, c_vals, c_src in cands:
                if c_x.sum() <= share_budget + tol and np.mean(c_vals) > np.mean(byrep):
                    xf, byrep, src = c_x, c_vals, c_src
        st = Stat.of(byrep, unit_of(obj))
        gt = Stat.of(byrep - ver.today, unit_of(obj))
        rows.append({"budget_share": share, "budget_cny": share_budget,
                     "objective_mean": st.mean, "ci_low": st.ci95_low,
                     "ci_high": st.ci95_high, "gain_vs_today_mean": gt.mean,
                     "gain_ci_low": gt.ci95_low, "gain_ci_high": gt.ci95_high,
                     "predicted": model.value(xf), "feasible": True,
                     "spent_cny": float(xf.sum()), "split": src})
    return pd.DataFrame(rows)
