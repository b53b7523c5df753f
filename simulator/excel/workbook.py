"""The workbook's sheets in order, and the public build and write functions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from openpyxl import Workbook

from simulator.excel import (
    charts,
    deadweight,
    definitions,
    inputs,
    lifecycle,
    manifest,
    members,
    monthly,
    optimisation,
    points,
    risk,
    segments,
    summary,
)
from simulator.excel.book import Book
from simulator.excel.cells import widen_for_numbers
from simulator.excel.output import check_output, save_atomic
from simulator.results import RunResult
from simulator.scenario import Scenario


def _build(book: Book, optimisation_sheet, risk_sheet=None) -> Workbook:
    """Create the sheets in their tab order and fill them in dependency order.

    Inputs before Monthly (the discount-rate cells), Summary after Monthly and
    Members, Charts last (it reads where the others put their figures).
    """
    wb = book.wb
    ws_sum = wb.active
    ws_sum.title = "Summary"
    ws_charts = wb.create_sheet("Charts")
    inputs.write(book, wb.create_sheet("Inputs"))
    for i in range(len(book.results)):
        title = "Monthly" if len(book.results) == 1 else f"Monthly {i + 1}"
        monthly.write(book, wb.create_sheet(title), i)
    segments.write(book, wb.create_sheet("Segments & tiers"))
    members.write(book, wb.create_sheet("Members by tier"))
    if deadweight.wanted(book):  # issue 15: where the scheme's money goes
        deadweight.write(book, wb.create_sheet("Deadweight"))
    if points.wanted(book):
        points.write(book, wb.create_sheet("Points liability"))
    if lifecycle.wanted(book):  # issue 18: dormancy, recall, word of mouth
        lifecycle.write(book, wb.create_sheet("Lifecycle"))
    ws_defs = wb.create_sheet("Definitions")
    if optimisation_sheet is not None:
        optimisation.write(book, wb.create_sheet("Optimisation"), optimisation_sheet)
    if risk_sheet is not None:
        risk.write(book, wb.create_sheet("Risk"), risk_sheet)
    manifest.write(book, wb.create_sheet("Manifest"))
    summary.write(book, ws_sum)
    definitions.write(book, ws_defs)
    charts.write(book, ws_charts)
    widen_for_numbers(wb)  # no column shows "#####" for a figure wider than its sheet made it
    return wb


def build_workbook(results: Sequence[tuple[Scenario, Path | None, RunResult]],
                   base_index: int = 0, optimisation=None,
                   out_name: str = "out.xlsx", risk_sheet: dict | None = None) -> Workbook:
    """The workbook object (not saved); see :func:`write_workbook`."""
    if not results:
        raise ValueError("results: at least one scenario is required")
    if not 0 <= base_index < len(results):
        raise ValueError(f"base_index: {base_index} must be in 0..{len(results) - 1}")
    check_results(results)
    return _build(Book(results, base_index, out_name), optimisation, risk_sheet)


def check_results(results: Sequence[tuple[Scenario, Path | None, RunResult]]) -> None:
    """Refuse (ResultMismatch) results that do not belong to the scenarios shown beside them.

    Each result must come from its scenario's current inputs and from the base
    scenario that scenario names now (resolved by :mod:`simulator.loader`, as a
    run does); several results must share seed, replications, sample and horizon.
    """
    from simulator.loader import base_of
    from simulator.provenance import check_matches, check_same_sample

    for sc, p, res in results:
        check_matches(res, sc, base_of(sc, p))
    check_same_sample([res for _, _, res in results])


def write_workbook(results: Sequence[tuple[Scenario, Path | None, RunResult]],
                   out_path: str | os.PathLike, base_index: int = 0, optimisation=None, *,
                   overwrite: bool = False, risk_sheet: dict | None = None) -> Path:
    """Write the audit workbook atomically; return its path.

    Raises an :class:`ExportError` subclass for a bad target (exists without
    ``overwrite``, folder missing or not writable, file open elsewhere); the
    existing file, if any, is then left as it was.
    """
    check_results(results)  # before touching the target
    p = check_output(out_path, overwrite=overwrite)
    wb = build_workbook(results, base_index, optimisation, out_name=p.name, risk_sheet=risk_sheet)
    save_atomic(wb, p)
    return p
