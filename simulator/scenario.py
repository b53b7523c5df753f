"""Validated scenario objects: every lever of the model, with units in the names.

A scenario is plain data (a TOML file on disk, see ``simulator.scenario_io``).
These pydantic models check each field's range and forbid unknown keys, so a
typo is an error rather than a silent default. Cross-field rules (names that
must exist, shares that must sum to one) live in
:func:`simulator.scenario_rules.cross_check`.

Money is in the scenario's currency (CNY unless stated), rates are per month
unless the name says otherwise, shares are fractions in [0, 1].
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

# 3: a number may be written as a range (simulator.uncertainty). A file without ranges is
# still written as version 2, so older versions of the program read it unchanged.
# 4: shared assumptions. 5: a seasonal order rate per calendar month (population.seasonality);
# a file without it is written as before (2, 3 or 4). 6: a new customer's extra order rate
# fading with tenure (population.new_customer_boost); a file without it is written as before.
SCHEMA_VERSION: Final = 6

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(min_length=1, max_length=80)]


def upto(hi: float) -> object:
    """A number from 0 to ``hi`` inclusive."""
    return Annotated[float, Field(ge=0.0, le=hi)]


def above0(hi: float) -> object:
    """A number greater than 0 and at most ``hi``."""
    return Annotated[float, Field(gt=0.0, le=hi)]


# Limits a real shop could need; beyond them the engine's numbers are meaningless or the
# run does not fit a desktop (see simulator.sizing.size_problems for the whole-scenario check).
MAX_CNY = 1e10  # any single amount of money: 10 billion CNY
MAX_SEGMENTS = 30
MAX_TIERS = 30
MAX_BENEFITS = 50  # per tier
MAX_POOLS = 20
MAX_SHIFTS = 48  # per pool
MAX_PROMOTIONS = 200
MAX_NAMES = 100  # names in a target list, keys in a mix or segment_value table
MonthName = Literal["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec"]
MONTH_NAMES: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                      "Nov", "Dec")
Sens = Annotated[float, Field(ge=0.0, le=10.0)]  # as upto(10.0), spelt for mypy


class Model(BaseModel):
    """Base: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True,
                              allow_inf_nan=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kw) -> None:
        """State each number's allowed range in its description (tooltips, docs)."""
        super().__pydantic_init_subclass__(**kw)
        from simulator.labels import allowed_text

        for name, info in cls.model_fields.items():
            rng = allowed_text(cls, name)
            if rng and "(allowed:" not in (info.description or ""):
                info.description = f"{info.description or ''} (allowed: {rng})".lstrip()


class Sensitivity(Model):
    """How strongly a segment reacts to each lever (1 = the model's reference)."""

    price: Sens = Field(1.0, description="to discounts and price benefits")
    service: Sens = Field(1.0, description="to waiting and slow resolution")
    benefits: Sens = Field(1.0, description="to non-price tier benefits")
    promotions: Sens = Field(1.0, description="to campaigns (redemption and uplift)")


class Segment(Model):
    """A customer segment: its behaviour when no scheme acts on it."""

    name: Name
    share: Share = Field(description="share of today's customers in this segment")
    orders_per_month: upto(100.0) = Field(description="mean orders per customer-month")
    order_rate_cv: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.8, description="coefficient of variation of customers' order rates (gamma)"
    )
    spend_per_order_cny: above0(1e7) = Field(
        description="mean order value, CNY"
    )
    spend_cv: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.6, description="coefficient of variation of order value (lognormal)"
    )
    gross_margin: Share = Field(description="gross margin on order value")
    churn_annual: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="baseline share of customers lost per year"
    )
    churn_heterogeneity: Annotated[float, Field(ge=0.0, le=0.95)] = Field(
        0.0, description="how unevenly churn is spread over the segment's customers: each "
        "customer's monthly churn probability is drawn once from a beta distribution with this "
        "polarisation 1/(a+b+1) (0 = every customer churns alike, the default; towards 1 = some "
        "leave almost at once, the rest stay for years). Churn per year stays the share of a "
        "new cohort lost in its first year; later years lose fewer (shifted-beta-geometric)"
    )
    coupon_use: Share = Field(0.4, description="share who use coupons when offered")
    contacts_per_order: upto(20.0) = Field(0.1, description="service contacts per order")
    complaints_per_order: upto(20.0) = Field(
        0.03, description="complaints (e.g. logistics exceptions) per order"
    )
    wait_tolerance_hours: upto(720.0) = Field(
        4.0, description="first-response wait beyond which satisfaction falls"
    )
    satisfaction_start: Share = Field(0.7, description="satisfaction score 0..1 at start")
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    # Lifecycle (docs/MODEL_NOTES.md, "Customer lifecycle"); all off by default.
    dormant_after_months: Annotated[int, Field(ge=0, le=36)] = Field(
        0, description="months without a purchase after which a customer is dormant "
        "(0 = no dormant stage)"
    )
    dormant_order_factor: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.5, description="order rate of a dormant customer relative to an active one"
    )
    dormant_churn_factor: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        2.0, description="churn hazard of a dormant customer relative to an active one"
    )
    referrals_per_month: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="new customers an active (not dormant) customer brings by referral "
        "per month at the segment's starting satisfaction; scaled by satisfaction / starting "
        "satisfaction (0 = no referrals)"
    )


