"""Sensitivity (tornado), goal seek and break-even, under common random numbers.

Every evaluation is a full :func:`simulator.runner.run` of a changed scenario
with the **same seed, replications, sample and horizon** as the centre run, so
replication r of every run uses the same random streams: differences between
runs are paired per replication and their 95 % intervals are those of the paired
differences (much narrower than the runs' own intervals).

**Inputs** are either budget levers (ids of :mod:`simulator.optimiser.levers`:
``benefits:<tier>``, ``service:<pool>``, ``promotion:<name>``,
``acquisition``), swung in monthly spend and applied with
:func:`simulator.optimiser.levers.apply_allocation`, or scenario parameter paths such as
``segments[0].churn_annual``, ``segments[HNW].sensitivity.price``,
``tiers[Gold].benefits[0].effect.order_rate`` or
``service.pools[General].shifts[0].staff`` (a list item by position or by
name). A changed scenario is validated like a file (a value outside the field's
range is a :class:`~simulator.scenario_io.ScenarioError` naming the field).
Whole-number fields (staff) are rounded.

**KPIs** (:data:`KPIS`): ``npv``, ``roi``, ``ltv`` (discounted LTV per
customer), ``churn`` (annualised), ``sla`` (SLA attainment); labels, units and
formatting come from :mod:`simulator.metrics`.

Public API (each takes ``progress(done, total)`` and ``cancel`` like
:func:`simulator.runner.run`; ``done``/``total`` count replications over all runs)::

    t = tornado(sc, kpi="npv", inputs=None, swing=0.2, ranges=None, base=None, **sample)
    g = goal_seek(sc, "service.pools[0].shifts[0].staff", "sla", 0.8, low=1, high=40, ...)
    b = break_even(sc, base=None, **sample)        # NPV(k) = 0, effects scaled by k
    scale_effects(sc, k)                           # the scenario with every effect × k
"""

from simulator.sensitivity.paths import get_value, with_value
from simulator.sensitivity.risk import RiskAnalysis, risk_analysis
from simulator.sensitivity.runs import KPIS
from simulator.sensitivity.solve import (
    EFFECT_FIELDS,
    MAX_EFFECT_SCALE,
    Solution,
    Unreachable,
    break_even,
    goal_seek,
    max_effect_scale,
    scale_effects,
)
from simulator.sensitivity.tornado import (
    DEFAULT_SWING,
    TORNADO_REPLICATIONS,
    Bar,
    Tornado,
    tornado,
    uncertain_inputs,
    uncertain_texts,
)

__all__ = ["DEFAULT_SWING", "EFFECT_FIELDS", "KPIS", "MAX_EFFECT_SCALE", "TORNADO_REPLICATIONS",
           "Bar", "RiskAnalysis", "Solution", "Tornado", "Unreachable", "break_even",
           "get_value", "goal_seek", "max_effect_scale", "risk_analysis", "scale_effects",
           "tornado", "uncertain_inputs", "uncertain_texts", "with_value"]
