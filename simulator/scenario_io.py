"""Read, migrate, validate and atomically write scenario files (TOML).

Scenario files are data: they are parsed with :mod:`tomllib` (never evaluated),
migrated from older schema versions, then validated. Every problem is reported
at once as ``path: value must ...`` lines in a :class:`ScenarioError`.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import math
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from simulator import labels, uncertainty
from simulator.scenario import SCHEMA_VERSION, Scenario, Uncertainty, cross_check

MISSING = "(missing)"


@dataclass(frozen=True)
class Issue:
    """One validation problem: where, what value, what is allowed.

    ``path`` is the setting's place in the file (``service.pools[0].shifts[0].staff``),
    used to find it; ``str(issue)`` names it as the form does, shows the value in
    the units shown (shares in %) and says what is allowed:
    ``Service ▸ Pool 'Human' ▸ Shift 1 ▸ Staff: -5 agents — must be 0 agents or more``.
    ``where`` may carry that name with list items named (set by :func:`from_dict`).
    """

    path: str
    value: object
    message: str
    where: str = field(default="", compare=False)

    def place(self) -> str:
        """The setting as the form labels it."""
        return self.where or labels.where(self.path)

    def __str__(self) -> str:
        if self.value is None or self.value == MISSING or self.path.startswith("(file)"):
            return f"{self.place()} — {self.message}"
        unit, scale, is_int = labels.display_unit(Scenario, labels.parse_path(self.path))
        return f"{self.place()}: {labels.value_text(self.value, unit, scale, is_int)} — " \
               f"{self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every problem found."""

    def __init__(self, issues: list[Issue], source: str | None = None,
                 what: str = "the scenario"):
        self.issues = issues
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  - {i}" for i in issues)
        super().__init__(f"{head}{len(issues)} problem(s) in {what}:\n{lines}")


def path_str(loc: tuple) -> str:
    """``("tiers", 2, "threshold_cny")`` -> ``"tiers[2].threshold_cny"``: an Issue's path."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_KIND = {"int": "a whole number", "float": "a number", "bool": "true or false",
         "string": "text", "list": "a list", "dict": "a table", "model": "a table"}


def _message(err: Mapping[str, Any], root: type | None = None) -> str:
    """Turn a pydantic error into 'must ...' wording, with the field's range in the form's units."""
    t = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    loc = tuple(err.get("loc", ()))
    value = err.get("input")
    rng = labels.field_range(root, loc) if root is not None else ""
    if t in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        if rng:
            return f"must be {rng}"
        key = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le",
               "less_than": "lt"}[t]
        op = {"ge": "or more", "gt": "", "le": "or less", "lt": ""}[key]
        bound = labels.number(ctx[key])  # pydantic always gives the bound
        return (f"must be {bound} {op}".strip() if op else
                f"must be {'more' if key == 'gt' else 'less'} than {bound}")
    if t in ("finite_number", "float_parsing") or (t == "float_type" and isinstance(value, float)):
        return "must be a finite number" + (f" ({rng})" if rng else "")
    if t == "extra_forbidden":
        return "is not a known setting (check the spelling)"
    if t == "missing":
        return "is required"
    if t == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if t == "too_long":
        n = ctx.get("max_length")
        if isinstance(value, str):
            return f"is too long: at most {n} characters"
        return f"has too many items: at most {n}"
    if t == "too_short":
        n = ctx.get("min_length")
        if isinstance(value, str):
            return "must not be empty"
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if t.endswith("_type") or t.endswith("_parsing"):
        kind = _KIND.get(t.split("_")[0], t.split("_")[0])
        if t.startswith("int") and isinstance(value, float) and value == value:
            kind = "a whole number (no decimals)"
        if isinstance(value, bool) and not t.startswith("bool"):
            return f"must be {kind}, not true/false" + (f" ({rng})" if rng else "")
        if isinstance(value, str) and t.split("_")[0] in ("int", "float"):
            return f"must be {kind} without quotes" + (f" ({rng})" if rng else "")
        if t.startswith("float") and isinstance(value, int):
            return "is too large" + (f": must be {rng}" if rng else "")
        return f"must be {kind}" + (f" ({rng})" if rng else "")
    return err["msg"]


def _model_named(title: str) -> type[BaseModel] | None:
    """The schema class a pydantic error's title names (assignment errors name the owner)."""
    from simulator import scenario as schema

    cls = getattr(schema, title, None)
    return cls if isinstance(cls, type) and issubclass(cls, schema.Model) else None


def _issues_from_pydantic(exc: ValidationError, data: object = None,
                          prefix: tuple = ()) -> list[Issue]:
    """Issues of a pydantic error; ``data`` (the validated input) names list items."""
    root = _model_named(exc.title)
    out = []
    for e in exc.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        e = {**e, "loc": loc}
        value = e.get("input") if e["type"] != "missing" else MISSING
        if e["type"] == "extra_forbidden" or isinstance(value, (dict, list)):
            value = None if e["type"] != "too_long" else value
        full = prefix + loc
        where = labels.where(full, data) if data is not None else ""
        out.append(Issue(path_str(full), value, _message(e, root), where))
    return out


