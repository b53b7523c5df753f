"""A shop's actual customers as a starting population (issue 16, way (b)).

A customer file (CSV, written by ``benefit-sim fit``) has one row per real
customer: who they are, how likely they are still alive, what is known about their
order rate and dropout (the fitted model's posterior given their history), and
their spend and orders over the last months (the rolling window for tiers). It is
plain data: read with the csv module, every value checked, never evaluated.

Columns (header names; ``m1`` is the month just before the simulation starts):

- ``customer_id`` (text), ``segment`` (a segment name of the scenario);
- ``p_alive``: probability the customer is still a customer today (0..1);
- ``order_rate_mean``, ``order_rate_shape``: the gamma of the customer's orders per
  month, given alive (mean > 0, shape > 0);
- ``dropout_a``, ``dropout_b`` (optional, together): the beta of the probability of
  dropping out after each order (BG/NBD); a customer's monthly churn probability is
  then 1 - exp(-rate x dropout). Without them the segment's churn applies;
- ``spend_m1`` .. ``spend_m12`` and ``orders_m1`` .. ``orders_m12`` (optional):
  spend (CNY) and orders in each of the last months, most recent first;
- ``spend_per_order`` (optional, CNY, > 0): the customer's own expected order value
  (``fit`` writes the gamma-gamma estimate: their mean order value shrunk toward the
  population's). Their orders then average this instead of the segment's spend per
  order (same spread). Without it every customer averages the segment's;
- ``tenure_months`` (optional, >= 0): months since the customer's first purchase, on
  the day the simulation starts. With a new customer's extra order rate in the
  scenario (``population.new_customer_boost``) the customer's rate carries the part
  of it left at their tenure; without the column they count as established (none left).

The engine draws each customer's alive state, rate and dropout from these once per
replication with addressed random numbers (:func:`draw`), so both arms meet the
same customers.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.cache_home import cache_folder
from simulator.csv_safe import FORMULA_START, neutral

HISTORY_MONTHS = 12
MAX_BYTES = 2 * 2**30  # a customer file larger than this is refused (about 10 M customers)
MAX_CUSTOMERS = 5_000_000  # the engine's agent limit
REQUIRED = ("customer_id", "segment", "p_alive", "order_rate_mean", "order_rate_shape")
DROPOUT = ("dropout_a", "dropout_b")
SPEND = tuple(f"spend_m{k}" for k in range(1, HISTORY_MONTHS + 1))
ORDERS = tuple(f"orders_m{k}" for k in range(1, HISTORY_MONTHS + 1))
LEVEL = "spend_per_order"
TENURE = "tenure_months"
COLUMNS = REQUIRED + DROPOUT + SPEND + ORDERS + (LEVEL, TENURE)
SHOWN = 5  # bad rows quoted in a message


class CustomerFileError(ValueError):
    """A customer file that cannot be used, in the planner's words."""


@dataclass(frozen=True)
class CustomerBase:
    """The customers as arrays (one entry per real customer)."""

    ids: tuple[str, ...]
    segment: np.ndarray  # int8 index into the scenario's segments
    p_alive: np.ndarray  # float64
    rate_mean: np.ndarray  # orders per month, given alive
    rate_shape: np.ndarray
    dropout_a: np.ndarray | None  # beta of dropout per order (None: the segment's churn)
    dropout_b: np.ndarray | None
    spend: np.ndarray  # [HISTORY_MONTHS, n] float64, row 0 = the month before the start
    orders: np.ndarray  # [HISTORY_MONTHS, n] int64
    source: str
    spend_level: np.ndarray | None = None  # expected CNY per order (None: the segment's)
    tenure_months: np.ndarray | None = None  # since the first purchase (None: established)

    def __len__(self) -> int:
        return len(self.ids)


def _floats(rows: list[list[str]], col: int, name: str, lo: float, hi: float,
            lo_open: bool, first_line: int) -> np.ndarray:
    out = np.empty(len(rows))
    bad: list[int] = []
    for i, row in enumerate(rows):
        try:
            v = float(row[col])
        except (ValueError, IndexError):
            v = math.nan
        if not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi):
            bad.append(first_line + i)
        out[i] = v
    if bad:
        rng = f"{'more than' if lo_open else 'from'} {lo:g}" + (
            f" {'up to' if lo_open else 'to'} {hi:g}" if math.isfinite(hi) else "")
        more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        raise CustomerFileError(f"column {name!r}: line(s) {', '.join(map(str, bad[:SHOWN]))}"
                                f"{more} — must be a number {rng}")
    return out


