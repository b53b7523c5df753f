"""The groups of changed inputs between two scenarios, and the mixes of them."""

from __future__ import annotations

import copy

from simulator.input_diff import input_diff
from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, from_dict, to_dict

RUN_SAMPLE_KEYS = ("seed", "replications", "agents")  # common to every mix, not a group


def _group_of_path(path: str, bd: dict, xd: dict) -> str | None:
    """The group a changed input path belongs to (None: not a model input)."""
    import re

    if path in ("name", "description") or path.startswith("budget"):
        return None
    m = re.match(r"assumptions\.([^.\[]+)", path)
    if m:  # a shared assumption's range: its own group (it may feed several groups' fields);
        # one only a side has is part of the fields that refer to it
        nm = m.group(1)
        both = nm in bd.get("assumptions", {}) and nm in xd.get("assumptions", {})
        return "assumption: " + nm if both else None
    if path.startswith("run."):
        return None if path.split(".")[1] in RUN_SAMPLE_KEYS else "run settings"
    m = re.match(r"tiers\[(\d+)\]\.benefits\[(\d+)\]", path)
    if m:
        t, b = int(m.group(1)), int(m.group(2))
        for d in (xd, bd):
            try:
                return "benefit: " + d["tiers"][t]["benefits"][b]["name"]
            except (IndexError, KeyError):
                continue
    if path.startswith("tier_rules.points"):
        return "points"
    if path.startswith(("tiers", "tier_rules")):
        return "tiers"
    if path.startswith("service"):
        return "service staffing"
    m = re.match(r"promotions\[(\d+)\]", path)
    if m:
        i = int(m.group(1))
        for d in (xd, bd):
            try:
                return "campaign: " + d["promotions"][i]["name"]
            except (IndexError, KeyError):
                continue
    if path.startswith("promotions"):
        return "campaigns"
    if path.startswith("population.acquisition"):
        return "acquisition"
    return "segments & population"


def change_groups(base: Scenario, other: Scenario) -> dict[str, list[str]]:
    """Groups of changed inputs (from :func:`simulator.input_diff.input_diff`): group -> paths."""
    bd, xd = to_dict(base), to_dict(other)
    out: dict[str, list[str]] = {}
    for path in input_diff(base, other)["path"]:
        g = _group_of_path(path, bd, xd)
        if g is not None:
            out.setdefault(g, []).append(path)
    if "campaigns" in out:  # a list emptied or filled: every campaign by name
        names = [p["name"] for p in bd.get("promotions", []) + xd.get("promotions", [])]
        paths = out.pop("campaigns")
        for nm in dict.fromkeys(names):
            out.setdefault("campaign: " + nm, []).extend(paths)
    if "tiers" in out:  # benefit lists emptied/filled show as tiers[i].benefits
        for t in bd["tiers"] + xd["tiers"]:
            for b in t.get("benefits", []):
                key = "benefit: " + b["name"]
                if _benefit_map(bd, b["name"]) != _benefit_map(xd, b["name"]):
                    out.setdefault(key, [p for p in out["tiers"] if ".benefits" in p])
        out["tiers"] = [p for p in out["tiers"] if ".benefits" not in p]
        if not out["tiers"]:
            del out["tiers"]
    return out


def _valid(bd: dict, xd: dict, on: set[str]) -> bool:
    try:
        from_dict(_mix(bd, xd, on))
    except ScenarioError:
        return False
    return True


