"""Study scenarios built in code, shared by tests and benchmarks.

Study B's shop (three segment campaigns, tiers with benefits, service pools,
paid acquisition) as a dict or a validated Scenario at any size.
"""

from __future__ import annotations

from simulator.optimiser.levers import USD_CNY
from simulator.scenario_io import from_dict

# --------------------------------------------------------------------------- study B
# Study B's segment budget: brand-loyal 25 % (personalised email $0.80/send),
# price-sensitive 45 % (SMS $0.30/message), scenario-driven 30 % (social ads
# $1.20/click). Dollars converted at 7.2 CNY/USD (assumption). B's dollar totals
# ($62 M / $110 M / $75 M a year for 12.5 M customers) imply 3-5 contacts per
# targeted customer a month, more than one campaign run can reach, so we keep
# B's shares and channel prices and set the total at ¥1.5 per customer per month
# (assumption).
STUDY_B_SHARES = {"Brand-loyal": 0.25, "Price-sensitive": 0.45, "Scenario-driven": 0.30}

STUDY_B_CHANNEL = {"Brand-loyal": ("email", 0.80), "Price-sensitive": ("sms", 0.30),
                   "Scenario-driven": ("social_ads", 1.20)}

PROMO_CNY_PER_CUSTOMER_MONTH = 1.5


def study_b_dict(customers: int = 200_000, *, extra_levers: bool = False,
                 promo_budget_cny: float | None = None) -> dict:
    """Study B's shop as a scenario dict: three segments, one campaign per segment.

    ``extra_levers`` adds what the 10-lever benchmark moves too: three tiers with
    benefits, two service pools, a push campaign and paid acquisition.
    """
    total = promo_budget_cny if promo_budget_cny is not None else \
        PROMO_CNY_PER_CUSTOMER_MONTH * customers
    segs = [
        # B: brand-loyal 15 %, spend per order 2.3 x price-sensitive; coupon use 78 - 33 = 45 %.
        dict(name="Brand-loyal", share=0.15, orders_per_month=0.6, spend_per_order_cny=690.0,
             gross_margin=0.35, churn_annual=0.15, coupon_use=0.45,
             sensitivity={"price": 0.6, "service": 1.2, "benefits": 1.3, "promotions": 0.8}),
        # B: price-sensitive 45 %, promotion -> conversion 0.81, coupon use 78 %.
        dict(name="Price-sensitive", share=0.45, orders_per_month=0.35, spend_per_order_cny=300.0,
             gross_margin=0.25, churn_annual=0.35, coupon_use=0.78,
             sensitivity={"price": 1.4, "service": 0.8, "benefits": 0.8, "promotions": 1.3}),
        # B: scenario-driven 40 %.
        dict(name="Scenario-driven", share=0.40, orders_per_month=0.3, spend_per_order_cny=420.0,
             gross_margin=0.30, churn_annual=0.30, coupon_use=0.5,
             sensitivity={"price": 1.0, "service": 1.0, "benefits": 1.0, "promotions": 1.0}),
    ]
    for s in segs:
        s.update(contacts_per_order=0.08, complaints_per_order=0.02)
    # B: member activities 28 % participation, +37 % order value.
    kinds = {"Brand-loyal": dict(kind="coupon", discount_share=0.05, redemption_share=0.28,
                                 effect={"order_rate": 0.5, "spend_per_order": 0.37}),
             # B: bundles +27 % order value and +4 pp margin; target conversion 12 %.
             "Price-sensitive": dict(kind="bundle", discount_share=0.10, redemption_share=0.12,
                                     margin_change=0.04,
                                     effect={"order_rate": 0.6, "spend_per_order": 0.27}),
             # B: scenario recommendations +40 % conversion.
             "Scenario-driven": dict(kind="holiday", discount_share=0.08, redemption_share=0.15,
                                     effect={"order_rate": 0.4})}
    promos = []
    for seg, share in STUDY_B_SHARES.items():
        ch, usd = STUDY_B_CHANNEL[seg]
        promos.append(dict(name=f"{seg} {ch}", start_month=1, duration_days=14,
                           repeat_every_months=1, target_segments=[seg], channel=ch,
                           cost_per_contact_cny=usd * USD_CNY, reach_share=1.0,
                           budget_cny=share * total, pull_forward_share=0.3, **kinds[seg]))
    d = {
        "schema_version": 2,
        "name": "Study B segment budget plan",
        "population": {"customers": customers,
                       "acquisition": {"organic_per_month": customers * 0.01,
                                       "paid_spend_cny_per_month": 0.0}},
        "segments": segs,
        "tiers": [{"name": "Member", "threshold_cny": 0.0}],
        "service": {"sla_hours": 4.0, "window_contacts": 1000,
                    "pools": [{"name": "CS", "handle_minutes": 8.0, "cost_per_agent_hour_cny": 50.0,
                               "shifts": [{"start_hour": 8, "end_hour": 22,
                                           "staff": max(2, customers // 20_000)}]}]},
        "promotions": promos,
        # Total budget: today's spend on all levers (the promotions' total plus the pinned staff).
        "budget": {"constraint": "equal", "objective": "npv",
                   "bounds": [{"lever": "service:CS", "pinned": True},
                              {"lever": "acquisition", "pinned": True}]},
        "run": {"horizon_months": 24, "agents": 4000, "replications": 2, "seed": 2026},
    }
    if extra_levers:
        d["tiers"] = [
            {"name": "Member", "threshold_cny": 0.0, "benefits": [
                {"name": "Member price", "kind": "member_price",
                 "cost_model": "share_of_order_value", "cost_share": 0.02, "price_benefit": True,
                 "effect": {"order_rate": 0.03, "churn": -0.03}}]},
            {"name": "Gold", "threshold_cny": 2000.0, "benefits": [
                {"name": "Free shipping", "kind": "free_shipping", "cost_model": "per_order",
                 "cost_cny": 12.0, "effect": {"order_rate": 0.06, "churn": -0.05}}]},
            {"name": "Platinum", "threshold_cny": 6000.0, "service_priority": 10,
             "pool": "VIP", "benefits": [
                 {"name": "Birthday gift", "kind": "gift", "cost_model": "per_member_month",
                  "cost_cny": 15.0, "effect": {"churn": -0.1, "satisfaction": 0.03}}]},
        ]
        d["tier_rules"] = {"review": "quarterly", "window_months": 12}
        d["service"]["pools"].append({"name": "VIP", "handle_minutes": 12.0,
                                      "cost_per_agent_hour_cny": 80.0,
                                      "shifts": [{"start_hour": 8, "end_hour": 22,
                                                  "staff": max(1, customers // 100_000)}]})
        d["promotions"].append(dict(name="All push", kind="member_day", start_month=2,
                                    duration_days=1, repeat_every_months=1, channel="push",
                                    cost_per_contact_cny=0.02, reach_share=0.6,
                                    redemption_share=0.05, effect={"order_rate": 0.3}))
        d["population"]["acquisition"].update(paid_spend_cny_per_month=customers * 0.5,
                                              cac_cny=120.0,
                                              saturation_cny_per_month=customers * 2.0)
        d["budget"] = {"constraint": "at_most", "objective": "npv",
                       "bounds": [{"lever": "service:CS", "min_cny": 0.0}]}
    return d


def study_b_scenario(customers: int = 200_000, **kw):
    """Study B as a validated Scenario."""
    return from_dict(study_b_dict(customers, **kw))
