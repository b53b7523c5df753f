"""The one loader for a scenario and everything it refers to (its base scenario).

Every caller (CLI, GUI, compare, optimiser, calibration, tests) loads through
here, so a base scenario is found the same way everywhere::

    ld = load_scenario("xinghe_yinhe_6tier")      # a path, or a shipped/user key
    ld.scenario, ld.path, ld.base.scenario, ld.scenario_hash, ld.base_hash
    ld = loaded_from(scenario, path)              # a scenario in memory (an edited document)

Rules for ``run.counterfactual.base_scenario`` (only read when the mode is
``"base_scenario"``):

- a relative name is resolved against the folder of the file that names it; a
  plain file name not found there is looked up in the shipped scenarios, then in
  the user's scenarios (so a copy of a shipped scenario saved elsewhere keeps its
  base). A scenario not saved yet resolves names in the shipped and user folders;
- the resolved file must lie inside the folder of the naming file, the shipped
  folder or the user folder (no ``../../x``), be a ``.toml``/``.json`` scenario
  file that loads, not lead back to a scenario already in the chain (a cycle),
  and have the same segments, in the same order, as the scenario naming it.

Every breach is a :class:`~simulator.scenario_io.ScenarioError` whose issue
names the field (``run.counterfactual.base_scenario``, labelled
"Run settings ▸ Counterfactual ▸ Base scenario" in the editor), the value and
what is allowed.

``population.customer_file`` (the shop's actual customers, a file written by
``benefit-sim fit --customers``) is resolved against the folder of the scenario
file (an absolute path is taken as it is; a scenario not saved yet needs one). The
file is read and checked against the scenario's segments here, once: a missing
file, wrong columns or bad values are a ScenarioError naming the field. Its
content hash goes into ``population.customer_file_sha256`` (so into the scenario
hash: a changed customer file is a different scenario) and its bytes are attached
to the returned scenario, which carries them to the pool's and the cluster's
workers (:func:`simulator.customer_base.for_scenario`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simulator import customer_base, library
from simulator.scenario import Scenario
from simulator.scenario_io import Issue, ScenarioError, load, scenario_hash

BASE_FIELD = "run.counterfactual.base_scenario"
BASE_LABEL = "Run settings ▸ Counterfactual ▸ Base scenario"
MAX_DEPTH = 8  # bases of bases; deeper chains are refused (no real plan needs them)
SUFFIXES = (".toml", ".json")
NAME_MAX = 255  # bytes of one file name on common file systems


@dataclass(frozen=True)
class Loaded:
    """A scenario with everything it refers to, resolved and validated."""

    scenario: Scenario
    path: Path | None  # None for a scenario that exists only in memory
    base: "Loaded | None"  # the base scenario (counterfactual mode "base_scenario"), else None
    scenario_hash: str
    base_hash: str | None

    @property
    def base_scenario(self) -> Scenario | None:
        """The base's :class:`Scenario` (what :func:`simulator.runner.run` takes as ``base``)."""
        return self.base.scenario if self.base is not None else None


def _issue(value: object, message: str) -> Issue:
    return Issue(BASE_FIELD, value, message)  # str(issue) names it: BASE_LABEL: value — message


def _roots(naming: Path | None) -> list[Path]:
    roots = [library.SHIPPED_DIR.resolve(), library.user_dir().resolve()]
    if naming is not None:
        roots.insert(0, naming.resolve().parent)
    return roots


def _inside(p: Path, roots: list[Path]) -> bool:
    return any(p == r or r in p.parents for r in roots)


def _allowed_text(naming: Path | None) -> str:
    where = "the folder of this file, " if naming is not None else ""
    return (f"allowed: a scenario file (.toml) in {where}the shipped scenarios or your "
            f"scenarios folder ({library.user_dir()})")


def resolve_base_path(name: str, naming: Path | None) -> Path:
    """The file a ``base_scenario`` value names, relative to ``naming`` (the file naming it).

    Raises :class:`ScenarioError` (field named) if it does not exist, leaves the
    scenario folders or is not a scenario file name.
    """
    src = str(naming) if naming is not None else None
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError([_issue(name, "must name a scenario file when the counterfactual "
                                          "is a base scenario")], src)
    try:
        return _resolve(name, naming, src)
    except (OSError, ValueError) as exc:  # e.g. "File name too long", an embedded NUL
        why = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError([_issue(name, f"cannot be used as a file name ({why}); allowed: "
                                          f"a name of at most {NAME_MAX} characters, "
                                          + _allowed_text(naming)[len("allowed: "):])],
                            src) from None


def _resolve(name: str, naming: Path | None, src: str | None) -> Path:
    roots = _roots(naming)
    p = Path(name)
    cands: list[Path] = []
    if p.is_absolute():
        cands.append(p)
    else:
        if naming is not None:
            cands.append(naming.resolve().parent / p)
        if len(p.parts) == 1:  # a plain file name or key: the library's folders
            stem = p.stem if p.suffix.lower() in SUFFIXES else p.name
            cands += [library.SHIPPED_DIR / f"{stem}.toml", library.user_dir() / f"{stem}.toml"]
    for c in cands:
        r = c.resolve()
        if not _inside(r, roots):
            raise ScenarioError([_issue(name, "is outside the scenario folders; "
                                        + _allowed_text(naming))], src)
    for c in cands:
        r = c.resolve()
        if r.is_file():
            if r.suffix.lower() not in SUFFIXES:
                raise ScenarioError([_issue(name, "is not a scenario file (.toml or .json); "
                                            + _allowed_text(naming))], src)
            return r
    looked = ", ".join(str(c) for c in cands) or name
    raise ScenarioError([_issue(name, f"does not exist (looked for {looked}); "
                                + _allowed_text(naming))], src)


