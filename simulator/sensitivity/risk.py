"""Everything the risk view and the Risk sheet show, from one call on one sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simulator.scenario import Scenario
from simulator.sensitivity.runs import _sharing_arms
from simulator.sensitivity.solve import Solution, Unreachable, break_even
from simulator.sensitivity.tornado import Tornado, tornado, uncertain_inputs

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not with the CLI

    from simulator.results import RunResult


@dataclass
class RiskAnalysis:
    """What the risk view and the Risk sheet show: one call, one set of numbers.

    ``risk``: the sampled run's probabilistic answers
    (:func:`simulator.uncertainty.risk_summary`; None without ranges);
    ``tornado`` (with spider data); ``breakeven`` (None with ``why`` when unreachable).
    """

    scenario: str
    risk: dict | None
    tornado: Tornado
    breakeven: Solution | None
    breakeven_why: str = ""
    sample: dict = field(default_factory=dict)
    result: RunResult | None = None  # the sampled run (with ranges), for a workbook

    def to_json(self) -> dict:
        """Plain data (NaN as null)."""
        from simulator.uncertainty import json_safe

        return json_safe({"scenario": self.scenario, "sample": self.sample, "risk": self.risk,
                          "tornado": self.tornado.to_json(),
                          "breakeven": (self.breakeven.to_json() if self.breakeven else None),
                          "breakeven_why": self.breakeven_why})


@_sharing_arms
def risk_analysis(sc: Scenario, kpi: str = "npv", base: Scenario | None = None,
                  roi_target: float = 0.0, spider_points: int = 3, breakeven: bool = True,
                  progress=None, cancel=None, **sample) -> RiskAnalysis:
    """The sampled run (if the scenario has ranges), the tornado and the break-even.

    All on one sample (``sample``: replications, agents, seed, horizon_months,
    workers); ``progress(done, total)`` counts replications over the three parts
    (the break-even's total is an upper bound).
    """
    from simulator.runner import run
    from simulator.uncertainty import inputs_of, risk_summary

    R = sample.get("replications") or sc.run.replications
    ranged = bool(inputs_of(sc))
    n_in = len(uncertain_inputs(sc)) if ranged else len(_lever_ids(sc))
    total = {"sampled": R if ranged else 0,
             "tornado": (1 + (2 + max(0, spider_points - 3)) * n_in) * R,
             "breakeven": 14 * R if breakeven else 0}
    offset = {"sampled": 0, "tornado": total["sampled"],
              "breakeven": total["sampled"] + total["tornado"]}
    grand = sum(total.values())

    def part(name):
        def cb(done, _t):
            if progress:
                progress(min(offset[name] + done, grand), grand)
        return cb

    risk, res = None, None
    if ranged:
        res = run(sc, base=base, progress=part("sampled"), cancel=cancel,
                  **{**sample, "assumptions": "sample"})
        risk = risk_summary(res, roi_target)
    t = tornado(sc, kpi, base=base, progress=part("tornado"), cancel=cancel,
                spider_points=spider_points, **sample)
    be, why = None, ""
    if breakeven:
        try:
            be = break_even(sc, base=base, progress=part("breakeven"), cancel=cancel, **sample)
        except (Unreachable, ValueError) as exc:
            why = str(exc)
    if progress:
        progress(grand, grand)
    meta = {k: t.meta.get(k) for k in ("seed", "replications", "agents", "horizon_months")}
    return RiskAnalysis(sc.name, risk, t, be, why, meta, res)


def _lever_ids(sc: Scenario) -> list[str]:
    from simulator.optimiser.levers import lever_ids

    return lever_ids(sc)
