"""Issue 14: live capacity check, tornado, goal seek and break-even."""

import json

import pytest

from simulator.capacity import capacity_check, erlang_c_staff, sla_share
from simulator.scenario_io import from_dict
from simulator.sensitivity import (
    Unreachable,
    break_even,
    get_value,
    goal_seek,
    scale_effects,
    tornado,
    with_value,
)
from simulator.service import DAYS_PER_MONTH
from simulator.theory import monthly_rate
from tests.conftest import simple_dict
from tests.support.arms import record_pairings


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


# ---------------------------------------------------------------- tornado, goal seek, break-even


def _benefit_scenario(cost=2.0, order_effect=0.1, agents=4000):
    d = simple_dict()
    d["segments"][0].update(churn_annual=0.0)
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [{
        "name": "Club fee", "kind": "other", "cost_model": "per_member_month",
        "cost_cny": cost, "effect": {"order_rate": order_effect}}]}]
    d["run"].update(agents=agents, replications=4)
    return from_dict(d)


def _disc_sum(sc):
    i = monthly_rate(sc.run.discount_rate_annual)
    return sum((1 + i) ** -m for m in range(1, sc.run.horizon_months + 1))


def test_paths_read_and_write():
    sc = _benefit_scenario()
    assert get_value(sc, "tiers[Member].benefits[0].cost_cny") == 2.0
    assert get_value(sc, "service.pools[CS].shifts[0].staff") == 5
    sc2 = with_value(sc, "service.pools[0].shifts[0].staff", 7.6)
    assert sc2.service.pools[0].shifts[0].staff == 8  # whole number: rounded
    with pytest.raises(ValueError, match="no item named 'Gold'"):
        get_value(sc, "tiers[Gold].threshold_cny")
    with pytest.raises(ValueError, match="not a field"):
        get_value(sc, "segments[0].churn")
    from simulator.scenario_io import ScenarioError

    with pytest.raises(ScenarioError, match="churn_annual|Churn"):
        with_value(sc, "segments[0].churn_annual", 1.5)  # outside its range: named


def test_tornado_linear_cost_gives_slope_times_range():
    """NPV is linear in a per-member-month cost that changes no behaviour: the bar is
    slope × range exactly (common random numbers: same customers in every run)."""
    sc = _benefit_scenario(order_effect=0.0)
    path = "tiers[0].benefits[0].cost_cny"
    seen = []
    t = tornado(sc, "npv", [path, "segments[0].gross_margin"], swing=0.2,
                progress=lambda d, n: seen.append((d, n)))
    bar = next(b for b in t.bars if b.input == path)
    assert (bar.low, bar.high) == pytest.approx((1.6, 2.4))
    slope = -sc.population.customers * _disc_sum(sc)  # NPV per CNY of monthly fee
    assert bar.swing.mean == pytest.approx(slope * 0.8, rel=1e-6)
    assert bar.swing.ci95_high - bar.swing.ci95_low == pytest.approx(0.0, abs=1e-3 * abs(slope))
    assert bar.delta_low.mean == pytest.approx(-slope * 0.4, rel=1e-6)
    # ranked by |swing|; progress counts replications over all 5 runs
    assert abs(t.bars[0].swing.mean) >= abs(t.bars[1].swing.mean)
    assert seen[-1] == (5 * 4, 5 * 4)


def test_tornado_levers_default_and_cancel():
    import threading

    from simulator.runner import Cancelled

    sc = _benefit_scenario()
    t = tornado(sc, "npv", replications=2, agents=1000)
    # every lever: the tier's benefits swing; acquisition (no spend today) is skipped
    assert "benefits:Member" in {b.input for b in t.bars}
    assert any(s.startswith("acquisition") for s in t.skipped)
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        tornado(sc, "npv", cancel=ev, replications=2, agents=1000)


def test_break_even_equals_closed_form():
    """Fee c per member-month, order-rate effect e: extra margin per member-month is
    k·e·orders·spend·margin, so NPV(k) = 0 at k* = c / (e·orders·spend·margin) = 2/3."""
    sc = _benefit_scenario(cost=2.0, order_effect=0.1, agents=20000)
    k_star = 2.0 / (0.1 * 0.5 * 200.0 * 0.3)
    s = break_even(sc)
    lo, hi = s.interval
    assert lo <= k_star <= hi, (s.value, s.interval)
    assert s.value == pytest.approx(k_star, rel=0.05)
    assert abs(s.kpi_at_value.mean) < 0.01 * 2.0 * sc.population.customers * _disc_sum(sc)
    # scale_effects scales every effect; an effect that would need k* = 66.7 > 10: unreachable
    assert scale_effects(sc, 0.5).tiers[0].benefits[0].effect.order_rate == pytest.approx(0.05)
    with pytest.raises(Unreachable, match="NPV does not reach 0 for k from 0 to 10: it is −¥"):
        break_even(_benefit_scenario(cost=2.0, order_effect=0.001), replications=2, agents=1000)


