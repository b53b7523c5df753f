"""Where the money goes and why: Shapley attribution and the "why different" waterfall.

Two analyses built on paired runs under common random numbers (no Qt here)::

    att = attribute(scenario, by="benefit", replications=8, agents=4000)
    att.parts[0].npv            # Stat: the part's Shapley share of the scheme's NPV
    wf = explain(base, other, kpi="npv")
    wf.bars[0].value            # Stat: one group of changed inputs' share of other − base

**Attribution** splits the scheme's increment (incremental contribution,
incremental cost, incremental gross margin and NPV) across its parts: each
benefit (by name, over all tiers) plus the other switched-off levers, or lever
groups (tier benefits, points, service priority, campaigns, acquisition). The
value of a set of parts is the run with only those parts on; every set runs
with the same seed, replications and sample (:func:`simulator.runner.run`), so
replication *r* of every set meets the same customers and luck. Parts with an
engine switch (:data:`simulator.engine.SWITCHES`) are switched off exactly as
the scheme-off counterfactual switches them (the run's counterfactual arm);
a single benefit is switched off by removing it from every tier, paid
acquisition by setting its spend to zero. Shapley values are computed per
replication, so they add up to the whole increment exactly in each replication
(efficiency) and the parts' intervals come from their replication spread.
Exact over all 2^n sets for n <= :data:`EXACT_MAX` parts; above that from
sampled permutations (the sum stays exact, each part gets a stated sampling
standard error).

**Waterfall**: for scenario X against base B, one bar per group of changed
inputs (from :func:`simulator.input_diff.input_diff`), each bar the group's
Shapley share of KPI(X) − KPI(B) over all mixes "these groups from X, the rest
from B". Bars add up exactly to the paired difference, do not depend on the
order of the groups, and a bar whose 95 % interval contains zero is marked as
within noise.
"""

from simulator.attribution.groups import RUN_SAMPLE_KEYS, change_groups, coupled_groups
from simulator.attribution.parts import (
    BY,
    LEVER_GROUPS,
    QUANTITIES,
    SWITCH_LABEL,
    Attribution,
    Part,
    PartResult,
    attribute,
    parts_of,
)
from simulator.attribution.sets import BATCH, Sample
from simulator.attribution.shapley import (
    EXACT_MAX,
    PERMUTATIONS,
    permutation_marginals,
    shapley_exact,
)
from simulator.attribution.waterfall import RELATIVE_KPIS, Bar, Waterfall, explain

__all__ = ["BATCH", "BY", "EXACT_MAX", "LEVER_GROUPS", "PERMUTATIONS", "QUANTITIES",
           "RELATIVE_KPIS", "RUN_SAMPLE_KEYS", "SWITCH_LABEL", "Attribution", "Bar", "Part",
           "PartResult", "Sample", "Waterfall", "attribute", "change_groups", "coupled_groups",
           "explain", "parts_of", "permutation_marginals", "shapley_exact"]