def coupled_groups(base: Scenario, other: Scenario) -> dict[str, tuple[list[str], list[str]]]:
    """Groups of changed inputs, those that cannot change alone merged: label -> (parts, paths).

    A group whose change alone (or whose removal alone) does not give a valid scenario
    (e.g. X's tiers name a service pool only X's staffing has) is merged with the
    group that makes it valid; the label joins both with " + ".
    """
    found = change_groups(base, other)
    bd, xd = to_dict(base), to_dict(other)
    groups: list[list[str]] = [[g] for g in found]
    changed = True
    while changed and len(groups) > 1:
        changed = False
        every = {g for grp in groups for g in grp}
        for i, grp in enumerate(groups):
            for test in (lambda on: set(on), lambda on: every - set(on)):
                if _valid(bd, xd, test(grp)):
                    continue
                for j, other_grp in enumerate(groups):
                    if j != i and _valid(bd, xd, test(grp + other_grp)):
                        groups[i] = grp + other_grp
                        del groups[j]
                        changed = True
                        break
                if changed:
                    break
            if changed:
                break
    return {" + ".join(g): (g, [p for x in g for p in found[x]]) for g in groups}


def _referenced(node) -> set[str]:
    """Names of the shared assumptions a scenario dict's fields refer to."""
    if isinstance(node, dict):
        if isinstance(node.get("assumption"), str):
            return {node["assumption"]}
        return set().union(*(_referenced(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_referenced(v) for v in node)) if node else set()
    return set()


def _benefit_map(d: dict, name: str) -> dict[str, dict]:
    return {t["name"]: b for t in d["tiers"] for b in t.get("benefits", []) if b["name"] == name}


def _mix(bd: dict, xd: dict, on: set[str]) -> dict:
    """Scenario dict with the groups in ``on`` taken from X and the rest from B."""
    d = copy.deepcopy(bd)
    x = copy.deepcopy(xd)
    if "segments & population" in on:
        d["segments"] = x["segments"]
        acq = d["population"].get("acquisition")
        d["population"] = {k: v for k, v in x["population"].items() if k != "acquisition"}
        if acq is not None:
            d["population"]["acquisition"] = acq
    if "acquisition" in on:
        d["population"].pop("acquisition", None)
        if "acquisition" in x["population"]:
            d["population"]["acquisition"] = x["population"]["acquisition"]
    if "run settings" in on:
        keep = {k: d["run"][k] for k in RUN_SAMPLE_KEYS if k in d.get("run", {})}
        d["run"] = {**x.get("run", {}), **keep}
    if "service staffing" in on:
        d["service"] = x["service"]
    src_tiers = x if "tiers" in on else d
    rules = copy.deepcopy(src_tiers["tier_rules"]) if "tier_rules" in src_tiers else {}
    pts = (x if "points" in on else bd).get("tier_rules", {}).get("points")
    rules.pop("points", None)
    if pts is not None:
        rules["points"] = pts
    d["tier_rules"] = rules
    names = list(dict.fromkeys(b["name"] for dd in (bd, xd) for t in dd["tiers"]
                               for b in t.get("benefits", [])))
    tiers = []
    for t in src_tiers["tiers"]:
        nt = {k: v for k, v in t.items() if k != "benefits"}
        bl = []
        for nm in names:
            src = x if f"benefit: {nm}" in on else bd
            b = _benefit_map(src, nm).get(t["name"])
            if b is not None:
                bl.append(b)
        nt["benefits"] = bl
        tiers.append(nt)
    d["tiers"] = tiers
    pnames = list(dict.fromkeys(p["name"] for dd in (bd, xd) for p in dd.get("promotions", [])))
    promos = []
    for nm in pnames:
        src = x if f"campaign: {nm}" in on else bd
        promos += [p for p in src.get("promotions", []) if p["name"] == nm]
    d["promotions"] = promos
    # Shared assumptions: one both files have is B's range unless its own group is on; one
    # only a side has comes with the fields that refer to it (and goes when none is left).
    xa, ba = x.get("assumptions", {}), bd.get("assumptions", {})
    used = _referenced(d)
    assumptions = {}
    for nm in dict.fromkeys([*ba, *xa]):
        if nm in ba and nm in xa:
            assumptions[nm] = xa[nm] if f"assumption: {nm}" in on else ba[nm]
        elif nm in used:
            assumptions[nm] = ba.get(nm, xa.get(nm))
    if assumptions:
        d["assumptions"] = copy.deepcopy(assumptions)
    else:
        d.pop("assumptions", None)
    return d
