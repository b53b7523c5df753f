"""Promotion calendar: when campaigns run, whom they reach, what they cost and do.

Mechanics per active month of a campaign (active share ``f`` of the month =
duration_days / 30.44, at most 1):

* targeted = customers in the target segments and tiers;
* reached = targeted × reach_share; a ``budget_cny`` is a hard cap on the month's
  realised spend (the engine contacts the targets in the order of their reach
  draws until the next one would exceed it: ``Simulation._budget_reach``);
  the channel cost is reached × cost_per_contact;
* redeemers = reached × redemption_share × segment promotion sensitivity
  (× coupon_use / 0.5 for coupon and threshold offers);
* redeemers' orders rise by ``effect.order_rate × f`` and order value by
  ``effect.spend_per_order × f``; the share of their month's orders inside the
  campaign gets ``discount_share`` off (only orders above ``threshold_cny`` for
  threshold offers) and ``margin_change`` on margin;
* ``pull_forward_share`` of the extra orders is taken from next month (the dip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from simulator.queue_window import DAYS_PER_MONTH
from simulator.scenario import Promotion, Scenario

CHANNELS = ("email", "sms", "social_ads", "push", "none")
COUPON_REFERENCE = 0.5  # coupon_use at which coupon offers redeem at the stated share


@dataclass
class CompiledPromotion:
    """A campaign ready for the monthly step."""

    index: int
    promo: Promotion
    active_share: float  # share of the month it runs
    target: np.ndarray  # bool [T, S]
    redeem_prob: np.ndarray  # [S]
    above_threshold: np.ndarray  # [S] share of order value above the threshold
    channel: int

    def runs_in(self, month: int) -> bool:
        """Whether the campaign is on in this month (1-based)."""
        p = self.promo
        if month < p.start_month:
            return False
        if p.repeat_every_months == 0:
            return month == p.start_month
        return (month - p.start_month) % p.repeat_every_months == 0


def _share_of_value_above(threshold: float, mean: float, cv: float) -> float:
    """Share of lognormal order value on orders above a threshold."""
    if threshold <= 0:
        return 1.0
    sigma = math.sqrt(math.log1p(cv * cv)) if cv > 0 else 1e-9
    mu = math.log(mean) - sigma * sigma / 2
    # E[X; X > k] / E[X] = Φ((μ + σ² − ln k)/σ)
    return float(ndtr((mu + sigma * sigma - math.log(threshold)) / sigma))


def compile_promotions(sc: Scenario, enabled: bool) -> list[CompiledPromotion]:
    """Campaigns of the calendar (none when ``enabled`` is False)."""
    if not enabled:
        return []
    S = len(sc.segments)
    seg_names = [s.name for s in sc.segments]
    tier_names = [t.name for t in sc.tiers]
    out = []
    for i, p in enumerate(sc.promotions):
        segs = np.array([not p.target_segments or n in p.target_segments for n in seg_names])
        tiers = np.array([not p.target_tiers or n in p.target_tiers for n in tier_names])
        target = tiers[:, None] & segs[None, :]
        prob = np.empty(S)
        above = np.empty(S)
        for s, seg in enumerate(sc.segments):
            r = p.redemption_share * seg.sensitivity.promotions
            if p.kind in ("coupon", "threshold"):
                r *= seg.coupon_use / COUPON_REFERENCE
            prob[s] = min(1.0, r)
            above[s] = _share_of_value_above(p.threshold_cny, seg.spend_per_order_cny,
                                             seg.spend_cv)
        out.append(CompiledPromotion(i, p, min(1.0, p.duration_days / DAYS_PER_MONTH), target,
                                     prob, above, CHANNELS.index(p.channel)))
    return out
