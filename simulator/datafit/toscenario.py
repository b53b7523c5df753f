"""Write the fitted baseline into a scenario file (issue 16, way (a): a synthetic population).

Mapping of a BG/NBD fit (weeks) to the scenario's per-segment fields:

- ``orders_per_month`` = E[lambda] = r / alpha per week x 4.348 weeks per month;
- ``order_rate_cv`` = 1 / sqrt(r) (the gamma's CV), capped at the schema's 5;
- ``churn_annual`` = share of a new cohort lost in its first year,
  1 - E[exp(-lambda p 52.18)] over the fitted gamma and beta;
- ``churn_heterogeneity`` = polarisation of the beta of per-customer monthly churn
  (shifted-beta-geometric) whose retention curve is closest to the model's over
  months 1-36, with that first year;
- ``spend_per_order_cny`` and ``spend_cv``: mean and CV of spend per purchase day
  in the fit period, times the stated exchange rate.

``--segments N`` without a segment column splits the fitted gamma of order
rates into N equal-share bands (latent classes from the model): each band's mean
rate and within-band CV, and its own first-year churn and heterogeneity (in BG/NBD dropout follows
purchases, so faster buyers churn sooner). With a segment column each segment
gets its own BG/NBD fit. Everything the log cannot tell (margin, coupon use,
service, tiers, promotions) comes from the default scenario and is marked so.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from simulator import theory
from simulator.datafit import bgnbd, holdout, seasonal
from simulator.datafit.importlog import EPOCH, Log, LogError
from simulator.scenario import Scenario

WEEKS_PER_MONTH = 365.25 / 12 / 7
WEEKS_PER_YEAR = 365.25 / 7
GRID = 400
FIT_MONTHS = 36  # retention curve matched by the churn heterogeneity (the default horizon)
MAX_ANNUAL_CHURN = 0.999
MAX_HETEROGENEITY = 0.95  # the schema's bound


@dataclass
class FittedSegment:
    """One segment's fitted figures and where they came from."""

    name: str
    share: float
    customers: int
    orders_per_month: float
    order_rate_cv: float
    churn_annual: float
    churn_heterogeneity: float
    spend_mean: float
    spend_cv: float
    fit: bgnbd.BGNBD
    note: str


def band_survival(params, lo: float, hi: float, weeks) -> np.ndarray:
    """Share of a new cohort's customers in a gamma quantile band still alive after ``weeks``.

    E[exp(-lambda p t) | band]: exact over lambda (the gamma's tail at rate alpha + p t),
    the beta of p by 400 quantile midpoints.
    """
    r, alpha, a, b = params
    x_lo, x_hi = stats.gamma.ppf([lo, hi], r)  # band edges of lambda * alpha
    pv = stats.beta.ppf((np.arange(GRID) + 0.5) / GRID, a, b)[:, None]
    s = pv * np.atleast_1d(np.asarray(weeks, dtype=float))[None, :]
    scale = (alpha + s) / alpha
    inside = stats.gamma.cdf(x_hi * scale, r) - stats.gamma.cdf(x_lo * scale, r)
    return ((alpha / (alpha + s)) ** r * inside).mean(axis=0) / (hi - lo)


