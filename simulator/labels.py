"""Field labels and units as the editor shows them, for messages in the planner's words.

No Qt here: the editor (``ui.fieldspec``) reads its labels and units from this
module, and validation messages (``simulator.scenario_io``) use the same ones,
so a problem reads ``Service ▸ Pool 'Human' ▸ Shift 1 ▸ Staff: -5 — must be 0
or more`` rather than ``service.pools[0].shifts[0].staff: -5 must be >= 0``.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
import types
import typing
from typing import Any, Union

import annotated_types as at
from pydantic import BaseModel

# Units by field name; (unit, scale, decimals). Scale 100 shows fractions as percent.
UNITS_BY_NAME: dict[str, tuple[str, float, int]] = {
    "customers": ("customers", 1, 0),
    "organic_per_month": ("customers/month", 1, 0),
    "paid_spend_cny_per_month": ("¥/month", 1, 0),
    "saturation_cny_per_month": ("¥/month", 1, 0),
    "total_cny_per_month": ("¥/month", 1, 0),
    "cac_cny": ("¥/customer", 1, 0),
    "orders_per_month": ("orders/month", 1, 3),
    "spend_per_order_cny": ("¥/order", 1, 0),
    "churn_annual": ("%/year", 100, 1),
    "churn_heterogeneity": ("", 1, 3),  # polarisation index 1/(a+b+1)
    "new_customer_boost": ("% more orders", 100, 1),  # 0.717: +71.7 % at tenure 0
    "new_customer_boost_months": ("months", 1, 2),
    "discount_rate_annual": ("%/year", 100, 2),
    "contacts_per_order": ("contacts/order", 1, 3),
    "complaints_per_order": ("complaints/order", 1, 3),
    "wait_tolerance_hours": ("h", 1, 1),
    "satisfaction_start": ("score 0–1", 1, 2),
    "threshold_cny": ("¥", 1, 0),
    "min_orders": ("orders", 1, 0),
    "service_priority": ("rank", 1, 0),
    "cost_cny": ("¥", 1, 2),
    "uses_per_member_month": ("uses/member-month", 1, 3),
    "intensity": ("%", 100, 1),  # funding level: 100 % = as specified
    "points_per_cny": ("points/¥", 1, 2),
    "point_value_cny": ("¥/point", 1, 4),
    "expiry_months": ("months", 1, 0),
    "window_months": ("months", 1, 0),
    "grace_reviews": ("reviews", 1, 0),
    "keep_task_spend_uplift": ("%", 100, 1),
    "start_hour": ("h of day", 1, 1),
    "end_hour": ("h of day", 1, 1),
    "staff": ("agents", 1, 0),
    "handle_minutes": ("min", 1, 1),
    "cost_per_agent_hour_cny": ("¥/agent-hour", 1, 1),
    "followup_hours": ("h", 1, 1),
    "cost_per_contact_cny": ("¥/contact", 1, 2),
    "complaints_to_escalate": ("complaints", 1, 0),
    "priority": ("rank", 1, 0),
    "sla_hours": ("h", 1, 1),
    "wait_satisfaction_per_hour": ("points/h", 1, 3),
    "slow_resolution_hours": ("h", 1, 1),
    "slow_resolution_penalty": ("points", 1, 3),
    "churn_per_satisfaction_point": ("log-hazard/point", 1, 2),
    "window_contacts": ("contacts", 1, 0),
    "start_month": ("month", 1, 0),
    "duration_days": ("days", 1, 1),
    "repeat_every_months": ("months", 1, 0),
    "budget_cny": ("¥", 1, 0),
    "margin_change": ("% pts", 100, 1),
    "min_cny": ("¥/month", 1, 0),
    "max_cny": ("¥/month", 1, 0),
    "horizon_months": ("months", 1, 0),
    "agents": ("agents", 1, 0),
    "replications": ("runs", 1, 0),
    "relative_half_width": ("%", 100, 1),
    "max_replications": ("runs", 1, 0),
    # lifecycle
    "dormant_after_months": ("months", 1, 0),
    "dormant_order_factor": ("×", 1, 2),
    "dormant_churn_factor": ("×", 1, 2),
    "referrals_per_month": ("customers/customer-month", 1, 3),
    "lost_per_negative_wom": ("customers/spreader", 1, 2),
    "cost_per_reactivation_cny": ("¥/customer", 1, 2),
}

_RELATIVE = ("order_rate", "spend_per_order", "churn", "complaints")


def unit_for(model: type[BaseModel] | None, name: str, lo: float | None, hi: float | None,
             is_int: bool) -> tuple[str, float, int]:
    """Unit, display scale and decimals for a numeric field (as the editor shows it)."""
    cls = model.__name__ if model is not None else ""
    if cls == "Effect":
        if name in _RELATIVE:
            return "% change", 100, 1
        return "points", 1, 3  # satisfaction shift on the 0..1 scale
    if cls == "Sensitivity":
        return "×", 1, 2
    if name in UNITS_BY_NAME:
        return UNITS_BY_NAME[name]
    if name.endswith("_cv"):
        return "CV", 1, 2
    if name.endswith("_hours"):
        return "h", 1, 2
    if name.endswith("_cny"):
        return "¥", 1, 2
    if lo == 0.0 and hi == 1.0 and not is_int:
        return "%", 100, 1
    return "", 1, 0 if is_int else 3


# Fields whose name is not the planner's word for them.
LABELS = {"intensity": "Funding",
          "customer_file": "Actual customers (customer file)",
          "customer_file_sha256": "Customer file hash",
          "seasonality": "Seasonal order rate (× by calendar month)",
          "first_month": "Calendar month of month 1",
          "new_customer_boost": "New customers' extra order rate (at the first purchase)",
          "new_customer_boost_months": "New customers' extra rate fades over (months)",
          "dormant_after_months": "Dormant after (months without a purchase)",
          "dormant_order_factor": "Dormant order rate (× active)",
          "dormant_churn_factor": "Dormant churn hazard (× active)",
          "referrals_per_month": "Referrals per active customer-month",
          "negative_wom_share": "Slow complainants spreading negative word of mouth",
          "lost_per_negative_wom": "New customers lost per negative word of mouth",
          "target_lifecycle": "Lifecycle target",
          "cost_per_reactivation_cny": "Cost per reactivated customer"}


def label(name: str) -> str:
    """The form's label of a field name: ``cost_per_agent_hour_cny`` -> ``Cost per agent hour``."""
    if name in LABELS:
        return LABELS[name]
    words = name.replace("_cny", "").replace("_", " ").strip()
    words = re.sub(r"\b(sla|cac|ltv|npv|roi)\b", lambda m: m.group(1).upper(), words)
    return words[:1].upper() + words[1:]


