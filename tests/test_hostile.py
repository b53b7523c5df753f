"""Generated hostile scenario files: every shipped scenario mutated per class of bad input.

For each case ``validate`` (the loader the CLI uses) and ``run`` must agree: a
refusal is a ScenarioError whose problems name the field as the form labels it
(the mutated field, where there is one) and no other exception escapes (no
traceback); an accepted case runs at a tiny sample and gives finite KPIs. No
case may take more than 30 s, and the process stays under 1 GB. The counts per
class are printed at the end of the test session (see conftest.py).
"""

from __future__ import annotations

import copy
import math
import re
import resource
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import tomli_w

from simulator import labels
from simulator.library import SHIPPED_DIR
from simulator.loader import loaded_from
from simulator.runner import run
from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, load, to_dict

SHIPPED = sorted(SHIPPED_DIR.glob("*.toml"))
EVERY_FIELD = {"xinghe_today"}  # every number field mutated
TINY = dict(agents=200, horizon_months=2, replications=1, workers=1)
# KPIs that are undefined by design in some runs (no payback, no incremental cost, ...)
MAY_BE_NAN = {"payback_month", "roi", "ltv_uplift", "service_wait_mean_hours",
              "service_wait_p90_hours", "sla_attainment", "utilisation",
              "complaint_resolution_hours", "retention_12m", "repurchase_rate",
              "high_freq_sales_share", "high_freq_customer_share", "ltv_per_customer",
              "satisfaction_end", "churn_annual",
              # lifecycle ratios: "not defined" when their denominator is zero
              "dormant_share_end", "recall_success", "cost_per_acquired_customer",
              "cost_per_paid_customer", "cost_per_referred_customer"}
MUST_BE_FINITE = {"revenue", "total_cost", "net_contribution", "npv", "active_customers_end",
                  "incremental_contribution", "incremental_cost", "orders"}

RESULTS: dict[str, Counter] = defaultdict(Counter)  # class -> outcome counts (read by conftest)


# ------------------------------------------------------------------ generating cases
def _leaves(d, prefix=()):
    """(path, value) of every number and string leaf of a scenario dict."""
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _leaves(v, prefix + (i,))
    else:
        yield prefix, d


def _set(d, path, value):
    d = copy.deepcopy(d)
    node = d
    for p in path[:-1]:
        node = node[p]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


_DELETE = object()
SELF = "<this file>"  # replaced by the case file's own name (a base naming itself)


def _numbers(d, kind):
    return [(p, v) for p, v in _leaves(d) if type(v) is kind]