def churn_figures(params, lo: float = 0.0, hi: float = 1.0,
                  boost: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """``churn_annual`` and ``churn_heterogeneity`` of a band of a BG/NBD fit.

    The first is the share of a new cohort lost in its first year; the second the
    polarisation of the shifted-beta-geometric whose retention curve is closest (least
    squares) to the band's BG/NBD curve over months 1..FIT_MONTHS with that first year.
    ``boost``: new customers' extra order rate and its decay (weeks): BG/NBD's dropout
    follows purchases, so a new cohort's first weeks, with more purchases, lose more
    (the curve in the cohort's operational time, t + boost decay (1 - exp(-t/decay))).
    """
    months = np.arange(1, FIT_MONTHS + 1)
    t = months * WEEKS_PER_MONTH
    if boost[0] > 0:
        t = t + boost[0] * boost[1] * -np.expm1(-t / boost[1])
    target = band_survival(params, lo, hi, t)
    annual = float(min(max(1.0 - target[11], 1e-6), MAX_ANNUAL_CHURN))

    def gap(phi: float) -> float:
        ab = theory.churn_beta(annual, phi)
        curve = (1 - annual) ** (months / 12.0) if ab is None else theory.sbg_survival(*ab,
                                                                                       months)
        return float(np.sum((curve - target) ** 2))

    res = optimize.minimize_scalar(gap, bounds=(0.0, MAX_HETEROGENEITY), method="bounded",
                                   options={"xatol": 1e-6})
    phi = float(res.x) if gap(float(res.x)) < gap(0.0) else 0.0
    return annual, phi


def _band_figures(params, lo: float, hi: float, boost: tuple[float, float] = (0.0, 1.0)
                  ) -> tuple[float, float, float, float]:
    """Mean and CV of lambda (per week), first-year churn and churn heterogeneity of a band.

    The rate moments are exact (gamma partial moments); churn from :func:`churn_figures`.
    """
    r, alpha, a, b = params
    x_lo, x_hi = stats.gamma.ppf([lo, hi], r)
    w = hi - lo

    def part(shape):
        return stats.gamma.cdf(x_hi, shape) - stats.gamma.cdf(x_lo, shape)

    m1 = r / alpha * part(r + 1) / w
    m2 = r * (r + 1) / alpha ** 2 * part(r + 2) / w
    cv = float(np.sqrt(max(m2 - m1 ** 2, 0.0)) / m1) if m1 > 0 else 0.0
    annual, phi = churn_figures(params, lo, hi, boost)
    return float(m1), cv, annual, phi


def _spend(amounts: np.ndarray) -> tuple[float, float]:
    if len(amounts) == 0:
        raise LogError("no purchases in the fit period to measure spend per order")
    m = float(np.mean(amounts))
    if m <= 0:
        raise LogError("every purchase in the fit period has amount 0: spend per order cannot "
                       "be fitted")
    return m, float(np.std(amounts) / m)


def rfm_clusters(c: holdout.RFM, n: int, seed: int = 20261129) -> np.ndarray:
    """RFM cluster of each customer, ordered by mean repeat purchases (0 = fewest).

    K-means (scipy kmeans2, k-means++ start, fixed seed) on standardised log
    frequency, recency and log spend.
    """
    from scipy.cluster.vq import kmeans2

    feats = np.column_stack([np.log1p(c.x), c.T - c.tx, np.log1p(np.maximum(c.monetary, 0.0))])
    sd = feats.std(axis=0)
    z = (feats - feats.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _, lab = kmeans2(z, n, minit="++", seed=np.random.default_rng(seed))
    order = np.argsort([c.x[lab == k].mean() if np.any(lab == k) else -1.0 for k in range(n)])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank[lab]


def posterior_figures(params, c: holdout.RFM, m: np.ndarray
                      ) -> tuple[float, float, float, float, float]:
    """Today's figures of the customers ``m`` from the BG/NBD posterior given their history.

    Returns expected alive, mean rate (per week) and its CV, first-year churn and
    churn heterogeneity.

    Each customer counts by P(alive); given alive, rate ~ Gamma(r+x, alpha+T) and dropout
    ~ Beta(a, b+x). The retention curve (a sample of up to 2,000 customers, 100 beta
    quantiles) is matched by the shifted-beta-geometric as in :func:`churn_figures`.
    """
    r, alpha, a, b = params
    x, T = c.x[m], c.T[m]
    pa = bgnbd.p_alive(params, x, c.tx[m], T)
    w = pa / pa.sum()
    shape, rate = r + x, alpha + T
    m1 = float(np.dot(w, shape / rate))
    m2 = float(np.dot(w, shape * (shape + 1) / rate ** 2))
    cv = float(np.sqrt(max(m2 - m1 ** 2, 0.0)) / m1) if m1 > 0 else 0.0
    pick = np.arange(len(x))
    if len(x) > 2000:
        pick = np.random.default_rng(0).choice(len(x), 2000, replace=False, p=w)
        ws = np.full(2000, 1 / 2000)
    else:
        ws = w
    q = (np.arange(100) + 0.5) / 100
    p = stats.beta.ppf(q[None, :], a, b + x[pick, None])  # [customers, 100]
    months = np.arange(1, FIT_MONTHS + 1)
    tw = months * WEEKS_PER_MONTH
    # E[exp(-lambda p t) | alive] = E_p[(rate / (rate + p t))^shape]
    surv = np.stack([(np.dot(ws, ((rate[pick, None] / (rate[pick, None] + p * t))
                                  ** shape[pick, None]).mean(axis=1))) for t in tw])
    annual = float(min(max(1.0 - surv[11], 1e-6), MAX_ANNUAL_CHURN))

    def gap(phi: float) -> float:
        ab = theory.churn_beta(annual, phi)
        curve = (1 - annual) ** (months / 12.0) if ab is None else theory.sbg_survival(*ab,
                                                                                       months)
        return float(np.sum((curve - surv) ** 2))

    res = optimize.minimize_scalar(gap, bounds=(0.0, MAX_HETEROGENEITY), method="bounded",
                                   options={"xatol": 1e-6})
    phi = float(res.x) if gap(float(res.x)) < gap(0.0) else 0.0
    return float(pa.sum()), m1, cv, annual, phi


def fit_segments(log: Log, split: str | None = None, segments: int | None = None,
                 segment_by: str = "rfm", seasonality: bool = True
                 ) -> tuple[list[FittedSegment], dict]:
    """Fit the segments; returns them and facts about the fit period.

    ``seasonality``: fit a seasonal order-rate factor per calendar month and a new
    customer's extra order rate fading with tenure (:mod:`simulator.datafit.seasonal`)
    and, when the likelihood-ratio tests find either (``facts["seasonal"]``), fit every
    segment in its operational time.

    Without a segment column, ``segments`` > 1 forms them as ``segment_by``: "bands"
    (equal-share bands of the fitted gamma of order rates, a new cohort's latent
    classes) or "rfm" (k-means clusters of today's customers on recency, frequency and
    spend, each described by its customers' posterior and counted by P(alive)).
    """
    days = holdout.daily(log)
    end_day = (holdout._day(split) - 1) if split else int(days["d"].max())
    if end_day < int(days["d"].min()):
        raise LogError(f"split date {split} is on or before the log's first day "
                       f"{EPOCH + int(days['d'].min())}")
    cal = days[days["d"] <= end_day]
    tested = seasonal.fit(days, end_day) if seasonality else None
    season = tested if tested is not None and tested.used else None
    c = holdout.rfm(days, end_day, season)
    ncust = len(c.x)
    boost = (season.boost, season.decay_days / 7.0) if season is not None and season.boost \
        else (0.0, 1.0)
    out: list[FittedSegment] = []
    expected_alive: float | None = None  # RFM clusters: today's customers by P(alive)
    if log.segment_names:
        if segments:
            raise LogError("the log has a segment column: leave out --segments "
                           "(each of its segments is fitted on its own)")
        first_seg = c.segment
        seg_of_day = cal.groupby("c")["seg"].transform("first").to_numpy()
        for k, name in enumerate(log.segment_names):
            m = first_seg == k
            if m.sum() < 10:
                continue
            f = bgnbd.fit(c.x[m], c.tx[m], c.T[m])
            lam, cv, churn, phi = _band_figures(f.params, 0.0, 1.0, boost)
            sm, scv = _spend(cal["amt"].to_numpy()[seg_of_day == k])
            out.append(FittedSegment(name, m.sum() / ncust, int(m.sum()), lam * WEEKS_PER_MONTH,
                                     cv, churn, phi, sm, scv, f,
                                     f"segment column value {name!r}, own BG/NBD fit"))
        if not out:
            raise LogError("no segment in the log has 10 or more customers to fit")
        tot = sum(s.share for s in out)
        for s in out:
            s.share /= tot
    elif segment_by == "rfm" and int(segments or 1) > 1:
        n = int(segments or 1)
        if not 2 <= n <= 10 or n > ncust:
            raise LogError(f"--segments {n}: allowed 1 to 10 (and at most the customers)")
        f = bgnbd.fit(c.x, c.tx, c.T)
        lab = rfm_clusters(c, n)
        day_lab = lab[np.searchsorted(np.sort(cal["c"].unique()), cal["c"].to_numpy())]
        alive_tot = 0.0
        for k in range(n):
            m = lab == k
            if not m.any():
                continue
            alive, lam, cv, churn, phi = posterior_figures(f.params, c, m)
            alive_tot += alive
            sm, scv = _spend(cal["amt"].to_numpy()[day_lab == k])
            name = (f"RFM {k + 1} of {n}: {c.x[m].mean():.1f} repeat, last "
                    f"{np.median(c.T[m] - c.tx[m]):.0f} w ago")
            out.append(FittedSegment(name, alive, int(m.sum()), lam * WEEKS_PER_MONTH, cv,
                                     churn, phi, sm, scv, f,
                                     f"k-means cluster {k + 1} of {n} on recency, frequency, "
                                     f"spend; {alive:,.0f} of {m.sum():,} expected alive"))
        for s in out:
            s.share /= alive_tot
        expected_alive = alive_tot
    else:
        if segment_by not in ("bands", "rfm"):
            raise LogError(f"--segment-by {segment_by!r}: allowed 'bands' or 'rfm'")
        n = int(segments or 1)
        if not 1 <= n <= 10:
            raise LogError(f"--segments {n}: allowed 1 to 10")
        f = bgnbd.fit(c.x, c.tx, c.T)
        sm, scv = _spend(cal["amt"].to_numpy())
        for i in range(n):
            lam, cv, churn, phi = _band_figures(f.params, i / n, (i + 1) / n, boost)
            name = "Fitted customers" if n == 1 else f"Order-rate band {i + 1} of {n}"
            note = ("one BG/NBD fit" if n == 1 else
                    f"band {i + 1} of {n} equal-share bands of the fitted gamma of order rates")
            out.append(FittedSegment(name, 1.0 / n, int(round(ncust / n)),
                                     lam * WEEKS_PER_MONTH, cv, churn, phi, sm, scv, f,
                                     note))
    first_day = int(days["d"].min())
    recent = int(np.sum(c.first_day > end_day - 90))
    facts = {"customers": ncust, "first_day": str(EPOCH + first_day),
             "fit_end": str(EPOCH + end_day), "rows": len(log),
             "new_per_month_recent": recent * (365.25 / 12) / 90.0,
             "expected_alive": expected_alive, "seasonal": season,
             "seasonal_test": tested.as_dict() if tested is not None else None}
    return out, facts


def build(log: Log, split: str | None = None, segments: int | None = None,
          cny_per_unit: float = 1.0, currency: str = "CNY",
          fitted: tuple[list[FittedSegment], dict] | None = None,
          segment_by: str = "rfm", customer_file: tuple[str, int] | None = None
          ) -> tuple[Scenario, str]:
    """Build the fitted scenario; return it and its TOML text with comments.

    ``fitted``: the result of :func:`fit_segments` for the same arguments, if at hand.
    ``customer_file``: (its path relative to the scenario file, its customers): the
    scenario then starts from those customers (``population.customer_file``), each
    agent one of them, so ``population.customers`` is their number.
    """
    from simulator import library
    from simulator.scenario_io import from_dict, to_dict

    if not (cny_per_unit > 0 and np.isfinite(cny_per_unit)):
        raise LogError(f"--cny-per-unit {cny_per_unit}: must be a positive number")
    segs, facts = fitted if fitted is not None else fit_segments(log, split, segments,
                                                                 segment_by)
    base = library.load_default()
    d = to_dict(base)
    template = d["segments"][0]
    d["name"] = f"Fitted from {log.source}"
    d["description"] = (
        f"Baseline fitted to the transaction log {log.source} ({facts['rows']:,} valid rows, "
        f"{facts['customers']:,} customers, fit period {facts['first_day']} to "
        f"{facts['fit_end']}) with a BG/NBD model. No scheme: the tier scheme (switched off), "
        f"service and run settings are the default scenario's ({base.name}); no campaigns. "
        f"Made by benefit-sim fit on "
        f"{_dt.date.today().isoformat()}.")
    alive = facts.get("expected_alive")
    d["population"]["customers"] = max(1, int(round(alive)) if alive else facts["customers"])
    if customer_file is not None:
        d["population"]["customer_file"] = customer_file[0]
        d["population"]["customers"] = customer_file[1]
        # Every customer one agent; fewer agents run a weighted sample of the customers.
        d["run"]["agents"] = min(max(100, customer_file[1]), 5_000_000)
    d["population"]["acquisition"] = {
        **d["population"]["acquisition"],
        "organic_per_month": round(facts["new_per_month_recent"], 3),
        "paid_spend_cny_per_month": 0.0, "mix": {}}
    season = facts.get("seasonal")
    if season is not None and season.significant:
        d["population"]["seasonality"] = {seasonal.MONTHS[k]: round(season.factors[k], 4)
                                          for k in season.fitted_months}
        after = holdout._day(facts["fit_end"]) + 1  # the day after the fit period
        d["population"]["first_month"] = seasonal.MONTHS[seasonal.month_of_days(after, after)[0]]
    if season is not None and season.boost > 0:
        d["population"]["new_customer_boost"] = round(season.boost, 4)
        d["population"]["new_customer_boost_months"] = round(
            season.decay_days / seasonal.DAYS_PER_MONTH, 4)
    d["segments"] = []
    for s in segs:
        seg = dict(template)
        seg.update(name=s.name, share=s.share,
                   orders_per_month=round(s.orders_per_month, 6),
                   order_rate_cv=round(min(s.order_rate_cv, 5.0), 6),
                   spend_per_order_cny=round(s.spend_mean * cny_per_unit, 4),
                   spend_cv=round(min(s.spend_cv, 5.0), 6),
                   churn_annual=round(s.churn_annual, 6),
                   churn_heterogeneity=round(s.churn_heterogeneity, 6))
        d["segments"].append(seg)
    # The baseline is what the log shows: no scheme acts on top of it. The default's
    # tiers stay in the file (switched off) as a starting point; its campaigns go.
    d["tier_rules"]["enabled"] = False
    if isinstance(d["tier_rules"].get("points"), dict):
        d["tier_rules"]["points"]["enabled"] = False
    for t in d.get("tiers", []):
        for bnf in t.get("benefits", []):
            bnf["segment_value"] = {}  # the default's segment names no longer exist
    if d.get("tiers"):
        # With the scheme off everyone stays in the entry tier, whose benefits still act:
        # the log's baseline has none.
        d["tiers"][0]["benefits"] = []
    d["promotions"] = []
    sc = from_dict(d, "fitted scenario")
    return sc, _commented(sc, segs, facts, log, split, cny_per_unit, currency, base.name)


def _largest(st: dict) -> str:
    """The fitted month factor farthest from 1, as "Aug 0.884"."""
    name, f = max(((k, v) for k, v in st["factors"].items() if k in st["fitted_months"]),
                  key=lambda kv: abs(kv[1] - 1.0), default=("-", 1.0))
    return f"{name} {f:.3f}"


def _commented(sc, segs, facts, log, split, rate, currency, base_name) -> str:
    from simulator.scenario_io import dumps

    head = [
        f"# Fitted by `benefit-sim fit` on {_dt.date.today().isoformat()} from {log.source}",
        f"# ({log.rows_read:,} rows read, {len(log):,} valid, {log.bad.total:,} set aside; "
        f"dates as {log.date_format}).",
        f"# Fit period {facts['first_day']} .. {facts['fit_end']}"
        + (f" (split {split}; later rows are the holdout)" if split else " (whole log)")
        + f"; {facts['customers']:,} customers.",
        f"# Amounts in {currency}, x {rate:g} CNY per {currency} unit.",
    ]
    shown: set[int] = set()
    for s in segs:
        p = s.fit
        if id(p) in shown:
            continue
        shown.add(id(p))
        who = s.name if log.segment_names else "All customers"
        head.append(f"# {who}: BG/NBD r {p.r:.4g} (se {p.se[0]:.2g}), alpha {p.alpha:.4g} "
                    f"(se {p.se[1]:.2g}), a {p.a:.4g} (se {p.se[2]:.2g}), b {p.b:.4g} "
                    f"(se {p.se[3]:.2g}) per week; {s.note if log.segment_names else 'one fit'}.")
    season = facts.get("seasonal")
    st = facts.get("seasonal_test")
    if season is not None and season.boost > 0:
        head.append(f"# New customers' extra order rate: x {1 + season.boost:.3f} at the first "
                    f"purchase, fading with tenure over {season.decay_days:.1f} days (1/e; "
                    f"fitted jointly with BG/NBD, likelihood ratio {season.tenure_lr:.1f} on "
                    f"2 df, p {season.tenure_p_value:.2g}).")
    elif st:
        nb = st["new_customer_boost"]
        head.append(f"# No new customers' extra order rate: the fitted boost "
                    f"{nb['fitted_alone']['boost']:.3f} did not improve the fit enough "
                    f"(likelihood ratio {nb['likelihood_ratio']:.1f}, p {nb['p_value']:.2g}).")
    if season is not None and season.significant:
        against = "the model with the extra rate" if season.boost > 0 else "plain BG/NBD"
        head.append(f"# Seasonal order rate by calendar month (fitted jointly, against {against}: "
                    f"likelihood ratio {season.lr_statistic():.1f} on "
                    f"{len(season.fitted_months) - 1} df, p {season.p_value:.2g}):")
        head.append(f"# {seasonal.describe(season)}.")
    elif st:
        head.append(f"# No seasonal order rate: the fitted factors did not improve the fit "
                    f"enough (likelihood ratio {st['likelihood_ratio']:.1f}, p "
                    f"{st['p_value']:.2g}, largest month {_largest(st)}).")
    if season is not None:
        head.append("# Order rates and BG/NBD parameters are per average month / operational "
                    "week (an established customer in an average month).")
    if facts.get("expected_alive"):
        head.append(f"# Segments: {len(segs)} k-means clusters of today's customers on recency, "
                    "frequency and spend; each segment is its customers' BG/NBD posterior,")
        head.append("# counted by P(alive) (shares and customers are expected alive customers).")
    elif len(segs) > 1 and not log.segment_names:
        head.append(f"# Segments: {len(segs)} equal-share bands of the fitted gamma of order rates "
                    "(latent classes); spend is the same in every band (BG/NBD has no spend link).")
    head += [
        "# Churn: churn_annual is the share of a new cohort lost in its first year;",
        "# churn_heterogeneity bends the later years as the BG/NBD retention curve does",
        f"# (fitted over months 1-{FIT_MONTHS}). Not expressible in this schema: the link",
        "# between buying and dropping out (BG/NBD's dropout follows purchases; --segments",
        "# bands carry part of it). Fields marked 'assumption' are the default scenario's",
        f"# ({base_name}); the log does not tell them. The tier scheme",
        "# is switched off, the entry tier has no benefits and there are no campaigns: this",
        "# is the baseline to add a scheme to.",
        "",
    ]
    notes = {}
    for k, s in enumerate(segs):
        notes[k] = {
            "share": f"fitted: {s.customers:,} customers",
            "orders_per_month": f"fitted: {s.orders_per_month / WEEKS_PER_MONTH:.4g} per week"
                                + (" (posterior mean, alive)" if facts.get("expected_alive")
                                   else " (r/alpha)" if len(segs) == 1 else ""),
            "order_rate_cv": "fitted: gamma CV" + (" (1/sqrt(r))" if len(segs) == 1 or
                                                   log.segment_names else " within band"),
            "spend_per_order_cny": f"fitted: mean per purchase day {s.spend_mean:.4g} {currency}",
            "spend_cv": "fitted: CV per purchase day",
            "churn_annual": "fitted: first-year share lost, E[1 - exp(-lambda p 52.18 w)]"
                            + (" (operational weeks: with new customers' extra purchases)"
                               if facts.get("seasonal") is not None
                               and facts["seasonal"].boost > 0 else ""),
            "churn_heterogeneity": "fitted: beta polarisation closest to the BG/NBD "
                                   f"retention, months 1-{FIT_MONTHS}",
        }
    lines, k, in_seg = [], -1, False
    for line in dumps(sc).splitlines():
        if line.startswith("[[segments]]"):
            k += 1
            in_seg = True
        elif line.startswith("["):
            in_seg = line.startswith("[segments.")
        key = line.split(" = ", 1)[0] if " = " in line else None
        if in_seg and k >= 0 and key:
            c = notes[k].get(key)
            if c is None and key != "name":
                c = "assumption (default scenario)"
            if c:
                line = f"{line:<40} # {c}"
        if key == "new_customer_boost" and season is not None:
            line = f"{line:<40} # fitted: extra order rate at tenure 0"
        if key == "new_customer_boost_months" and season is not None:
            line = f"{line:<40} # fitted: {season.decay_days:.1f} days to 1/e"
        if key == "first_month" and season is not None:
            line = f"{line:<40} # the calendar month after the fit period"
        if key == "seasonality" and season is not None:
            line = (f"{line:<40} # fitted; months not listed 1.0 (not in the fit period)"
                    if len(season.fitted_months) < 12 else f"{line:<40} # fitted")
        if key == "agents" and sc.population.customer_file:
            line = (f"{line:<40} # every customer of the file one agent; fewer: a random "
                    "sample of them, each standing for customers/agents")
        if key == "organic_per_month":
            line = f"{line:<40} # fitted: first purchases in the last 90 days of the fit period"
        if key == "customer_file":
            line = (f"{line:<40} # the fit period's customers, each with P(alive), order rate, "
                    "dropout, spend per order and 12 months of history")
        elif key == "customers" and not in_seg and sc.population.customer_file:
            line = (f"{line:<40} # the customer file's customers (each agent one of them, "
                    "alive as drawn from their P(alive))")
        elif key == "customers" and not in_seg:
            line = f"{line:<40} # fitted: " + (
                "customers expected alive at the end of the fit period (sum of P(alive))"
                if facts.get("expected_alive") else "customers in the fit period")
        lines.append(line)
    return "\n".join(head + lines) + "\n"