# Top-level sections as the editor's tabs name them.
SECTIONS = {
    "name": "General", "description": "General", "currency": "General",
    "schema_version": "File", "population": "Acquisition", "segments": "Segments",
    "tier_rules": "Tiers & benefits", "tiers": "Tiers & benefits", "service": "Service",
    "promotions": "Promotions", "budget": "Budget", "run": "Run settings",
}
# A list's items: how one is called ("Pool 'Human'", "Shift 2").
ITEMS = {"segments": "Segment", "tiers": "Tier", "benefits": "Benefit", "pools": "Pool",
         "shifts": "Shift", "promotions": "Promotion", "bounds": "Bound"}


# ---------------------------------------------------------------------------
# Paths and the model fields they name


def parse_path(path: str) -> tuple:
    """``"tiers[2].benefits[0].cost_cny"`` -> ``("tiers", 2, "benefits", 0, "cost_cny")``."""
    out: list = []
    for m in re.finditer(r"\[(\d+|\*)\]|([^.\[\]]+)", path):
        if m.group(1) is not None:
            out.append(int(m.group(1)) if m.group(1) != "*" else "*")
        else:
            out.append(m.group(2))
    return tuple(out)


def unwrap(tp: Any) -> tuple[Any, list]:
    """An annotation without Annotated/Optional, and the constraints found on the way."""
    meta: list = []
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            args = typing.get_args(tp)
            tp = args[0]
            for a in args[1:]:
                meta.extend(getattr(a, "metadata", [a]))
            continue
        if typing.get_origin(tp) in (Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp, meta


def bounds(meta: list) -> tuple[float | None, float | None, bool, bool]:
    """(lo, hi, lo_open, hi_open) from annotated-types constraints."""
    lo: Any = None
    hi: Any = None
    lo_open = hi_open = False
    for m in meta:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
    return lo, hi, lo_open, hi_open


def field_at(root: type[BaseModel], path: tuple) -> tuple[type[BaseModel] | None, str | None,
                                                             Any, list]:
    """The model owning the last field of ``path``, its name, its type and constraints.

    Dict keys and list indices step into the value type; (None, None, None, [])
    if the path does not name a field of the schema.
    """
    cls: Any = root
    owner: type[BaseModel] | None = None
    name: str | None = None
    tp: Any = None
    meta: list = []
    for part in path:
        if isinstance(part, str) and part != "*" and isinstance(cls, type) \
                and issubclass(cls, BaseModel) and part in cls.model_fields:
            info = cls.model_fields[part]
            owner, name = cls, part
            tp, meta = unwrap(info.annotation)
            meta = list(info.metadata) + meta
            cls = tp
        elif typing.get_origin(cls) in (list, dict):
            item = typing.get_args(cls)[-1]
            tp, more = unwrap(item)
            meta = meta + more if typing.get_origin(cls) is dict else more
            cls = tp
        else:
            return None, None, None, []
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            continue
    return owner, name, tp, meta


def display_unit(root: type[BaseModel], path: tuple) -> tuple[str, float, bool]:
    """(unit, scale, is_int) of the number at ``path`` as the form shows it."""
    return _display_unit(root, tuple(path))


@functools.lru_cache(maxsize=4096)
def _display_unit(root: type[BaseModel], path: tuple) -> tuple[str, float, bool]:
    # A function of the schema and the path only, asked for every range of every
    # scenario read (an attribution reads 256 of them): kept.
    owner, name, tp, meta = field_at(root, path)
    if name is None or tp not in (int, float):
        return "", 1.0, False
    lo, hi, _, _ = bounds(meta)
    is_int = tp is int
    if owner is not None and typing.get_origin(
            unwrap(owner.model_fields[name].annotation)[0]) is dict:
        unit, scale = ("%", 100.0) if hi == 1.0 else ("×", 1.0)
        return unit, scale, is_int
    unit, scale, _ = unit_for(owner, name, lo, hi, is_int)
    return unit, float(scale), is_int


def where(path: str | tuple, data: Any = None) -> str:
    """``service.pools[0].shifts[1].staff`` -> ``Service ▸ Pool 'Human' ▸ Shift 2 ▸ Staff``.

    ``data`` (the scenario or its dict) lets list items be named by their names.
    """
    parts = parse_path(path) if isinstance(path, str) else tuple(path)
    if not parts or parts == ("(top level)",):
        return "The scenario"
    if parts[0] in ("(file)",):
        return "File"
    out: list[str] = []
    node: Any = data
    prev: Any = None
    for i, part in enumerate(parts):
        if i == 0 and isinstance(part, str):
            sec = SECTIONS.get(part)
            if sec is not None:
                out.append(sec)
                if part in ("name", "description", "currency", "schema_version"):
                    out.append(label(part))
                elif part == "tier_rules":
                    out.append("Tier rules")
            else:
                out.append(label(part))
        elif isinstance(part, int) or part == "*":
            item = ITEMS.get(prev, "Item") if isinstance(prev, str) else "Item"
            if part == "*":
                text = f"every {item.lower()}"
            else:
                nm = _name_of(node, part)
                text = f"{item} {nm!r}" if nm else f"{item} {part + 1}"
            if i > 1 and out and out[-1] == label(prev) and prev in ITEMS:
                out[-1] = text  # "Pools ▸ Pool 'x'" reads as "Pool 'x'"
            else:
                out.append(text)
        else:
            lab = label(part)
            if not (out and out[-1] == lab):
                out.append(lab)
        node = _step(node, part)
        prev = part
    return " ▸ ".join(out)


def value_at(data: Any, path: str | tuple) -> Any:
    """The value at ``path`` in a scenario (model or dict); None where there is none."""
    node = data
    for part in parse_path(path) if isinstance(path, str) else path:
        node = _step(node, part)
        if node is None:
            return None
    return node


def shown(root: type[BaseModel], path: str | tuple, value: Any) -> str:
    """A value as the form shows it: ``8 %``, ``¥30,000/order``, ``Yes``, plain words.

    For tables of inputs (compare's "Inputs that differ"): numbers in the field's
    unit and scale, booleans Yes/No, choices in words; None (a part the scenario
    does not have) is ``—``.
    """
    parts = parse_path(path) if isinstance(path, str) else tuple(path)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        unit, scale, is_int = display_unit(root, parts)
        return value_text(value, unit, scale, is_int)
    if value in ("{}", "[]", [], {}):
        return "(none)"
    text = str(value)
    _, name, tp, _ = field_at(root, parts)
    if tp is not str and re.fullmatch(r"[a-z0-9_]+(, [a-z0-9_]+)*", text):
        text = text.replace("_", " ")  # a choice (cost model, switched-off parts)
    return text if len(text) <= 80 else text[:79] + "…"


TIP_WIDTH = 72  # characters per tooltip line: a tooltip stays far inside a 1366-px screen


def plain(text: str) -> str:
    """A schema description in plain words: no markdown, no code names.

    ``(cost_share / this) ** 0.5`` reads ``(cost share / this)^0.5``; backticks and
    ``**`` emphasis go; ``snake_case`` names read as the form's words.
    """
    s = re.sub(r"\s*\*\*\s*(-?[0-9.]+)", r"^\1", text)
    s = s.replace("`", "").replace("**", "").replace("__", "")
    s = re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b",
               lambda m: label(m.group(0)).lower(), s)
    return re.sub(r"[ \t]+", " ", s).strip()


