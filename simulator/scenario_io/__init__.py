"""Read, migrate, validate and atomically write scenario files (TOML).

Scenario files are data: they are parsed with :mod:`tomllib` (never evaluated),
migrated from older schema versions, then validated. Every problem is reported
at once as ``path: value must ...`` lines in a :class:`ScenarioError`.

Import from here (``from simulator.scenario_io import load, save, ScenarioError``);
the package, top to bottom (``lint-imports`` enforces the order):

- ``files`` (:func:`load`, :func:`load_with_stamp`, :func:`save`: disk ⇄ scenario) |
  ``hashing`` (:func:`scenario_hash`, :func:`file_hash`);
- ``convert``: :func:`from_dict` (migrate, validate, cross-check), :func:`check`,
  :func:`loads`, :func:`to_dict`, :func:`dumps`;
- ``migrations`` (:func:`migrate`, schema version N → N+1) | ``reading`` (a regular
  file of bounded size, UTF-8, bounded depth: :func:`read_bytes`, :func:`decode`,
  :func:`parse`, :func:`read_data`) | ``options`` (:func:`check_run_options`, run
  settings given on the command line checked as the file's) | ``toml_text`` (the TOML
  text of a scenario dict, ranges written inline);
- ``messages`` (:class:`Issue`, :class:`ScenarioError`: the setting as the form
  labels it, the value, what is allowed) | ``atomic`` (:func:`atomic_write`,
  :func:`atomic_write_bytes`, :class:`Stamp`, stale temp clean-up: used for every
  file the program writes).
"""

from simulator.scenario_io.atomic import (
    STALE_SECONDS,
    TEMP_RE,
    FileChangedError,
    FileTakenError,
    Stamp,
    atomic_write,
    atomic_write_bytes,
    clean_stale_temps,
    current_umask,
    output_mode,
    stamp_of,
    temp_path_for,
)
from simulator.scenario_io.convert import check, dumps, from_dict, loads, to_dict
from simulator.scenario_io.files import load, load_with_stamp, save
from simulator.scenario_io.hashing import file_hash, scenario_hash
from simulator.scenario_io.messages import (
    MISSING,
    Issue,
    ScenarioError,
    _issues_from_pydantic,
    path_str,
)
from simulator.scenario_io.migrations import MIGRATIONS, migrate
from simulator.scenario_io.options import RUN_OPTIONS, check_run_options
from simulator.scenario_io.reading import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    decode,
    parse,
    read_bytes,
    read_data,
)

__all__ = [
    "MAX_DEPTH", "MAX_FILE_BYTES", "MIGRATIONS", "MISSING", "RUN_OPTIONS", "STALE_SECONDS",
    "TEMP_RE", "FileChangedError", "FileTakenError", "Issue", "ScenarioError", "Stamp",
    "_issues_from_pydantic", "atomic_write", "atomic_write_bytes", "check",
    "check_run_options", "clean_stale_temps", "current_umask", "decode", "dumps",
    "file_hash", "from_dict", "load", "load_with_stamp", "loads", "migrate", "output_mode",
    "parse", "path_str", "read_bytes", "read_data", "save", "scenario_hash", "stamp_of",
    "temp_path_for", "to_dict",
]
