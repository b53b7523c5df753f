"""The optimiser's run: baseline, response curves, allocation, local check, verification, frontier.

:func:`optimise` runs the steps of the package docstring in order; each step is a
function here. Every simulation goes through :class:`_Simulations` (one sample, one
seed, progress in replications, cancellable), so the steps differ only in which
split they simulate and how many replications they spend on it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
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
from simulator.optimiser.levers import Lever, apply_allocation, extract_levers, spend_after
from simulator.optimiser.report import Allocation, recommended_name, verify
from simulator.optimiser.response import (
    ResponseModel,
    components_of,
    objective_from,
    reference_of,
)
from simulator.optimiser.settings import COMPONENTS, FRONTIER_SHARES, OBJECTIVES, unit_of
from simulator.results import RunResult, Stat


@dataclass(frozen=True)
class _Sample:
    """What every simulation of one optimisation shares."""

    replications: int  # per response-curve point and local-check probe
    verify_replications: int  # per verification and frontier run
    agents: int
    seed: int
    horizon_months: int
    workers: int | None  # None: each run's own choice (simulator.runner)


class _Simulations:
    """Runs simulations at the sample, counts them, reports progress in replications."""

    def __init__(self, sample: _Sample, base, progress: Callable[[int, int], None] | None,
                 cancel):
        self.sample = sample
        self.base = base
        self.progress = progress
        self.cancel = cancel
        self.count = 0  # simulations run
        self.done_reps = 0  # replications run
        self.total = 0  # replications planned (an upper bound until the end)

    def report(self, extra: int = 0) -> None:
        """Tell the progress callback how far the optimisation is."""
        if self.progress:
            self.progress(self.done_reps + extra, self.total)

    def run(self, scn, reps: int, with_cf: bool = False) -> RunResult:
        """Simulate ``scn`` (its counterfactual too if ``with_cf``) with ``reps`` replications."""
        from simulator.runner import run

        s = self.sample
        if not with_cf:
            scn = scn.model_copy(deep=True)
            scn.run.counterfactual.mode = "none"
        res = run(scn, replications=reps, agents=s.agents, seed=s.seed,
                  horizon_months=s.horizon_months,
                  workers=None if s.workers is None else min(s.workers, reps),
                  cancel=self.cancel, base=self.base if with_cf else None,
                  progress=(lambda d, t: self.report(d)) if self.progress else None)
        self.count += 1
        self.done_reps += reps
        self.report()
        return res


@dataclass
class _Levers:
    """The levers as arrays: today's spend, bounds, pinned, and which the optimiser moves."""

    levers: list[Lever]
    today: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    pinned: np.ndarray
    free_idx: list[int]

    @classmethod
    def of(cls, levers: list[Lever]) -> _Levers:
        """The arrays of ``levers``."""
        return cls(levers, np.array([lv.current_cny for lv in levers]),
                   np.array([lv.min_cny for lv in levers]),
                   np.array([lv.max_cny for lv in levers]),
                   np.array([lv.pinned for lv in levers]),
                   [i for i, lv in enumerate(levers) if lv.free])

    def split(self, x) -> dict[str, float]:
        """Spend per lever id."""
        return dict(zip([lv.id for lv in self.levers], x))


def _sample_of(sc, replications: int, verify_replications: int | None, agents: int | None,
               seed: int | None, horizon_months: int | None, workers: int | None,
               levels: int) -> _Sample:
    """The sample from the arguments and the scenario; ValueError for a bad argument."""
    if int(levels) != levels or levels < 2:
        raise ValueError(f"levels: {levels} must be a whole number >= 2")
    reps = int(replications)
    if reps < 1:
        raise ValueError(f"replications: {replications} must be >= 1")
    n_agents = int(agents or sc.run.agents)
    horizon = int(horizon_months or sc.run.horizon_months)
    return _Sample(reps, int(verify_replications or max(4, reps)), n_agents,
                   int(sc.run.seed if seed is None else seed), horizon, workers)


def _budget_of(sc, budget: float | None, today_spend: float) -> float:
    """The budget to split: the argument, else the scenario's, else today's spend."""
    total = float(budget if budget is not None else
                  (sc.budget.total_cny_per_month if sc.budget.total_cny_per_month is not None
                   else today_spend))
    if not math.isfinite(total) or total < 0:
        raise ValueError(f"budget: {total} must be a finite amount >= 0")
    return total