def wrap(text: str, width: int = TIP_WIDTH) -> str:
    """Text wrapped to lines of at most ``width`` characters (its line breaks kept)."""
    return "\n".join(textwrap.fill(p, width, break_on_hyphens=False) if p.strip() else ""
                     for p in text.split("\n"))


def tip(text: str, width: int = TIP_WIDTH) -> str:
    """A description as a tooltip: plain words (:func:`plain`), wrapped (:func:`wrap`)."""
    return wrap(plain(text), width)


def _step(node: Any, part: Any) -> Any:
    try:
        if isinstance(part, int):
            return node[part]
        if isinstance(node, dict):
            return node.get(part)
        return getattr(node, part, None)
    except (IndexError, KeyError, TypeError, AttributeError):
        return None


def _name_of(node: Any, i: int) -> str | None:
    item = _step(node, i)
    nm = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
    if isinstance(nm, str) and nm:
        return nm if len(nm) <= 40 else nm[:39] + "…"
    return None


def number(x: float, is_int: bool = False) -> str:
    """A number as a planner reads it: no exponent for ordinary sizes, no trailing zeros."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int) or (is_int and float(x).is_integer()):
        return f"{int(x):,}"
    if not math.isfinite(x):
        return {math.inf: "infinity", -math.inf: "minus infinity"}.get(x, "not a number")
    if x != 0 and (abs(x) >= 1e12 or abs(x) < 1e-4):
        return f"{x:.3g}"
    s = f"{x:,.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def with_unit(text: str, unit: str) -> str:
    """``30,000`` with ``¥/order`` -> ``¥30,000/order``; with ``h`` -> ``30,000 h``."""
    if unit.startswith("¥"):
        return f"¥{text}{unit[1:]}"
    return f"{text} {unit}" if unit else text


def value_text(value: Any, unit: str = "", scale: float = 1.0, is_int: bool = False) -> str:
    """A value in the units shown (shares in %)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = number(value * scale if scale != 1 else value, is_int)
        return with_unit(text, unit) if math.isfinite(value) else text
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "…")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if value is None:
        return "(empty)"
    return str(value)[:60]


