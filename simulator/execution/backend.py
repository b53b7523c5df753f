"""Which back end runs the tasks: ``local``, ``local:N`` or a Dask scheduler's address.

:func:`parse_spec` reads a choice (the CLI's ``--cluster``, the app's Run settings);
:func:`current` is the one in force: the choice made by
:func:`simulator.execution.configure`, else ``$BENEFIT_SIM_CLUSTER``, else local.
"""

from __future__ import annotations

import os
import re

CLUSTER_ENV = "BENEFIT_SIM_CLUSTER"
POOL_SIZE_ENV = "BENEFIT_SIM_POOL_SIZE"


def pool_size() -> int:
    """Worker processes of the shared pool: ``$BENEFIT_SIM_POOL_SIZE`` or the core count."""
    env = os.environ.get(POOL_SIZE_ENV, "").strip()
    if env.isdigit() and int(env) >= 1:
        return min(int(env), 64)
    return max(1, os.cpu_count() or 1)


_LOCAL_N = re.compile(r"local:(\d{1,3})")
_ADDRESS = re.compile(r"(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")
SPEC_HELP = ("'local' (this computer's process pool), 'local:N' (a Dask cluster of N worker "
             "processes on this computer) or tcp://HOST:PORT (a running Dask scheduler)")


def parse_spec(text: str | None) -> str:
    """A back-end choice, normalised (``local``, ``local:N`` or an address), or ValueError."""
    s = (text or "").strip()
    if s.lower() in ("", "local", "pool"):
        return "local"
    m = _LOCAL_N.fullmatch(s.lower())
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 64:
            raise ValueError(f"cluster: {s!r} must have between 1 and 64 workers (local:N)")
        return f"local:{n}"
    if _ADDRESS.fullmatch(s):
        return s
    raise ValueError(f"cluster: {s!r} must be {SPEC_HELP}")


_CHOSEN: str | None = None  # set by configure(); None: the environment decides


def current() -> str:
    """The back end in force: the configured choice, else ``$BENEFIT_SIM_CLUSTER``, else local."""
    if _CHOSEN is not None:
        return _CHOSEN
    env = os.environ.get(CLUSTER_ENV, "")
    try:
        return parse_spec(env)
    except ValueError as exc:
        raise ValueError(f"{CLUSTER_ENV}: {exc}") from None


def describe(spec: str | None = None) -> str:
    """The back end in words (for the app's status and the CLI)."""
    s = current() if spec is None else parse_spec(spec)
    if s == "local":
        return f"this computer ({pool_size()} worker processes)"
    if s.startswith("local:"):
        return f"Dask cluster on this computer ({s.split(':')[1]} worker processes)"
    return f"Dask cluster at {s}"