# ---------------------------------------------------------------------------
# Migrations: each takes a dict of version N and returns version N+1. Each first checks
# the shape of what it moves (a section of the wrong type is a validation problem).


def _shape(d: dict, path: str, kind: type, issues: list[Issue]) -> Any:
    """The value at a dotted path of ``d`` if present and of ``kind``; records an issue if not."""
    node: object = d
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if not isinstance(node, kind) or isinstance(node, bool):
        issues.append(Issue(path, None, f"must be {_KIND['dict' if kind is dict else 'list']} "
                            f"(found {labels.value_text(node)})"))
        return None
    return node


def _check_v1(d: dict) -> None:
    """The parts of a version-1 file the migration moves must have the right shape."""
    issues: list[Issue] = []
    pop = _shape(d, "population", dict, issues)
    if pop is not None:
        _shape(d, "population.segments", list, issues)
    ts = _shape(d, "tier_scheme", dict, issues)
    if ts is not None:
        _shape(d, "tier_scheme.tiers", list, issues)
    svc = _shape(d, "service", dict, issues)
    pools = _shape(d, "service.pools", list, issues) if svc is not None else None
    for i, pool in enumerate(pools or []):
        where = f"service.pools[{i}]"
        if not isinstance(pool, dict):
            issues.append(Issue(where, None, f"must be a table (found {labels.value_text(pool)})"))
            continue
        if "staff" in pool and "shifts" not in pool and "open_hours" in pool:
            oh = pool["open_hours"]
            if not (isinstance(oh, list) and len(oh) == 2
                    and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                            for x in oh)):
                issues.append(Issue(f"{where}.open_hours", None,
                                    "must be [opening hour, closing hour], e.g. [8, 22] "
                                    f"(found {labels.value_text(oh)})"))
    if issues:
        raise ScenarioError(issues)


def _migrate_1_to_2(d: dict) -> dict:
    """Version 1 nested segments in population and tiers in tier_scheme; pools had staff+hours."""
    _check_v1(d)
    d = copy.deepcopy(d)
    pop = d.get("population", {})
    if "segments" in pop and "segments" not in d:
        d["segments"] = pop.pop("segments")
    ts = d.pop("tier_scheme", None)
    if ts is not None:
        if "tiers" in ts:
            d["tiers"] = ts.pop("tiers")
        d["tier_rules"] = ts
    for pool in d.get("service", {}).get("pools", []):
        if "staff" in pool and "shifts" not in pool:
            start, end = pool.pop("open_hours", [0, 24])
            pool["shifts"] = [{"start_hour": start, "end_hour": end, "staff": pool.pop("staff")}]
    d["schema_version"] = 2
    return d


def _migrate_2_to_3(d: dict) -> dict:
    """Version 3 allows ranges in place of numbers; a version-2 file is valid as it is."""
    return {**d, "schema_version": 3}


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


def migrate(data: dict) -> tuple[dict, list[str]]:
    """Bring a scenario dict to the current schema. Returns (dict, notes of what changed)."""
    notes: list[str] = []
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ScenarioError([Issue("schema_version", version,
                                   f"must be a whole number from 1 to {SCHEMA_VERSION}")])
    if version > SCHEMA_VERSION:
        raise ScenarioError([Issue(
            "schema_version", version,
            f"is newer than this program understands (at most {SCHEMA_VERSION}); "
            "update benefit-sim",
        )])
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        notes.append(f"migrated from schema version {version} to {version + 1}")
        version += 1
    return data, notes


# ---------------------------------------------------------------------------
# Reading: files are data, of bounded size and depth.

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


# ---------------------------------------------------------------------------


def from_dict(data: dict, source: str | None = None) -> Scenario:
    """Migrate and validate a plain dict; raise ScenarioError listing every problem."""
    if not isinstance(data, dict):
        raise ScenarioError([Issue("(top level)", None, "must be a table")], source)
    if not _depth_ok(data):
        raise ScenarioError([Issue("(file)", None, f"is too deeply nested (at most {MAX_DEPTH} "
                                   "levels)")], source)
    try:
        data, _ = migrate(data)
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, source) from None
    data, ranges, bad = uncertainty.extract(data)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        # a bad range is reported once, as a range (its path may end in the range's key)
        ranged = {p[0] for p, _ in bad} | {p[0].rsplit(".", 1)[0] for p, _ in bad
                                           if p[0].rsplit(".", 1)[-1] in uncertainty.RANGE_KEYS}
        issues = [i for i in _issues_from_pydantic(exc, data) if i.path not in ranged]
        raise ScenarioError([Issue(*p, where=w) for p, w in bad] + issues, source) from None
    if bad:
        raise ScenarioError([Issue(*p, where=w) for p, w in bad], source)
    uncertainty.set_uncertain(sc, ranges)
    cross = check(sc)
    if cross:
        raise ScenarioError(cross, source)
    return sc


