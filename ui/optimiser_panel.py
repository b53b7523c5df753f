"""Budget optimiser tab: split the monthly budget across levers, verify, apply, export.

The controller of the tab. Its views are the settings column
(:class:`ui.optimiser_controls.OptimiserControls`) and the results
(:class:`ui.optimiser_results.OptimiserResults`, with the charts of
:mod:`ui.optimiser_charts`). It drives :func:`simulator.optimiser.optimise` (the
same call as ``benefit-sim optimise``) in a worker thread with progress and
Cancel.

"Apply this split…" lists what the split changes in the planner's terms
(discount depths, staff per shift, campaign budgets, acquisition spend) and
asks for a name; it then saves a user copy of the optimised scenario with the
recommended split and opens it; the lever changes are one undoable step
(Ctrl+Z shows today's values again). That scenario is the one the optimiser
verified, so its full run at the optimiser's sample and seed shows the
headline's figures. "Export to Excel" writes the audit workbook (today and the
recommended split, plus the Optimisation sheet) from those runs
(:func:`simulator.optimisation_workbook.export_optimisation_workbook`, shared
with the CLI).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QWidget

import scenarios
from simulator.input_diff import differing_inputs
from simulator.labels import parse_path, value_at
from simulator.library import unique_name
from simulator.scenario import Scenario
from ui.optimiser_controls import OBJECTIVE_NAMES, OptimiserControls, scenario_for_run
from ui.optimiser_results import TABLE_COLUMNS, OptimiserResults
from ui.workers import TaskRunner

__all__ = ["OptimiserPanel", "TABLE_COLUMNS", "changes_to_apply"]


def changes_to_apply(old: Scenario, new: Scenario) -> list[tuple[tuple, object]]:
    """(field path, new value) of every input ``new`` changes (from the one input diff)."""
    out = []
    for p, _ in differing_inputs([old, new]):
        path = parse_path(p)
        out.append((path, value_at(new, path)))
    return out


class OptimiserPanel(QWidget):
    """The Budget optimiser tab: settings, background run, results, apply and export."""

    finished = Signal(object)  # Allocation
    applied = Signal(object)  # Path of the new user scenario
    exported = Signal(object)  # Path of the workbook
    state_changed = Signal()

    def __init__(self, host, parent: QWidget | None = None):
        """``host``: the main window (doc, prompter, maybe_save, library, compare)."""
        super().__init__(parent)
        self.host = host
        self.doc = host.doc
        self.alloc = None  # the last Allocation
        self.optimised: Scenario | None = None  # the scenario as it was optimised
        self.optimised_run: Scenario | None = None  # ... with the panel's budget block (run)
        self.optimised_path: Path | None = None
        self._job = ""  # "optimise" | "export"
        self.runner = TaskRunner("optimiser", parent=self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        outer.addWidget(split)
        self.controls = OptimiserControls()
        self.view = OptimiserResults()
        split.addWidget(self.controls)
        split.addWidget(self.view)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([320, 1100])
        # the widgets this controller drives
        self.btn_run, self.btn_cancel = self.controls.btn_run, self.controls.btn_cancel
        self.progress, self.status = self.controls.progress, self.controls.status
        self.btn_apply, self.btn_export = self.view.btn_apply, self.view.btn_export
        self.btn_run.clicked.connect(self.start)
        self.btn_cancel.clicked.connect(self.cancel)
        self.btn_apply.clicked.connect(self.apply_split)
        self.btn_export.clicked.connect(lambda: self.export_excel())

        self.doc.replaced.connect(self.load_from_document)
        self.doc.structure_changed.connect(
            lambda _p: self.controls.refresh_levers(self.doc.scenario))
        self.load_from_document()

    def load_from_document(self) -> None:
        """Fill the settings from the open scenario (its budget block and run settings)."""
        self.controls.load(self.doc.scenario)

    # -- run -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while the optimiser (or an export) runs."""
        return self.runner.busy

    def start(self) -> bool:
        """Run the optimiser on the open scenario in the background."""
        if self.runner.busy:
            return False
        issues = self.doc.issues()
        if issues:
            self._set_status(f"Cannot optimise: {len(issues)} problem(s) in the scenario "
                             "(listed under the editor) must be fixed first.", error=True)
            return False
        s = self.controls.settings()
        if len(s["pinned"]) >= self.controls.levers_list.count():
            self._set_status("Every lever is pinned: unpin at least one.", error=True)
            return False
        snap = self.doc.snapshot()
        sc = scenario_for_run(snap, s)
        path = self.doc.path

        def task(progress, cancel):
            from simulator.loader import loaded_from
            from simulator.optimiser import optimise

            ld = loaded_from(sc, path)  # the base scenario and the customer file
            return optimise(ld.scenario, budget=s["budget"], objective=s["objective"],
                            agents=s["agents"], replications=s["replications"],
                            levels=s["levels"], verify_replications=s["verify_replications"],
                            local_check=s["local_check"], horizon_months=s["horizon_months"],
                            progress=progress, cancel=cancel, base=ld.base_scenario)

        self._pending = (snap, path, sc)
        self._job = "optimise"
        self.controls.show_progress(0, 0, "baseline…")  # busy until the first report
        self._set_status(f"Optimising {OBJECTIVE_NAMES[s['objective']]}: "
                         f"{s['agents']:,} customers × {s['horizon_months']} months, "
                         f"{s['replications']} replication(s) per point…")
        self._busy_ui(True)
        self.runner.submit(task)
        return True

    def cancel(self) -> None:
        """Stop the optimiser (between replications)."""
        if self.runner.busy:
            self.progress.setFormat("cancelling…")
            self.runner.cancel()

    def _busy_ui(self, busy: bool) -> None:
        self.controls.set_busy(busy)
        self.view.set_actions_enabled(not busy and self.alloc is not None)
        self.state_changed.emit()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.controls.set_status(text, error)

    def _progress(self, done, total) -> None:
        total = max(int(total), 1)
        unit = "replications" if self._job == "optimise" else "steps"
        self.controls.show_progress(int(done), total, f"{int(done)}/{total} {unit}")

    def _done(self, result, seconds: float) -> None:
        job = self._job
        self._job = ""
        if job == "export":
            self.controls.show_progress(1, 1, "exported")
            self._set_status(f"Wrote {result}")
            self._busy_ui(False)
            self.host.statusBar().showMessage(f"Wrote {result}", 5000)
            self.exported.emit(result)
            return
        self.alloc = result
        self.optimised, self.optimised_path, self.optimised_run = self._pending
        self.controls.show_progress(1, 1, f"done in {seconds:.1f} s")
        m = result.meta
        self._set_status(f"{m.get('simulations')} simulations ({m.get('replication_runs')} "
                         f"replication runs) in {seconds:.1f} s; method: {m.get('method')}.")
        try:
            self.view.show_allocation(result)
        except Exception as exc:  # noqa: BLE001 - a display problem must not crash the app
            self._set_status(f"Cannot show the result: {type(exc).__name__}: {exc}", error=True)
        if self.controls.budget_auto.isChecked():
            self.controls.budget.setValue(float(result.budget_cny))
        self._busy_ui(False)
        self.finished.emit(result)

    def _failed(self, message: str) -> None:
        job = self._job
        self._job = ""
        self.controls.show_progress(0, 1, "failed")
        first = message.splitlines()[0]
        what = "Optimisation" if job == "optimise" else "Excel export"
        self._set_status(f"{what} failed: {first}", error=True)
        self._busy_ui(False)
        self.host.prompter.error(self, f"{what} failed", first, message)

    def _cancelled(self) -> None:
        self._job = ""
        self.controls.show_progress(0, 1, "cancelled")
        self._set_status("Cancelled." + (" The table still shows the previous result."
                                         if self.alloc is not None else ""))
        self._busy_ui(False)

    # -- apply & export ------------------------------------------------------------------
    def apply_split(self) -> Path | None:
        """Ask for a name, then save a user copy with the recommended split and open it.

        The dialog lists what changes, in the editor's terms; Cancel saves nothing.
        The lever changes are one undo step on the new document.
        """
        from simulator.optimiser.levers import describe_changes

        host = self.host
        if self.alloc is None or self.optimised is None:
            host.prompter.error(self, "Nothing to apply", "Run the optimiser first.")
            return None
        if self.runner.busy:
            return None
        today = self.optimised.model_copy(deep=True)
        try:
            new = self.alloc.apply(today)
        except Exception as exc:  # noqa: BLE001
            host.prompter.error(self, "Cannot apply the split", str(exc))
            return None
        changes = describe_changes(today, new)
        shown = changes[:14] + ([f"… and {len(changes) - 14} more"] if len(changes) > 14 else [])
        taken = [e.title for e in scenarios.list_all()]
        label = (f"Saves a copy of “{today.name}” with the recommended split in your "
                 f"scenarios and opens it. What changes:\n"
                 + ("\n".join(f"• {c}" for c in shown) or "• nothing (today's split)")
                 + "\n\nName of the new scenario:")
        name = host.prompter.text(self, "Apply this split", label,
                                  unique_name(new.name, taken))
        if name is None or not name.strip():
            self._set_status("Apply cancelled: nothing was saved.")
            return None
        name = " ".join(name.split())
        if len(name) > 80:
            host.prompter.error(self, "Cannot apply the split",
                                f"Name: {len(name)} characters; at most 80 are allowed.")
            return None
        if not host.maybe_save():
            return None
        name = unique_name(name, taken)
        new.name = name
        today.name = name
        try:
            path = scenarios.save_user(new)
        except Exception as exc:  # noqa: BLE001 - disk full, permissions ...
            host.prompter.error(self, "Cannot save the new scenario", str(exc))
            return None
        doc = self.doc
        doc.replace(today, path, [f"recommended split from the optimiser "
                                  f"({self.alloc.headline()['objective_label']})"])
        refused = []
        doc.undo_stack.beginMacro("Apply recommended split")
        try:
            for p, val in changes_to_apply(today, new):
                refused += doc.set_value(p, val)
        finally:
            doc.undo_stack.endMacro()
        doc.undo_stack.setClean()  # the file holds the recommended split
        if refused:
            host.prompter.error(self, "Some values were not applied",
                                "\n".join(str(i) for i in refused))
        try:
            host.library.refresh()
            host.compare.refresh_library()
        except AttributeError:
            pass
        msg = (f"Created “{name}” ({path.name}) with the recommended split: "
               f"{len(changes)} change(s); Ctrl+Z shows today's values.")
        self._set_status(msg)
        host.statusBar().showMessage(msg, 8000)
        self.applied.emit(path)
        return path

    def export_excel(self, path: str | None = None) -> bool:
        """Write the workbook with the Optimisation sheet (in the background)."""
        host = self.host
        if self.alloc is None or self.optimised is None:
            host.prompter.error(self, "Nothing to export", "Run the optimiser first.")
            return False
        if self.runner.busy:
            return False
        try:
            from simulator import excel
        except ImportError as exc:
            host.prompter.error(self, "Excel export unavailable", str(exc))
            return False
        if path is None:
            from ui.export import _stem

            start = str(Path.home() / f"{_stem(self.optimised.name)}_optimisation.xlsx")
            path = host.prompter.save_path(self, "Export optimisation workbook", start,
                                           "Excel workbook (*.xlsx)")
            if not path:
                return False
        try:
            excel.check_output(path, overwrite=True)
        except Exception as exc:  # noqa: BLE001
            host.prompter.error(self, "Excel export failed", str(exc))
            return False
        alloc = self.alloc
        sc = self.optimised_run.model_copy(deep=True)  # the inputs today's run came from
        file = self.optimised_path
        out = Path(path)

        def task(progress, cancel):
            from simulator.optimisation_workbook import export_optimisation_workbook

            return export_optimisation_workbook(sc, file, alloc, out, overwrite=True)

        self._job = "export"
        self.controls.show_progress(0, 0, "exporting…")
        self._set_status("Writing the workbook (today's and the recommended split's "
                         "verification runs)…")
        self._busy_ui(True)
        self.runner.submit(task)
        return True

    def shutdown(self) -> None:
        """Stop the worker thread (window closing)."""
        self.runner.shutdown()