def _spread(items, n):
    """Up to n items spread over the list (keeps the suite fast but covers every section)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _cases_for(src: Path):
    """(class, label, payload, mutated path or None); payload is bytes or a dict."""
    d = to_dict(load(src))
    floats = _numbers(d, float)
    ints = [(p, v) for p, v in _numbers(d, int) if p != ("schema_version",)]
    if src.stem not in EVERY_FIELD:  # the others: a spread over every section (fast)
        floats, ints = _spread(floats, 15), _spread(ints, 6)
    text = src.read_text(encoding="utf-8")
    # syntax / encoding / size
    yield "syntax", "unclosed table", text.replace("[population]", "[population", 1).encode(), None
    yield "syntax", "truncated", text.encode()[: len(text) // 2] + b"= [", None
    yield "encoding", "empty", b"", None
    yield "encoding", "binary", bytes(range(256)) * 4, None
    yield "encoding", "utf-16", text.encode("utf-16"), None
    # unknown and missing keys
    yield "unknown key", "typo in a segment", _set(d, ("segments", 0, "churn_anual"), 0.2), \
        ("segments", 0, "churn_anual")
    yield "unknown key", "unknown section", _set(d, ("loyalty",), {"x": 1}), ("loyalty",)
    for path in [("population", "customers"), ("segments", 0, "share"), ("service",),
                 ("tiers", 0, "name")]:
        yield "missing key", "/".join(map(str, path)), _set(d, path, _DELETE), path
    # wrong types: string for number, bool for int, table for list, list for table
    for p, v in _spread(floats, 6):
        yield "wrong type", f"text for {p[-1]}", _set(d, p, "12"), p
    for p, v in _spread(ints, 6):
        yield "wrong type", f"true for {p[-1]}", _set(d, p, True), p
        yield "wrong type", f"2.5 for {p[-1]}", _set(d, p, 2.5), p
    yield "wrong type", "table for segments", _set(d, ("segments",), {"a": 1}), ("segments",)
    yield "wrong type", "list for service", _set(d, ("service",), [1, 2]), ("service",)
    # negatives and non-finite numbers: every number field
    for p, v in floats + ints:
        yield "negative", f"{p[-1]} = -5", _set(d, p, -5 if isinstance(v, int) else -5.0), p
    for i, (p, v) in enumerate(floats):
        bad = (math.nan, math.inf, -math.inf)[i % 3]
        yield "nan/inf", f"{p[-1]} = {bad}", _set(d, p, bad), p
    # huge values: every number field
    for p, v in floats:
        yield "huge", f"{p[-1]} = 1e300", _set(d, p, 1e300), p
    for p, v in ints:
        yield "huge", f"{p[-1]} = 10**12", _set(d, p, 10**12), p
    many = _set(d, ("tiers",), d["tiers"] + [
        {**d["tiers"][-1], "name": f"T{i}", "threshold_cny": 1e8} for i in range(100)])
    yield "huge", "100 more tiers", many, ("tiers",)
    grow = _set(_set(d, ("population", "customers"), 1), ("population", "acquisition"),
                {"organic_per_month": 1e8})
    yield "huge", "1e8 new customers a month for 1 customer", grow, None
    # cross-field rules
    if len(d["segments"]) > 1:
        dup = _set(d, ("segments", 1, "name"), d["segments"][0]["name"])
        yield "duplicate names", "two segments alike", dup, ("segments", 1, "name")
    if len(d["tiers"]) > 1:
        dup = _set(d, ("tiers", 1, "name"), d["tiers"][0]["name"])
        yield "duplicate names", "two tiers alike", dup, ("tiers", 1, "name")
        desc = _set(d, ("tiers", len(d["tiers"]) - 1, "threshold_cny"), 1.0)
        yield "descending thresholds", "last tier below the one before", desc, \
            ("tiers", len(d["tiers"]) - 1, "threshold_cny")
    over = _set(d, ("segments", 0, "share"), d["segments"][0]["share"] + 0.5)
    yield "shares over 100 %", "segment share +50 %", over, ("segments", 0, "share")
    yield "shares over 100 %", "share 150 %", _set(d, ("segments", 0, "share"), 1.5), \
        ("segments", 0, "share")
    # schema versions
    for v in (3, 99, 0, -1, "2"):
        yield "schema version", f"schema_version = {v!r}", _set(d, ("schema_version",), v), \
            ("schema_version",)
    # formula-like and path-like names: accepted (names are data), written safely
    for name in ("=HYPERLINK(\"http://x\")", "@SUM(A1)", "+1", "-cmd", "../../etc/passwd",
                 "C:\\Windows\\x", "名字\t\r"):
        yield "odd names", f"tier named {name!r}", _set(d, ("tiers", 0, "name"), name), None
    # old files whose sections have the wrong type (migration must validate)
    v1 = {"schema_version": 1, "name": d["name"], "population": {
        "customers": d["population"]["customers"], "segments": d["segments"]},
        "tier_scheme": {"tiers": d["tiers"]}, "service": {"pools": [
            {"name": "CS", "staff": max(x["staff"] for x in d["service"]["pools"][0]["shifts"]),
             "open_hours": [8, 22]}]}}
    yield "v1 malformed", "v1 ok", v1, None
    yield "v1 malformed", "population is a list", _set(v1, ("population",), [1]), \
        ("population",)
    yield "v1 malformed", "tier_scheme is text", _set(v1, ("tier_scheme",), "x"), \
        ("tier_scheme",)
    yield "v1 malformed", "pools is a table", _set(v1, ("service", "pools"), {"a": 1}), \
        ("service", "pools")
    yield "v1 malformed", "open_hours has 3 items", _set(
        v1, ("service", "pools", 0, "open_hours"), [1, 2, 3]), None
    yield "v1 malformed", "open_hours is text", _set(
        v1, ("service", "pools", 0, "open_hours"), "8-22"), None
    yield "v1 malformed", "a pool is a number", _set(v1, ("service", "pools", 0), 7), None
    # deep nesting and huge files
    yield "deep nesting", "array 5000 deep", ("x = " + "[" * 5000 + "]" * 5000).encode(), None
    yield "deep nesting", "inline table 3000 deep", (
        "x = " + "{a = " * 3000 + "1" + "}" * 3000).encode(), None
    yield "deep nesting", "10 MB file", text.encode() + b"\n# " + b"x" * (10 * 2**20), None
    # references (resolved by simulator.loader)
    for ref in ("no_such_base.toml", "../../x.toml", SELF, "/etc/passwd"):
        r = _set(_set(d, ("run", "counterfactual", "mode"), "base_scenario"),
                 ("run", "counterfactual", "base_scenario"), ref)
        yield "references", f"base {ref}", r, ("run", "counterfactual", "base_scenario")


def _all_cases():
    out = []
    for src in SHIPPED:
        for cls, label, payload, path in _cases_for(src):
            out.append((src.stem, cls, label, payload, path))
    return out


CASES = _all_cases()


def _write(tmp: Path, i: int, payload) -> Path:
    p = tmp / f"case_{i}.toml"
    if isinstance(payload, bytes):
        p.write_bytes(payload)
    else:
        text = tomli_w.dumps(payload).replace(f'"{SELF}"', f'"{p.name}"')
        p.write_text(text, encoding="utf-8")
    return p


def _finite_kpis(res) -> list[str]:
    bad = []
    for k, s in res.summary.items():
        m = s.mean
        if m is None or (isinstance(m, float) and math.isnan(m)):
            if k in MUST_BE_FINITE or k not in MAY_BE_NAN:
                bad.append(f"{k}=NaN")
        elif not math.isfinite(m):
            bad.append(f"{k}={m}")
    return bad


def _check(p: Path, path) -> tuple[str, str | None]:
    """(outcome, problem or None) of one hostile file."""
    try:
        sc = load(p)
        ld = loaded_from(sc, p)
    except ScenarioError as exc:
        texts = [str(i) for i in exc.issues]
        if not texts:
            return "refused", "refused without a problem listed"
        for i, t in zip(exc.issues, texts):
            place = i.place()
            if not place or "Traceback" in t or not i.message:
                return "refused", f"unnamed problem: {t}"
        if path is not None:
            want = labels.where(path) if path else ""
            want_path = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in path)
            want_path = want_path.lstrip(".")
            if not any(i.path == want_path or i.path.startswith(want_path + ".")
                       or re.fullmatch(re.escape(i.path).replace(r"\[\*\]", r"\[\d+\]"),
                                       want_path)
                       or i.path.startswith(want_path + "[") or want_path.startswith(i.path)
                       and i.path not in ("(file)", "(top level)") for i in exc.issues):
                return "refused", f"does not name {want} ({want_path}): {texts[:3]}"
        return "refused", None
    except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
        return "crashed", f"validate raised {type(exc).__name__}: {exc}"[:300]
    try:
        res = run(sc, base=ld.base_scenario, **TINY)
    except ScenarioError as exc:
        return "accepted", f"validate said ok, run refused: {exc}"[:300]
    except Exception as exc:  # noqa: BLE001
        return "accepted", f"run raised {type(exc).__name__}: {exc}"[:300]
    bad = _finite_kpis(res)
    return "accepted", (f"non-finite KPIs: {bad}" if bad else None)


@pytest.mark.parametrize("scenario", [s.stem for s in SHIPPED])
def test_hostile_files(scenario, tmp_path):
    failures = []
    # ru_maxrss is the process's peak so far: earlier tests in the same process (a large
    # run, a Dask cluster) may already have reached ~1 GB, so measure what these cases add.
    peak_before_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    for i, (stem, cls, label, payload, path) in enumerate(CASES):
        if stem != scenario:
            continue
        p = _write(tmp_path, i, payload)
        t0 = time.perf_counter()
        outcome, problem = _check(p, path)
        took = time.perf_counter() - t0
        if took > 30:
            problem = f"took {took:.0f} s"
        RESULTS[cls][outcome] += 1
        RESULTS[cls]["bad" if problem else "good"] += 1
        if problem:
            failures.append(f"[{cls}] {label}: {problem}")
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    assert rss_gb < max(peak_before_gb, 0.5) + 1.0, (
        f"peak memory {rss_gb:.2f} GB (was {peak_before_gb:.2f} GB before these files)")
    assert not failures, f"{len(failures)} hostile case(s) mishandled:\n" + "\n".join(failures)


def test_formula_like_names_never_reach_csv_as_formulas(tmp_path, capsys):
    import csv

    from simulator.cli import main

    d = to_dict(load(SHIPPED_DIR / "loyalty_playbook.toml"))
    d["segments"][0]["name"] = "=HYPERLINK(\"http://evil\",\"x\")"
    d["tiers"][0]["name"] = "@SUM(A1:A9)"
    d["service"]["pools"][0]["name"] = "+cmd|' /C calc'!A0"
    d["tiers"][1]["pool"] = d["service"]["pools"][0]["name"]
    if d["service"].get("default_pool"):
        d["service"]["default_pool"] = d["service"]["pools"][0]["name"]
    d["promotions"][0]["name"] = "-2+3"
    d["promotions"][0]["target_tiers"] = []
    d["run"]["counterfactual"] = {"mode": "scheme_off"}
    p = tmp_path / "evil.toml"
    p.write_text(tomli_w.dumps(d), encoding="utf-8")
    out = tmp_path / "csv"
    assert main(["run", str(p), "--agents", "200", "--months", "3", "-r", "2",
                 "--csv", str(out)]) == 0
    cells = negatives = 0
    for f in out.glob("*.csv"):
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for c in row:
                    cells += 1
                    if c[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(c)  # only numbers may start with a sign
                        negatives += 1
    assert cells > 100 and negatives > 0  # negative numbers are still written as numbers
    text = (out / "monthly.csv").read_text(encoding="utf-8")
    assert "'@SUM(A1:A9)" in text and "'=HYPERLINK" in text


def test_every_float_field_refuses_nan_and_inf_naming_it():
    """Class 1 at the schema: every float of the schema, not only the shipped files' ones."""
    d = to_dict(load(SHIPPED_DIR / "xinghe_today.toml"))
    floats = [p for p, v in _leaves(d) if type(v) is float]
    assert len(floats) > 60
    from simulator.scenario_io import from_dict

    for p in floats:
        for bad in (math.nan, math.inf, -math.inf):
            with pytest.raises(ScenarioError) as e:
                from_dict(_set(d, p, bad))
            (issue,) = e.value.issues
            assert issue.path == ".".join(str(x) for x in p).replace(".0.", "[0].") or \
                issue.path.split(".")[-1] == p[-1], (p, str(issue))
            assert "finite" in issue.message or "must be" in issue.message
            assert "▸" in str(issue)


