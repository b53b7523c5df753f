"""The main window: library dock, editor + results ("Design"), compare, menus and shortcuts.

The window owns one :class:`~ui.document.ScenarioDocument`; the library, the
editor and the results panel are views of it. This module builds the window, its
actions and menus, and routes runs, exports, undo and shutdown to the views. File
commands (open, save, save as; :mod:`ui.window_files`) ask about unsaved changes first
and never let a bad file crash the app: problems are listed and, where possible, a
recovered copy is offered. Size, remembered layout and shortcuts: :mod:`ui.window_layout`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QWidget,
)
from shiboken6 import isValid

import scenarios
from simulator.labels import wrap
from simulator.scenario import Scenario
from ui.compare import CompareView
from ui.dialogs import Prompter
from ui.document import ScenarioDocument
from ui.editor import Editor
from ui.export import ExcelExport
from ui.fields import FieldWidget
from ui.library import LibraryPanel
from ui.optimiser_panel import OptimiserPanel
from ui.recent import RecentFiles
from ui.results_panel import PreviewSize, ResultsPanel
from ui.risk_panel import RiskPanel
from ui.run_settings_dialog import run_settings_action
from ui.window_files import FileCommands
from ui.window_layout import WindowLayout, WindowShortcuts, app_settings, scrolled


class MainWindow(FileCommands, WindowLayout, QMainWindow):
    """benefit-sim's window."""

    def __init__(self, scenario: Scenario | None = None, path: str | Path | None = None,
                 prompter: Prompter | None = None, preview: PreviewSize | None = None,
                 settings: QSettings | None = None, compare_quick: dict | None = None):
        super().__init__()
        self.prompter = prompter or Prompter()
        self.settings = settings or app_settings()
        self.recent = RecentFiles()
        if scenario is None:
            scenario = scenarios.load_default()
            path = scenarios.shipped_path(scenarios.DEFAULT_SCENARIO)
        self.doc = ScenarioDocument(scenario, path, parent=self)

        # views
        self.library = LibraryPanel(self.prompter)
        self.editor = Editor(self.doc)
        self.results = ResultsPanel(self.doc, preview)
        self.compare = CompareView(self.prompter, quick=compare_quick)
        self.excel = ExcelExport(self)

        self.design = QSplitter(Qt.Orientation.Horizontal)
        self.design.setObjectName("design_splitter")
        self.design.addWidget(self.editor)
        # The results column scrolls when the window is narrower or lower than its content
        # (1.5x scaling on a 1366 x 768 screen is 910 x 512 logical pixels): the window
        # then fits the screen and nothing lies off it, unreachable.
        self.results_scroll = scrolled(self.results, fill=True)
        self.design.addWidget(self.results_scroll)
        self.design.setStretchFactor(0, 2)
        self.design.setStretchFactor(1, 3)
        self.design.setSizes([560, 900])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.design, "Design && preview")
        self.compare_scroll = scrolled(self.compare, fill=True)
        self.tabs.addTab(self.compare_scroll, "Compare")
        self.setCentralWidget(self.tabs)
        dock = QDockWidget("Scenario library", self)
        dock.setObjectName("library_dock")
        dock.setWidget(self.library)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.library_dock = dock
        self.optimiser = OptimiserPanel(self)
        self.optimiser_tab = self.add_tool_tab("Budget optimiser", self.optimiser)
        self.risk = RiskPanel(self.doc)
        self.risk_tab = self.add_tool_tab("Risk && sensitivity", self.risk)

        self._make_actions()
        self.status_label = QLabel()
        # permanent (right-hand side): a normal widget shown with the window drew over the
        # "Opened …" message when the scenario was opened before the window was shown
        self.statusBar().addPermanentWidget(self.status_label)

        # wiring
        self.library.open_requested.connect(self.open_path)
        self.library.renamed.connect(self._library_renamed)
        self.library.deleted.connect(self._library_deleted)
        self.library.changed.connect(self.compare.refresh_library)
        self.doc.title_changed.connect(self._update_title)
        self.doc.modified_changed.connect(self._update_title)
        self.doc.undo_stack.cleanChanged.connect(lambda _: self._update_title())
        self.results.state_changed.connect(self._update_actions)
        self.doc.undo_stack.canUndoChanged.connect(lambda _: self._update_undo())
        self.doc.undo_stack.canRedoChanged.connect(lambda _: self._update_undo())
        self.doc.undo_stack.indexChanged.connect(lambda _: self._update_undo())
        self.results.charts.export_requested.connect(self.export_chart)
        self.optimiser.state_changed.connect(self._update_actions)
        self._update_title()
        self._update_actions()
        self._update_undo()
        self._fit_to_screen(1500, 950)
        self.restore_layout()
        # Ctrl+Z/Y/S/E reach the window's actions even while a spin box or line edit has focus
        self._shortcut_filter = WindowShortcuts(self)
        QApplication.instance().installEventFilter(self._shortcut_filter)

    # -- actions -----------------------------------------------------------------------
    def _act(self, text: str, slot, shortcuts=(), tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcuts:
            a.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        self.act_new = self._act("&New scenario…", self.new_scenario,
                                 [QKeySequence.StandardKey.New],
                                 "Start a scenario from a template or a shipped scenario")
        self.act_open = self._act("&Open file…", self.open_file_dialog, [QKeySequence.StandardKey
                                                                        .Open])
        self.act_save = self._act("&Save", self.save, [QKeySequence.StandardKey.Save],
                                  "Save to the scenario's file (user scenarios)")
        self.act_save_as = self._act("Save &As…", self.save_as, ["Ctrl+Shift+S"],
                                     "Save a copy into your scenarios")
        # Own actions (not the stack's): a value typed but not yet entered is committed first,
        # and the toolbar text stays "Undo"/"Redo" (what they undo is in the tooltip and menu).
        self.act_undo = self._act("&Undo", self.undo, ["Ctrl+Z"])
        self.act_redo = self._act("&Redo", self.redo, ["Ctrl+Y", "Ctrl+Shift+Z"])
        self.act_run = self._act("&Full run", self.results.start_full_run, ["Ctrl+R"],
                                 "Run the scenario's replications off the GUI thread")
        self.act_cancel = self._act("&Cancel run", self.cancel_runs, ["Esc"],
                                    "Stop the full run, the preview, a comparison or an "
                                    "optimisation")
        self.act_preview = self._act("Refresh &preview", self.results.start_preview, ["F5"])
        self.act_excel = self._act("Export &Excel workbook…", self.export_excel, ["Ctrl+E"])
        self.act_excel_cmp = self._act("Export comparison workbook…", self.export_compare_excel)
        self.act_quit = self._act("&Quit", self.close, [QKeySequence.StandardKey.Quit])
        self.act_design = self._act("&Design", lambda: self.tabs.setCurrentIndex(0), ["Ctrl+1"])
        self.act_compare = self._act("&Compare", lambda: self.tabs.setCurrentIndex(1),
                                     ["Ctrl+2"])
        self.act_optimiser = self._act("Budget &optimiser",
                                       lambda: self.tabs.setCurrentIndex(self.optimiser_tab),
                                       ["Ctrl+3"])
        self.act_dup = self._act("D&uplicate in library", self.library.duplicate_selected)

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_new)
        m.addAction(self.act_open)
        from ui.import_dialog import add_import_action  # File ▸ Import transaction log…
        self.act_import_log = add_import_action(self, m)
        self.recent_menu = m.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        for a in (self.act_save, self.act_save_as):
            m.addAction(a)
        m.addSeparator()
        self.export_menu = m.addMenu("&Export")
        self.export_menu.addAction(self.act_excel)
        self.export_menu.addAction(self.act_excel_cmp)
        self.chart_menu = self.export_menu.addMenu("Chart as &PNG")
        for key, title in self.results.charts.chart_names().items():
            self.chart_menu.addAction(title, lambda k=key: self.export_chart(k))
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        m.addAction(self.act_undo)
        m.addAction(self.act_redo)
        m = mb.addMenu("&Run")
        for a in (self.act_run, self.act_cancel, self.act_preview):
            m.addAction(a)
        m.addAction(run_settings_action(self, self.settings))  # where runs go (Dask or here)
        m = mb.addMenu("&View")
        m.addAction(self.act_design)
        m.addAction(self.act_compare)
        m.addAction(self.act_optimiser)
        m.addAction(self.library_dock.toggleViewAction())
        m = mb.addMenu("&Help")
        from ui.help import PAGES

        self.help_actions = {}
        for key, title in PAGES.items():
            a = m.addAction(title + "…")
            a.triggered.connect(lambda _=False, k=key: self.show_help(k))
            self.help_actions[key] = a
        self.help_actions["kpis"].setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))

        tb = self.addToolBar("Main")
        tb.setObjectName("main_toolbar")
        for a in (self.act_save, self.act_save_as, self.act_undo, self.act_redo, self.act_run,
                  self.act_cancel, self.act_excel):
            tb.addAction(a)

    def add_tool_tab(self, title: str, widget: QWidget) -> int:
        """Add a tab beside Design and Compare (e.g. the budget optimiser).

        The tab scrolls rather than forcing the window wider than a 1366-px screen.
        """
        return self.tabs.addTab(scrolled(widget), title)

    def _update_actions(self) -> None:
        busy = self.results.full_runner.busy
        self.act_run.setEnabled(not busy)
        opt = getattr(self, "optimiser", None)
        self.act_cancel.setEnabled(busy or self.results.preview_runner.busy or
                                   self.compare.runner.busy or (opt is not None and opt.busy))
        self.act_excel.setEnabled(self.excel.available)
        self.act_excel_cmp.setEnabled(self.excel.available)
        if not self.excel.available:
            self.act_excel.setToolTip(wrap(self.excel.why_unavailable))

    def _update_title(self, *_) -> None:
        self.setWindowTitle(f"{self.doc.title()} — benefit-sim")
        self.act_save.setEnabled(not self.doc.read_only and self.doc.path is not None)
        self.library.set_current(self.doc.path, self.doc.modified)
        ro = " Shipped scenario: read-only — use Save As to keep changes." if \
            self.doc.read_only else ""
        self.status_label.setText(ro.strip())

    def _update_undo(self) -> None:
        st = self.doc.undo_stack
        if not isValid(st) or not isValid(self.act_undo):
            return  # the window is being destroyed
        for act, can, text, verb in ((self.act_undo, st.canUndo(), st.undoText(), "Undo"),
                                     (self.act_redo, st.canRedo(), st.redoText(), "Redo")):
            act.setEnabled(can)
            act.setToolTip(wrap(f"{verb}: {text}") if can and text else verb)
            act.setStatusTip(act.toolTip())

    # -- edits ---------------------------------------------------------------------------
    def commit_pending_edit(self) -> None:
        """Commit a value typed into a field but not yet entered, as leaving it would.

        Not yet entered: no Enter, focus still there. Called before save, close, open,
        undo and runs.
        """
        w = QApplication.focusWidget()
        while w is not None and not isinstance(w, FieldWidget):
            w = w.parentWidget()
        if w is not None and self.isAncestorOf(w):
            w.flush()

    def undo(self) -> None:
        """Ctrl+Z (a value still being typed is entered first, then undone with the rest)."""
        self.commit_pending_edit()
        self.doc.undo_stack.undo()

    def redo(self) -> None:
        """Ctrl+Y."""
        self.commit_pending_edit()
        self.doc.undo_stack.redo()

    def show_help(self, page: str = "kpis"):
        """Help ▸ …: KPI definitions, the model's assumptions, the shipped figures' sources."""
        from ui.help import HelpWindow

        if getattr(self, "help_window", None) is None:
            self.help_window = HelpWindow(self)
        self.help_window.show_page(page)
        return self.help_window

    # -- runs & export -----------------------------------------------------------------
    def cancel_runs(self) -> None:
        """Esc: cancel the full run, a comparison and an optimisation in progress."""
        self.results.cancel()
        self.compare.cancel()
        self.optimiser.cancel()

    def export_excel(self) -> bool:
        """Write the workbook of the scenario on screen and its full run.

        Only a full run of exactly the inputs on screen is exported: after an edit, or
        after opening another scenario, the last run belongs to something else, and the
        workbook would put its figures next to inputs that did not produce them.
        """
        self.commit_pending_edit()
        res = self.results.current_full_result()
        if res is None:
            why = ("The last full run is of an earlier version of this scenario"
                   if self.results.full_result is not None else
                   "This scenario has no full run yet")
            if self.prompter.offer(
                    self, "Run the scenario before exporting",
                    f"{why}, so its figures would not match the inputs in the workbook. "
                    "Run it now (Ctrl+R) and export when the run has finished.", "",
                    "Run now"):
                self.results.start_full_run()
            return False
        return self.excel.export_scenario(self.doc.snapshot(), res, file=self.doc.path)

    def export_compare_excel(self) -> bool:
        """Write the comparison workbook."""
        return self.excel.export_comparison(self.compare.last)

    def export_chart(self, key: str, path: str | None = None) -> Path | None:
        """Save one chart as PNG."""
        if path is None:
            start = str(Path.home() / f"{key}.png")
            path = self.prompter.save_path(self, "Save chart as PNG", start, "PNG (*.png)")
            if not path:
                return None
        try:
            return self.results.charts.export_png(key, path)
        except Exception as exc:  # noqa: BLE001
            self.prompter.error(self, "Cannot export chart", str(exc))
            return None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Ask about unsaved changes, remember the layout, stop worker threads.

        A value still being typed counts as an unsaved change.
        """
        if not self.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.shutdown(quitting=True)
        event.accept()

    def _runners(self) -> list:
        return [self.results.preview_runner, self.results.full_runner, self.compare.runner,
                self.optimiser.runner]

    def shutdown(self, quitting: bool = False) -> None:
        """Stop all worker threads (also called by tests); fields ignore late focus-outs.

        ``quitting`` (the window closes): a run still going is cancelled and the engine's
        worker processes are terminated at once. Waiting for their running replications
        (whose results nobody will see) kept the app alive for 10-25 s after the window
        closed; the next run in this process starts a new pool of the same size.
        """
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._shortcut_filter)
        for f in self.findChildren(FieldWidget):
            f.dispose()
        busy = [r for r in self._runners() if r.busy]
        for r in busy:
            r.cancel()
        if quitting and busy:
            from simulator import runner

            runner.kill_pool()
        self.results.shutdown()
        self.compare.shutdown()
        self.optimiser.shutdown()
        self.risk.shutdown()