class Acquisition(Model):
    """New customers per month: organic plus paid (diminishing returns)."""

    organic_per_month: upto(1e8) = Field(0.0, description="new customers per month, organic")
    paid_spend_cny_per_month: upto(MAX_CNY) = Field(0.0, description="paid acquisition spend")
    cac_cny: above0(1e6) = Field(
        300.0, description="cost per acquired customer at low spend, CNY"
    )
    saturation_cny_per_month: above0(1e12) = Field(
        1e9, description="spend at which each further yuan buys half as many customers"
    )
    mix: dict[Name, Share] = Field(
        default_factory=dict, max_length=MAX_NAMES,
        description="segment mix of new customers (default: shares)"
    )
    lost_per_negative_wom: upto(1000.0) = Field(
        0.0, description="new customers (organic and paid alike) lost the next month per "
        "customer spreading negative word of mouth (0 = none)"
    )


class Population(Model):
    """Who the shop serves."""

    customers: Annotated[int, Field(ge=1, le=2_000_000_000)] = Field(
        description="real customers today (the sample is scaled to this)"
    )
    acquisition: Acquisition = Field(default_factory=Acquisition)
    customer_file: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        None, description="the shop's actual customers as today's customers: a customer file "
        "(CSV) written by `benefit-sim fit --customers`, relative to this scenario's folder "
        "(empty: customers drawn from the segments)"
    )
    customer_file_sha256: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="content hash of the customer file, filled in when the scenario is "
        "loaded (part of the scenario's hash, so results name the customers they started from)"
    )
    seasonality: dict[MonthName, Annotated[float, Field(ge=0.05, le=20.0)]] | None = Field(
        None, max_length=12, description="order rate × per calendar month (1 = an average "
        "month; months not listed: 1); customers whose churn follows their orders (a customer "
        "file's dropout per order) also drop out that much faster (empty: no seasonality)"
    )
    first_month: MonthName | None = Field(
        None, description="calendar month of the run's month 1 (needed with seasonality)"
    )

    new_customer_boost: Annotated[float, Field(ge=0.0, le=20.0)] | None = Field(
        None, description="a new customer's extra order rate right after their first "
        "purchase (0.5 = 50 % more than their rate later), fading with tenure; customers "
        "whose churn follows their orders drop out that much faster too (empty: none)"
    )
    new_customer_boost_months: Annotated[float, Field(ge=0.01, le=120.0)] | None = Field(
        None, description="months for the new customer's extra order rate to fade to 37 % "
        "(1/e) of its start (needed with the extra rate)"
    )

    @field_validator("seasonality", mode="after")
    @classmethod
    def _no_empty_season(cls, v: dict | None) -> dict | None:
        return v or None  # no month ticked: no seasonality (the file stays as it was)
    # The customer file's bytes, attached by simulator.loader and pickled with the scenario to
    # the pool's and the cluster's workers (simulator.customer_base.for_scenario).
    _customer_data: bytes | None = PrivateAttr(default=None)
    # Where the loader keeps those bytes by hash (the cache folder), when it keeps them there
    # instead: this machine's worker processes read them from it, whatever their own settings.
    _customer_cached: str | None = PrivateAttr(default=None)


BenefitKind = Literal[
    "discount",
    "free_shipping",
    "gift",
    "free_order_coupon",
    "dedicated_service",
    "recommendations",
    "express_logistics",
    "global_logistics",
    "home_service",
    "early_access",
    "points",
    "member_price",
    "other",
    "referral_reward",
]
CostModel = Literal[
    "share_of_order_value", "per_order", "per_member_month", "per_use", "per_year"
]


