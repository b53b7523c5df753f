"""Live capacity check: offered load against staff per pool and period, from theory only.

Instant (no simulation), for the editor to call on every edit and for
``benefit-sim capacity``. For each service pool:

* **contacts per hour** the pool receives today: real customers × Σ over
  segments of share × orders per month × (contacts per order × (1 − bot
  deflection) + complaints per order), spread uniformly over the day as the
  engine's queue spreads them (``simulator.service``), routed to the pool of
  each customer's tier. When every tier uses one pool this is exact; otherwise
  the tier mix is estimated from the segments' spend: a customer's order rate is
  gamma (mean ``orders_per_month``, CV ``order_rate_cv``) and qualifies when
  rate × window months × mean order value reaches the tier's threshold (order
  and spend noise and ``min_orders`` ignored). Benefit effects, growth and
  escalations are not in it: it is the load before the scheme acts.
* **offered load** a = λ × handle time (Erlangs), **utilisation** ρ = a / staff
  for each period of the day with its staff on duty (overlapping shifts add up),
  and over the day (offered load / day-average staff, which is what the engine
  uses to decide that the queue cannot keep up and a backlog builds);
* the **staff Erlang C says the SLA needs** in each period: the smallest c with
  P(wait ≤ SLA hours) = 1 − C(c, a)·exp(−(cμ − λ)·t) ≥ the SLA target (M/M/c,
  steady state within the period).

Public API::

    pools = capacity_check(sc, sla_target=0.8)      # list[PoolCapacity]
    erlang_c_staff(arrival_per_hour, handle_hours, sla_hours, target)  # int
    cli_capacity(args)                               # ``benefit-sim capacity``
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from simulator.queue_window import DAYS_PER_MONTH, HOURS_PER_DAY
from simulator.scenario import Scenario
from simulator.theory import mmc_wait_exceeds

DEFAULT_SLA_TARGET = 0.8
MAX_STAFF_SEARCH = 1_000_000


def erlang_c_staff(arrival_per_hour: float, handle_hours: float, sla_hours: float,
                   target: float) -> int:
    """Return the least agents whose M/M/c queue answers ``target`` within ``sla_hours``.

    0 when nothing arrives.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"SLA target: {target} must be between 0 and 1 (exclusive)")
    if handle_hours <= 0 or sla_hours < 0:
        raise ValueError("handle time must be > 0 and the SLA hours >= 0")
    if arrival_per_hour <= 0:
        return 0
    mu = 1.0 / handle_hours
    a = arrival_per_hour * handle_hours
    c = max(1, math.floor(a) + 1)  # the least staff with ρ < 1
    while c <= MAX_STAFF_SEARCH:
        if 1.0 - mmc_wait_exceeds(c, arrival_per_hour, mu, sla_hours) >= target:
            return c
        c += 1
    raise ValueError(f"offered load {a:,.0f} Erlangs needs more than {MAX_STAFF_SEARCH:,} agents")


def sla_share(staff: int, arrival_per_hour: float, handle_hours: float, sla_hours: float) -> float:
    """Share answered within the SLA by ``staff`` agents (M/M/c); 0 when ρ ≥ 1 or no staff."""
    if arrival_per_hour <= 0:
        return 1.0
    if staff <= 0 or arrival_per_hour * handle_hours >= staff:
        return 0.0
    return 1.0 - mmc_wait_exceeds(staff, arrival_per_hour, 1.0 / handle_hours, sla_hours)


@dataclass(frozen=True)
class Period:
    """A stretch of the day with one staff level."""

    start_hour: float
    end_hour: float
    staff: int
    contacts_per_hour: float
    offered_erlangs: float
    utilisation: float  # a / staff; inf when closed and contacts arrive
    overloaded: bool  # ρ ≥ 1 (or closed while contacts arrive)
    staff_needed: int  # Erlang C for the SLA
    sla_share: float  # share within the SLA with today's staff (M/M/c)

    @property
    def closed(self) -> bool:
        """No staff on duty."""
        return self.staff == 0


@dataclass(frozen=True)
class PoolCapacity:
    """One pool's load against its staff."""

    pool: str
    contacts_per_hour: float
    handle_minutes: float
    offered_erlangs: float
    day_average_staff: float
    utilisation: float  # offered load / day-average staff
    overloaded: bool  # ρ ≥ 1 over the day: the backlog grows without bound
    periods: list[Period] = field(default_factory=list)
    tier_shares: dict[str, float] = field(default_factory=dict)  # customers' share per tier routed
    estimated_mix: bool = False  # tier mix estimated (several pools), not exact

    def flags(self) -> list[str]:
        """Plain-language warnings for this pool."""
        out = []
        if self.overloaded:
            out.append(f"pool {self.pool}: offered load {self.offered_erlangs:,.1f} Erlangs is "
                       f"{self.utilisation:.0%} of the day-average staff "
                       f"({self.day_average_staff:,.1f}): the queue cannot keep up")
        for p in self.periods:
            if p.overloaded and p.staff > 0:
                out.append(f"pool {self.pool}, {_hours(p.start_hour, p.end_hour)}: ρ "
                           f"{p.utilisation:.0%} with {p.staff} staff (Erlang C needs "
                           f"{p.staff_needed})")
        return out

    def to_json(self) -> dict:
        """Plain data (infinite utilisation written as null)."""
        d = asdict(self)
        for p in d["periods"]:
            if not math.isfinite(p["utilisation"]):
                p["utilisation"] = None
        if not math.isfinite(d["utilisation"]):
            d["utilisation"] = None
        return d


