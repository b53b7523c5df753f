"""Recently opened scenario files, remembered in a small settings file (no Qt).

The file is ``settings.json`` in the user's configuration folder from
:mod:`platformdirs` (``$BENEFIT_SIM_HOME`` when set, as the tests do), written
atomically (:func:`simulator.scenario_io.atomic_write_bytes`): a crash mid-save
leaves the old list, never half a file. A file that cannot be read (corrupt,
hand-edited) counts as an empty list. The first entry is the scenario used
last, which the app reopens at start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from simulator.scenario_io import atomic_write_bytes

MAX_RECENT = 8
APP = "benefit-sim"


def settings_path() -> Path:
    """Where the settings file lives."""
    env = os.environ.get("BENEFIT_SIM_HOME")
    if env:
        return Path(env) / "settings.json"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "settings.json"


class RecentFiles:
    """The recent-files list (most recent first) kept in the settings file."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else settings_path()

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict) -> bool:
        """Save atomically; False (nothing raised) if the folder cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, json.dumps(data, ensure_ascii=False, indent=1)
                               .encode("utf-8"))
        except OSError:
            return False
        return True

    def files(self) -> list[Path]:
        """Recent files, most recent first (as remembered: some may no longer exist)."""
        items = self._read().get("recent", [])
        if not isinstance(items, list):
            return []
        return [Path(p) for p in items if isinstance(p, str) and p][:MAX_RECENT]

    def add(self, path: str | os.PathLike) -> None:
        """Put ``path`` first (the scenario in use)."""
        p = str(Path(path).resolve())
        data = self._read()
        data["recent"] = [p] + [str(q) for q in self.files() if str(q) != p][:MAX_RECENT - 1]
        self._write(data)

    def remove(self, path: str | os.PathLike) -> None:
        """Forget ``path`` (moved or deleted)."""
        p = str(Path(path).resolve())
        data = self._read()
        data["recent"] = [str(q) for q in self.files() if str(q.resolve()) != p]
        self._write(data)

    def last(self) -> Path | None:
        """The scenario used last (None if none)."""
        files = self.files()
        return files[0] if files else None
