"""Result tables and summary statistics read by the CLI, the GUI and the Excel export.

All money is CNY over the horizon unless the metric says otherwise; counts are
real customers (the sample scaled by its weight). See docs/ENGINE_API.md.

A figure across replications is a :class:`~simulator.replication_stats.Stat`; the KPI
formulas (ROI, payback, annual churn, lifecycle) are :mod:`simulator.kpi_formulas`.
Both are importable from here too.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from simulator.kpi_formulas import (  # noqa: F401 - COST_TOL and the reasons, importable here
    COST_TOL,
    COSTS_LESS,
    LIFECYCLE_NOT_DEFINED,
    NO_CHANGE,
    NO_COUNTERFACTUAL,
    NO_INCREMENTAL_COST,
    NO_PAYBACK,
    OTHER_TIERS,
    _annual,
    _safe_div,
    lifecycle_kpis,
    roi_and_payback,
)
from simulator.metrics import metric, value_range
from simulator.outputs import METRICS, MI, SERVICE_METRICS, ArmOutput
from simulator.replication_stats import Stat


@dataclass
class RunResult:
    """Outputs of a run: tidy tables, per-replication KPIs and their summary."""

    segments: list[str]
    tiers: list[str]
    pools: list[str]
    horizon: int
    discount: np.ndarray  # [H] discount factors
    scn: list[ArmOutput]
    cf: list[ArmOutput] | None
    meta: dict = field(default_factory=dict)
    cf_tiers: list[str] | None = None  # the counterfactual arm's tiers (a base may differ)

    def __post_init__(self) -> None:
        if self.cf and self.cf_tiers is None:
            self.cf_tiers = list(self.tiers)

    def tiers_of(self, arm: str) -> list[str]:
        """The tiers of an arm (a base scenario's tiers may differ from the scenario's)."""
        return list(self.cf_tiers or []) if arm == "counterfactual" else self.tiers

    @property
    def tiers_shared(self) -> bool:
        """True if both arms have the same tiers (same names, same order).

        Only then are per-tier incremental figures (scenario tier minus the same
        tier of the counterfactual) defined; otherwise they are NaN and each arm's
        tiers are reported on their own (:attr:`by_tier`, :attr:`by_tier_counterfactual`).
        """
        return not self.cf or self.cf_tiers == self.tiers

    # ------------------------------------------------------------ raw arrays
    def _stack(self, arm: str) -> np.ndarray:
        outs = self.scn if arm == "scenario" else (self.cf or [])
        return np.stack([o.monthly for o in outs]) if outs else np.zeros(
            (0, self.horizon, len(self.segments), len(self.tiers_of(arm)), len(METRICS)))

    @property
    def replications(self) -> int:
        """Number of replications."""
        return len(self.scn)

    @property
    def arms(self) -> list[str]:
        """Arms present in the result."""
        return ["scenario", "counterfactual"] if self.cf else ["scenario"]

    # ------------------------------------------------------------ tidy tables
    def _cached(self, name, build):
        cache = self.__dict__.setdefault("_cache", {})
        if name not in cache:
            cache[name] = build()
        return cache[name]

    @property
    def monthly(self) -> pd.DataFrame:
        """Arm × replication × month × segment × tier rows, one column per metric."""
        def build():
            frames = []
            for arm in self.arms:
                a = self._stack(arm)  # [R, H, S, T, M]
                R, H, S, T, M = a.shape
                idx = pd.MultiIndex.from_product(
                    [[arm], range(R), range(1, H + 1), self.segments, self.tiers_of(arm)],
                    names=["arm", "replication", "month", "segment", "tier"])
                frames.append(pd.DataFrame(a.reshape(-1, M), index=idx, columns=METRICS))
            return pd.concat(frames).reset_index()
        return self._cached("monthly", build)

    @property
    def service(self) -> pd.DataFrame:
        """Arm × replication × month × pool rows."""
        def build():
            rows = []
            for arm in self.arms:
                outs = self.scn if arm == "scenario" else self.cf
                for r, o in enumerate(outs):
                    H, P, _ = o.service.shape
                    for p in range(P):
                        df = pd.DataFrame(o.service[:, p, :], columns=SERVICE_METRICS)
                        df.insert(0, "pool", o.pool_names[p])
                        df.insert(0, "month", np.arange(1, H + 1))
                        df.insert(0, "replication", r)
                        df.insert(0, "arm", arm)
                        rows.append(df)
            return pd.concat(rows, ignore_index=True)
        return self._cached("service", build)

    @property
    def migration(self) -> pd.DataFrame:
        """Replication × from_tier × to_tier customers (today's customers, start → end)."""
        def build():
            to = self.tiers + ["(churned)"]
            rows = [(r, self.tiers[i], to[j], float(o.migration[i, j]))
                    for r, o in enumerate(self.scn)
                    for i in range(len(self.tiers)) for j in range(len(to))]
            return pd.DataFrame(rows, columns=["replication", "from_tier", "to_tier", "customers"])
        return self._cached("migration", build)

    def migration_matrix(self) -> pd.DataFrame:
        """Mean share of each start tier ending in each tier (rows sum to 1)."""
        m = self.migration.groupby(["from_tier", "to_tier"])["customers"].mean().unstack()
        m = m.reindex(index=self.tiers, columns=self.tiers + ["(churned)"])
        return m.div(m.sum(axis=1).replace(0, np.nan), axis=0)

    @property
    def cohorts(self) -> pd.DataFrame:
        """Arm × replication × cohort × age rows with the share still active."""
        def build():
            rows = []
            for arm in self.arms:
                outs = self.scn if arm == "scenario" else self.cf
                for r, o in enumerate(outs):
                    H = o.cohort_alive.shape[1]
                    for c in range(H + 1):
                        size = o.cohort_size[c]
                        if size <= 0:
                            continue
                        start = max(c, 1)
                        for m in range(start, H + 1):
                            rows.append((arm, r, c, m - start, o.cohort_alive[c, m - 1] / size))
            return pd.DataFrame(rows, columns=["arm", "replication", "cohort", "age_months",
                                               "active_share"])
        return self._cached("cohorts", build)

    @property
    def ltv(self) -> pd.DataFrame:
        """Arm × replication × segment × tier (at start) discounted LTV per customer."""
        def build():
            rows = []
            for arm in self.arms:
                outs = self.scn if arm == "scenario" else self.cf
                for r, o in enumerate(outs):
                    for s, sn in enumerate(self.segments):
                        for t, tn in enumerate(self.tiers_of(arm)):
                            n = o.ltv_n[s, t]
                            rows.append((arm, r, sn, tn, n,
                                         o.ltv_sum[s, t] / n if n > 0 else math.nan))
            return pd.DataFrame(rows, columns=["arm", "replication", "segment", "tier",
                                               "customers", "ltv_cny"])
        return self._cached("ltv", build)

    # --------------------------------------------------------------- KPIs
    def _kpis_for(self, sel_s=slice(None), sel_t=slice(None), level: str = "all",
                  arm: str = "scenario") -> pd.DataFrame:
        """One row per replication of every summary metric for a slice of groups.

        Incremental figures (vs the counterfactual) need the same groups in both
        arms: a tier slice of arms with different tiers has none (NaN), and the
        counterfactual arm (``arm="counterfactual"``) reports absolute figures only.
        """
        outs = self.scn if arm == "scenario" else (self.cf or [])
        a = self._stack(arm)[:, :, sel_s, sel_t, :]
        paired = arm == "scenario" and self.cf and (
            sel_t == slice(None) or self.tiers_shared)
        c = self._stack("counterfactual")[:, :, sel_s, sel_t, :] if paired else None
        tot = a.sum(axis=(2, 3))  # [R, H, M]
        R = a.shape[0]
        k: dict[str, np.ndarray] = {}
        undefined: dict[str, str | None] = {}  # metric -> why it has no value
        unpaired = NO_COUNTERFACTUAL if not self.cf or arm != "scenario" else OTHER_TIERS

        def total(metric, arr=tot):
            return arr[:, :, MI[metric]].sum(axis=1)

        k["revenue"] = total("gross_revenue")
        for mname in ("net_revenue", "gross_margin", "benefit_cost", "promotion_cost",
                      "service_cost", "acquisition_cost", "total_cost", "net_contribution",
                      "new_customers", "churned_customers", "orders", "contacts"):
            k[mname] = total(mname)
        net = tot[:, :, MI["net_contribution"]]
        k["npv_net_contribution"] = (net * self.discount).sum(axis=1)
        if c is not None:
            ctot = c.sum(axis=(2, 3))
            inc = net - ctot[:, :, MI["net_contribution"]]
            k["incremental_contribution"] = inc.sum(axis=1)
            k["incremental_cost"] = total("total_cost") - total("total_cost", ctot)
            k["incremental_margin"] = total("gross_margin") - total("gross_margin", ctot)
            k["npv"] = (inc * self.discount).sum(axis=1)
            scale = np.max(np.abs([total("total_cost"), total("total_cost", ctot),
                                   total("gross_margin"), total("gross_margin", ctot)]), axis=0)
            (k["roi"], undefined["roi"]), (k["payback_month"], undefined["payback_month"]) = \
                roi_and_payback(inc, k["incremental_cost"], scale)
        else:
            for mname in ("incremental_contribution", "incremental_cost", "incremental_margin",
                          "npv", "roi", "payback_month"):
                k[mname] = np.full(R, np.nan)
                undefined[mname] = unpaired
        active = tot[:, :, MI["active_customers"]]
        k["churn_annual"] = _annual(total("churned_customers"), active.sum(axis=1))
        members_end = tot[:, -1, MI["members_end"]]
        k["active_customers_end"] = members_end
        k["members_end"] = members_end
        k["satisfaction_end"] = _safe_div(tot[:, -1, MI["satisfaction_sum"]], active[:, -1])
        # Contact-weighted, as the shop-level figure below (any steps per month).
        k["service_wait_mean_hours"] = _safe_div(total("contact_wait_hours"), total("contacts"))
        # LTV and year-1 figures are by tier at the start.
        ltv_s = np.array([o.ltv_sum[sel_s, sel_t].sum() for o in outs])
        ltv_n = np.array([o.ltv_n[sel_s, sel_t].sum() for o in outs])
        k["ltv_per_customer"] = _safe_div(ltv_s, ltv_n)
        if c is not None:
            cl = np.array([o.ltv_sum[sel_s, sel_t].sum() for o in self.cf or []])
            cn = np.array([o.ltv_n[sel_s, sel_t].sum() for o in self.cf or []])
            k["ltv_uplift"] = k["ltv_per_customer"] - _safe_div(cl, cn)
        else:
            k["ltv_uplift"] = np.full(R, np.nan)
            undefined["ltv_uplift"] = unpaired

        def y1(name):
            return np.array([o.y1[name][sel_s, sel_t].sum() for o in outs])

        cust = y1("customers")
        k["retention_12m"] = _safe_div(y1("retained"), cust)
        k["repurchase_rate"] = _safe_div(y1("repurchasers"), cust)
        k["high_freq_sales_share"] = _safe_div(y1("gross_high_freq"), y1("gross"))
        k["high_freq_customer_share"] = _safe_div(y1("high_freq_customers"), cust)
        if outs and any(o.lifecycle for o in outs):
            k.update(lifecycle_kpis(tot))
            undefined.update(LIFECYCLE_NOT_DEFINED)
        if level == "all":
            svc = [o.service for o in outs]  # [H, P, X]
            w = np.array([s[:, :, 0].sum() for s in svc])

            def wavg(col):
                return _safe_div(np.array([(s[:, :, 0] * s[:, :, col]).sum() for s in svc]), w)

            k["service_wait_mean_hours"] = wavg(SERVICE_METRICS.index("wait_mean_hours"))
            k["service_wait_p90_hours"] = wavg(SERVICE_METRICS.index("wait_p90_hours"))
            k["sla_attainment"] = wavg(SERVICE_METRICS.index("sla_attainment"))
            k["utilisation"] = np.array([s[:, :, SERVICE_METRICS.index("utilisation")].mean()
                                         for s in svc])
            k["complaint_resolution_hours"] = wavg(SERVICE_METRICS.index("resolution_mean_hours"))
        df = pd.DataFrame(k)
        df.attrs["not_defined"] = {m: r for m, r in undefined.items() if r}
        return df

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per replication, one column per summary metric (whole shop)."""
        return self._cached("kpis", lambda: self._kpis_for())

    def _summarise(self, df: pd.DataFrame) -> dict[str, Stat]:
        why = df.attrs.get("not_defined", {})
        return {c: Stat.of(df[c].to_numpy(), metric(c).unit, why.get(c), value_range(c))
                for c in df.columns}

    @property
    def summary(self) -> dict[str, Stat]:
        """Whole-shop metrics with mean, 95 % CI and P10/P50/P90."""
        return self._cached("summary", lambda: self._summarise(self.kpis))

    @property
    def by_segment(self) -> dict[str, dict[str, Stat]]:
        """Summary metrics per segment."""
        return self._cached("by_segment", lambda: {
            s: self._summarise(self._kpis_for(sel_s=slice(i, i + 1), level="group"))
            for i, s in enumerate(self.segments)})

    @property
    def by_tier(self) -> dict[str, dict[str, Stat]]:
        """Summary metrics per tier (flows by current tier; LTV, retention by tier at start)."""
        return self._cached("by_tier", lambda: {
            t: self._summarise(self._kpis_for(sel_t=slice(i, i + 1), level="group"))
            for i, t in enumerate(self.tiers)})

    @property
    def by_tier_counterfactual(self) -> dict[str, dict[str, Stat]]:
        """Absolute metrics per tier of the counterfactual arm (its own tiers; {} without one)."""
        return self._cached("by_tier_cf", lambda: {
            t: self._summarise(self._kpis_for(sel_t=slice(i, i + 1), level="group",
                                              arm="counterfactual"))
            for i, t in enumerate(self.tiers_of("counterfactual"))} if self.cf else {})

    # ------------------------------------------------------------ chart data
    def totals(self, metric: str, arm: str = "scenario") -> np.ndarray:
        """Monthly totals of a metric over segments and tiers, per replication: [R, H]."""
        return self._stack(arm)[..., MI[metric]].sum(axis=(2, 3))

    def band(self, metric: str, arm: str = "scenario", cumulative: bool = False) -> pd.DataFrame:
        """Monthly total of a metric: mean and 95 % CI across replications."""
        a = self._stack(arm)[..., MI[metric]].sum(axis=(2, 3))  # [R, H]
        if cumulative:
            a = np.cumsum(a, axis=1)
        return self._band_frame(a)

    def incremental_band(self, metric: str = "net_contribution",
                         cumulative: bool = True) -> pd.DataFrame:
        """Scenario minus counterfactual per month (cumulative by default), with CI."""
        if not self.cf:
            raise ValueError("this run has no counterfactual")
        a = (self._stack("scenario")[..., MI[metric]].sum(axis=(2, 3))
             - self._stack("counterfactual")[..., MI[metric]].sum(axis=(2, 3)))
        if cumulative:
            a = np.cumsum(a, axis=1)
        return self._band_frame(a)

    def band_by(self, metric: str, by: str = "tier", arm: str = "scenario") -> pd.DataFrame:
        """Like :meth:`band` with one band per tier or segment (column ``by``)."""
        a = self._stack(arm)[..., MI[metric]]  # [R, H, S, T]
        names = self.tiers_of(arm) if by == "tier" else self.segments
        frames = []
        for i, nm in enumerate(names):
            x = a[:, :, :, i].sum(axis=2) if by == "tier" else a[:, :, i, :].sum(axis=2)
            f = self._band_frame(x)
            f.insert(1, by, nm)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def service_band(self, column: str = "wait_mean_hours", pool: str | None = None,
                     arm: str = "scenario") -> pd.DataFrame:
        """A service metric per month (contact-weighted over pools unless one is named)."""
        outs = self.scn if arm == "scenario" else self.cf or []
        ci = SERVICE_METRICS.index(column)
        rows = []
        for o in outs:
            s = o.service
            if pool is not None:
                rows.append(s[:, o.pool_names.index(pool), ci])
            else:
                w = s[:, :, 0]
                rows.append(_safe_div((w * s[:, :, ci]).sum(1), w.sum(1)))
        # cut where the figure can lie, as the KPIs are (with 2 replications a month's
        # mean wait ran to -0.5 h)
        return self._band_frame(np.array(rows), within=value_range(column))

    def _band_frame(self, a: np.ndarray,
                    within: tuple[float, float] | None = None) -> pd.DataFrame:
        """Mean and 95 % interval per month of ``a`` [R, H]; ``within``: where it can lie.

        The Student-t interval is cut to ``within`` as :meth:`Stat.of` cuts it.
        """
        R = a.shape[0]
        # A month whose figure no replication defines (no contact, no member) stays
        # undefined (NaN, drawn as a gap) without numpy's empty-slice warnings.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(a, axis=0)
            if R > 1:
                half = stats.t.ppf(0.975, R - 1) * np.nanstd(a, axis=0, ddof=1) / math.sqrt(R)
            else:
                half = np.full_like(mean, np.nan)
        lo, hi = mean - half, mean + half
        if within is not None:
            lo, hi = np.maximum(lo, within[0]), np.minimum(hi, within[1])
        return pd.DataFrame({"month": np.arange(1, a.shape[1] + 1), "mean": mean,
                             "ci95_low": lo, "ci95_high": hi})

    # --------------------------------------------------------------- warnings
    def service_warnings(self) -> list[str]:
        """Plain-language warnings for pools whose queue cannot keep up.

        A pool-month counts as overloaded when it is flagged so in at least half of
        the replications (offered load at or above capacity, or a backlog carried in
        or out). Its waits and SLA then include the carried backlog, which is why
        they can run to hundreds of hours: the figure is what the staffing implies,
        not a simulation failure. One line per arm and pool, empty when none.
        """
        out: list[str] = []
        ci_o = SERVICE_METRICS.index("overloaded")
        ci_u = SERVICE_METRICS.index("unanswered_share")
        ci_b = SERVICE_METRICS.index("backlog_contacts")
        for arm in self.arms:
            outs = self.scn if arm == "scenario" else (self.cf or [])
            if not outs:
                continue
            names = outs[0].pool_names
            svc = np.stack([o.service for o in outs])  # [R, H, P, K]
            if svc.size == 0:
                continue
            H = svc.shape[1]
            for p, name in enumerate(names):
                flagged = (svc[:, :, p, ci_o] > 0.5).mean(axis=0) >= 0.5
                n = int(flagged.sum())
                if n == 0:
                    continue
                unans = float(np.nanmax(np.nanmean(svc[:, :, p, ci_u], axis=0)))
                backlog = float(np.nanmax(np.nanmean(svc[:, :, p, ci_b], axis=0)))
                who = "" if arm == "scenario" else " (counterfactual)"
                out.append(
                    f"Service ▸ Pool '{name}'{who}: the queue cannot keep up in {n} of {H} "
                    f"months (up to {unans * 100:.0f} % of a month's contacts not answered within "
                    f"the month; up to {backlog:,.0f} contacts carried into the next month). "
                    "Waits and SLA include that backlog; add staff, shorten handling time "
                    "or deflect more contacts.")
        return out

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        """The documented result file (docs/RESULTS.md)."""
        def block(d):
            return {k: v.to_json() for k, v in d.items()}

        out = {
            "format": "benefit-sim-result/1",
            "meta": self.meta,
            "summary": block(self.summary),
            "by_segment": {s: block(v) for s, v in self.by_segment.items()},
            "by_tier": {t: block(v) for t, v in self.by_tier.items()},
            "warnings": self.service_warnings(),
            "migration_matrix": {
                f: {t: (None if not np.isfinite(v) else float(v)) for t, v in row.items()}
                for f, row in self.migration_matrix().iterrows()},
        }
        if not self.tiers_shared:  # the base has other tiers: report them per arm
            out["counterfactual_tiers"] = self.tiers_of("counterfactual")
            out["by_tier_counterfactual"] = {t: block(v) for t, v in
                                             self.by_tier_counterfactual.items()}
        return out
