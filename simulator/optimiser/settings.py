"""The optimiser's objectives, additive components, frontier shares and default sample settings."""

from __future__ import annotations

from dataclasses import dataclass

from simulator import metrics

# objective -> the metric it maximises (simulator.metrics): also the run KPI a full run of a
# scenario reports for that objective (against its own counterfactual).
OBJECTIVES = metrics.OBJECTIVES


def unit_of(objective: str) -> str:
    """Unit of an objective's metric."""
    return metrics.metric(OBJECTIVES[objective]).unit


OBJECTIVE_LABEL = {k: metrics.label_of(m) for k, m in OBJECTIVES.items()}
# Additive components recorded per replication (see the package docstring).
COMPONENTS = ("disc_net", "net", "cost", "ltv_sum", "ltv_n")
FRONTIER_SHARES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class OptimiserSettings:
    """The optimiser's sample settings the CLI and the GUI start from (one copy)."""

    replications: int = 2  # per response-curve point and local-check probe
    verify_replications: int = 4  # paired runs of today's and the recommended split
    levels: int = 3  # spend levels simulated per lever
    local_check: bool = True
    gui_agents_cap: int = 5000  # the GUI's default sample: min(scenario's agents, this)


OPTIMISER_DEFAULTS = OptimiserSettings()
