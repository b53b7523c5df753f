"""Budget optimiser: response curves, allocation, frontier and verification.

The question it answers: *where should the next yuan of the membership budget
go?* A total monthly budget is split across levers (benefit funding per tier,
service staffing per pool, promotion reach per campaign = segment × channel,
paid acquisition; see :mod:`simulator.optimiser.levers`) to maximise NPV, ROI or LTV over
the horizon, within per-lever bounds, with pinned levers held where they are.

Method (robust rather than clever):

1. **Baseline.** Today's scenario is simulated with its counterfactual, which
   gives today's figures and the fixed reference every allocation is measured
   against (same seed, so common random numbers throughout).
2. **Response curves.** Each free lever is moved alone to a few spend levels
   (``levels``, spread over its bounds) with every other lever at today's
   value; each point is a full simulation with the baseline's seed. Five
   additive components are recorded per replication (discounted and
   undiscounted net contribution, total cost, LTV sum and LTV customers) and
   each is fitted per lever with ``scipy.optimize.curve_fit`` by the best of a
   straight line, ``c + a·(1 − exp(−x/b))`` and ``c + a·log(1 + x/b)``. The
   nominal spend is added back before fitting (so the fitted part is the
   saturating *return*), and subtracted again afterwards — the transform is
   exact, only the fit's shape benefits. The objective is then a function of
   the summed component changes: NPV = discounted net contribution − the
   reference's; ROI = (net contribution − reference) / (total cost −
   reference); LTV = LTV sum / LTV customers. Levers are assumed additive
   here; step 4 checks that with the simulator.
3. **Allocation** on the fitted model (:func:`allocate`): a greedy marginal
   allocation in small steps (exact for concave separable returns, up to a
   step) polished by SLSQP; the better feasible answer wins. Bounds, pinned
   levers and the total (``equal`` or ``at_most``) always hold.
4. **Local check** (``local_check=True``): the recommended split is simulated,
   and so is a probe per free lever (+20 % on that lever, paid for within the
   budget: under "at most" from the unspent budget first, the rest taken pro
   rata from the others; :func:`probe_split`). A probe that beats the recommendation with its
   whole 95 % interval above zero is adopted — this is where lever
   interactions (more members need more staff) show up.
5. **Verification.** Today's scenario and the exact scenario "Apply this split"
   produces (:meth:`Allocation.apply`, same values and name) are each run with
   their own counterfactual, like a full run of their files, with
   ``verify_replications`` under the same seed. The headline's figures are
   these runs' own figures, so a full run of the applied scenario at the
   optimiser's sample and seed reproduces them exactly. The gain is the paired
   change of the objective measured against one reference, today's
   counterfactual, with a t interval; when the split moves service staff or
   paid acquisition under a "scheme off" counterfactual, the applied scenario's
   own counterfactual moves with it, so its own NPV is not today's plus the
   gain — the verdict says so and gives both. When the gain's interval holds
   zero the verdict says so plainly: the gain is within noise.
6. **Frontier.** At 50 … 200 % of the budget, the best split on the fitted
   model, simulated like the verification (``verify_replications``, same seed,
   against today's counterfactual; under "at most" the best simulated split
   the budget can afford). At 100 % it is the recommendation's own verification
   run, so the recommended point lies on the frontier. Under "at most", a
   frontier split the budget can afford that beats the recommendation in this
   simulation with its whole paired 95 % interval above zero becomes the
   recommendation (and is verified as above). ``predicted`` keeps the fitted
   model's value for comparison.

Public API (used by the CLI ``benefit-sim optimise``, the GUI panel and the
Excel export)::

    from simulator.optimiser import optimise, Allocation
    alloc = optimise(sc, budget=None, objective=None,      # None: sc.budget.*
                     agents=None, replications=2, levels=3,
                     verify_replications=None, local_check=True,
                     seed=None, horizon_months=None, workers=None,
                     progress=cb,          # cb(done: int, total: int), replication units
                     cancel=event,         # .is_set(); raises simulator.runner.Cancelled
                     base=None)            # base scenario when counterfactual = base_scenario
    alloc.levers        # DataFrame, one row per lever: lever, kind, label, segment, channel,
                        #   current_cny, recommended_cny, change_cny, min_cny, max_cny, pinned,
                        #   binding ('min'/'max'/''), marginal_return_current,
                        #   marginal_return_recommended, curve (fitted family), note
    alloc.frontier      # DataFrame: budget_share, budget_cny, objective_mean, ci_low, ci_high,
                        #   gain_vs_today_mean, gain_ci_low, gain_ci_high, predicted,
                        #   feasible, spent_cny, split (which split the point is)
    alloc.curves        # DataFrame of simulated response points: lever, spend_cny,
                        #   objective_mean, ci_low, ci_high, fitted
    alloc.local_check   # DataFrame: probe, lever, shift_cny, spent_cny, gain_mean, ci_low,
                        #   ci_high, adopted
    alloc.verification  # Verification: today, recommended (own figures), gain (Stat, vs
                        #   today's counterfactual), recommended_vs_today_reference,
                        #   same_reference, within_noise, on_frontier, verdict
    alloc.headline()    # dict of headline figures (budget, objective, gain, verdict ...)
    alloc.apply(sc)     # -> Scenario with the recommended split ("apply this split")
    alloc.to_frames()   # -> (levers DataFrame for a sheet, headline dict)
    alloc.to_json()     # JSON-safe dict

Marginal returns are d objective / d (one more ¥ per month on the lever),
from the fitted curves; for NPV ``net_return_per_cny`` divides by the
discounted months, i.e. NPV per extra discounted yuan spent (0 = break even).
Allocation is equalised where it is interior: at the optimum the free levers'
marginal returns are equal (the budget's shadow price); a lever at a bound
earns less (at its min) or more (at its max) than that.

The package, top to bottom (``lint-imports`` enforces the order): ``pipeline``
(:func:`optimise`: the steps above, one function each) > ``verification`` (steps 5-6:
the verification runs, the frontier) > ``report`` (the :class:`Allocation` answer,
:func:`verify` and its verdict in words) | ``runs`` (every simulation at one sample
and seed, with progress; the levers as arrays) > ``response``
(a run's additive components, the objective from them, the fitted
:class:`ResponseModel`) | ``allocate`` (the allocator, marginal returns, bindings,
local-check probes) > ``curves`` (response-curve fitting) | ``levers`` (what a
scenario spends per lever and how to move it) > ``settings`` (objectives,
components, frontier shares, :data:`OPTIMISER_DEFAULTS`).
"""

