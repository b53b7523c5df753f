"""The optimiser's run: baseline, response curves, allocation, local check, verification, frontier.

:func:`optimise` runs the steps of the package docstring in order; each step is a
function here. Every simulation goes through :class:`Simulations` (one sample, one
seed, progress in replications, cancellable), so the steps differ only in which
split they simulate and how many replications they spend on it.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from simulator.optimiser.allocate import (
    allocate,
    binding_of,
    check_bounds,
    marginal_returns,
    probe_split,
)
from simulator.optimiser.curves import CurveFit, fit_curve, refit_like
from simulator.optimiser.levers import apply_allocation, extract_levers, spend_after
from simulator.optimiser.report import Allocation, verify
from simulator.optimiser.response import (
    ResponseModel,
    components_of,
    objective_from,
    reference_of,
)
from simulator.optimiser.runs import LeverArrays, Sample, Simulations
from simulator.optimiser.settings import COMPONENTS, FRONTIER_SHARES, OBJECTIVES, unit_of
from simulator.optimiser.verification import (
    Verifier,
    cheaper_split,
    frontier_table,
    plan_frontier,
    split_key,
)
from simulator.results import Stat


def _sample_of(sc, replications: int, verify_replications: int | None, agents: int | None,
               seed: int | None, horizon_months: int | None, workers: int | None,
               levels: int) -> Sample:
    """The sample from the arguments and the scenario; ValueError for a bad argument."""
    if int(levels) != levels or levels < 2:
        raise ValueError(f"levels: {levels} must be a whole number >= 2")
    reps = int(replications)
    if reps < 1:
        raise ValueError(f"replications: {replications} must be >= 1")
    n_agents = int(agents or sc.run.agents)
    horizon = int(horizon_months or sc.run.horizon_months)
    return Sample(reps, int(verify_replications or max(4, reps)), n_agents,
                   int(sc.run.seed if seed is None else seed), horizon, workers)


def _budget_of(sc, budget: float | None, today_spend: float) -> float:
    """The budget to split: the argument, else the scenario's, else today's spend."""
    total = float(budget if budget is not None else
                  (sc.budget.total_cny_per_month if sc.budget.total_cny_per_month is not None
                   else today_spend))
    if not math.isfinite(total) or total < 0:
        raise ValueError(f"budget: {total} must be a finite amount >= 0")
    return total


def _fit_response(sims: Simulations, sc, lv: LeverArrays, levels: int, comp0: np.ndarray,
                  ref: np.ndarray, obj: str, shift: np.ndarray
                  ) -> tuple[ResponseModel, dict[int, list[CurveFit]], list]:
    """Step 2: move each free lever alone to ``levels`` spends, fit its response curves.

    Returns the fitted model, the mean curves per lever and the simulated points
    (lever index, spend, objective per replication).
    """
    reps = sims.sample.replications
    fits: dict[int, list[CurveFit]] = {}
    rep_fits: dict[int, list[list[CurveFit]]] = {}
    points = []
    for i in lv.free_idx:
        lever = lv.levers[i]
        spends, comps, scns = [lv.today[i]], [comp0], []
        for level in np.linspace(lv.lower[i], lv.upper[i], levels):
            scn = apply_allocation(sc, lv.levers, {lever.id: float(level)})
            spends.append(spend_after(lever, scn, float(level)))
            scns.append(scn)
        comps += [components_of(r) for r in sims.run_many(scns, reps)]  # the levels: one batch
        xs = np.array(spends)
        cs = np.stack(comps)  # [point, replication, component]
        y = cs + shift[None, None, :] * xs[:, None, None]
        fits[i] = [fit_curve(xs, y[:, :, k].mean(axis=1)) for k in range(len(COMPONENTS))]
        rep_fits[i] = [[refit_like(fits[i][k], xs, y[:, r, k]) for k in range(len(COMPONENTS))]
                       for r in range(reps)]
        for p in range(len(xs)):
            points.append((i, xs[p], objective_from(cs[p], ref, obj)))
    return ResponseModel(obj, lv.today, comp0, ref, shift, fits, rep_fits), fits, points


def _local_check(sims: Simulations, sc, lv: LeverArrays, x_rec: np.ndarray, budget: float,
                 constraint: str, ref: np.ndarray, obj: str
                 ) -> tuple[np.ndarray, list[dict], bool]:
    """Step 4: simulate the split and a probe per free lever; adopt a probe clearly better.

    Returns the (possibly adopted) split, the probe rows and whether one was adopted.
    """
    reps = sims.sample.replications
    sc_rec = apply_allocation(sc, lv.levers, lv.split(x_rec))
    tries = [(i, xp) for i in lv.free_idx if (xp := probe_split(
        x_rec, i, lv.lower, lv.upper, lv.free_idx, budget, constraint)) is not None]
    # the split and its probes: one batch
    got = sims.run_many([sc_rec] + [apply_allocation(sc, lv.levers, lv.split(xp))
                                    for _, xp in tries], reps)
    base_obj = objective_from(components_of(got[0]), ref, obj)
    probes: list[dict] = []
    best_gain, best = None, None
    for (i, xp), res in zip(tries, got[1:]):
        st = Stat.of(objective_from(components_of(res), ref, obj) - base_obj, unit_of(obj))
        probes.append({"probe": len(probes) + 1, "lever": lv.levers[i].id,
                       "shift_cny": float(xp[i] - x_rec[i]), "spent_cny": float(xp.sum()),
                       "gain_mean": st.mean, "ci_low": st.ci95_low, "ci_high": st.ci95_high,
                       "adopted": False})
        if st.n > 1 and st.ci95_low > 0 and (best_gain is None or st.mean > best_gain):
            best_gain, best = st.mean, (len(probes) - 1, xp)
    if best is None:
        return x_rec, probes, False
    probes[best[0]]["adopted"] = True
    return best[1], probes, True


def _curve_table(points: list, model: ResponseModel, lv: LeverArrays, obj: str) -> pd.DataFrame:
    """The simulated response points beside the fitted model's value there."""
    rows = []
    for i, xp, vals in points:
        st = Stat.of(vals, unit_of(obj))
        xm = lv.today.copy()
        xm[i] = xp
        rows.append({"lever": lv.levers[i].id, "spend_cny": float(xp), "objective_mean": st.mean,
                     "ci_low": st.ci95_low, "ci_high": st.ci95_high, "fitted": model.value(xm)})
    return pd.DataFrame(rows, columns=["lever", "spend_cny", "objective_mean", "ci_low",
                                       "ci_high", "fitted"])


