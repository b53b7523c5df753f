"""What one arm of one replication produces, and how a run stops early.

The monthly and service metric schemas (column order of the engine's tables),
:class:`ArmOutput` and :class:`Cancelled` live here, below the engine, so that
the engine, the runner and the result tables share them without importing each
other (layers: runner > results > engine > outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.promotions import CHANNELS
from simulator.tiers import BENEFIT_KINDS

PROMO_CHANNELS = CHANNELS[:-1]

# Monthly table: metric columns, in order.
METRICS = (
    ["active_customers", "new_customers", "churned_customers", "orders", "gross_revenue",
     "price_concessions", "net_revenue", "gross_margin", "benefit_cost"]
    + [f"benefit_cost_{k}" for k in BENEFIT_KINDS]
    + ["promotion_discount_cost", "promotion_channel_cost"]
    + [f"promotion_cost_{c}" for c in PROMO_CHANNELS]
    + ["promotion_cost", "service_cost", "acquisition_cost", "total_cost", "net_contribution",
       "contacts", "complaints", "contact_wait_hours", "waited_customers", "satisfaction_sum",
       "members_end",
       # lifecycle (docs/MODEL_NOTES.md "Customer lifecycle")
       "dormant_customers", "recall_contacts", "reactivated_customers",
       "promotion_reactivation_cost", "referrals_made", "referral_customers",
       "new_customers_paid", "negative_wom_spreaders", "new_customers_lost_wom"]
)
MI = {m: i for i, m in enumerate(METRICS)}

SERVICE_METRICS = ("contacts", "wait_mean_hours", "wait_p90_hours", "sla_attainment",
                   "utilisation", "staff_cost", "resolution_mean_hours",
                   # time-average contacts waiting (Little: = contacts/hour x mean wait),
                   # share of the month's contacts not answered within the month,
                   # contacts still waiting at the month's end (carried), 1 if overloaded
                   "queue_length_mean", "unanswered_share", "backlog_contacts", "overloaded")


# Points flows per month (ArmOutput.points_flows columns), in points, real customers.
POINTS_FLOWS = ("issued", "redeemed", "expired", "outstanding")
# Deadweight sums over the horizon by segment and tier (ArmOutput.deadweight rows): orders
# that also happen in the counterfactual arm (same customer, same month) and those that
# do not; scheme cost (benefit cost + campaign discount) on each, and in months without
# an order; price concessions on each. Zero unless the run pairs its arms.
DEADWEIGHT = ("matched_orders", "incremental_orders", "cost_matched", "cost_incremental",
              "cost_no_order", "concessions_matched", "concessions_incremental")


@dataclass
class ArmOutput:
    """Everything one arm of one replication produces (plain arrays)."""

    monthly: np.ndarray  # [H, S, T, len(METRICS)], real customers and CNY
    service: np.ndarray  # [H, P, len(SERVICE_METRICS)]
    pool_names: list[str]
    ltv_sum: np.ndarray  # [S, T] discounted contribution, CNY (tier = tier at start)
    ltv_n: np.ndarray  # [S, T] customers
    cohort_alive: np.ndarray  # [H+1, H] customers alive at start of month by join cohort
    cohort_size: np.ndarray  # [H+1]
    migration: np.ndarray  # [T, T+1] start tier -> end tier (last column: churned)
    y1: dict[str, np.ndarray] = field(default_factory=dict)  # year-1 statistics [S, T]
    windows: int = 0
    points_flows: np.ndarray = field(default_factory=lambda: np.zeros((0, len(POINTS_FLOWS))))
    deadweight: np.ndarray = field(default_factory=lambda: np.zeros((len(DEADWEIGHT), 0, 0)))
    paired: bool = False  # deadweight was recorded (arms run customer by customer)
    lifecycle: bool = False  # a lifecycle mechanism acts (its figures join the summary)


class Cancelled(Exception):
    """The run was cancelled by the caller."""
