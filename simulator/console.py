"""Console conventions every command shares.

The rich console, progress bars with Ctrl+C cancel, and output files written
atomically with one-line errors.

Below the CLI (``simulator.cli``) so that command modules elsewhere (``simulator.datafit.cli``)
use them without importing the CLI that registers them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from simulator.scenario import Scenario
from simulator.scenario_io import atomic_write_bytes

SCENARIO_HELP = "scenario file, or the key of a shipped/user scenario (default: Xinghe today)"

def _console(stderr: bool = False):
    """A rich console; when output is piped, lines are 140 wide (not 80) so tables stay whole."""
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 140
    return Console(stderr=stderr, highlight=False, width=width)


def with_progress(console, work, total: int | None = None, label: str = "replications"):
    """Call ``work(progress=cb, cancel=event)`` with a progress bar on a terminal.

    Off a terminal ``work`` is called with neither. Ctrl+C sets the cancel event
    so worker processes stop, then propagates.
    """
    if not console.is_terminal:
        return work()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    cancel = threading.Event()
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as prog:
        task = prog.add_task(label, total=total)

        def cb(done, tot):
            prog.update(task, completed=done, total=tot)

        try:
            return work(progress=cb, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            raise


def run_with_progress(sc: Scenario, console, **kw):
    """Run the engine with a progress bar on a terminal; Ctrl+C cancels cleanly."""
    from simulator.runner import run

    return with_progress(console, lambda **pc: run(sc, **kw, **pc),
                         kw.get("replications") or sc.run.replications)


class OutputError(Exception):
    """An output path that cannot be written; the message is one line for the user."""


def _why(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    return exc.strerror or str(exc)


def check_output_path(path: str | os.PathLike, option: str, folder: bool = False) -> None:
    """Refuse, before any work, an output path that cannot be written (one-line OutputError)."""
    p = Path(path)
    if folder:
        if p.exists() and not p.is_dir():
            raise OutputError(f"{option} {p}: is a file; {option} takes a folder for the tables")
        parent = p if p.exists() else next((q for q in p.parents if q.exists()), Path("."))
    else:
        if p.is_dir():
            raise OutputError(f"{option} {p}: is a folder; give a file name, e.g. {p / 'out.json'}")
        if p.exists() and not p.is_file():
            raise OutputError(f"{option} {p}: is not a regular file (a device or a pipe)")
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"{option} {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {p}: folder {parent} is not writable")


def write_output(path: str | os.PathLike, data: bytes, option: str) -> None:
    """Write an output file atomically; any failure is a one-line OutputError."""
    check_output_path(path, option)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise OutputError(f"{option} {path}: cannot write it ({_why(exc)}); nothing was "
                          "written") from None