def _lever_table(model: ResponseModel, fits: dict[int, list[CurveFit]], lv: LeverArrays,
                 x_rec: np.ndarray, obj: str, discounted_months: float, sc_rec) -> pd.DataFrame:
    """One row per lever: today's and the recommended spend, bounds, marginal returns."""
    m_now = marginal_returns(model, lv.today, lv.lower, lv.upper)
    m_rec = marginal_returns(model, x_rec, lv.lower, lv.upper)
    binds = binding_of(x_rec, lv.lower, lv.upper, lv.pinned)
    x0, lo, hi = lv.today, lv.lower, lv.upper
    rows = []
    for i, lever in enumerate(lv.levers):
        rows.append({"lever": lever.id, "kind": lever.kind, "label": lever.label,
                     "segment": lever.segment, "channel": lever.channel,
                     "current_cny": x0[i], "recommended_cny": x_rec[i],
                     "change_cny": x_rec[i] - x0[i], "min_cny": lo[i], "max_cny": hi[i],
                     "pinned": bool(lever.pinned), "binding": binds[i],
                     "marginal_return_current": m_now[i],
                     "marginal_return_recommended": m_rec[i],
                     "curve": fits[i][0].family if i in fits else "", "note": lever.note})
    table = pd.DataFrame(rows)
    if obj == "npv":
        table["net_return_per_cny_current"] = (table["marginal_return_current"]
                                               / discounted_months)
        table["net_return_per_cny_recommended"] = (table["marginal_return_recommended"]
                                                   / discounted_months)
    # Staff are whole agents: the table shows what the applied scenario spends.
    for i, lever in enumerate(lv.levers):
        if lever.kind == "service" and not lever.pinned:
            real = spend_after(lever, sc_rec, float(x_rec[i]))
            table.loc[i, ["recommended_cny", "change_cny"]] = [real, real - x0[i]]
    return table


