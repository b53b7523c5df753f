"""The optimiser's answer and its verdict: today's split against the recommended one, in words."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulator import metrics
from simulator.optimiser.levers import apply_allocation
from simulator.optimiser.settings import OBJECTIVE_LABEL, OBJECTIVES, unit_of
from simulator.results import Stat


@dataclass
class Verification:
    """Today's split against the recommended one, by full simulation under CRN.

    ``today`` and ``recommended`` are what full runs of today's and of the applied
    scenario report (each against its own counterfactual); ``gain`` is the paired change
    of the objective measured against one reference, today's counterfactual.
    """

    today: Stat
    recommended: Stat  # the applied scenario's own figure (what its full run reports)
    gain: Stat  # paired difference per replication, against today's counterfactual
    within_noise: bool
    on_frontier: bool  # today's split cannot be beaten (beyond noise) at this budget
    verdict: str
    predicted_gain: float = math.nan  # what the fitted curves expected
    # The recommended split against today's counterfactual (today + gain, pairwise); equal to
    # ``recommended`` when both scenarios have the same counterfactual (``same_reference``).
    recommended_vs_today_reference: Stat | None = None
    same_reference: bool = True

    def to_json(self) -> dict:
        """JSON-safe dict."""
        vs = self.recommended_vs_today_reference
        return {"today": self.today.to_json(), "recommended": self.recommended.to_json(),
                "recommended_vs_today_reference": vs.to_json() if vs is not None else None,
                "same_reference": self.same_reference,
                "gain": self.gain.to_json(), "within_noise": self.within_noise,
                "on_frontier": self.on_frontier, "verdict": self.verdict,
                "predicted_gain": _num(self.predicted_gain)}


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


@dataclass
class Allocation:
    """The optimiser's answer; see the module docstring for the tables."""

    objective: str
    budget_cny: float
    constraint: str
    levers: pd.DataFrame
    frontier: pd.DataFrame
    curves: pd.DataFrame
    local_check: pd.DataFrame
    verification: Verification
    meta: dict
    lever_objs: list = field(default_factory=list, repr=False)
    recommended_x: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    runs: dict = field(default_factory=dict, repr=False)  # verification RunResults by arm

    @property
    def unit(self) -> str:
        """Unit of the objective."""
        return unit_of(self.objective)

    def split(self) -> dict[str, float]:
        """Recommended monthly spend per lever id."""
        return dict(zip(self.levers["lever"], self.levers["recommended_cny"]))

    def apply(self, sc):
        """Return the scenario with the recommended split ("apply this split").

        Exactly the scenario the verification ran (same values and name), so its full
        run at the optimiser's sample and seed gives the headline figures.
        """
        out = apply_allocation(sc, self.lever_objs, dict(zip([lv.id for lv in self.lever_objs],
                                                             self.recommended_x)))
        out.name = recommended_name(sc.name)
        return out

    def headline(self) -> dict:
        """Headline figures (plain values) for the CLI, the GUI and the Excel sheet."""
        v = self.verification
        lv = self.levers
        return {
            "objective": self.objective,
            "objective_label": OBJECTIVE_LABEL[self.objective],
            "objective_unit": self.unit,
            "budget_cny": self.budget_cny,
            "constraint": self.constraint,
            "today_spend_cny": float(lv["current_cny"].sum()),
            "recommended_spend_cny": float(lv["recommended_cny"].sum()),
            "today_mean": v.today.mean,
            "recommended_mean": v.recommended.mean,
            "recommended_ci_low": v.recommended.ci95_low,
            "recommended_ci_high": v.recommended.ci95_high,
            "recommended_vs_today_reference_mean": (
                v.recommended_vs_today_reference.mean
                if v.recommended_vs_today_reference is not None else v.recommended.mean),
            "same_reference": v.same_reference,
            "counterfactual": (self.runs["today"].meta.get("counterfactual")
                               if "today" in self.runs else None),
            "gain_mean": v.gain.mean,
            "gain_ci_low": v.gain.ci95_low,
            "gain_ci_high": v.gain.ci95_high,
            "predicted_gain": v.predicted_gain,
            "within_noise": v.within_noise,
            "on_frontier": v.on_frontier,
            "verdict": v.verdict,
            "binding": ", ".join(f"{r.lever} ({r.binding})" for r in lv.itertuples()
                                 if r.binding in ("min", "max")) or "none",
            "budget_binding": bool(self.meta.get("budget_binding")),
            "simulations": self.meta.get("simulations"),
            "replications": self.meta.get("replications"),
            "verify_replications": self.meta.get("verify_replications"),
            "agents": self.meta.get("agents"),
            "seed": self.meta.get("seed"),
            "horizon_months": self.meta.get("horizon_months"),
            "elapsed_seconds": self.meta.get("elapsed_seconds"),
            "method": self.meta.get("method"),
        }

    def to_frames(self) -> tuple[pd.DataFrame, dict]:
        """(levers table for a worksheet, headline figures) for the Excel export.

        The headline also carries the frontier (best objective per budget share)
        so the one-table sheet shows where returns flatten.
        """
        head = {k: _num(v) for k, v in self.headline().items()}
        for r in self.frontier.itertuples():
            head[f"frontier {100 * r.budget_share:.0f} % budget: best {self.objective}"] = \
                _num(float(r.objective_mean)) if r.feasible else "infeasible"
        cols = ["lever", "label", "kind", "segment", "channel", "current_cny", "recommended_cny",
                "change_cny", "min_cny", "max_cny", "pinned", "binding",
                "marginal_return_current", "marginal_return_recommended", "curve", "note"]
        return self.levers[cols].copy(), head

    def to_json(self) -> dict:
        """The result as a JSON-safe dict."""
        def recs(df):
            return [{k: _num(v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                    for r in df.to_dict(orient="records")]
        return {"headline": {k: _num(v) for k, v in self.headline().items()},
                "levers": recs(self.levers), "frontier": recs(self.frontier),
                "curves": recs(self.curves), "local_check": recs(self.local_check),
                "verification": self.verification.to_json(),
                "meta": {k: _num(v) for k, v in self.meta.items()}}



def recommended_name(name: str) -> str:
    """Name of the scenario with the recommended split (fits the 80-character limit)."""
    tail = " — recommended split"
    return name[: 80 - len(tail)] + tail


def verify(today, recommended, objective: str, *, budget_cny: float = math.nan,
           today_spend_cny: float = math.nan, predicted_gain: float = math.nan,
           recommended_own=None, same_reference: bool = True) -> Verification:
    """Compare per-replication objective values of today and the recommendation (paired).

    ``today`` and ``recommended`` are measured against the same reference (today's
    counterfactual); ``recommended_own`` is the recommendation against its own
    counterfactual, as a full run of the applied scenario reports it (default: the same).
    """
    today = np.asarray(today, dtype=float)
    rec = np.asarray(recommended, dtype=float)
    own = rec if recommended_own is None else np.asarray(recommended_own, dtype=float)
    unit = unit_of(objective)
    gain = Stat.of(rec - today, unit)
    label = OBJECTIVE_LABEL[objective]
    kind = metrics.kind_of(OBJECTIVES[objective])

    def f(v):
        return metrics.value(v, kind) if math.isfinite(v) else "n/a"

    ci = (f"95 % CI {metrics.interval(gain.ci95_low, gain.ci95_high, kind)}, {gain.n} paired "
          f"replications")
    at = ""
    if math.isfinite(budget_cny) and math.isfinite(today_spend_cny) and \
            abs(budget_cny - today_spend_cny) > 1e-6 * max(1.0, today_spend_cny):
        at = (f" (note: the budget, {metrics.money(budget_cny)}"
              f"/month, differs from today's spend)")
    if gain.n < 2 or not math.isfinite(gain.ci95_low):
        within = True
        verdict = (f"Cannot tell: one replication gives no interval; {label} changes by "
                   f"{f(gain.mean)}. Run more replications.")
        on = True
    elif gain.ci95_low <= 0 <= gain.ci95_high:
        within = True
        on = True
        verdict = (f"The gain is within noise: the recommended split changes {label} by "
                   f"{f(gain.mean)} ({ci}), which cannot be told from zero. Today's split is "
                   f"on the frontier as far as the simulation can tell{at}.")
    elif gain.ci95_low > 0:
        within = False
        on = False
        verdict = (f"Today's split is not on the frontier: the recommended split raises {label} "
                   f"by {f(gain.mean)} ({ci}){at}.")
    else:
        within = False
        on = True
        verdict = (f"The recommended split did worse than today's in the full simulation "
                   f"({f(gain.mean)}, {ci}): the fitted curves missed something (lever "
                   f"interactions or noise). Keep today's split{at}.")
    own_st = Stat.of(own, unit)
    if not same_reference:
        verdict += (f" The recommended split's own {label}, {f(own_st.mean)}, is what a full run "
                    f"of the applied scenario reports: it is measured against that scenario's "
                    f"own counterfactual, which shares the split's service staffing and paid "
                    f"acquisition, so it is not today's {label} plus the gain (against today's "
                    f"counterfactual the split's {label} is {f(float(np.mean(rec)))}).")
    return Verification(Stat.of(today, unit), own_st, gain, within, on, verdict,
                        float(predicted_gain), Stat.of(rec, unit), bool(same_reference))