CUSTOMERS_FIELD = "population.customer_file"
CUSTOMERS_ALLOWED = ("allowed: a customer file (CSV) written by `benefit-sim fit --customers`, "
                     "named relative to the scenario's folder, with a segment column naming "
                     "this scenario's segments")


def with_customers(sc: Scenario, path: Path | None) -> Scenario:
    """``sc`` with its customer file read, checked, hashed and attached (unchanged if none).

    Raises :class:`ScenarioError` naming ``population.customer_file`` for a file that
    does not exist, cannot be read, or is not a valid customer file for ``sc``.
    """
    name = sc.population.customer_file
    if not name:
        return sc
    src = str(path) if path is not None else None
    p = Path(name).expanduser()
    if not p.is_absolute():
        if path is None:
            raise ScenarioError([Issue(CUSTOMERS_FIELD, name, "is relative, but the scenario "
                                       "is not saved yet: save it beside the customer file "
                                       "or give the full path; " + CUSTOMERS_ALLOWED)], src)
        p = path.resolve().parent / p
    if not p.is_file():
        raise ScenarioError([Issue(CUSTOMERS_FIELD, name, f"does not exist (looked for {p}); "
                                   + CUSTOMERS_ALLOWED)], src)
    try:
        data = customer_base.read_bytes(p)
        customer_base.parse_bytes(data, [s.name for s in sc.segments], p.name)
    except customer_base.CustomerFileError as exc:
        raise ScenarioError([Issue(CUSTOMERS_FIELD, name, f"is not a valid customer file: "
                                   f"{exc}; " + CUSTOMERS_ALLOWED)], src) from None
    sha = customer_base.content_hash(data)
    # Kept by hash in this process and in the cache folder: this machine's workers (pool,
    # local cluster) and copies rebuilt from the fields find it there, so the bytes travel
    # with the scenario (pickled with every task) only when the folder cannot hold them.
    kept_at = customer_base.keep(sha, data)
    pop = sc.population.model_copy(update={"customer_file_sha256": sha})
    pop._customer_data = None if kept_at else data
    pop._customer_cached = kept_at
    return sc.model_copy(update={"population": pop})


def segment_mismatch(sc: Scenario, base: Scenario) -> str | None:
    """Why ``base`` cannot be the counterfactual of ``sc`` (None if it can).

    Both arms are simulated on the same customers (common random numbers) and
    reported by segment, so they must have the same segments in the same order.
    Tiers, pools and promotions may differ (compared on totals and per arm).
    """
    a = [s.name for s in sc.segments]
    b = [s.name for s in base.segments]
    if a != b:
        return (f"has segments {b}; allowed: a base with the same segments, in the same "
                f"order, as this scenario ({a})")
    return None


def _with_base(sc: Scenario, path: Path | None, chain: tuple[Path, ...]) -> Loaded:
    sc = with_customers(sc, path)
    cf = sc.run.counterfactual
    base: Loaded | None = None
    if cf.mode == "base_scenario":
        src = str(path) if path is not None else None
        assert cf.base_scenario is not None  # cross_check requires it in this mode
        bp = resolve_base_path(cf.base_scenario, path)
        if bp in chain or (path is not None and bp == path.resolve()):
            names = " → ".join(p.name for p in (*chain, bp))
            raise ScenarioError([_issue(cf.base_scenario, f"makes a cycle ({names}); allowed: "
                                        "a base that does not lead back to this scenario")],
                                src)
        if len(chain) >= MAX_DEPTH:
            raise ScenarioError([_issue(cf.base_scenario, f"is more than {MAX_DEPTH} bases "
                                        "deep; allowed: a shorter chain of base scenarios")],
                                src)
        try:
            base_sc = load(bp)
        except ScenarioError as exc:
            first = str(exc.issues[0]) if exc.issues else "cannot be read"
            more = f" (+{len(exc.issues) - 1} more)" if len(exc.issues) > 1 else ""
            raise ScenarioError([_issue(cf.base_scenario, f"is not a valid scenario file: "
                                        f"{first}{more}; allowed: a base that passes "
                                        "validation on its own")], src) from None
        why = segment_mismatch(sc, base_sc)
        if why:
            raise ScenarioError([_issue(cf.base_scenario, why)], src)
        base = _with_base(base_sc, bp, (*chain, bp))
    return Loaded(sc, path, base, scenario_hash(sc),
                  base.scenario_hash if base is not None else None)


def loaded_from(sc: Scenario, path: str | os.PathLike | None = None) -> Loaded:
    """Resolve the references of a scenario already in memory (``path``: its file, if any)."""
    p = Path(path).resolve() if path is not None else None
    return _with_base(sc, p, (p,) if p is not None else ())


def load_scenario(path_or_key: str | os.PathLike | None = None) -> Loaded:
    """Load a scenario file or library key (default scenario when None) with its base.

    Raises :class:`ScenarioError` for an invalid file or reference and
    :class:`FileNotFoundError` when no such file or key exists.
    """
    p = library.shipped_path(library.DEFAULT_SCENARIO) if path_or_key is None \
        else library.resolve(path_or_key)
    return loaded_from(load(p), p)


def base_of(sc: Scenario, path: str | os.PathLike | None = None) -> Scenario | None:
    """The base scenario ``sc`` runs against (None unless the mode is ``base_scenario``)."""
    return loaded_from(sc, path).base_scenario
