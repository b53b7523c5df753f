"""The response model: a run's additive components, the objective from them, the fitted model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.optimiser.curves import CurveFit
from simulator.optimiser.settings import OBJECTIVES
from simulator.results import RunResult


def components_of(res: RunResult) -> np.ndarray:
    """Per-replication additive components [R, 5] of a run's scenario arm (see COMPONENTS)."""
    k = res.kpis
    ltv = res.ltv
    ltv = ltv[ltv["arm"] == "scenario"]
    cust = ltv["customers"].to_numpy(dtype=float)
    val = np.nan_to_num(ltv["ltv_cny"].to_numpy(dtype=float)) * cust
    g = pd.DataFrame({"r": ltv["replication"].to_numpy(), "s": val, "n": cust}).groupby("r").sum()
    return np.column_stack([k["npv_net_contribution"].to_numpy(float),
                            k["net_contribution"].to_numpy(float),
                            k["total_cost"].to_numpy(float),
                            g["s"].to_numpy(float), g["n"].to_numpy(float)])


def reference_of(res: RunResult) -> np.ndarray | None:
    """Per-replication counterfactual [R, 3]: discounted net, net, total cost (None if none)."""
    k = res.kpis
    if not np.isfinite(k["npv"].to_numpy(float)).all():
        return None
    return np.column_stack([(k["npv_net_contribution"] - k["npv"]).to_numpy(float),
                            (k["net_contribution"] - k["incremental_contribution"]).to_numpy(float),
                            (k["total_cost"] - k["incremental_cost"]).to_numpy(float)])


def objective_from(comp: np.ndarray, ref: np.ndarray, objective: str) -> np.ndarray:
    """The objective from components (``[..., 5]``) and the reference (``[..., 3]``)."""
    comp = np.asarray(comp, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if objective == "npv":
        return comp[..., 0] - ref[..., 0]
    if objective == "roi":
        cost = comp[..., 2] - ref[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cost > 0, (comp[..., 1] - ref[..., 1]) / np.where(cost > 0, cost, 1),
                            -np.inf)
    if objective == "ltv":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(comp[..., 4] > 0, comp[..., 3] / np.where(comp[..., 4] > 0,
                                                                       comp[..., 4], 1), np.nan)
    raise ValueError(f"objective: {objective!r} must be one of {sorted(OBJECTIVES)}")


class ResponseModel:
    """Objective as a function of the levers' spend, from fitted per-lever curves.

    ``comp(x) = comp(today) + Σ_i [g_i(x_i) − g_i(today_i)]`` per component,
    where ``g_i`` is fitted to ``component + s · spend`` (``s`` = discounted
    months for discounted value, months for undiscounted value, −months for
    cost) and the spend term is taken off again.
    """

    def __init__(self, objective: str, x0: np.ndarray, comp0: np.ndarray, ref: np.ndarray,
                 shift: np.ndarray, fits: dict[int, list[CurveFit]],
                 rep_fits: dict[int, list[list[CurveFit]]]):
        self.objective = objective
        self.x0 = np.asarray(x0, dtype=float)
        self.comp0 = np.asarray(comp0, dtype=float)  # [R, K]
        self.ref = np.asarray(ref, dtype=float)  # [R, 3]
        self.shift = np.asarray(shift, dtype=float)
        self.fits = fits
        self.rep_fits = rep_fits
        self._base: dict = {}

    def _delta(self, fits: list[CurveFit], i: int, xi: float) -> np.ndarray:
        x0 = self.x0[i]
        return np.array([float(f(xi)) - float(f(x0)) for f in fits]) - self.shift * (xi - x0)

    def components(self, x, rep: int | None = None) -> np.ndarray:
        """Predicted components at spend ``x`` (mean model, or replication ``rep``'s)."""
        x = np.asarray(x, dtype=float)
        c = (self.comp0.mean(axis=0) if rep is None else self.comp0[rep]).copy()
        for i, fits in self.fits.items():
            if x[i] != self.x0[i]:
                c += self._delta(fits if rep is None else self.rep_fits[i][rep], i, x[i])
        return c

    def value(self, x, rep: int | None = None) -> float:
        """Predicted objective at spend ``x``."""
        ref = self.ref.mean(axis=0) if rep is None else self.ref[rep]
        return float(objective_from(self.components(x, rep), ref, self.objective))

    def values_by_rep(self, x) -> np.ndarray:
        """Predicted objective per replication at ``x`` (for intervals)."""
        return np.array([self.value(x, r) for r in range(self.comp0.shape[0])])

    def __call__(self, x) -> float:
        """The modelled value at spend x (as :meth:`value`)."""
        return self.value(x)