def _fit_response(sims: _Simulations, sc, lv: _Levers, levels: int, comp0: np.ndarray,
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
        spends, comps = [lv.today[i]], [comp0]
        for level in np.linspace(lv.lower[i], lv.upper[i], levels):
            scn = apply_allocation(sc, lv.levers, {lever.id: float(level)})
            spends.append(spend_after(lever, scn, float(level)))
            comps.append(components_of(sims.run(scn, reps)))
        xs = np.array(spends)
        cs = np.stack(comps)  # [point, replication, component]
        y = cs + shift[None, None, :] * xs[:, None, None]
        fits[i] = [fit_curve(xs, y[:, :, k].mean(axis=1)) for k in range(len(COMPONENTS))]
        rep_fits[i] = [[refit_like(fits[i][k], xs, y[:, r, k]) for k in range(len(COMPONENTS))]
                       for r in range(reps)]
        for p in range(len(xs)):
            points.append((i, xs[p], objective_from(cs[p], ref, obj)))
    return ResponseModel(obj, lv.today, comp0, ref, shift, fits, rep_fits), fits, points


def _local_check(sims: _Simulations, sc, lv: _Levers, x_rec: np.ndarray, budget: float,
                 constraint: str, ref: np.ndarray, obj: str
                 ) -> tuple[np.ndarray, list[dict], bool]:
    """Step 4: simulate the split and a probe per free lever; adopt a probe clearly better.

    Returns the (possibly adopted) split, the probe rows and whether one was adopted.
    """
    reps = sims.sample.replications
    sc_rec = apply_allocation(sc, lv.levers, lv.split(x_rec))
    base_obj = objective_from(components_of(sims.run(sc_rec, reps)), ref, obj)
    probes: list[dict] = []
    best_gain, best = None, None
    for i in lv.free_idx:
        xp = probe_split(x_rec, i, lv.lower, lv.upper, lv.free_idx, budget, constraint)
        if xp is None:
            continue
        scp = apply_allocation(sc, lv.levers, lv.split(xp))
        st = Stat.of(objective_from(components_of(sims.run(scp, reps)), ref, obj) - base_obj,
                     unit_of(obj))
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


def _curve_table(points: list, model: ResponseModel, lv: _Levers, obj: str) -> pd.DataFrame:
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


def _split_key(x) -> tuple:
    return tuple(np.round(np.asarray(x, dtype=float), 6).tolist())


class _Verifier:
    """Steps 5-6: full runs of splits at the verification sample, against today's reference.

    Today's scenario runs first, with its own counterfactual like a full run of its
    file; that counterfactual is the one reference every split is measured against.
    Each split is simulated once (remembered by its rounded spends).
    """

    def __init__(self, sims: _Simulations, sc, lv: _Levers, obj: str):
        self.sims, self.sc, self.lv, self.obj = sims, sc, lv, obj
        reps = sims.sample.verify_replications
        self.res_today = sims.run(sc, reps, with_cf=True)
        ref = reference_of(self.res_today)
        self.ref = ref if ref is not None else np.zeros((reps, 3))
        self.today = objective_from(components_of(self.res_today), self.ref, obj)
        self.by_split: dict[tuple, np.ndarray] = {_split_key(lv.today): self.today}

    def simulated(self, x) -> np.ndarray:
        """Objective per replication of split ``x`` (against today's reference)."""
        k = _split_key(x)
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
        self.by_split[_split_key(x)] = objective_from(components_of(res), self.ref, self.obj)
        return scn, res


def _plan_frontier(ver: _Verifier, model: ResponseModel, lv: _Levers, x_rec: np.ndarray,
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


def _cheaper_split(ver: _Verifier, plans: list[tuple], x_rec: np.ndarray, budget: float,
                   obj: str) -> tuple | None:
    """Under "at most": the affordable frontier split that beats ``x_rec`` beyond noise.

    (mean gain, split, share) of the best one whose paired 95 % interval lies above zero.
    """
    tol = 1e-9 * max(1.0, budget)
    rec_v = ver.by_split[_split_key(x_rec)]
    best = None
    for share, _, xf in plans:
        if xf is None or share == 1.0 or xf.sum() > budget + tol:
            continue
        d = Stat.of(ver.simulated(xf) - rec_v, OBJECTIVES[obj])
        if d.n > 1 and d.ci95_low > 0 and (best is None or d.mean > best[0]):
            best = (d.mean, xf, share)
    return best


def _lever_table(model: ResponseModel, fits: dict[int, list[CurveFit]], lv: _Levers,
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


def _frontier_table(ver: _Verifier, model: ResponseModel, plans: list[tuple], constraint: str,
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
    sims = _Simulations(sample, base, progress, cancel)

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
    lv = _Levers.of(extract_levers(sc, res0))
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
    ver = _Verifier(sims, sc, lv, obj)
    # 6. Frontier splits: the best split on the fitted curves at each other budget share,
    # simulated like the recommendation (same replications, same seed, today's reference).
    plans = _plan_frontier(ver, model, lv, x_rec, total, constraint, frontier_shares)
    sc_rec, res_r = ver.verified(x_rec)
    # Under "at most" the budget can buy any split that spends less: a frontier split
    # that beats the recommendation in simulation with its whole 95 % interval above zero
    # (paired) becomes the recommendation, as an adopted probe does.
    if constraint == "at_most":
        cheaper = _cheaper_split(ver, plans, x_rec, total, obj)
        if cheaper is not None:
            x_rec = cheaper[1]
            method += (f" + the fitted split for {100 * cheaper[2]:.0f} % of the budget, which "
                       "beat it in simulation")
            plans = [(sh, b, x_rec if sh == 1.0 else xf) for sh, b, xf in plans]
            sims.total += v_reps
            sc_rec, res_r = ver.verified(x_rec)
    rec_v = ver.by_split[_split_key(x_rec)]
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
    frontier = _frontier_table(ver, model, plans, constraint, obj)
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