class Effect(Model):
    """What a benefit or promotion does to a customer who has it (relative changes)."""

    order_rate: Annotated[float, Field(ge=-0.9, le=5.0)] = Field(
        0.0, description="relative change in orders per month (0.1 = +10 %)"
    )
    spend_per_order: Annotated[float, Field(ge=-0.9, le=5.0)] = Field(
        0.0, description="relative change in order value"
    )
    churn: Annotated[float, Field(ge=-1.0, le=5.0)] = Field(
        0.0, description="relative change in churn hazard (-0.2 = 20 % less churn)"
    )
    satisfaction: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        0.0, description="shift in the satisfaction level it settles at (0..1 scale)"
    )
    complaints: Annotated[float, Field(ge=-1.0, le=5.0)] = Field(
        0.0, description="relative change in complaints per order (logistics benefits)"
    )


class Benefit(Model):
    """One benefit of a tier: what it costs and what it does."""

    name: Name
    kind: BenefitKind
    cost_model: CostModel
    cost_cny: upto(1e6) = Field(
        0.0, description="CNY per order / member-month / use / member-year (by cost_model)"
    )
    cost_share: Share = Field(0.0, description="share of order value (share_of_order_value)")
    effect_at_share: Share = Field(
        0.0, description="with cost model 'share of order value': the depth at which the "
        "effect holds as entered; another depth scales it by the square root of "
        "(depth / this) (0 = the depth does not matter)"
    )
    uses_per_member_month: upto(1000.0) = Field(0.0, description="expected uses (per_use)")
    price_benefit: bool = Field(
        False, description="a price concession: reduces net revenue, valued by price sensitivity"
    )
    intensity: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.0, description="funding level (100 % = as specified; the budget optimiser sets it): "
        "cost scales linearly, the effect with diminishing returns (square root)"
    )
    effect: Effect = Field(default_factory=Effect)
    segment_value: dict[Name, Sens] = Field(
        default_factory=dict, max_length=MAX_NAMES,
        description="per-segment multiplier on the effect (default 1)"
    )


class Tier(Model):
    """One tier of the scheme: who qualifies and what they get."""

    name: Name
    threshold_cny: upto(1e9) = Field(
        description="rolling spend over the window to qualify, CNY")
    min_orders: Annotated[int, Field(ge=0, le=10_000)] = Field(
        0, description="orders in the window")
    service_priority: Annotated[int, Field(ge=0, le=100)] = Field(
        0, description="queue priority: higher is served first"
    )
    pool: Name | None = Field(None, description="dedicated service pool (default: shared)")
    benefits: list[Benefit] = Field(default_factory=list, max_length=MAX_BENEFITS)


class Points(Model):
    """A points programme: earn on spend, redeem for value, expire."""

    enabled: bool = False
    points_per_cny: upto(1000.0) = Field(1.0, description="points earned per CNY spent")
    point_value_cny: upto(1000.0) = Field(0.01, description="CNY a point is worth when redeemed")
    redemption_share: Share = Field(0.5, description="share of points redeemed before expiry")
    expiry_months: Annotated[int, Field(ge=1, le=60)] = Field(12, description="points lifetime")
    effect: Effect = Field(default_factory=Effect)


class TierRules(Model):
    """How customers qualify, are reviewed and move between tiers."""

    enabled: bool = True
    window_months: Annotated[int, Field(ge=1, le=12)] = Field(
        12, description="rolling window for qualifying spend"
    )
    review: Literal["monthly", "quarterly", "yearly"] = "yearly"
    upgrade: Literal["immediate", "at_review"] = "at_review"
    downgrade: Literal["immediate", "grace", "keep_task", "never"] = "immediate"
    grace_reviews: Annotated[int, Field(ge=0, le=8)] = Field(
        1, description="reviews below threshold before a downgrade (grace)"
    )
    keep_task_completion: Share = Field(
        0.78, description="share of at-risk members who complete the keep-your-tier task"
    )
    keep_task_spend_uplift: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        0.19, description="extra spend while working on the task, relative"
    )
    points: Points = Field(default_factory=Points)


class Shift(Model):
    """Staff on duty between two hours of the day."""

    start_hour: Annotated[float, Field(ge=0.0, le=24.0)]
    end_hour: Annotated[float, Field(ge=0.0, le=24.0)]
    staff: Annotated[int, Field(ge=0, le=100_000)]


class Pool(Model):
    """A customer-service staff pool (a SimPy resource at real scale)."""

    name: Name
    shifts: list[Shift] = Field(
        max_length=MAX_SHIFTS,
        description="who is on duty when; hours outside shifts are closed")
    handle_minutes: Annotated[float, Field(gt=0.0, le=24 * 60)] = Field(
        12.0, description="mean handling time per contact, minutes"
    )
    handle_distribution: Literal["exponential", "lognormal"] = "exponential"
    handle_cv: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        1.0, description="CV of handling time (lognormal only)"
    )
    cost_per_agent_hour_cny: upto(10_000.0) = Field(
        60.0, description="staff cost per paid agent-hour")
    followup_hours: upto(2160.0) = Field(
        24.0, description="back-office time after first response to resolve a complaint"
    )