def range_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool,
               unit: str = "", scale: float = 1.0, is_int: bool = False) -> str:
    """What a bounded number may be, in the units shown: ``between 0 and 100 %``."""
    money = unit.startswith("¥")
    u = f" {unit}" if unit and not money else ""

    def n(x: float) -> str:
        return with_unit(number(x * scale, is_int), unit) if money else number(x * scale, is_int)

    if lo is not None and hi is not None:
        if not lo_open and not hi_open:
            return f"between {n(lo)} and {n(hi)}{u}"
        left = f"more than {n(lo)}" if lo_open else f"{n(lo)} or more"
        right = f"less than {n(hi)}" if hi_open else f"at most {n(hi)}"
        return f"{left} and {right}{u}"
    if lo is not None:
        return f"more than {n(lo)}{u}" if lo_open else f"{n(lo)}{u} or more"
    if hi is not None:
        return f"less than {n(hi)}{u}" if hi_open else f"at most {n(hi)}{u}"
    return ""


def allowed_text(model: type[BaseModel], name: str) -> str:
    """The allowed range of ``model.name`` as the form shows it ('' if not a bounded number)."""
    info = model.model_fields[name]
    tp, meta = unwrap(info.annotation)
    meta = list(info.metadata) + meta
    if typing.get_origin(tp) is dict:
        tp, more = unwrap(typing.get_args(tp)[1])
        lo, hi, lo_open, hi_open = bounds(more)
        unit, scale = ("%", 100.0) if hi == 1.0 else ("×", 1.0)
        return range_text(lo, hi, lo_open, hi_open, unit, scale, tp is int) if tp in (
            int, float) else ""
    if tp not in (int, float):
        return ""
    lo, hi, lo_open, hi_open = bounds(meta)
    unit, scale, _ = unit_for(model, name, lo, hi, tp is int)
    return range_text(lo, hi, lo_open, hi_open, unit, scale, tp is int)


def field_range(root: type[BaseModel], path: tuple) -> str:
    """The allowed range of the number at ``path`` below ``root`` ('' if none)."""
    owner, name, tp, meta = field_at(root, path)
    if name is None or tp not in (int, float):
        return ""
    lo, hi, lo_open, hi_open = bounds(meta)
    unit, scale, is_int = display_unit(root, path)
    return range_text(lo, hi, lo_open, hi_open, unit, scale, is_int)