def optimise(sc, budget: float | None = None, objective: str | None = None, *,
             agents: int | None = None, replications: int = 3, levels: int = 3,
             verify_replications: int | None = None, local_check: bool = True,
             frontier_shares: Sequence[float] = FRONTIER_SHARES, seed: int | None = None,
             horizon_months: int | None = None, workers: int | None = None,
             progress: Callable[[int, int], None] | None = None, cancel=None,
             base=None) -> Allocation:
    """Split ``budget`` (CNY/month) across the scenario's levers to maximise ``objective``.

    ``None`` takes ``sc.budget.total_cny_per_month`` (or today's spend on all
    levers) and ``sc.budget.objective``. Each response-curve point, the local
    check and the verification are full simulations with ``replications`` /
    ``verify_replications`` (default max(4, replications)) under one seed.
    Progress is reported in replications; ``cancel.is_set()`` stops with
    :class:`simulator.runner.Cancelled`.
    """
    from simulator.theory import discount_factors

    t0 = time.perf_counter()
    obj = objective or sc.budget.objective
    if obj not in OBJECTIVES:
        raise ValueError(f"objective: {obj!r} must be one of {sorted(OBJECTIVES)}")
    sample = _sample_of(sc, replications, verify_replications, agents, seed, horizon_months,
                        workers, levels)
    reps, v_reps = sample.replications, sample.verify_replications
    constraint = sc.budget.constraint
    sims = Simulations(sample, base, progress, cancel)

    # 1. Baseline: today's split with its counterfactual (the fixed reference).
    sims.total = reps
    res0 = sims.run(sc, reps, with_cf=True)
    comp0 = components_of(res0)
    ref = reference_of(res0)
    if ref is None:
        if obj == "roi":
            raise ValueError("objective: 'roi' needs a counterfactual (run.counterfactual.mode "
                             "is 'none')")
        ref = np.zeros((reps, 3))
    lv = LeverArrays.of(extract_levers(sc, res0))
    total = _budget_of(sc, budget, lv.today.sum())
    check_bounds(np.where(lv.pinned, lv.today, lv.lower), np.where(lv.pinned, lv.today, lv.upper),
                 total, constraint)
    n_probe = len(lv.free_idx) + 1 if local_check else 0
    # (an upper bound: frontier splits that repeat one already simulated are not run again)
    sims.total = (reps + len(lv.free_idx) * levels * reps + n_probe * reps + 2 * v_reps
                  + max(0, len(frontier_shares) - 1) * v_reps)

    # 2. Response curves: one lever at a time, others at today's spend.
    disc = discount_factors(sc.run.discount_rate_annual, sample.horizon_months)
    horizon = sample.horizon_months
    shift = np.array([disc.sum(), horizon, -horizon, disc.sum(), 0.0])
    model, fits, points = _fit_response(sims, sc, lv, levels, comp0, ref, obj, shift)

    # 3. Allocation on the fitted model.
    sol = allocate(model, lv.lower, lv.upper, total, constraint=constraint, pinned=lv.pinned,
                   start=lv.today)
    x_rec = sol.x
    method = f"fitted curves + {sol.method}"

    # 4. Local check with the simulator around the optimum.
    probes: list[dict] = []
    if local_check:
        x_rec, probes, adopted = _local_check(sims, sc, lv, x_rec, total, constraint, ref, obj)
        method += (" + simulated local check (adopted a probe)" if adopted
                   else " + simulated local check")
    curves = _curve_table(points, model, lv, obj)
    local_df = pd.DataFrame(probes, columns=["probe", "lever", "shift_cny", "spent_cny",
                                             "gain_mean", "ci_low", "ci_high", "adopted"])

    # 5. Verification: today's scenario and the exact scenario "Apply" produces, each run
    # with its own counterfactual like a full run of its file, paired replications under
    # one seed. The objective is measured against today's counterfactual (the one fixed
    # reference every split is compared with); the recommended split's own figure (against
    # its own counterfactual) is what a full run of the applied scenario reports.
    ver = Verifier(sims, sc, lv, obj)
    # 6. Frontier splits: the best split on the fitted curves at each other budget share,
    # simulated like the recommendation (same replications, same seed, today's reference).
    plans = plan_frontier(ver, model, lv, x_rec, total, constraint, frontier_shares)
    sc_rec, res_r = ver.verified(x_rec)
    # Under "at most" the budget can buy any split that spends less: a frontier split
    # that beats the recommendation in simulation with its whole 95 % interval above zero
    # (paired) becomes the recommendation, as an adopted probe does.
    if constraint == "at_most":
        cheaper = cheaper_split(ver, plans, x_rec, total, obj)
        if cheaper is not None:
            x_rec = cheaper[1]
            method += (f" + the fitted split for {100 * cheaper[2]:.0f} % of the budget, which "
                       "beat it in simulation")
            plans = [(sh, b, x_rec if sh == 1.0 else xf) for sh, b, xf in plans]
            sims.total += v_reps
            sc_rec, res_r = ver.verified(x_rec)
    rec_v = ver.by_split[split_key(x_rec)]
    ref_r = reference_of(res_r)
    if ref_r is None:
        rec_own, same_ref = rec_v, True
    else:
        rec_own = res_r.kpis[OBJECTIVES[obj]].to_numpy(float)
        same_ref = bool(np.allclose(ref_r, ver.ref, rtol=1e-12, atol=1e-6))

    lever_df = _lever_table(model, fits, lv, x_rec, obj, float(disc.sum()), sc_rec)
    verification = verify(ver.today, rec_v, obj, budget_cny=total,
                          today_spend_cny=float(lv.today.sum()),
                          predicted_gain=model.value(x_rec) - model.value(lv.today),
                          recommended_own=rec_own, same_reference=same_ref)
    frontier = frontier_table(ver, model, plans, constraint, obj)
    sims.total = sims.done_reps
    sims.report()

    meta = {"scenario": sc.name, "objective": obj, "budget_cny": total,
            "constraint": constraint, "replications": reps, "verify_replications": v_reps,
            "levels": int(levels), "agents": sample.agents, "seed": sample.seed,
            "horizon_months": horizon, "workers": sample.workers, "simulations": sims.count,
            "replication_runs": sims.done_reps, "budget_binding": bool(sol.budget_binding),
            "method": method, "elapsed_seconds": round(time.perf_counter() - t0, 2),
            "free_levers": len(lv.free_idx)}
    return Allocation(obj, total, constraint, lever_df, frontier, curves, local_df, verification,
                      meta, lv.levers, x_rec, {"today": ver.res_today, "recommended": res_r})
