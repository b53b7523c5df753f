"""Reading scenario files as data: a regular file of bounded size, UTF-8, bounded depth.

Files are parsed with :mod:`tomllib` or :mod:`json` (never evaluated); devices,
pipes and folders are refused before they are opened.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from simulator import labels
from simulator.scenario_io.messages import Issue, ScenarioError

MAX_FILE_BYTES = 5 * 2**20  # the biggest shipped scenario is ~10 kB
MAX_DEPTH = 24  # tables and lists nested in each other (the schema needs 5)


def _file_issue(p: Path | str, message: str) -> ScenarioError:
    return ScenarioError([Issue("(file)", None, message)], str(p))


def read_bytes(path: str | os.PathLike) -> bytes:
    """A scenario file's bytes: a regular file of at most MAX_FILE_BYTES, or ScenarioError.

    Devices (``/dev/zero``), named pipes and folders are refused before they are
    opened, so they can neither fill the memory nor block.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise _file_issue(p, f"cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise _file_issue(p, "is a folder, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise _file_issue(p, "is not a regular file (a device or a pipe cannot be a scenario)")
    if st.st_size > MAX_FILE_BYTES:
        raise _file_issue(p, f"is too large ({st.st_size / 2**20:,.1f} MB; a scenario file "
                          f"is at most {MAX_FILE_BYTES // 2**20} MB)")
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _file_issue(p, f"cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _file_issue(p, f"is too large (a scenario file is at most "
                          f"{MAX_FILE_BYTES // 2**20} MB)")
    return raw


def _depth_ok(data: object) -> bool:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return True


def parse(text: str, fmt: str = "toml", source: str | None = None) -> dict:
    """Parse TOML or JSON text into a dict (not yet validated); ScenarioError if it is not one."""
    import json

    name = fmt.upper()
    try:
        data = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError([Issue("(file)", None, f"is not valid {name}: {exc}")],
                            source) from None
    except RecursionError:
        data = None
    if data is None or not _depth_ok(data):
        raise ScenarioError([Issue("(file)", None, f"is too deeply nested (tables and lists "
                                   f"may nest at most {MAX_DEPTH} levels)")], source)
    if not isinstance(data, dict):
        raise ScenarioError([Issue("(top level)", None, f"must be a table (found "
                                   f"{labels.value_text(data)})")], source)
    return data


def decode(raw: bytes, source: str | None = None) -> str:
    """UTF-8 text of a file's bytes (a BOM is allowed); ScenarioError if it is not text."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError([Issue("(file)", None, "is not UTF-8 text (it looks like UTF-16; "
                                   "save it as UTF-8)")], source)
    if b"\x00" in raw:
        raise ScenarioError([Issue("(file)", None, "is not UTF-8 text (it contains NUL bytes: "
                                   "is it a binary file?)")], source)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([Issue("(file)", None, "is not UTF-8 text")], source) from None


def read_data(path: str | os.PathLike) -> dict:
    """The parsed (not validated) content of a scenario file."""
    p = Path(path)
    text = decode(read_bytes(p), str(p))
    return parse(text, "json" if p.suffix.lower() == ".json" else "toml", str(p))
