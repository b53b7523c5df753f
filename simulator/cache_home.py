"""Where benefit-sim keeps its caches: one folder per kind under the user's cache folder.

``$BENEFIT_SIM_HOME/cache/<kind>`` when ``BENEFIT_SIM_HOME`` is set (tests, portable
installs), otherwise the platform's user cache folder (platformdirs). Setting
``BENEFIT_SIM_WINDOW_CACHE=0`` turns every disk cache off (``None``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def cache_folder(kind: str) -> Path | None:
    """The cache folder for ``kind`` (e.g. "windows", "customers"), or None when disabled."""
    env = os.environ
    return _folder(kind, env.get("BENEFIT_SIM_WINDOW_CACHE", "1") == "0",
                   env.get("BENEFIT_SIM_HOME"), env.get("XDG_CACHE_HOME"), env.get("HOME"))


@functools.lru_cache(maxsize=64)
def _folder(kind: str, off: bool, home: str | None, *where: str | None) -> Path | None:
    # asked at every queue window's lookup: kept per environment (``where``: what
    # platformdirs reads)
    if off:
        return None
    if home:
        return Path(home) / "cache" / kind
    import platformdirs

    return Path(platformdirs.user_cache_dir("benefit-sim", appauthor=False)) / kind