class Bot(Model):
    """A chatbot that answers a share of simple contacts before they queue."""

    enabled: bool = False
    simple_share: Share = Field(0.5, description="share of contacts that are simple questions")
    deflect_share: Share = Field(0.65, description="share of simple contacts the bot resolves")
    cost_per_contact_cny: upto(10_000.0) = Field(0.5)


class Escalation(Model):
    """Route repeat complainers to a faster channel."""

    complaints_to_escalate: Annotated[int, Field(ge=0, le=50)] = Field(
        0, description="Nth complaint in the window escalates (0 = off)"
    )
    to_pool: Name | None = Field(None, description="pool that takes escalations (default: same)")
    priority: Annotated[int, Field(ge=0, le=100)] = Field(50)


class Service(Model):
    """Customer service: pools, bot, priority, escalation, SLA."""

    pools: list[Pool] = Field(min_length=1, max_length=MAX_POOLS)
    default_pool: Name | None = Field(None, description="pool for tiers without their own")
    bot: Bot = Field(default_factory=Bot)
    escalation: Escalation = Field(default_factory=Escalation)
    sla_hours: above0(720.0) = Field(4.0, description="first-response promise")
    wait_satisfaction_per_hour: upto(1.0) = Field(
        0.02, description="satisfaction lost per hour waited beyond tolerance"
    )
    slow_resolution_hours: upto(2160.0) = Field(
        24.0, description="complaint resolution time beyond which satisfaction falls"
    )
    slow_resolution_penalty: upto(1.0) = Field(
        0.1, description="satisfaction lost by a complaint resolved slowly"
    )
    churn_per_satisfaction_point: upto(50.0) = Field(
        3.0, description="log churn-hazard change per unit of satisfaction below start"
    )
    window_contacts: Annotated[int, Field(ge=200, le=200_000)] = Field(
        4000, description="contacts simulated per queue window (precision of wait estimates)"
    )
    negative_wom_share: Share = Field(
        0.0, description="share of customers with a slowly resolved complaint who spread "
        "negative word of mouth (lowers acquisition; 0 = none)"
    )


PromotionKind = Literal["percent_off", "threshold", "bundle", "coupon", "holiday", "member_day"]
Channel = Literal["email", "sms", "social_ads", "push", "none"]


class Promotion(Model):
    """A campaign in the calendar."""

    name: Name
    kind: PromotionKind
    start_month: Annotated[int, Field(ge=1, le=240)] = Field(description="first month (1-based)")
    duration_days: Annotated[float, Field(gt=0.0, le=31.0)] = 7.0
    repeat_every_months: Annotated[int, Field(ge=0, le=60)] = Field(
        0, description="0 = once; 1 = every month; 12 = every year"
    )
    discount_share: Share = Field(0.1, description="price reduction on redeemed orders")
    threshold_cny: upto(1e7) = Field(
        0.0, description="minimum order value (threshold offers)")
    target_segments: list[Name] = Field(default_factory=list, max_length=MAX_NAMES,
                                        description="empty = all")
    target_tiers: list[Name] = Field(default_factory=list, max_length=MAX_NAMES,
                                     description="empty = all")
    channel: Channel = "email"
    cost_per_contact_cny: upto(10_000.0) = Field(
        0.5, description="CNY per send / message / click")
    reach_share: Share = Field(0.5, description="share of targeted customers contacted")
    budget_cny: upto(1e12) | None = Field(
        None, description="channel budget per run of the campaign")
    redemption_share: Share = Field(0.2, description="share of reached customers who redeem")
    effect: Effect = Field(
        default_factory=lambda: Effect(order_rate=0.5),
        description="effect on redeemers during the campaign",
    )
    margin_change: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(
        0.0, description="gross-margin change on redeemed orders (bundles +0.04)"
    )
    pull_forward_share: Share = Field(
        0.3, description="share of extra orders taken from the next month (post-promo dip)"
    )
    target_lifecycle: Literal["all", "dormant", "at_risk"] = Field(
        "all", description="whom in the target segments and tiers it addresses: everyone, "
        "dormant customers (a win-back / recall campaign) or customers one month from "
        "dormancy (at risk); redeemers of a dormant or at-risk campaign are reactivated"
    )
    cost_per_reactivation_cny: upto(1e6) = Field(
        0.0, description="CNY per customer reactivated by a dormant or at-risk campaign "
        "(on top of the cost per contact)"
    )


