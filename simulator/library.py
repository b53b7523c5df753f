"""The scenario library: shipped scenarios (read-only) and the user's own.

Shipped scenarios are the ``*.toml`` files of the ``scenarios`` package (a
data folder beside ``simulator``). The user's
scenarios live in a folder from :mod:`platformdirs` (override with the
``BENEFIT_SIM_HOME`` environment variable, as the tests do). All reads and
writes go through :mod:`simulator.scenario_io` (validated, atomic).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Container

from pydantic import ValidationError

from simulator.scenario import Scenario
from simulator.scenario_io import (
    FileTakenError,
    ScenarioError,
    Stamp,
    _issues_from_pydantic,
    clean_stale_temps,
    load,
    save,
)

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT_SCENARIO = "xinghe_today"


@dataclass(frozen=True)
class Entry:
    """One scenario in the library."""

    key: str  # file stem
    path: Path
    shipped: bool  # shipped scenarios are read-only
    title: str  # the scenario's name, or the file stem if it cannot be read
    error: str | None = None  # why it cannot be opened, if it cannot


_USER_DIR_WARNING: dict[Path, str | None] = {}


def _user_base() -> Path:
    env = os.environ.get("BENEFIT_SIM_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("benefit-sim", appauthor=False))


def user_dir() -> Path:
    """The folder holding the user's scenarios (created on first use).

    Never raises: if the folder cannot be created or written (``BENEFIT_SIM_HOME``
    read-only, or a file), :func:`user_dir_warning` says so once and the shipped
    scenarios still list and run. On first use, temp files of our naming left by
    a killed save (older than a few minutes, no live writer) are removed.
    """
    d = _user_base() / "scenarios"
    if d not in _USER_DIR_WARNING:
        warning = None
        try:
            d.mkdir(parents=True, exist_ok=True)
            if not os.access(d, os.W_OK | os.X_OK):
                warning = f"your scenarios folder {d} is read-only: scenarios can be opened " \
                          "and run but not saved there (Save As elsewhere)"
            else:
                clean_stale_temps(d)
        except OSError as exc:
            warning = f"your scenarios folder {d} cannot be used ({exc.strerror or exc}): " \
                      "only the shipped scenarios are listed; set BENEFIT_SIM_HOME to a " \
                      "writable folder to save your own"
        _USER_DIR_WARNING[d] = warning
    return d


def user_dir_warning() -> str | None:
    """Why the user's folder cannot be used (None if it can); one line for the user."""
    d = user_dir()
    return _USER_DIR_WARNING.get(d)