def test_every_number_has_bounds_stated_in_its_description():
    import typing

    from simulator import scenario as schema

    missing = []
    for cls in vars(schema).values():
        if not (isinstance(cls, type) and issubclass(cls, schema.Model)):
            continue
        for name, info in cls.model_fields.items():
            tp, meta = labels.unwrap(info.annotation)
            if typing.get_origin(tp) is dict:
                tp, meta = labels.unwrap(typing.get_args(tp)[1])
            elif tp in (int, float):
                meta = list(info.metadata) + meta
            else:
                continue
            lo, hi, _, _ = labels.bounds(meta)
            if lo is None or hi is None or "(allowed:" not in (info.description or ""):
                missing.append(f"{cls.__name__}.{name}")
    assert not missing, missing


def test_scenario_that_cannot_fit_says_what_to_reduce():
    d = to_dict(load(SHIPPED_DIR / "xinghe_today.toml"))
    from simulator.scenario_io import from_dict

    d["population"]["customers"] = 1000
    d["population"]["acquisition"]["organic_per_month"] = 1e8
    with pytest.raises(ScenarioError) as e:
        from_dict(d)
    text = str(e.value)
    assert "Acquisition ▸ Organic per month" in text and "reduce new customers" in text
    sc = load(SHIPPED_DIR / "xinghe_today.toml")
    from simulator.sizing import size_problems

    (prob,) = size_problems(sc, agents=5_000_000, horizon=120) or [None]
    if prob is not None:  # a small machine: the sample is what to reduce
        assert prob[0] == "run.agents" and "reduce the agents" in prob[2]
    assert Scenario.model_fields  # the schema is importable without Qt


