"""Issue 14: live capacity check, tornado, goal seek and break-even."""

import copy
import json

import pytest

from simulator.capacity import capacity_check, erlang_c_staff, sla_share
from simulator.scenario_io import from_dict
from simulator.service import DAYS_PER_MONTH
from tests.conftest import simple_dict


# ---------------------------------------------------------------- capacity (item 5)
def test_erlang_c_staffing_textbook():
    # The standard worked example (callcentrehelper.com, "Erlang C formula made simple"):
    # 100 calls per 30 min, 180 s handle time (A = 10 Erlangs), 80 % answered in 20 s.
    # P(wait) with 11 agents is 68.2 %; 13 agents answer 79.6 %, 14 agents 88.8 % -> 14.
    lam, h, t = 200.0, 180 / 3600, 20 / 3600
    assert erlang_c_staff(lam, h, t, 0.8) == 14
    assert sla_share(13, lam, h, t) == pytest.approx(0.7956, abs=5e-4)
    assert sla_share(14, lam, h, t) == pytest.approx(0.8884, abs=5e-4)
    # Any positive SLA with a wait of 0 allowed: the least c with C(c, a) <= 1 - target.
    assert erlang_c_staff(1.0 / 1.0, 1.0, 0.0, 0.5) == 2  # C(2, 1) = 1/3, C(1, 1) = 1
    assert erlang_c_staff(0.0, 0.2, 1.0, 0.8) == 0
    with pytest.raises(ValueError, match="SLA target"):
        erlang_c_staff(10.0, 0.1, 1.0, 1.5)


def _svc_scenario(staff_day=5, staff_night=1, orders=1.0, cpo=0.3, cmp=0.1, bot=False):
    d = simple_dict()
    d["segments"][0].update(orders_per_month=orders, contacts_per_order=cpo,
                            complaints_per_order=cmp)
    d["service"] = {"pools": [{"name": "CS", "handle_minutes": 30.0, "shifts": [
        {"start_hour": 0, "end_hour": 24, "staff": staff_night},
        {"start_hour": 8, "end_hour": 20, "staff": staff_day - staff_night}]}],
        "sla_hours": 1.0}
    if bot:
        d["service"]["bot"] = {"enabled": True, "simple_share": 0.5, "deflect_share": 0.4}
    return from_dict(d)


def test_capacity_load_rho_and_flags():
    sc = _svc_scenario()
    (pool,) = capacity_check(sc, 0.8)
    lam = 10000 * 1.0 * (0.3 + 0.1) / (DAYS_PER_MONTH * 24)
    assert pool.contacts_per_hour == pytest.approx(lam)
    assert pool.offered_erlangs == pytest.approx(lam * 0.5)
    # Overlapping shifts add up: night 1 agent, day 5 agents.
    assert [(p.start_hour, p.end_hour, p.staff) for p in pool.periods] == \
        [(0.0, 8.0, 1), (8.0, 20.0, 5), (20.0, 24.0, 1)]
    a = lam * 0.5  # ≈ 2.74 Erlangs
    night, day, _ = pool.periods
    assert night.utilisation == pytest.approx(a) and night.overloaded
    assert day.utilisation == pytest.approx(a / 5) and not day.overloaded
    assert day.staff_needed == erlang_c_staff(lam, 0.5, 1.0, 0.8)
    assert pool.day_average_staff == pytest.approx((24 * 1 + 12 * 4) / 24)
    assert pool.utilisation == pytest.approx(a / 3.0) and not pool.overloaded
    assert any("cannot keep up" not in f and "ρ" in f for f in pool.flags())
    # Bot deflection removes simple contacts only.
    (pb,) = capacity_check(_svc_scenario(bot=True))
    assert pb.contacts_per_hour == pytest.approx(
        10000 * 1.0 * (0.3 * (1 - 0.2) + 0.1) / (DAYS_PER_MONTH * 24))
    # Too few staff over the day: the pool is flagged.
    (po,) = capacity_check(_svc_scenario(staff_day=2, staff_night=1, orders=4.0))
    assert po.overloaded and "cannot keep up" in po.flags()[0]


def test_capacity_matches_the_engine_load():
    """The theory's contacts per hour equals what the engine's queue receives (month 1)."""
    from simulator.runner import run

    sc = _svc_scenario(staff_day=8, staff_night=4)
    (pool,) = capacity_check(sc)
    res = run(sc, replications=2, agents=4000, horizon_months=1, workers=1)
    svc = res.service
    col = "contacts" if "contacts" in svc.columns else None
    assert col, svc.columns
    per_hour = svc[svc["arm"] == "scenario"][col].mean() / (DAYS_PER_MONTH * 24)
    assert per_hour == pytest.approx(pool.contacts_per_hour, rel=0.05)


def test_capacity_cli(tmp_path):
    from simulator.cli import main

    out = tmp_path / "cap.json"
    assert main(["capacity", "xinghe_today", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["pools"][0]["periods"] and d["sla_target"] == 0.8
    with pytest.raises(SystemExit) as e:
        main(["capacity", "xinghe_today", "--sla-target", "1.5"])
    assert e.value.code == 2