def _entry(path: Path, shipped: bool) -> Entry:
    """One file as a library entry; any failure to read it makes it a broken entry."""
    try:
        title = load(path).name
        return Entry(path.stem, path, shipped, title)
    except ScenarioError as exc:
        return Entry(path.stem, path, shipped, path.stem, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad file never takes the listing down
        return Entry(path.stem, path, shipped, path.stem,
                     error=f"{path.name} cannot be read: {type(exc).__name__}: {exc}"[:500])


def _scenario_files(folder: Path) -> list[Path]:
    """``*.toml`` entries of a folder, without hidden ones (our temp files start with a dot).

    Entries that are not regular files (a pipe, a device, a folder) are kept: they are
    listed as broken, with the reason, rather than silently left out.
    """
    try:
        return sorted(p for p in folder.glob("*.toml") if not p.name.startswith("."))
    except OSError:
        return []


def list_shipped() -> list[Entry]:
    """Scenarios shipped with the product, in file-name order."""
    return [_entry(p, True) for p in _scenario_files(SHIPPED_DIR)]


def list_user() -> list[Entry]:
    """The user's saved scenarios, in file-name order (none if the folder is unusable)."""
    d = user_dir()
    if not d.is_dir():
        return []
    return [_entry(p, False) for p in _scenario_files(d)]


def list_all() -> list[Entry]:
    """Shipped first, then the user's."""
    return list_shipped() + list_user()


def shipped_path(key: str) -> Path:
    """Path of a shipped scenario by key (file stem)."""
    p = SHIPPED_DIR / f"{key}.toml"
    if not p.exists():
        names = [e.key for e in list_shipped()]
        raise FileNotFoundError(f"no shipped scenario {key!r}; shipped: {names}")
    return p


def resolve(name_or_path: str | os.PathLike) -> Path:
    """A file path, a shipped key, or a user scenario key -> path."""
    p = Path(name_or_path)
    if p.exists():
        return p
    for cand in (SHIPPED_DIR / f"{p.name}.toml", user_dir() / f"{p.name}.toml"):
        try:
            if cand.is_file():
                return cand
        except OSError:
            continue
    raise FileNotFoundError(
        f"scenario {str(name_or_path)!r} not found (a file, or one of: "
        f"{[e.key for e in list_all()]})"
    )


def load_default() -> Scenario:
    """The scenario the app and CLI open with no argument."""
    return load(shipped_path(DEFAULT_SCENARIO))


def is_shipped(path: str | os.PathLike) -> bool:
    """True if the file is one of the read-only shipped scenarios."""
    return Path(path).resolve().parent == SHIPPED_DIR


def slug(title: str) -> str:
    """A safe file stem for a scenario title (keeps CJK letters)."""
    s = re.sub(r"[^\w\-]+", "_", title.strip(), flags=re.UNICODE).strip("_")
    return s[:60] or "scenario"


def unique_name(name: str, taken: Container[str], *, tag: str = "", form: str = " ({})",
                limit: int | None = 80) -> str:
    """The first of ``name``, ``name 2``, ``name 3`` ... not in ``taken`` (the one generator).

    The number is written into ``form`` (`` (2)`` by default; ``"_{}"`` gives ``name_2``),
    after ``tag`` when one is given: ``tag="copy"`` gives ``name (copy)``,
    ``name (copy 2)``. The name is shortened so that every candidate fits ``limit``
    characters (``None``: no limit).
    """
    def fit(suffix: str) -> str:
        return (name if limit is None else name[:max(0, limit - len(suffix))]) + suffix

    first = fit(form.format(tag) if tag else "")
    i = 2
    cand = first
    while cand in taken:
        cand = fit(form.format(f"{tag} {i}" if tag else i))
        i += 1
    return cand


def unique_user_path(title: str) -> Path:
    """A path in the user folder that does not exist yet."""
    d = user_dir()
    return d / f"{unique_name(slug(title), _Existing(d), form='_{}', limit=None)}.toml"


class _Existing:
    """The stems of the scenario files in a folder, asked one at a time."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __contains__(self, stem: object) -> bool:
        return (self.folder / f"{stem}.toml").exists()


def _save_new(sc: Scenario, title: str) -> Path:
    """Save under a new name in the user folder, never over a file.

    A name another process takes meanwhile is not overwritten: the next free name is used.
    """
    for _ in range(100):
        target = unique_user_path(title)
        try:
            save(sc, target, exclusive=True)
            return target
        except FileTakenError:
            continue
    raise FileExistsError(f"no free file name for {title!r} in {user_dir()}")


def save_user(sc: Scenario, path: str | os.PathLike | None = None, *,
              exclusive: bool = False, expect: Stamp | None = None) -> Path:
    """Save to the user folder (atomic). Refuses to overwrite a shipped file.

    No path: a new file named after the scenario (never overwriting one). ``exclusive``:
    the file must not exist (Save As to a new name; FileTakenError if it does, even if
    another process created it a moment ago). ``expect``: the stamp the file had when
    opened (FileChangedError if it changed on disk since).
    """
    if path is None:
        return _save_new(sc, sc.name)
    target = Path(path)
    if is_shipped(target):
        raise PermissionError(f"{target.name} is a shipped scenario (read-only): use Save As")
    save(sc, target, exclusive=exclusive, expect=expect)
    return target


def delete_user(path: str | os.PathLike) -> None:
    """Delete a user scenario (never a shipped one)."""
    p = Path(path)
    if is_shipped(p):
        raise PermissionError(f"{p.name} is a shipped scenario and cannot be deleted")
    p.unlink()


def rename_user(path: str | os.PathLike, new_title: str) -> Path:
    """Rename a user scenario: its name inside and its file.

    The new name is validated like any edit (``model_copy(update=)`` would not), so a
    name the file could not be loaded with again is refused with a ScenarioError.
    """
    p = Path(path)
    if is_shipped(p):
        raise PermissionError(f"{p.name} is a shipped scenario (read-only)")
    sc = load(p)
    try:
        sc.name = new_title  # assignment validation: 1 to 80 characters
    except ValidationError as exc:
        raise ScenarioError(_issues_from_pydantic(exc), p.name) from None
    if slug(new_title) == p.stem:
        save(sc, p)
        return p
    new = _save_new(sc, new_title)
    p.unlink()
    return new


# Templates for File > New scenario: (title, what it is). Each is built from the default
# scenario (its customers, service and run settings), so the numbers have a source.
TEMPLATES: dict[str, tuple[str, str]] = {
    "no_scheme": ("Shop without a loyalty scheme",
                  "The default shop's customers, service and run settings with tiers, "
                  "points and campaigns switched off: a baseline to design a scheme on."),
    "tiers_only": ("Tiers only, no campaigns",
                   "The default shop's tier ladder and benefits without its campaigns: "
                   "start from a tier scheme and add your own promotions."),
}


def new_from_template(key: str, name: str = "New scenario") -> Scenario:
    """A new (unsaved) scenario from a template of :data:`TEMPLATES`, named ``name``."""
    if key not in TEMPLATES:
        raise KeyError(f"no template {key!r}; templates: {list(TEMPLATES)}")
    sc = load_default()
    sc.promotions = []
    if key == "no_scheme":
        sc.tier_rules.enabled = False
        if sc.tier_rules.points is not None:
            sc.tier_rules.points.enabled = False
    sc.name = name
    sc.description = f"{TEMPLATES[key][0]} (from the template; based on “{load_default().name}”)"
    return Scenario.model_validate(sc.model_dump())