def check(sc: Scenario) -> list[Issue]:
    """The cross-field problems of a valid-typed scenario, list items named (GUI and CLI)."""
    return [Issue(p, v, m, labels.where(p, sc)) for p, v, m in
            cross_check(sc) + uncertainty.problems(sc)]


def loads(text: str, source: str | None = None) -> Scenario:
    """Parse TOML text into a validated scenario."""
    return from_dict(parse(text, "toml", source), source)


def load(path: str | os.PathLike) -> Scenario:
    """Read a scenario file (.toml or .json)."""
    p = Path(path)
    return from_dict(read_data(p), str(p))


def load_with_stamp(path: str | os.PathLike) -> tuple[Scenario, "Stamp"]:
    """Read a scenario and the stamp of the file read (for :func:`save` ``expect=``)."""
    p = Path(path)
    raw = read_bytes(p)
    st = os.stat(p)
    stamp = Stamp(st.st_mtime_ns, len(raw), hashlib.sha256(raw).hexdigest())
    text = decode(raw, str(p))
    sc = from_dict(parse(text, "json" if p.suffix.lower() == ".json" else "toml", str(p)), str(p))
    return sc, stamp


def to_dict(sc: Scenario) -> dict[str, Any]:
    """Plain dict for saving (no None values: TOML has no null), ranges written back.

    A scenario without ranges is written as schema version 2 (what older versions of
    the program read) and without the default ``run.uncertainty`` section, so its
    content, and its hash, are what they were before ranges existed.
    """
    d = _drop_none(sc.model_dump(mode="json"))
    run = d.get("run", {})
    if run.get("uncertainty") == _DEFAULT_UNCERTAINTY:
        del run["uncertainty"]
    if uncertainty.uncertain_of(sc):
        uncertainty.inline(d, sc)
    elif "uncertainty" not in run:
        d["schema_version"] = 2
    return d


_DEFAULT_UNCERTAINTY = Uncertainty().model_dump(mode="json")


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError("scenario values must be finite")
    return x


def dumps(sc: Scenario) -> str:
    """TOML text of a scenario (comments of hand-written files are not kept)."""
    return tomli_w.dumps(to_dict(sc))


# ---------------------------------------------------------------------------
# Writing: atomic, mode-preserving, never over another writer's file.


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


def save(sc: Scenario, path: str | os.PathLike, *, exclusive: bool = False,
         expect: Stamp | None = None) -> Stamp:
    """Validate, then write atomically; returns the new file's stamp.

    ``exclusive`` (Save As to a new name) never overwrites a file; ``expect`` (the
    stamp from :func:`load_with_stamp`) refuses to save over a file changed since.
    """
    cross = check(sc)
    if cross:
        raise ScenarioError(cross, str(path))
    data = dumps(sc).encode("utf-8")
    p = atomic_write_bytes(path, data, exclusive=exclusive, expect=expect)
    st = os.stat(p)
    return Stamp(st.st_mtime_ns, len(data), hashlib.sha256(data).hexdigest())


def scenario_hash(sc: Scenario) -> str:
    """Short content hash of the scenario's data (independent of comments and layout)."""
    import json

    blob = json.dumps(to_dict(sc), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


# ---------------------------------------------------------------------------
# Run options given outside the file (command line, GUI run settings)

RUN_OPTIONS = {"replications": ("RunSettings", "replications"),
               "agents": ("RunSettings", "agents"),
               "months": ("RunSettings", "horizon_months"),
               "seed": ("RunSettings", "seed"),
               "budget": ("Budget", "total_cny_per_month")}
_SECTION_OF = {"RunSettings": "run", "Budget": "budget"}


def check_run_options(**options: object) -> list[Issue]:
    """Problems of run settings given as options (``agents=..., months=...``; None = not given).

    The same bounds and messages as the file's ``run`` fields: ``--agents 1000000000``
    reads like a file with ``agents = 1000000000``.
    """
    from typing import Annotated

    from pydantic import TypeAdapter

    out: list[Issue] = []
    for opt, value in options.items():
        if value is None:
            continue
        model_name, name = RUN_OPTIONS[opt]
        model = _model_named(model_name)
        assert model is not None, model_name  # RUN_OPTIONS names schema classes only
        info = model.model_fields[name]
        tp: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        adapter = TypeAdapter(tp,
                              config={"strict": True, "allow_inf_nan": False})
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                e = {**e, "loc": (name,)}
                out.append(Issue(f"{_SECTION_OF[model_name]}.{name}", value,
                                 _message(e, model)))
    return out