from simulator.optimiser.allocate import (
    Solution,
    allocate,
    binding_of,
    marginal_returns,
    probe_split,
)
from simulator.optimiser.curves import CurveFit, fit_curve, refit_like
from simulator.optimiser.levers import (
    Lever,
    apply_allocation,
    describe_changes,
    extract_levers,
    lever_ids,
    spend_after,
)
from simulator.optimiser.pipeline import optimise
from simulator.optimiser.report import Allocation, Verification, recommended_name, verify
from simulator.optimiser.response import (
    ResponseModel,
    components_of,
    objective_from,
    reference_of,
)
from simulator.optimiser.settings import (
    COMPONENTS,
    FRONTIER_SHARES,
    OBJECTIVE_LABEL,
    OBJECTIVES,
    OPTIMISER_DEFAULTS,
    OptimiserSettings,
)

__all__ = [
    "Allocation", "COMPONENTS", "CurveFit", "FRONTIER_SHARES", "Lever", "OBJECTIVES",
    "OBJECTIVE_LABEL", "OPTIMISER_DEFAULTS", "OptimiserSettings", "ResponseModel", "Solution",
    "Verification", "allocate", "apply_allocation", "binding_of", "components_of",
    "describe_changes", "extract_levers", "fit_curve", "lever_ids", "marginal_returns",
    "objective_from", "optimise", "probe_split", "recommended_name", "reference_of",
    "refit_like", "spend_after", "verify",
]
