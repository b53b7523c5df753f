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

from simulator.scenario import Scenario
from simulator.scenario_io import ScenarioError, load, save

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


def user_dir() -> Path:
    """The folder holding the user's scenarios (created on first use)."""
    env = os.environ.get("BENEFIT_SIM_HOME")
    if env:
        base = Path(env)
    else:
        import platformdirs

        base = Path(platformdirs.user_data_dir("benefit-sim", appauthor=False))
    d = base / "scenarios"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _entry(path: Path, shipped: bool) -> Entry:
    try:
        title = load(path).name
        return Entry(path.stem, path, shipped, title)
    except ScenarioError as exc:
        return Entry(path.stem, path, shipped, path.stem, error=str(exc))


def list_shipped() -> list[Entry]:
    """Scenarios shipped with the product, in file-name order."""
    return [_entry(p, True) for p in sorted(SHIPPED_DIR.glob("*.toml"))]


def list_user() -> list[Entry]:
    """The user's saved scenarios, in file-name order."""
    return [_entry(p, False) for p in sorted(user_dir().glob("*.toml"))]


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
        if cand.exists():
            return cand
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


def unique_user_path(title: str) -> Path:
    """A path in the user folder that does not exist yet."""
    base = slug(title)
    d = user_dir()
    p = d / f"{base}.toml"
    i = 2
    while p.exists():
        p = d / f"{base}_{i}.toml"
        i += 1
    return p


def save_user(sc: Scenario, path: str | os.PathLike | None = None) -> Path:
    """Save to the user folder (atomic). Refuses to overwrite a shipped file."""
    target = Path(path) if path is not None else unique_user_path(sc.name)
    if is_shipped(target):
        raise PermissionError(f"{target.name} is a shipped scenario (read-only): use Save As")
    save(sc, target)
    return target


def delete_user(path: str | os.PathLike) -> None:
    """Delete a user scenario (never a shipped one)."""
    p = Path(path)
    if is_shipped(p):
        raise PermissionError(f"{p.name} is a shipped scenario and cannot be deleted")
    p.unlink()


def rename_user(path: str | os.PathLike, new_title: str) -> Path:
    """Rename a user scenario: its name inside and its file."""
    p = Path(path)
    if is_shipped(p):
        raise PermissionError(f"{p.name} is a shipped scenario (read-only)")
    sc = load(p)
    sc = sc.model_copy(update={"name": new_title})
    new = unique_user_path(new_title) if slug(new_title) != p.stem else p
    save(sc, new)
    if new != p:
        p.unlink()
    return new
