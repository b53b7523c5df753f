"""Excel export: hands the scenario (or comparison) and its results to ``simulator.excel``.

The workbook itself is written by the engine side (``simulator.excel``); this
module only asks where to save, runs it, and reports errors. When the Excel
module is not installed yet the menu items are disabled with a tooltip.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtWidgets import QWidget


class ExcelExport:
    """Menu handlers for 'Export Excel workbook…'."""

    def __init__(self, window: QWidget):
        self.window = window

    @staticmethod
    def _module():
        try:
            return importlib.import_module("simulator.excel")
        except ImportError:
            return None

    @property
    def available(self) -> bool:
        """True if simulator.excel offers write_workbook."""
        mod = self._module()
        return mod is not None and hasattr(mod, "write_workbook")

    @property
    def why_unavailable(self) -> str:
        """Tooltip for the disabled menu item."""
        return "" if self.available else "The Excel module (simulator.excel) is not installed."

    def _ask(self, default_name: str) -> str | None:
        w = self.window
        start = str(Path.home() / default_name)
        return w.prompter.save_path(w, "Export Excel workbook", start, "Excel workbook (*.xlsx)")

    def export_scenario(self, scenario, result, path: str | None = None,
                        file: Path | None = None) -> bool:
        """Write the workbook of one scenario and its result.

        Refused (with a message) if the result was not run from exactly this scenario:
        its provenance hash must be the scenario's.
        """
        if result is not None:
            from simulator.provenance import ResultMismatch, check_matches

            try:
                check_matches(result, scenario, check_base=False)
            except ResultMismatch as exc:
                w = self.window
                w.prompter.error(w, "Results do not match the scenario",
                                 f"Not exported: {exc}.")
                return False
        return self._write(path, f"{_stem(scenario.name)}.xlsx", scenario=scenario,
                           result=result, file=file)

    def export_comparison(self, comparison, path: str | None = None) -> bool:
        """Write the workbook of a comparison (base first)."""
        if comparison is None:
            self.window.prompter.error(self.window, "Nothing to export",
                                       "Run a comparison first (Compare tab).")
            return False
        return self._write(path, "comparison.xlsx", comparison=comparison)

    def _write(self, path, default_name, **what) -> bool:
        mod = self._module()
        w = self.window
        if mod is None or not hasattr(mod, "write_workbook"):
            w.prompter.error(w, "Excel export unavailable", self.why_unavailable)
            return False
        if what.get("result", 1) is None:
            w.prompter.error(w, "Nothing to export", "No results yet: wait for the preview "
                             "or run the scenario (Ctrl+R).")
            return False
        path = path or self._ask(default_name)
        if not path:
            return False
        try:
            call_write_workbook(mod.write_workbook, Path(path), **what)
        except Exception as exc:  # noqa: BLE001 - report, never crash
            w.prompter.error(w, "Excel export failed", str(exc))
            return False
        w.statusBar().showMessage(f"Wrote {path}", 5000)
        return True


def call_write_workbook(fn, path: Path, scenario=None, result=None, comparison=None,
                        file=None):
    """``simulator.excel.write_workbook([(scenario, file, result), ...], path, base_index=0)``.

    The file dialog has already asked before replacing a file, hence ``overwrite=True``.
    """
    if comparison is not None:
        items = list(comparison.results)
    else:
        items = [(scenario, file, result)]
    return fn(items, path, base_index=0, overwrite=True)


def _stem(name: str) -> str:
    import re

    return re.sub(r"[^\w\-]+", "_", name).strip("_")[:60] or "scenario"
