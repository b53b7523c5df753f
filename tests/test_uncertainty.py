"""Uncertain inputs: ranges in the file, validation, saving, Latin hypercube, CRN, the split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator import scenario_io as io
from simulator import uncertainty as u
from simulator.library import shipped_path
from simulator.runner import run
from tests.conftest import simple_dict

CHURN = ("segments", u.Item("All"), "churn_annual")
ORDERS = ("segments", u.Item("All"), "orders_per_month")


def ranged(**seg) -> dict:
    d = simple_dict()
    d["segments"][0].update(seg)
    return d


def problems_of(d: dict) -> list[str]:
    with pytest.raises(io.ScenarioError) as e:
        io.from_dict(d)
    return [str(i) for i in e.value.issues]


# ------------------------------------------------------------------ the file
def test_each_form_reads_and_the_field_holds_its_nominal_value():
    sc = io.from_dict(ranged(
        churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35},
        orders_per_month={"low": 0.4, "high": 0.7},
        spend_per_order_cny={"mean": 200, "sd": 20, "low": 150},
        contacts_per_order={"dist": "lognormal", "mean": 0.1, "sd": 0.05}))
    s = sc.segments[0]
    assert (s.churn_annual, s.orders_per_month, s.spend_per_order_cny, s.contacts_per_order) \
        == (0.2, pytest.approx(0.55), 200.0, 0.1)
    kinds = {k[-1]: d.kind for k, d in u.uncertain_of(sc).items()}
    assert kinds == {"churn_annual": "triangular", "orders_per_month": "uniform",
                     "spend_per_order_cny": "normal", "contacts_per_order": "lognormal"}
    normal = u.uncertain_of(sc)[("segments", u.Item("All"), "spend_per_order_cny")]
    assert normal.lo == 150 and normal.hi == 1e7  # stated low, the field's own high


def test_plain_numbers_stay_plain_and_old_files_write_as_before():
    sc = io.from_dict(simple_dict())  # a version-2 file
    assert not u.uncertain_of(sc)
    text = io.dumps(sc)
    assert "schema_version = 2" in text and "uncertainty" not in text
    assert io.to_dict(sc)["schema_version"] == 2


def test_shipped_ranges_are_centred_on_the_numbers_they_replace():
    sc = io.load(shipped_path("xinghe_today"))
    inputs = u.inputs_of(sc)
    assert len(inputs) >= 15 and sum(len(i.targets) for i in inputs.values()) >= 27
    for i in inputs.values():
        for key, scale in i.targets:
            path = u.resolve(sc, key)
            assert path is not None
            assert u._value_at(sc, path) == scale * i.dist.nominal
    # an effect of a benefit carried over to higher tiers is one shared assumption
    free = inputs[("assumptions", "free_shipping_order_rate")]
    assert [k[1].name for k, _ in free.targets] == ["Bronze", "Silver", "Gold", "Diamond"]


def test_save_keeps_ranges_round_trip(tmp_path):
    sc = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35},
                             spend_per_order_cny={"dist": "lognormal", "mean": 200, "sd": 30,
                                                  "low": 100, "high": 400}))
    f = tmp_path / "r.toml"
    io.save(sc, f)
    text = f.read_text()
    assert "schema_version = 3" in text
    assert "churn_annual = { low = 0.1, mode = 0.2, high = 0.35 }\n" in text  # inline
    assert 'dist = "lognormal"' in text
    back = io.load(f)
    assert u.uncertain_of(back) == u.uncertain_of(sc)
    assert io.scenario_hash(back) == io.scenario_hash(sc)
    assert io.dumps(back) == io.dumps(sc)


def test_the_hash_sees_the_ranges():
    a = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35}))
    b = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.30}))
    c = io.from_dict(ranged(churn_annual=0.2))
    assert len({io.scenario_hash(a), io.scenario_hash(b), io.scenario_hash(c)}) == 3
    assert u.distributions_hash(a) != u.distributions_hash(b)
    assert u.distributions_hash(c) is None


@pytest.mark.parametrize("table, words", [
    ({"low": 0.3, "mode": 0.2, "high": 0.1}, "low 30 %/year is above high 10 %/year"),
    ({"low": 0.1, "mode": 0.5, "high": 0.3}, "most likely value (mode) 50 %/year must lie "
     "between low 10 %/year and high 30 %/year"),
    ({"low": -0.1, "mode": 0.2, "high": 0.3}, "low -10 %/year is outside what the field allows "
     "(0 or more and less than 100 %/year)"),
    ({"mean": 0.2, "sd": 0}, "sd 0 %/year must be above 0"),
    ({"mean": 0.2, "sd": 0.1, "low": 0.25}, "mean 20 %/year must lie between low 25 %/year"),
    ({"low": 0.1, "top": 0.3}, "'top' is not a known key"),
    ({"dist": "beta", "low": 0.1, "high": 0.3}, "dist 'beta' must be one of"),
    ({"low": 0.1, "mode": "x", "high": 0.3}, "mode must be a finite number"),
    ({"low": 0.1}, "high is required"),
])
def test_a_bad_range_names_the_field_as_the_form_does(table, words):
    found = problems_of(ranged(churn_annual=table))
    assert len(found) >= 1
    assert all(p.startswith("Segments ▸ Segment 'All' ▸ Churn annual — range") for p in found)
    assert any(words in p for p in found), found


def test_negative_where_the_field_is_non_negative():
    found = problems_of(ranged(orders_per_month={"low": -0.2, "high": 0.5}))
    assert found == ["Segments ▸ Segment 'All' ▸ Orders per month — range: low -0.2 orders/month "
                     "is outside what the field allows (between 0 and 100 orders/month)"]


@pytest.mark.parametrize("where, why", [
    (("segments", 0, "share"), "segment shares must add up to 100 %"),
    (("run", "agents"), "run settings and budget bounds are choices"),
])
def test_fields_that_cannot_be_ranges(where, why):
    d = simple_dict()
    node = d
    for p in where[:-1]:
        node = node[p]
    node[where[-1]] = {"low": 0.5, "high": 1.0}
    found = problems_of(d)
    assert len(found) == 1 and "cannot be a range: " + why in found[0], found


def test_an_edit_of_the_number_in_the_form_is_a_problem_until_the_range_follows():
    sc = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35}))
    sc.segments[0].churn_annual = 0.25  # as the editor assigns
    found = [str(i) for i in io.check(sc)]
    assert found and found[0].startswith("Segments ▸ Segment 'All' ▸ Churn annual: 25 %/year — "
                                         "differs from the nominal value of its range")


def test_a_renamed_item_keeps_its_range_a_removed_one_is_a_problem():
    d = ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35})
    sc = io.from_dict(d)
    sc.segments[0].name = "Everyone"  # renamed in the form: the range follows the item
    assert not io.check(sc)
    assert "low = 0.1" in io.dumps(sc)
    assert u.uncertain_of(io.loads(io.dumps(sc)))[("segments", u.Item("Everyone"),
                                                    "churn_annual")].mode == 0.2
    d["tiers"][0]["benefits"] = [{"name": "Gift", "kind": "gift", "cost_model": "per_use",
                                  "cost_cny": {"low": 1, "mode": 2, "high": 3}}]
    sc = io.from_dict(d)
    sc.tiers[0].benefits = []  # removed in the form
    found = [str(i) for i in io.check(sc)]
    assert any("the item it belongs to is gone" in f for f in found), found


# ------------------------------------------------------------------ Latin hypercube
def test_lhs_has_one_draw_in_each_stratum_and_is_reproducible():
    n = 50
    col = u.lhs_column(123, CHURN, n)
    assert sorted(np.floor(col * n).astype(int)) == list(range(n))
    assert np.array_equal(col, u.lhs_column(123, CHURN, n))
    assert not np.array_equal(col, u.lhs_column(124, CHURN, n))
    assert not np.array_equal(col, u.lhs_column(123, ORDERS, n))


@pytest.mark.parametrize("table", [
    {"low": 0.1, "mode": 0.2, "high": 0.5},
    {"low": 0.1, "high": 0.5},
    {"mean": 0.25, "sd": 0.08, "low": 0.1, "high": 0.45},
    {"dist": "lognormal", "mean": 0.25, "sd": 0.1},
])
def test_lhs_margins_match_their_distributions_ks(table):
    sc = io.from_dict(ranged(churn_annual=table))
    dist = u.uncertain_of(sc)[CHURN]
    plan = u.plan_for(sc, sc, seed=5, replications=400, per_draw=1)
    x = np.array([plan.values(r)[CHURN] for r in range(400)])
    assert x.min() >= dist.lo and x.max() <= dist.hi
    p = stats.kstest(x, dist.cdf).pvalue
    assert p > 0.2, p  # stratified: closer to the distribution than a random sample
    # and a plain random sample of the same size from ppf(U) passes too (the cdf is right)
    y = dist.ppf(np.random.default_rng(1).random(4000))
    assert stats.kstest(y, dist.cdf).pvalue > 0.001


def test_triangular_moments():
    d = u.Distribution("triangular", 1.0, 4.0, mode=2.0, stated=("high", "low", "mode"))
    x = d.ppf((np.arange(100000) + 0.5) / 100000)
    assert x.mean() == pytest.approx((1 + 2 + 4) / 3, rel=1e-4)


def test_replications_share_draws_and_arms_share_values():
    sc = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35}))
    plan = u.plan_for(sc, sc, seed=9, replications=6, per_draw=2)
    assert len(plan.u) == 3
    v = [plan.values(r)[CHURN] for r in range(6)]
    assert v[0] == v[1] and v[2] == v[3] and v[4] == v[5] and len({v[0], v[2], v[4]}) == 3
    a, b = plan.arms(sc, sc, 2)
    assert a is b and a.segments[0].churn_annual == v[2]
    assert sc.segments[0].churn_annual == 0.2  # the scenario itself is not changed


def test_a_base_scenario_gets_the_same_quantile():
    sc = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35},
                             orders_per_month={"low": 0.4, "high": 0.6}))
    own = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.5}))
    plain_same = io.from_dict(ranged(churn_annual=0.2, orders_per_month=0.5))
    plain_other = io.from_dict(ranged(churn_annual=0.3, orders_per_month=0.7))
    for rep in range(4):
        p = u.plan_for(sc, own, 3, 4, 1)
        a, b = p.arms(sc, own, rep)
        q = u.uncertain_of(sc)[CHURN].cdf(a.segments[0].churn_annual)
        q2 = u.uncertain_of(own)[CHURN].cdf(b.segments[0].churn_annual)
        assert q == pytest.approx(q2, abs=1e-9)  # same quantile, each arm's own range
        assert b.segments[0].orders_per_month == a.segments[0].orders_per_month  # borrowed
        a, b = u.plan_for(sc, plain_same, 3, 4, 1).arms(sc, plain_same, rep)
        assert (b.segments[0].churn_annual, b.segments[0].orders_per_month) == \
            (a.segments[0].churn_annual, a.segments[0].orders_per_month)
        a, b = u.plan_for(sc, plain_other, 3, 4, 1).arms(sc, plain_other, rep)
        assert (b.segments[0].churn_annual, b.segments[0].orders_per_month) == (0.3, 0.7)


# ------------------------------------------------------------------ runs
SAMPLE = dict(replications=4, agents=600, horizon_months=4)


def test_nominal_run_gives_exactly_the_plain_numbers():
    plain = io.from_dict(ranged())
    sc = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35}))
    a = run(plain, workers=1, **SAMPLE)
    b = run(sc, workers=1, assumptions="nominal", **SAMPLE)
    assert np.array_equal(a.kpis.to_numpy(), b.kpis.to_numpy(), equal_nan=True)
    assert "uncertainty" not in a.meta and b.meta["uncertainty"]["mode"] == "nominal"


def test_sampled_run_is_reproducible_on_any_worker_count_and_records_its_inputs():
    sc = io.from_dict(ranged(churn_annual={"low": 0.05, "mode": 0.2, "high": 0.6},
                             orders_per_month={"low": 0.3, "high": 0.9}))
    a = run(sc, workers=1, **SAMPLE)
    b = run(sc, workers=2, **SAMPLE)
    assert np.array_equal(a.kpis.to_numpy(), b.kpis.to_numpy(), equal_nan=True)
    plain = run(io.from_dict(ranged()), workers=1, **SAMPLE)
    assert not np.array_equal(a.kpis["revenue"].to_numpy(), plain.kpis["revenue"].to_numpy())
    m = a.meta["uncertainty"]
    assert m["mode"] == "sample" and m["draws"] == 2 and m["replications_per_draw"] == 2
    assert m["inputs_hash"] == u.distributions_hash(sc)
    assert [i["input"] for i in m["inputs"]] == ["segments[All].churn_annual",
                                                 "segments[All].orders_per_month"]
    assert len(m["drawn"]["values"]) == 4


# ------------------------------------------------------------------ the split
def test_variance_split_hand_case():
    # 3 draws × 2 replications: draw means 1, 3, 5; within-draw deviations ±1
    y = [0, 2, 2, 4, 4, 6]
    s = u.variance_split(y, 2)
    msw = (1 + 1) * 3 / 3  # = 2
    msb = 2 * (4 + 0 + 4) / 2  # = 8
    assert s.var_noise == pytest.approx(msw)
    assert s.var_assumptions == pytest.approx((msb - msw) / 2)
    assert s.mean == 3.0
    assert s.ci95_high - 3.0 == pytest.approx(stats.t.ppf(0.975, 2) * math.sqrt(msb / 6))


@pytest.mark.parametrize("var_a, var_e, m", [(4.0, 1.0, 2), (0.0, 2.0, 3), (9.0, 0.25, 2)])
def test_variance_split_recovers_known_variances(var_a, var_e, m):
    rng = np.random.default_rng(42)
    est_a, est_e = [], []
    for _ in range(400):
        n = 30
        a = rng.normal(0, math.sqrt(var_a), n)
        y = (a[:, None] + rng.normal(0, math.sqrt(var_e), (n, m))).ravel()
        s = u.variance_split(y, m)
        est_a.append(s.var_assumptions)
        est_e.append(s.var_noise)
    assert np.mean(est_e) == pytest.approx(var_e, rel=0.05)  # MSW: unbiased
    # truncation at 0 biases the assumptions' share up a little when it is 0
    assert np.mean(est_a) == pytest.approx(var_a, rel=0.08, abs=0.15)


def test_probability_and_histogram():
    y = [-2, -1, 0, 1, 2, 3, float("nan")]
    assert u.probability_above(y, 0) == pytest.approx(3 / 6)
    h = u.histogram(y, bins=5)
    assert sum(h["counts"]) == 6 and h["cdf_p"][-1] == 1.0 and h["cdf_x"][0] == -2


def test_global_measures_known_linear_case():
    rng = np.random.default_rng(3)
    n = 200
    x = np.column_stack([(rng.permutation(n) + rng.random(n)) / n for _ in range(3)])
    y = 3.0 * x[:, 0] - 1.0 * x[:, 1] + rng.normal(0, 0.01, n)
    g = u.global_measures({"inputs": ["a", "b", "c"], "values": x.tolist()}, y, 1)
    by = {r["input"]: r for r in g["inputs"]}
    assert [r["input"] for r in g["inputs"]][:2] == ["a", "b"]
    # SRC_j = b_j sd(x_j) / sd(y) (about 3/√10 and -1/√10; exact in the sample's own sds)
    sy = y.std(ddof=1)
    assert by["a"]["src"] == pytest.approx(3 * x[:, 0].std(ddof=1) / sy, abs=0.01)
    assert by["b"]["src"] == pytest.approx(-1 * x[:, 1].std(ddof=1) / sy, abs=0.01)
    assert abs(by["c"]["src"]) < 0.03 and abs(by["c"]["rank_correlation"]) < 0.15
    assert g["r2"] == pytest.approx(1.0, abs=1e-3)


def test_risk_summary_and_cli_json(tmp_path):
    import json

    from simulator.cli import main

    d = ranged(churn_annual={"low": 0.05, "mode": 0.2, "high": 0.6},
               orders_per_month={"low": 0.3, "high": 0.9})
    d["run"].update(replications=6)
    f = tmp_path / "r.toml"
    io.save(io.from_dict(d), f)
    out = tmp_path / "r.json"
    assert main(["run", str(f), "-n", "600", "--months", "4", "--workers", "1",
                 "--roi-target", "0.1", "--json", str(out)]) == 0
    js = json.loads(out.read_text())
    risk = js["risk"]
    assert risk["draws"] == 3 and risk["replications_per_draw"] == 2
    npv = risk["kpis"]["npv"]
    assert npv["p10"] <= npv["p50"] <= npv["p90"]
    assert sum(risk["npv_distribution"]["counts"]) == 6
    assert risk["p_roi_above_target"]["target"] == 0.1
    assert 0 <= risk["p_npv_positive"] <= 1
    assert js["meta"]["uncertainty"]["inputs_hash"] == risk["inputs_hash"]
    # at the nominal values: no risk block, the plain numbers
    out2 = tmp_path / "n.json"
    assert main(["run", str(f), "-n", "600", "--months", "4", "--workers", "1",
                 "--assumptions", "nominal", "--json", str(out2)]) == 0
    assert "risk" not in json.loads(out2.read_text())


def test_a_range_that_cannot_fit_in_memory_is_refused_before_the_run():
    d = ranged()
    d["population"]["acquisition"] = {"organic_per_month": {"low": 0, "mode": 100,
                                                            "high": 5e6}}
    sc = io.from_dict(d)  # the nominal value fits
    assert sc.population.acquisition.organic_per_month == 100
    with pytest.raises(io.ScenarioError) as e:
        run(sc, replications=2, agents=2000, horizon_months=60, workers=1)
    assert "new customers per month" in str(e.value)


def test_a_value_changed_on_purpose_is_not_overwritten_by_its_draw():
    sc = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35},
                             orders_per_month={"low": 0.4, "high": 0.6}))
    swung = sc.model_copy(deep=True)
    swung.segments[0].churn_annual = 0.3  # e.g. a tornado's high end (ranges still attached)
    plan = u.plan_for(sc, sc, 1, 4, 1)
    a, _ = plan.arms(swung, swung, 0)
    assert a.segments[0].churn_annual == 0.3
    assert a.segments[0].orders_per_month == plan.values(0)[ORDERS]  # the others still drawn


def test_the_memory_check_sets_only_the_ranges_that_size_a_run(monkeypatch):
    """The check before a run looks at the ends of ranges of the fields that size it
    (sizing.SIZE_FIELDS); a scenario ranged elsewhere is not copied for it (it was,
    twice a run: ~10 ms of the parent's time for each of an attribution's 256 sets)."""
    from simulator.sizing import SIZE_FIELDS

    d = simple_dict()
    d["population"]["acquisition"] = {"organic_per_month": {"low": 10, "mode": 100,
                                                            "high": 5e7}}
    sized = io.from_dict(d)
    low, high = u.corners(sized, SIZE_FIELDS)
    assert low.population.acquisition.organic_per_month < 20  # the ends (1e-9 inside)
    assert high.population.acquisition.organic_per_month == pytest.approx(5e7, rel=1e-3)
    with pytest.raises(io.ScenarioError, match="reduce new customers"):
        run(sized, replications=1, agents=1000, horizon_months=24, workers=1)

    elsewhere = io.from_dict(ranged(churn_annual={"low": 0.1, "mode": 0.2, "high": 0.35}))
    copies = []
    real = u.sampling.materialise
    monkeypatch.setattr(u.sampling, "materialise",
                        lambda sc, values: copies.append(values) or real(sc, values))
    assert u.corners(elsewhere, SIZE_FIELDS) == []
    assert copies == []
    assert len(u.corners(elsewhere)) == 2  # every range, for a check that reads them all
