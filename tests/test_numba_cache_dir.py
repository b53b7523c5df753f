"""Compiled code is cached in a folder named by the source of every module that uses numba.

numba checks only the timestamp of a function's own file, while the kernel's machine
code holds what it calls in simulator.draws: a change to draws.py alone must not load
a stale kernel (simulator.threads.CACHE_DIR).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import threads

PACKAGE = Path(threads.__file__).resolve().parent
ROOT = PACKAGE.parent


def _copy_package(tmp_path: Path) -> Path:
    dst = tmp_path / "simulator"
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_a_change_to_a_compiled_module_changes_the_folder(tmp_path):
    pkg = _copy_package(tmp_path)
    before = threads.compiled_sources_digest(pkg)
    assert before == threads.compiled_sources_digest(PACKAGE)
    draws = pkg / "draws.py"
    draws.write_text(draws.read_text() + "\n# a change in draws.py only\n")
    assert threads.compiled_sources_digest(pkg) != before


def test_a_change_elsewhere_keeps_the_folder(tmp_path):
    pkg = _copy_package(tmp_path)
    before = threads.compiled_sources_digest(pkg)
    labels = pkg / "labels.py"  # no numba in it
    assert b"numba" not in labels.read_bytes()
    labels.write_text(labels.read_text() + "\n# a change without compiled code\n")
    assert threads.compiled_sources_digest(pkg) == before


MODULES = sorted(
    "simulator." + p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
    for p in PACKAGE.rglob("*.py") if b"jit(cache=True" in p.read_bytes())


def test_the_compiling_modules_are_found():
    assert {"simulator.kernel", "simulator.draws", "simulator.population"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_every_cached_function_uses_the_folder(module):
    """Imported first in a fresh process, each module's cached functions are kept in
    CACHE_DIR (a module that compiled before simulator.threads set it would not be)."""
    code = (
        "import importlib, numba, sys\n"
        f"m = importlib.import_module({module!r})\n"
        "from simulator import threads\n"
        "paths = [f._cache._cache_path for f in vars(m).values()\n"
        "         if isinstance(f, numba.core.registry.CPUDispatcher)\n"
        "         and type(f._cache).__name__ == 'FunctionCache']\n"
        "assert paths, 'no cached function'\n"
        "bad = [p for p in paths if not p.startswith(threads.CACHE_DIR)]\n"
        "assert not bad, bad\n"
        "assert numba.config.CACHE_DIR == threads.CACHE_DIR\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_old_folders_are_removed_after_a_day(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    root = tmp_path / "benefit-sim"
    old, recent = root / "numba-0000000000000000", root / "numba-1111111111111111"
    for d in (old, recent):
        d.mkdir(parents=True)
    day_ago = time.time() - threads.STALE_CACHE_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    here = Path(threads._cache_dir())
    assert here.parent == root
    assert here.name == "numba-" + threads.compiled_sources_digest(PACKAGE)
    assert not old.exists()
    assert recent.exists()  # another source's folder, in use within the day