def _queue_scenario(staff=4):
    d = simple_dict()
    d["segments"][0].update(churn_annual=0.0, contacts_per_order=1.0, complaints_per_order=0.0,
                            sensitivity={"service": 0.0})
    d["service"] = {"pools": [{"name": "CS", "handle_minutes": 60.0, "cost_per_agent_hour_cny": 0,
                               "shifts": [{"start_hour": 0, "end_hour": 24, "staff": staff}]}],
                    "sla_hours": 0.25, "churn_per_satisfaction_point": 0.0}
    d["run"].update(horizon_months=3, replications=4)
    return from_dict(d)


def test_goal_seek_staffing_reproduces_erlang_c():
    """Behaviour off (no churn, no reaction to waits): the staff goal seek finds for 85 %
    within 15 min equals Erlang C's (10 agents: 9 answer 79.6 %, 10 answer 91.0 %)."""
    sc = _queue_scenario()
    (pool,) = capacity_check(sc)
    need = erlang_c_staff(pool.contacts_per_hour, 1.0, 0.25, 0.85)
    assert need == 10
    s = goal_seek(sc, "service.pools[0].shifts[0].staff", "sla", 0.85, low=7, high=16)
    assert s.whole_number and s.value == need
    assert s.kpi_at_value.mean >= 0.85
    with pytest.raises(Unreachable, match="not reached between 1 and 5"):
        goal_seek(sc, "service.pools[0].shifts[0].staff", "sla", 0.85, low=1, high=5,
                  replications=2)


def test_sensitivity_cli(tmp_path):
    from simulator.cli import main
    from simulator.scenario_io import save

    f = tmp_path / "s.toml"
    save(_benefit_scenario(order_effect=0.0), f)
    out = tmp_path / "t.json"
    assert main(["sensitivity", str(f), "--inputs", "tiers[0].benefits[0].cost_cny",
                 "-r", "2", "-n", "1000", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["bars"][0]["input"] == "tiers[0].benefits[0].cost_cny" and d["kpi"] == "npv"
    assert main(["breakeven", str(f), "-r", "2", "-n", "1000", "--json", str(out)]) == 1
    assert json.loads(out.read_text())["reachable"] is False
    assert main(["goalseek", str(f), "--input", "nope.x", "--kpi", "npv", "--target", "0"]) == 2


def test_tornado_over_uncertain_inputs_swings_their_ranges_linear_known_answer():
    """Inputs written as ranges are the default inputs, each swung over its range with the
    others at their nominal values; linear fee: bar = slope × (high − low). Spider data at
    5 points lies on the same line."""
    d = simple_dict()
    d["segments"][0].update(churn_annual=0.0, gross_margin={"low": 0.25, "high": 0.35})
    d["tiers"] = [{"name": "Member", "threshold_cny": 0.0, "benefits": [{
        "name": "Club fee", "kind": "other", "cost_model": "per_member_month",
        "cost_cny": {"low": 1.0, "mode": 2.0, "high": 4.0}}]}]
    d["run"].update(agents=2000, replications=2)
    sc = from_dict(d)
    t = tornado(sc, "npv", spider_points=5)
    assert {b.input for b in t.bars} == {"tiers[Member].benefits[Club fee].cost_cny",
                                         "segments[All].gross_margin"}
    bar = next(b for b in t.bars if b.input.endswith("cost_cny"))
    assert (bar.low, bar.centre, bar.high) == (1.0, 2.0, 4.0)
    assert bar.label == "Tiers & benefits ▸ Tier 'Member' ▸ Benefit 'Club fee' ▸ Cost"
    assert bar.range_text.startswith("triangular ¥1")
    slope = -sc.population.customers * _disc_sum(sc)
    assert bar.swing.mean == pytest.approx(slope * 3.0, rel=1e-6)
    xs = [p["x"] for p in bar.spider]
    assert xs == [1.0, 1.75, 2.0, 2.5, 3.25, 4.0]  # 5 even points and the centre
    for p in bar.spider:
        assert p["delta"] == pytest.approx(slope * (p["x"] - 2.0), rel=1e-6, abs=1e-6)
    # the centre, per input its ends and interior points; the margin's middle is the centre
    assert t.meta["runs"] == 1 + (2 + 3) + (2 + 2)


def test_tornado_runs_its_arms_unpaired_with_the_same_bars(monkeypatch):
    # the sweeps' KPIs need no deadweight: no orders recorded and read customer by customer
    import numpy as np

    from simulator.runner import run

    modes = record_pairings(monkeypatch)
    sc = _benefit_scenario()
    t = tornado(sc, "npv", ["tiers[0].benefits[0].cost_cny"], replications=2, agents=500)
    assert modes and set(modes) == {None}
    nominal = run(sc, replications=2, agents=500, assumptions="nominal").kpis["npv"]
    assert "record" in modes  # a plain run still pairs its arms (deadweight)
    assert t.centre.mean == np.mean(nominal.to_numpy(dtype=float))
