"""Where the workbook goes: output checks (errors in the planner's words) and the atomic save."""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook

from simulator.scenario_io import atomic_write_bytes


class ExportError(Exception):
    """The workbook cannot be written; ``str(exc)`` says why and what to do."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = None if path is None else Path(path)


class OutputExistsError(ExportError):
    """The file exists and overwriting was not allowed."""


class OutputNotWritableError(ExportError):
    """The folder does not exist or cannot be written."""


class OutputLockedError(ExportError):
    """The file is open in Excel/LibreOffice (lock file present) or read-only."""


def _lock_files(p: Path) -> list[Path]:
    """Lock files LibreOffice and Excel leave beside an open workbook."""
    return [p.parent / f".~lock.{p.name}#", p.parent / f"~${p.name}"]


def check_output(out_path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Raise an :class:`ExportError` subclass if the workbook cannot be written there."""
    p = Path(out_path)
    if p.suffix.lower() != ".xlsx":
        raise ExportError(f"{p}: the file name must end in .xlsx", p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputNotWritableError(f"{p}: folder {parent} does not exist", p)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputNotWritableError(f"{p}: folder {parent} is not writable", p)
    for lock in _lock_files(p):
        if lock.exists():
            raise OutputLockedError(
                f"{p} is open in another program (lock file {lock.name}); close it and retry", p)
    if p.exists():
        if p.is_dir():
            raise ExportError(f"{p} is a folder", p)
        if not overwrite:
            raise OutputExistsError(f"{p} exists; use --force (or choose to overwrite) to "
                                    "replace it", p)
        if not os.access(p, os.W_OK):
            raise OutputLockedError(f"{p} is read-only", p)
    return p


def save_atomic(wb: Workbook, p: Path) -> None:
    """Serialise in memory, then write atomically (mode kept, temp locked, stale temps cleaned).

    Building the zip in memory means a full disk fails in one place, as an
    OutputNotWritableError, with no half-written ZipFile left to complain at exit.
    """
    import errno
    import io

    buf = io.BytesIO()
    wb.save(buf)
    try:
        atomic_write_bytes(p, buf.getvalue())
    except PermissionError as exc:
        if p.exists():
            raise OutputLockedError(f"{p} cannot be replaced: it may be open in another "
                                    f"program ({exc.strerror})", p) from exc
        raise OutputNotWritableError(f"{p}: cannot write in {p.parent} ({exc.strerror})",
                                     p) from exc
    except OSError as exc:
        why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise OutputNotWritableError(f"{p}: writing failed ({why}); nothing was written",
                                     p) from exc
