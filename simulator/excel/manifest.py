"""Sheet "Manifest": versions, seed, hashes and the CLI command that reproduces the workbook."""

from __future__ import annotations

import datetime as _dt
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.styles import Alignment, Font

from simulator import __version__, library
from simulator.excel.cells import add_table, label, print_setup, put, set_width, wrapped_lines
from simulator.excel.styles import BOLD, HEAD_PLAIN, LEFT, NOTE, TITLE
from simulator.scenario_io import file_hash, scenario_hash

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Manifest sheet."""
    res0 = book.results[book.base][2]
    m = res0.meta
    put(ws, 1, 1, "Manifest: how these numbers were produced", font=TITLE)
    rows = [
        ("Product", f"benefit-sim {m.get('version', __version__)}"),
        ("Excel export version", __version__),
        ("Created", _dt.datetime.now().replace(microsecond=0)),
        ("Seed", m.get("seed")),
        ("Replications", m.get("replications")),
        ("Sample size (simulated customers)", m.get("agents")),
        ("Horizon (months)", m.get("horizon_months")),
        ("Python packages", _package_versions()),
        ("Common random numbers", "yes: every scenario ran with the same seed, "
         "replications and sample" if len(book.results) > 1 else
         "scenario and counterfactual share their random streams"),
    ]
    r = 3
    for k, v in rows:
        put(ws, r, 1, k, font=BOLD)
        c = put(ws, r, 2, v)
        if isinstance(v, _dt.datetime):
            c.number_format = "yyyy-mm-dd hh:mm:ss"
        elif isinstance(v, int):
            c.number_format = "0" if k == "Seed" else "#,##0"
        c.alignment = Alignment(horizontal="left")
        if isinstance(v, str):  # e.g. the package versions: wrapped, not run on
            _wrap(ws, r, v, len(book.results))
        r += 1
    r += 1
    put(ws, r, 1, "Reproduce with", font=BOLD)
    cmd, caveats = command(book)
    n = len(book.results)
    for rr, text, font in [(r, cmd, Font(name="DejaVu Sans Mono", size=10)),
                           *((r + 1 + j, cv, NOTE) for j, cv in enumerate(caveats))]:
        put(ws, rr, 2, text, font=font)
        _wrap(ws, rr, text, n)
    r += 2 + len(caveats)
    head = r
    put(ws, head, 1, "Scenario", font=BOLD, fill=HEAD_PLAIN)
    for i, (sc, _, _) in enumerate(book.results):
        put(ws, head, 2 + i, label(i, sc, book.base if n > 1 else None), font=BOLD,
            fill=HEAD_PLAIN)
    fields = [("File", None), ("File SHA-256 (16 hex)", None), ("Scenario hash", None),
              ("Counterfactual", None), ("Base scenario hash", None),
              ("Annual discount rate", "0.00%"),
              ("Customers", "#,##0"), ("Customers per simulated customer", "#,##0.0"),
              ("Replications", "0"), ("Run time (s)", "0.00")]
    for i, (sc, p, res) in enumerate(book.results):
        mm = res.meta
        vals = ["(not saved)" if p is None else str(p),
                file_hash(p) if p is not None and Path(p).exists() else "",
                mm.get("scenario_hash") or scenario_hash(sc), mm.get("counterfactual", ""),
                mm.get("base_hash") or "",
                sc.run.discount_rate_annual, mm.get("customers", sc.population.customers),
                mm.get("customers_per_agent"), mm.get("replications", res.replications),
                mm.get("elapsed_seconds")]
        for j, ((_, f), v) in enumerate(zip(fields, vals)):
            c = put(ws, head + 1 + j, 2 + i, v, f)
            c.alignment = LEFT
    for j, (k, _) in enumerate(fields):
        put(ws, head + 1 + j, 1, k)
    add_table(ws, "Scenarios", head, head + len(fields), 1, 1 + n)
    set_width(ws, 1, 34)
    for i in range(n):
        set_width(ws, 2 + i, 48)
    print_setup(ws)

def _wrap(ws, row: int, text: str, n: int) -> None:
    """Wrap column B's text across the scenario columns (2..1+n), the row tall enough.

    Run on into the empty columns, a long text (the reproduce command, 150 characters)
    widened the print area, and fitting it to the page width shrank the whole sheet.
    """
    if n > 1:
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=1 + n)
    ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top",
                                                     horizontal="left")
    ws.row_dimensions[row].height = 15 * wrapped_lines(text, 48.0 * n)


def command(book: Book) -> tuple[str, list[str]]:
    """The CLI command that reproduces the workbook, and caveats."""
    res0 = book.results[book.base][2]
    m = res0.meta
    caveats = []
    args = []
    order = [book.base] + [i for i in range(len(book.results)) if i != book.base]
    for i in order:
        sc, p, _ = book.results[i]
        if p is None:
            args.append(shlex.quote(f"<save scenario {i + 1} first>"))
            caveats.append(f"Scenario [{i + 1}] {sc.name} was not saved to a file.")
        elif library.is_shipped(p):
            args.append(Path(p).stem)
        else:
            args.append(shlex.quote(str(p)))
    verb = "export" if len(book.results) == 1 else "compare"
    cmd = (f"benefit-sim {verb} {' '.join(args)} --excel {shlex.quote(book.out_name)} "
           f"--seed {m.get('seed')} --replications {m.get('replications')} "
           f"--agents {m.get('agents')}")
    horizon = m.get("horizon_months")
    if horizon is not None and horizon != book.results[book.base][0].run.horizon_months:
        cmd += f" --months {horizon}"
    return cmd, caveats


def _package_versions() -> str:
    import importlib.metadata as md
    import platform

    out = [f"Python {platform.python_version()}"]
    for name in ("numpy", "pandas", "simpy", "scipy", "openpyxl"):
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(out)
