"""Whether a run fits the machine: the memory one replication needs, checked before it starts.

:func:`size_problems` is one of the scenario's cross-field rules
(:func:`simulator.scenario_rules.cross_check`) and is checked again for the run's own
agents and horizon; :func:`simulator.execution.pairing_fits` asks whether the paired
counterfactual's orders log fits too.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from simulator.scenario import Scenario

# Memory one simulated customer slot needs (bytes): per-customer state, the spend and
# order histories over the qualification window, and the kernel's temporaries
# (measured: 2 M agents × 12 months of Xinghe today peak at +220 MB, ~110 B a slot).
SLOT_BYTES = 160
SLOT_BYTES_PER_WINDOW_MONTH = 8
MEMORY_BUDGET_BYTES = 3 * 2**30  # per simulation process
# What one process may keep between arms (warm-start histories, static draws, queue
# windows: simulator.population and simulator.window_cache split it 4 : 1 : 1).
CACHE_BUDGET_BYTES = 3 * 2**29


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def cache_budget() -> int:
    """Bytes a process's caches may hold: 1.5 GB, or 1/16 of the machine's memory if less."""
    phys = _physical_memory()
    return CACHE_BUDGET_BYTES if phys is None else int(min(CACHE_BUDGET_BYTES, phys // 16))


def trim_to_budget(cache: OrderedDict, nbytes: Callable[[Any], int], budget: int,
                   total: int) -> int:
    """Drop ``cache``'s least recently used entries until its ``total`` bytes fit ``budget``.

    The one eviction of the byte-bounded caches (simulator.population, window_cache,
    arms); the newest entry always stays. Returns the new total.
    """
    while total > budget and len(cache) > 1:
        _, old = cache.popitem(last=False)
        total -= nbytes(old)
    return total


def memory_budget() -> int:
    """Bytes one simulation may use: 3 GB, or half the machine's memory less the caches.

    The caches' budget is :func:`cache_budget` (what a process keeps between arms).
    """
    phys = _physical_memory()
    if phys is None:
        return MEMORY_BUDGET_BYTES
    return int(min(MEMORY_BUDGET_BYTES, phys // 2 - cache_budget()))


# Every scenario field :func:`size_problems` reads (through :func:`simulated_slots`): an
# uncertain input elsewhere cannot change whether a run fits, so the runner checks the
# ends of the ranges of these only (simulator.uncertainty.corners).
SIZE_FIELDS = frozenset({
    ("run", "agents"), ("run", "horizon_months"), ("population", "customers"),
    ("population", "acquisition", "organic_per_month"),
    ("population", "acquisition", "paid_spend_cny_per_month"),
    ("population", "acquisition", "cac_cny"),
    ("population", "acquisition", "saturation_cny_per_month"),
    ("tier_rules", "window_months"),
})


def simulated_slots(s: Scenario, agents: int | None = None, horizon: int | None = None) -> float:
    """Customer slots one replication allocates: today's sample plus every new customer."""
    n0 = agents if agents is not None else s.run.agents
    H = horizon if horizon is not None else s.run.horizon_months
    acq = s.population.acquisition
    paid = acq.paid_spend_cny_per_month
    new = acq.organic_per_month + paid / acq.cac_cny / (1.0 + paid / acq.saturation_cny_per_month)
    per_agent = n0 / s.population.customers
    return n0 + new * per_agent * H * 1.25 + 64


def size_problems(s: Scenario, agents: int | None = None, horizon: int | None = None
                  ) -> list[tuple[str, object, str]]:
    """Whether a run of this scenario fits the machine, checked before it starts.

    The sample (agents) plus the new customers it gains over the horizon set the
    memory a replication needs; the message says which setting to reduce.
    """
    n0 = agents if agents is not None else s.run.agents
    H = horizon if horizon is not None else s.run.horizon_months
    slots = simulated_slots(s, n0, H)
    need = slots * (SLOT_BYTES + SLOT_BYTES_PER_WINDOW_MONTH * s.tier_rules.window_months)
    budget = memory_budget()
    if need <= budget:
        return []
    grown = slots / max(n0, 1)
    gb = need / 2**30
    if grown > 4:
        return [("population.acquisition.organic_per_month", s.population.acquisition
                 .organic_per_month,
                 f"over {H} months brings {grown:,.0f}× today's customers into the simulation "
                 f"(about {gb:,.1f} GB, more than the {budget / 2**30:.1f} GB a run may use): "
                 "reduce new customers per month or the horizon, or raise today's customers")]
    fit = int(n0 * budget / need)
    return [("run.agents", n0,
             f"simulated customers over {H} months need about {gb:,.1f} GB, more than the "
             f"{budget / 2**30:.1f} GB a run may use: reduce the agents to at most {fit:,} "
             "or shorten the horizon")]