def _text(cell: str) -> str:
    """A text cell as written: the apostrophe that kept it from being a formula removed."""
    cell = cell.strip()
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def parse(text: str, segments: list[str], source: str = "customer file") -> CustomerBase:
    """Parse the CSV text of a customer file against the scenario's segment names."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CustomerFileError(f"{source}: the file is empty") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CustomerFileError(f"{source}: missing column(s) {', '.join(missing)}; a customer "
                                f"file needs {', '.join(REQUIRED)}")
    has_drop = [c in header for c in DROPOUT]
    if any(has_drop) and not all(has_drop):
        raise CustomerFileError(f"{source}: give both dropout_a and dropout_b, or neither")
    rows = [r for r in reader if any(x.strip() for x in r)]
    if not rows:
        raise CustomerFileError(f"{source}: no customers (only a header)")
    if len(rows) > MAX_CUSTOMERS:
        raise CustomerFileError(f"{source}: {len(rows):,} customers; at most "
                                f"{MAX_CUSTOMERS:,} can be simulated (use a sample)")
    short = [i + 2 for i, r in enumerate(rows) if len(r) != len(header)]
    if short:
        raise CustomerFileError(f"{source}: line(s) {', '.join(map(str, short[:SHOWN]))} have "
                                f"a different number of fields than the header ({len(header)})")
    col = {h: j for j, h in enumerate(header)}
    index = {name: k for k, name in enumerate(segments)}
    seg = np.empty(len(rows), dtype=np.int8)
    unknown: dict[str, int] = {}
    for i, r in enumerate(rows):
        k = index.get(_text(r[col["segment"]]))
        if k is None:
            unknown.setdefault(_text(r[col["segment"]]), i + 2)
            k = 0
        seg[i] = k
    if unknown:
        shown = ", ".join(f"{name!r} (line {line})" for name, line in list(unknown.items())[:SHOWN])
        raise CustomerFileError(f"{source}: segment {shown} is not a segment of the scenario; "
                                f"allowed: {', '.join(map(repr, segments))}")

    def num(name: str, lo: float, hi: float = math.inf, lo_open: bool = False) -> np.ndarray:
        return _floats([[r[col[name]]] for r in rows], 0, name, lo, hi, lo_open, 2)

    da = db = None
    if all(has_drop):
        da, db = num("dropout_a", 0.0, 1e6, True), num("dropout_b", 0.0, 1e6, True)
    n = len(rows)
    spend = np.zeros((HISTORY_MONTHS, n))
    orders = np.zeros((HISTORY_MONTHS, n), dtype=np.int64)
    for k in range(HISTORY_MONTHS):
        if SPEND[k] in col:
            spend[k] = num(SPEND[k], 0.0, 1e10)
        if ORDERS[k] in col:
            o = num(ORDERS[k], 0.0, 1e6)
            if np.any(o != np.floor(o)):
                raise CustomerFileError(f"column {ORDERS[k]!r}: orders must be whole numbers")
            orders[k] = o.astype(np.int64)
    level = num(LEVEL, 0.0, 1e9, True) if LEVEL in col else None
    tenure = num(TENURE, 0.0, 1e4) if TENURE in col else None
    return CustomerBase(
        ids=tuple(_text(r[col["customer_id"]]) for r in rows), segment=seg,
        p_alive=num("p_alive", 0.0, 1.0), rate_mean=num("order_rate_mean", 0.0, 1e4, True),
        rate_shape=num("order_rate_shape", 0.0, 1e6, True), dropout_a=da, dropout_b=db,
        spend=spend, orders=orders, source=source, spend_level=level, tenure_months=tenure)


def read(path: str | Path, segments: list[str]) -> CustomerBase:
    """Read a customer file (size-checked, decoded as UTF-8)."""
    return parse_bytes(read_bytes(path), segments, Path(path).name)


def to_csv(cb: CustomerBase, segments: list[str]) -> str:
    """The CSV text of a customer base (the inverse of :func:`parse`).

    Text that a spreadsheet would run as a formula is written with a leading apostrophe,
    which :func:`parse` removes.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = list(REQUIRED) + (list(DROPOUT) if cb.dropout_a is not None else []) \
        + list(SPEND) + list(ORDERS) + ([LEVEL] if cb.spend_level is not None else []) \
        + ([TENURE] if cb.tenure_months is not None else [])
    w.writerow(cols)
    for i in range(len(cb)):
        row = [neutral(cb.ids[i]), neutral(segments[cb.segment[i]]), f"{cb.p_alive[i]:.6g}",
               f"{cb.rate_mean[i]:.6g}", f"{cb.rate_shape[i]:.6g}"]
        if cb.dropout_a is not None and cb.dropout_b is not None:
            row += [f"{cb.dropout_a[i]:.6g}", f"{cb.dropout_b[i]:.6g}"]
        row += [f"{v:.2f}" for v in cb.spend[:, i]] + [str(int(v)) for v in cb.orders[:, i]]
        if cb.spend_level is not None:
            row.append(f"{cb.spend_level[i]:.6g}")
        if cb.tenure_months is not None:
            row.append(f"{cb.tenure_months[i]:.6g}")
        w.writerow(row)
    return buf.getvalue()