def _hours(a: float, b: float) -> str:
    return f"{int(a):02d}:{int(round(a % 1 * 60)):02d}–{int(b):02d}:{int(round(b % 1 * 60)):02d}"


def tier_shares(sc: Scenario) -> tuple[list[float], bool]:
    """Share of today's customers in each tier, and whether it is an estimate.

    One tier, or tiers switched off: everyone is in the entry tier (exact).
    Otherwise the gamma estimate described in the module doc.
    """
    T = len(sc.tiers)
    if T == 1 or not sc.tier_rules.enabled:
        return [1.0] + [0.0] * (T - 1), False
    from scipy.stats import gamma

    W = sc.tier_rules.window_months
    reach = [0.0] * T  # share reaching each tier's threshold or more
    for seg in sc.segments:
        shape = 1.0 / max(seg.order_rate_cv, 1e-6) ** 2
        scale = seg.orders_per_month / shape
        for i, t in enumerate(sc.tiers):
            if t.threshold_cny <= 0:
                reach[i] += seg.share
            elif seg.orders_per_month > 0:
                need_rate = t.threshold_cny / (W * seg.spend_per_order_cny)
                reach[i] += seg.share * float(gamma.sf(need_rate, shape, scale=scale))
    shares = [max(0.0, reach[i] - (reach[i + 1] if i + 1 < T else 0.0)) for i in range(T)]
    return shares, True


def contacts_per_hour(sc: Scenario) -> dict[str, float]:
    """Contacts per hour reaching each used pool (see the module doc)."""
    svc = sc.service
    deflect = svc.bot.simple_share * svc.bot.deflect_share if svc.bot.enabled else 0.0
    default = svc.default_pool or svc.pools[0].name
    per_customer = sum(s.share * s.orders_per_month
                       * (s.contacts_per_order * (1.0 - deflect) + s.complaints_per_order)
                       for s in sc.segments)
    # Several pools: the customers' tier mix splits the contacts (segments pooled).
    shares, _ = tier_shares(sc)
    out: dict[str, float] = {}
    if len(set(t.pool or default for t in sc.tiers)) == 1:
        pool = sc.tiers[0].pool or default
        out[pool] = sc.population.customers * per_customer / (DAYS_PER_MONTH * HOURS_PER_DAY)
        return out
    for t, sh in zip(sc.tiers, shares):
        p = t.pool or default
        out[p] = out.get(p, 0.0) + (sc.population.customers * per_customer * sh
                                    / (DAYS_PER_MONTH * HOURS_PER_DAY))
    return out


def _periods(shifts) -> list[tuple[float, float, int]]:
    edges = sorted({0.0, HOURS_PER_DAY} | {s.start_hour for s in shifts}
                   | {s.end_hour for s in shifts})
    out: list[tuple[float, float, int]] = []
    for a, b in zip(edges, edges[1:]):
        if b <= a:
            continue
        staff = sum(s.staff for s in shifts if s.start_hour <= a < s.end_hour)
        if out and out[-1][2] == staff:
            out[-1] = (out[-1][0], b, staff)
        else:
            out.append((a, b, staff))
    return out


def capacity_check(sc: Scenario, sla_target: float = DEFAULT_SLA_TARGET) -> list[PoolCapacity]:
    """Load against staff for every pool that receives contacts (instant; see module doc)."""
    if not 0.0 < sla_target < 1.0:
        raise ValueError(f"SLA target: {sla_target} must be between 0 and 1 (exclusive), "
                         "e.g. 0.8 for 80 % within the SLA hours")
    rates = contacts_per_hour(sc)
    shares, estimated = tier_shares(sc)
    default = sc.service.default_pool or sc.service.pools[0].name
    sla = sc.service.sla_hours
    out = []
    for pool in sc.service.pools:
        if pool.name not in rates:
            continue
        lam = rates[pool.name]
        h = pool.handle_minutes / 60.0
        a = lam * h
        staff_day = sum((s.end_hour - s.start_hour) * s.staff for s in pool.shifts) / HOURS_PER_DAY
        rho_day = a / staff_day if staff_day > 0 else (math.inf if a > 0 else 0.0)
        periods = []
        for start, end, staff in _periods(pool.shifts):
            rho = a / staff if staff > 0 else (math.inf if a > 0 else 0.0)
            periods.append(Period(start, end, staff, lam, a, rho, rho >= 1.0,
                                  erlang_c_staff(lam, h, sla, sla_target),
                                  sla_share(staff, lam, h, sla)))
        ts = {t.name: sh for t, sh in zip(sc.tiers, shares) if (t.pool or default) == pool.name}
        out.append(PoolCapacity(pool.name, lam, pool.handle_minutes, a, staff_day, rho_day,
                                rho_day >= 1.0, periods, ts,
                                estimated and len(rates) > 1))
    return out
