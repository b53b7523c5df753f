"""Scenarios built in code for engine tests and benchmarks."""

from __future__ import annotations

import scenarios
from simulator.scenario_io import from_dict, to_dict


def all_features_scenario():
    """The default scenario with every feature switched on."""
    d = to_dict(scenarios.load_default())
    d["tier_rules"].update(review="quarterly", upgrade="immediate", downgrade="keep_task")
    d["tier_rules"]["points"] = {"enabled": True, "points_per_cny": 1.0,
                                 "point_value_cny": 0.01, "redemption_share": 0.6,
                                 "expiry_months": 12, "effect": {"order_rate": 0.02}}
    d["service"]["bot"] = {"enabled": True, "simple_share": 0.5, "deflect_share": 0.65}
    d["service"]["pools"].append({"name": "VIP", "handle_minutes": 15.0,
                                  "cost_per_agent_hour_cny": 90.0, "followup_hours": 4.0,
                                  "shifts": [{"start_hour": 8, "end_hour": 22, "staff": 6}]})
    d["service"]["escalation"] = {"complaints_to_escalate": 3, "to_pool": "VIP", "priority": 50}
    d["tiers"][-1]["pool"] = "VIP"
    d["tiers"][-1]["service_priority"] = 10
    d["promotions"].append({"name": "Member day", "kind": "member_day", "start_month": 1,
                            "duration_days": 4, "repeat_every_months": 1,
                            "discount_share": 0.05, "channel": "push",
                            "cost_per_contact_cny": 0.02, "reach_share": 0.9,
                            "target_tiers": [t["name"] for t in d["tiers"][1:]]})
    return from_dict(d)
