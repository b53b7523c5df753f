"""Excel workbooks finance can audit: one scenario, or several what-ifs compared.

Public API (no Qt; the GUI and the CLI call the same functions)::

    write_workbook(results, out_path, base_index=0, optimisation=None, *,
                   overwrite=False) -> Path
        results: list of (Scenario, Path | None, RunResult), e.g. from
        simulator.compare.run_scenarios (same seed for all = common random numbers).
        optimisation: None, an OptimisationSheet, or a tuple (DataFrame, dict of
        headline figures) -- the budget optimiser's table and its headline numbers.
        risk_sheet (keyword): None, or simulator.sensitivity.RiskAnalysis.to_json().
    check_output(out_path, overwrite=False) -> Path   # call before a long run
    ExportError (base), OutputExistsError, OutputNotWritableError, OutputLockedError

The workbook: Summary (KPIs side by side, mean and 95 % interval, deltas vs the
base as live formulas), Charts (native Excel charts), Inputs (every parameter,
differences highlighted), Monthly N (per scenario: simulated columns as values,
derived columns as formulas over them), Segments & tiers, Members by tier,
Deadweight (runs paired with a scheme-off counterfactual), Points liability
(schemes with points), Lifecycle (dormancy, recall, word of mouth),
Definitions, optional Optimisation, optional Risk (input
ranges, tornado as a native bar chart, P(NPV > 0), break-even), Manifest (versions,
seed, hashes, the CLI command that reproduces it). It is written to a temporary file
in the target folder and moved into place with os.replace, so a failed export never
leaves a half file.

The package, top to bottom (``lint-imports`` enforces the order):
``workbook`` (sheet order, build/write) > one module per sheet (``summary``,
``charts``, ``inputs``, ``monthly``, ``segments``, ``members``, ``definitions``,
``optimisation``, ``risk``, ``manifest``, ``deadweight``, ``points``, ``lifecycle``,
``attribution`` (the
"Attribution" / "Why different" workbooks of ``attribute``/``explain --excel``,
:func:`simulator.excel.attribution.write_analysis_workbook`); sheets never import
each other) > ``book`` (the
workbook being built and where each sheet put its figures) > ``cells`` (``put``:
text never becomes a formula; ``formula``, ``ref``, ``note``, widths, tables,
print set-up) > ``styles`` (number formats, fonts, fills) | ``data`` (run tables
reduced to means) | ``output`` (target checks, atomic save).

Adding a sheet: create ``simulator/excel/<sheet>.py`` with
``write(book: Book, ws, ...) -> None`` that writes cells through ``cells.put`` /
``cells.formula`` (formats from ``styles``); if another sheet must refer to its
cells, record where they are on ``Book`` (``book.py``) rather than importing the
other sheet. Create the sheet and call ``write`` in ``workbook._build`` (tab order
and fill order are both there), add the module to the sheet layer of the
``simulator.excel`` contract in ``pyproject.toml`` and to the list above, and test
it in ``tests/test_excel.py``.
"""

from simulator.excel.cells import put
from simulator.excel.data import MONTHLY_SIM, breakdown_means, members_by_tier, monthly_means
from simulator.excel.optimisation import OptimisationSheet
from simulator.excel.output import (
    ExportError,
    OutputExistsError,
    OutputLockedError,
    OutputNotWritableError,
    check_output,
)
from simulator.excel.styles import FMT, MONEY_M
from simulator.excel.workbook import build_workbook, check_results, write_workbook

__all__ = [
    "ExportError", "FMT", "MONEY_M", "MONTHLY_SIM", "OptimisationSheet", "OutputExistsError",
    "OutputLockedError", "OutputNotWritableError", "breakdown_means", "build_workbook",
    "check_output", "check_results", "members_by_tier", "monthly_means", "put",
    "write_workbook",
]