_SAMPLES: dict[tuple, tuple[CustomerBase, CustomerBase]] = {}
_SAMPLES_MAX = 4


def sample(cb: CustomerBase, agents: int, seed: int, replication: int) -> CustomerBase:
    """``agents`` of the file's customers (all of them when the file has no more).

    A simple random sample without replacement, drawn anew for each replication from
    the run's seed (so the sampling spread is in the replications' intervals; both
    arms of a replication, and every worker, draw the same customers). Each agent then
    stands for population.customers / agents real customers (the run's scaling).
    """
    n = len(cb)
    if agents >= n:
        return cb
    key = (id(cb), agents, seed, replication)
    hit = _SAMPLES.get(key)
    if hit is not None and hit[0] is cb:
        return hit[1]
    rng = np.random.default_rng([seed % 2**63, replication, 0x5A3F1E])
    idx = np.sort(rng.choice(n, agents, replace=False))
    sub = CustomerBase(
        ids=tuple(cb.ids[i] for i in idx), segment=cb.segment[idx], p_alive=cb.p_alive[idx],
        rate_mean=cb.rate_mean[idx], rate_shape=cb.rate_shape[idx],
        dropout_a=None if cb.dropout_a is None else np.broadcast_to(
            cb.dropout_a, (n,))[idx],
        dropout_b=None if cb.dropout_b is None else cb.dropout_b[idx],
        spend=cb.spend[:, idx], orders=cb.orders[:, idx], source=cb.source,
        spend_level=None if cb.spend_level is None else cb.spend_level[idx],
        tenure_months=None if cb.tenure_months is None else cb.tenure_months[idx])
    if len(_SAMPLES) >= _SAMPLES_MAX:
        _SAMPLES.pop(next(iter(_SAMPLES)))
    _SAMPLES[key] = (cb, sub)
    return sub


