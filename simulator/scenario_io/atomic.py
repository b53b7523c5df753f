"""Atomic writes: a file is the old or the new content, never half, and no temp litter.

Writes keep the target's mode, never overwrite another writer's file (stamps,
exclusive Save As) and clean temp files left by a killed writer.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Stamp:
    """What a file was when it was read: compare with :func:`stamp_of` before saving over it."""

    mtime_ns: int
    size: int
    sha256: str


def stamp_of(path: str | os.PathLike) -> Stamp | None:
    """The current stamp of a file (None if it does not exist)."""
    p = Path(path)
    try:
        st = os.stat(p)
        data = p.read_bytes() if stat.S_ISREG(st.st_mode) else b""
    except FileNotFoundError:
        return None
    return Stamp(st.st_mtime_ns, len(data), hashlib.sha256(data).hexdigest())


class FileChangedError(OSError):
    """The file changed on disk since it was opened (another program or window saved it)."""


class FileTakenError(FileExistsError):
    """Save As to a name that exists (or that another process took meanwhile)."""


TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # mkstemp(prefix=".name.", suffix=".tmp")
STALE_SECONDS = 300


def temp_path_for(target: Path) -> tuple[int, str]:
    """A new temp file beside ``target``: ``.<name>.<8 random characters>.tmp`` (our naming)."""
    return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))


def current_umask() -> int:
    """The process umask (read from /proc when possible: os.umask would change it briefly)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def output_mode(target: Path) -> int:
    """Mode a written file gets: the existing file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def clean_stale_temps(folder: str | os.PathLike, name: str | None = None,
                      older_than: float = STALE_SECONDS) -> list[Path]:
    """Delete temp files of our naming left by a killed writer; returns those deleted.

    Only ``.<name>.<8 random characters>.tmp`` files older than ``older_than`` seconds are
    candidates, and a file whose writer is alive is kept: writers hold an
    exclusive lock on their temp file while they write (released by the kernel
    when they die), so a lock that cannot be taken means a live writer.
    """
    import fcntl
    import time

    d = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(d.iterdir())
    except OSError:
        return removed
    now = time.time()
    for p in entries:
        if not TEMP_RE.match(p.name):
            continue
        if name is not None and not p.name.startswith(f".{name}."):
            continue
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < older_than:
                continue
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer is alive
            os.unlink(p)
            removed.append(p)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def atomic_write(path: str | os.PathLike, write: Any, *, exclusive: bool = False,
                 expect: Stamp | None = None) -> Path:
    """Write a file so that it is the old or the new content, never half; returns its path.

    ``write(tmp_path)`` fills a temp file beside the target (held locked while it
    is written, see :func:`clean_stale_temps`); it then replaces the target, which
    keeps its mode (a new file follows the umask). ``exclusive``: never replace an
    existing file, even one another process created a moment ago (FileTakenError).
    ``expect``: the stamp the file had when it was opened; FileChangedError if it
    has changed since.
    """
    import fcntl

    p = Path(path)
    clean_stale_temps(p.parent, p.name)
    if exclusive and os.path.lexists(p):
        raise FileTakenError(errno.EEXIST, f"{p.name} exists already", str(p))
    fd, tmp = temp_path_for(p)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        write(tmp)
        os.chmod(tmp, output_mode(p))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if expect is not None and stamp_of(p) != expect:
            raise FileChangedError(errno.EBUSY, f"{p.name} has changed on disk since it was "
                                   "opened (another program or window saved it)", str(p))
        if exclusive:
            try:
                os.link(tmp, p)  # fails if the name exists, whoever took it
            except FileExistsError:
                raise FileTakenError(errno.EEXIST, f"{p.name} exists already", str(p)) from None
            os.unlink(tmp)
        else:
            os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        os.close(fd)
    return p


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, exclusive: bool = False,
                       expect: Stamp | None = None) -> Path:
    """Write bytes atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: _write_file(tmp, data), exclusive=exclusive,
                        expect=expect)


def _write_file(tmp: str, data: bytes) -> None:
    with open(tmp, "wb") as f:
        f.write(data)