class LeverBound(Model):
    """Bounds for one budget lever (see ``simulator.optimiser.levers``)."""

    lever: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="lever id, e.g. 'service:General' or 'acquisition'")
    min_cny: upto(MAX_CNY) = 0.0
    max_cny: upto(MAX_CNY) | None = None
    pinned: bool = False


class Budget(Model):
    """Total budget per month and bounds per lever, for the optimiser."""

    total_cny_per_month: upto(MAX_CNY) | None = Field(
        None, description="budget to split (default: today's spend on all levers)"
    )
    constraint: Literal["equal", "at_most"] = "at_most"
    objective: Literal["npv", "roi", "ltv"] = "npv"
    bounds: list[LeverBound] = Field(default_factory=list, max_length=500)


SchemeLayer = Literal["benefits", "points", "promotions", "priority_service"]


def _all_layers() -> list[SchemeLayer]:
    """Every layer of the scheme, the default set a 'scheme off' counterfactual removes."""
    return ["benefits", "points", "promotions", "priority_service"]


class Counterfactual(Model):
    """What the scenario is compared with, under common random numbers."""

    mode: Literal["scheme_off", "base_scenario", "none"] = "scheme_off"
    base_scenario: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        None, description="file of the base (mode base_scenario)")
    switch_off: list[SchemeLayer] = Field(max_length=8, default_factory=_all_layers)


class Convergence(Model):
    """Keep adding replications until the objective's 95 % CI is narrow enough."""

    enabled: bool = False
    metric: Annotated[str, Field(min_length=1, max_length=80)] = "npv"
    relative_half_width: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    max_replications: Annotated[int, Field(ge=2, le=2000)] = 200


class Uncertainty(Model):
    """How a run treats the inputs written as ranges (simulator.uncertainty)."""

    mode: Literal["sample", "nominal"] = Field(
        "sample", description="sample: each draw of replications takes its own values of the "
        "uncertain inputs (Latin hypercube); nominal: every input at its nominal value")
    replications_per_draw: Annotated[int, Field(ge=1, le=20)] = Field(
        2, description="replications sharing one draw of the uncertain inputs (2 or more "
        "splits the variance into assumptions and simulation noise)")


class RunSettings(Model):
    """How to run: horizon, sample, replications, seed, discounting."""

    horizon_months: Annotated[int, Field(ge=1, le=120)] = 36
    steps_per_month: Literal[1, 2, 4] = Field(1, description="behaviour steps per month")

    @field_validator("steps_per_month", mode="before")
    @classmethod
    def _no_bool(cls, v: object) -> object:
        if isinstance(v, bool):  # true == 1 would pass the Literal
            raise ValueError("must be one of 1, 2 or 4, not true/false")
        return v
    discount_rate_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.08
    agents: Annotated[int, Field(ge=100, le=5_000_000)] = Field(
        20_000, description="simulated customers (the sample)"
    )
    replications: Annotated[int, Field(ge=1, le=2000)] = 20
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 12345
    counterfactual: Counterfactual = Field(default_factory=Counterfactual)
    convergence: Convergence = Field(default_factory=Convergence)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)


class Scenario(Model):
    """A complete what-if: population, scheme, service, promotions, budget, run."""

    schema_version: Literal[6] = SCHEMA_VERSION
    name: Name
    description: Annotated[str, Field(max_length=20_000)] = ""
    currency: Literal["CNY"] = "CNY"
    population: Population
    segments: list[Segment] = Field(min_length=1, max_length=MAX_SEGMENTS)
    tier_rules: TierRules = Field(default_factory=TierRules)
    tiers: list[Tier] = Field(min_length=1, max_length=MAX_TIERS)
    service: Service
    promotions: list[Promotion] = Field(default_factory=list, max_length=MAX_PROMOTIONS)
    budget: Budget = Field(default_factory=Budget)
    run: RunSettings = Field(default_factory=RunSettings)
    # The inputs written as ranges, {key: simulator.uncertainty.Distribution}, the shared
    # assumptions and the fields referring to them; the fields hold their nominal values.
    # Read with simulator.uncertainty.uncertain_of / inputs_of.
    _uncertain: dict = PrivateAttr(default_factory=dict)

    # -- convenience lookups -------------------------------------------------
    def segment_index(self, name: str) -> int:
        """Position of a segment by name (KeyError if absent)."""
        return [s.name for s in self.segments].index(name)

    def tier_index(self, name: str) -> int:
        """Position of a tier by name (KeyError if absent)."""
        return [t.name for t in self.tiers].index(name)
