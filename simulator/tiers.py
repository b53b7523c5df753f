"""Tier scheme: benefit cost/effect tables and the review rules.

Benefits are compiled into per-(tier, segment) multiplier tables and per-tier
cost coefficients, so the monthly step is a few array look-ups.

Effect valuation: a benefit's effect on a segment is
``effect × segment_value × sensitivity × intensity ** DIMINISHING × depth`` where
the sensitivity is the segment's price sensitivity for price benefits and its
benefits sensitivity otherwise. Cost scales linearly with ``intensity``, the
effect with diminishing returns (an assumption, stated in docs/MODEL_NOTES.md).
For a share-of-value benefit whose ``effect_at_share`` is set, ``depth`` is
``(cost_share / effect_at_share) ** DIMINISHING``: halving a 10 % discount halves
its cost and cuts its effect by ~29 % (otherwise depth is 1).
Multiple benefits combine multiplicatively.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scenario import Benefit, Effect, Scenario, Segment

DIMINISHING = 0.5  # effect ∝ intensity ** 0.5

BENEFIT_KINDS = (
    "discount", "free_shipping", "gift", "free_order_coupon", "dedicated_service",
    "recommendations", "express_logistics", "global_logistics", "home_service",
    "early_access", "points", "member_price", "other", "referral_reward",
)
KIND_INDEX = {k: i for i, k in enumerate(BENEFIT_KINDS)}


@dataclass
class EffectTable:
    """Per-(tier, segment) multipliers; index [t, s]."""

    order: np.ndarray
    spend: np.ndarray
    churn: np.ndarray
    sat_shift: np.ndarray
    complaints: np.ndarray

    @classmethod
    def neutral(cls, n_tiers: int, n_segments: int) -> "EffectTable":
        """No effect anywhere."""
        one = np.ones((n_tiers, n_segments))
        return cls(one.copy(), one.copy(), one.copy(), np.zeros_like(one), one.copy())

    def apply(self, t: int, s: int, e: Effect, weight: float) -> None:
        """Fold one effect (valued at ``weight``) into cell [t, s]."""
        self.order[t, s] *= max(0.0, 1.0 + e.order_rate * weight)
        self.spend[t, s] *= max(0.0, 1.0 + e.spend_per_order * weight)
        self.churn[t, s] *= max(0.0, 1.0 + e.churn * weight)
        self.sat_shift[t, s] += e.satisfaction * weight
        self.complaints[t, s] *= max(0.0, 1.0 + e.complaints * weight)


def valuation(b: Benefit, seg: Segment) -> float:
    """How much of a benefit's nominal effect a segment gets."""
    sens = seg.sensitivity.price if b.price_benefit else seg.sensitivity.benefits
    depth = 1.0
    if b.cost_model == "share_of_order_value" and b.effect_at_share > 0:
        depth = (b.cost_share / b.effect_at_share) ** DIMINISHING  # 5 % off does less than 10 %
    return b.segment_value.get(seg.name, 1.0) * sens * b.intensity ** DIMINISHING * depth


@dataclass
class CostTable:
    """Per-tier cost coefficients by benefit kind; index [kind, t]."""

    share: np.ndarray  # × order value
    per_order: np.ndarray  # × orders
    per_month: np.ndarray  # × member-months (fixed + expected per-use)
    per_year: np.ndarray  # × anniversaries
    price_share: np.ndarray  # [t] share of order value that is a price concession
    price_per_order: np.ndarray  # [t]
    price_per_year: np.ndarray  # [t]
    per_referral: np.ndarray  # [t] referral rewards: CNY per referred customer

    def totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per-tier totals over kinds: share, per order, per month, per year."""
        return (self.share.sum(0), self.per_order.sum(0), self.per_month.sum(0),
                self.per_year.sum(0))


def compile_benefits(sc: Scenario, enabled: bool) -> tuple[EffectTable, CostTable]:
    """Tables of benefit effects and costs (all neutral/zero when ``enabled`` is False)."""
    T, S, K = len(sc.tiers), len(sc.segments), len(BENEFIT_KINDS)
    eff = EffectTable.neutral(T, S)
    z = np.zeros((K, T))
    cost = CostTable(z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(T), np.zeros(T), np.zeros(T),
                     np.zeros(T))
    if not enabled:
        return eff, cost
    for t, tier in enumerate(sc.tiers):
        for b in tier.benefits:
            for s, seg in enumerate(sc.segments):
                eff.apply(t, s, b.effect, valuation(b, seg))
            k = KIND_INDEX[b.kind]
            amount = b.cost_cny * b.intensity
            if b.cost_model == "share_of_order_value":
                cost.share[k, t] += b.cost_share * b.intensity
                if b.price_benefit:
                    cost.price_share[t] += b.cost_share * b.intensity
            elif b.cost_model == "per_order":
                cost.per_order[k, t] += amount
                if b.price_benefit:
                    cost.price_per_order[t] += amount
            elif b.cost_model == "per_member_month":
                cost.per_month[k, t] += amount
            elif b.kind == "referral_reward":  # per use = per referred customer
                cost.per_referral[t] += amount
            elif b.cost_model == "per_use":
                cost.per_month[k, t] += amount * b.uses_per_member_month
            elif b.cost_model == "per_year":
                cost.per_year[k, t] += amount
                if b.price_benefit:
                    cost.price_per_year[t] += amount
    return eff, cost


def review_months(review: str, horizon: int) -> list[int]:
    """Months (1-based) at whose end tiers are re-evaluated."""
    step = {"monthly": 1, "quarterly": 3, "yearly": 12}[review]
    return list(range(step, horizon + 1, step))