def draw(cb: CustomerBase, u_alive: np.ndarray, u_rate: np.ndarray, u_drop: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Alive today, orders per month and monthly churn probability of each customer.

    One uniform per customer and purpose (addressed by the engine): alive if
    ``u_alive < p_alive``; the rate by inverting its gamma; the dropout per order by
    inverting its beta, giving a monthly churn probability 1 - exp(-rate x dropout)
    (None without dropout columns: the segment's churn applies).
    """
    from scipy.special import betaincinv, gammaincinv

    alive = u_alive < cb.p_alive
    u = np.clip(u_rate, 1e-12, 1 - 1e-12)
    rate = gammaincinv(cb.rate_shape, u) / cb.rate_shape * cb.rate_mean
    churn = None
    if cb.dropout_a is not None and cb.dropout_b is not None:
        p = betaincinv(cb.dropout_a, cb.dropout_b, np.clip(u_drop, 1e-12, 1 - 1e-12))
        churn = -np.expm1(-rate * p)
    return alive, rate, churn


# ---------------------------------------------------------------- scenario's customer file
# A scenario names its customer file in ``population.customer_file``; the loader
# (simulator.loader) reads it, checks it against the scenario's segments, records its
# content hash in ``population.customer_file_sha256`` (part of the scenario hash) and
# attaches its bytes to the scenario, which carries them, pickled, to whichever process
# or Dask worker runs a replication. There the bytes are parsed once per process.
# A copy of the scenario rebuilt from its fields (from_dict, as sweeps that mix scenarios
# do) keeps the hash but not the bytes: those are found by their hash in this process's
# memory, else in the content-addressed folder the loader also keeps them in
# (``<cache>/customers/<sha256>.csv``, shared by the pool's and a local cluster's workers).
_PARSED: dict[tuple[str, tuple[str, ...]], CustomerBase] = {}
_PARSED_MAX = 4
_DATA: dict[str, bytes] = {}
_DATA_MAX = 4


def _cache_dir() -> Path | None:
    """The content-addressed folder of customer files (None: ``BENEFIT_SIM_WINDOW_CACHE=0``)."""
    return cache_folder("customers")


def keep(sha: str, data: bytes) -> str | None:
    """Remember a customer file's bytes by hash: in memory and in the cache folder (atomic).

    Returns the cache folder's file holding them (None: not kept on disk), where this
    machine's worker processes find them (then the bytes need not travel with every task).
    """
    import os
    import tempfile

    if len(_DATA) >= _DATA_MAX and sha not in _DATA:
        _DATA.pop(next(iter(_DATA)))
    _DATA[sha] = data
    d = _cache_dir()
    if d is None:
        return None
    if (d / f"{sha}.csv").is_file():
        return str(d / f"{sha}.csv")
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, d / f"{sha}.csv")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return None  # a read-only or full disk: the bytes travel with the scenario
    return str(d / f"{sha}.csv")


def _kept(sha: str) -> bytes | None:
    hit = _DATA.get(sha)
    if hit is None:
        d = _cache_dir()
        try:
            hit = (d / f"{sha}.csv").read_bytes() if d is not None else None
        except OSError:
            hit = None
    return hit


def files_of(tasks) -> dict[str, bytes]:
    """The customer files (SHA-256 -> bytes) the scenarios of ``tasks`` start from.

    Looks at every scenario a task (a dataclass) holds; bytes not found in this process
    (memory or cache folder) are left out (the worker then says the file is missing).
    """
    import dataclasses

    out: dict[str, bytes] = {}
    for t in tasks:
        for f in dataclasses.fields(t):
            pop = getattr(getattr(t, f.name), "population", None)
            sha = getattr(pop, "customer_file_sha256", None)
            if pop is None or not pop.customer_file or not sha or sha in out:
                continue
            data = pop._customer_data if pop._customer_data is not None else _kept(sha)
            if data is not None:
                out[sha] = data
    return out


def content_hash(data: bytes) -> str:
    """The customer file's content hash (SHA-256, hex)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str | Path) -> bytes:
    """A customer file's bytes (size-checked); CustomerFileError if it cannot be read."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise CustomerFileError(f"{p.name}: {size / 2**30:.1f} GB; at most "
                                    f"{MAX_BYTES / 2**30:.0f} GB")
        return p.read_bytes()
    except OSError as exc:
        raise CustomerFileError(f"{p.name}: cannot be read ({exc.strerror or exc})") from None


def parse_bytes(data: bytes, segments: list[str], source: str) -> CustomerBase:
    """Parse a customer file's bytes (UTF-8, a BOM allowed)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CustomerFileError(f"{source}: not a UTF-8 text file") from None
    return parse(text, segments, source)


def for_scenario(sc) -> CustomerBase | None:
    """The customers a scenario starts from: its customer file, or None (drawn from segments).

    The file's bytes come with the scenario (attached by :mod:`simulator.loader`) and
    must still have the hash the scenario records; they are parsed once per process.
    """
    pop = sc.population
    if not pop.customer_file:
        return None
    data = pop._customer_data
    if data is None and pop.customer_file_sha256:
        data = _kept(pop.customer_file_sha256)
    if data is None and pop._customer_cached:  # where the loader kept them (this machine)
        try:
            data = Path(pop._customer_cached).read_bytes()
        except OSError:
            data = None
    if data is None and pop.customer_file_sha256:
        d = _cache_dir()
        raise CustomerFileError(
            f"customer file {pop.customer_file!r} (SHA-256 {pop.customer_file_sha256[:16]}…): "
            f"not on this machine. Workers find it by its hash in the cache folder "
            f"({d / (pop.customer_file_sha256 + '.csv') if d else 'turned off'}), which a "
            "cluster on other machines does not share: run it on this computer (worker "
            "processes or a local cluster), or copy the file to that name in each machine's "
            "benefit-sim cache folder")
    if data is None or pop.customer_file_sha256 is None:
        raise CustomerFileError(f"customer file {pop.customer_file!r}: not loaded with the "
                                "scenario; open the scenario file through benefit-sim (the "
                                "loader reads the customer file beside it)")
    sha = pop.customer_file_sha256
    segments = tuple(s.name for s in sc.segments)
    hit = _PARSED.get((sha, segments))
    if hit is None:
        if content_hash(data) != sha:
            raise CustomerFileError(f"customer file {pop.customer_file!r}: its content does not "
                                    f"match the hash the scenario records ({sha[:16]}…)")
        hit = parse_bytes(data, list(segments), Path(pop.customer_file).name)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[(sha, segments)] = hit
    return hit