def test_caches_kept_between_arms_scale_with_the_machine(monkeypatch):
    """A process's caches (histories, static draws, windows) fit the machine, and the run's
    own memory budget leaves room for them: on a 4 GB laptop 256 MB and 1.75 GB (the caches
    were 1.5 GB whatever the machine, and not counted)."""
    from simulator import population, sizing, window_cache

    monkeypatch.setattr(sizing, "_physical_memory", lambda: 4 * 2**30)
    assert sizing.cache_budget() == 2**28
    assert sizing.memory_budget() == 2 * 2**30 - 2**28
    monkeypatch.setattr(sizing, "_physical_memory", lambda: 64 * 2**30)
    assert sizing.cache_budget() == 3 * 2**29 and sizing.memory_budget() == 3 * 2**30
    monkeypatch.undo()
    # The modules' bounds are the budget's shares (this machine's), the three within it.
    budget = sizing.cache_budget()
    assert population.HISTORY_CACHE_BYTES == budget * 2 // 3
    assert population.STATIC_CACHE_BYTES == window_cache.CACHE_BYTES == budget // 6
    assert (population.HISTORY_CACHE_BYTES + population.STATIC_CACHE_BYTES
            + window_cache.CACHE_BYTES) <= budget


def test_byte_bounded_caches_drop_the_least_recently_used_and_keep_the_newest():
    from collections import OrderedDict

    from simulator.sizing import trim_to_budget

    c = OrderedDict([("a", 40), ("b", 30), ("c", 50)])
    assert trim_to_budget(c, lambda n: n, 80, 120) == 80 and list(c) == ["b", "c"]
    assert trim_to_budget(c, lambda n: n, 10, 80) == 50 and list(c) == ["c"]
