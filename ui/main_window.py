"""The main window: library dock, editor + results ("Design"), compare, menus and shortcuts.

The window owns one :class:`~ui.document.ScenarioDocument`; the library, the
editor and the results panel are views of it. File commands (open, save, save
as) ask about unsaved changes first and never let a bad file crash the app:
problems are listed and, where possible, a recovered copy is offered.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)
from shiboken6 import isValid

import scenarios
from simulator.labels import wrap
from simulator.scenario import Scenario
from simulator.scenario_io import FileChangedError, FileTakenError, ScenarioError, stamp_of
from ui.compare import CompareView
from ui.dialogs import Prompter
from ui.document import ScenarioDocument, open_file
from ui.editor import Editor
from ui.export import ExcelExport
from ui.fields import FieldWidget
from ui.library import LibraryPanel
from ui.optimiser_panel import OptimiserPanel
from ui.recent import RecentFiles
from ui.recovery import recover
from ui.results_panel import PreviewSize, ResultsPanel
from ui.risk_panel import RiskPanel
from ui.run_settings_dialog import run_settings_action

APP_NAME = "benefit-sim"


def app_settings() -> QSettings:
    """Where the window layout is remembered (tests redirect it with QSettings.setPath)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_NAME, APP_NAME)


class MainWindow(QMainWindow):
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
        self.results_scroll = _scrolled(self.results, fill=True)
        self.design.addWidget(self.results_scroll)
        self.design.setStretchFactor(0, 2)
        self.design.setStretchFactor(1, 3)
        self.design.setSizes([560, 900])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.design, "Design && preview")
        self.compare_scroll = _scrolled(self.compare, fill=True)
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
        self._shortcut_filter = _WindowShortcuts(self)
        QApplication.instance().installEventFilter(self._shortcut_filter)

    def _fit_to_screen(self, width: int, height: int) -> None:
        """Open at ``width`` × ``height``, or smaller, centred on the available screen.

        Smaller so that the window lies inside the screen (1366 × 768 laptops).
        """
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(width, height)
            return
        avail = screen.availableGeometry()
        frame_w, frame_h = 16, 40  # window-manager borders and title bar (not yet known)
        w = min(width, avail.width() - frame_w)
        h = min(height, avail.height() - frame_h)
        self.resize(max(w, 640), max(h, 480))
        self.move(avail.x() + max((avail.width() - w - frame_w) // 2, 0),
                  avail.y() + max((avail.height() - h - frame_h) // 2, 0))

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
        return self.tabs.addTab(_scrolled(widget), title)

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

    # -- files ---------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes. True if it is fine to go on (saved or discarded)."""
        self.commit_pending_edit()
        if not self.doc.modified:
            return True
        answer = self.prompter.save_discard_cancel(
            self, f"“{self.doc.scenario.name}” has unsaved changes. Save them?")
        if answer == "cancel":
            return False
        if answer == "discard":
            return True
        return self.save()

    def open_path(self, path: str | Path) -> bool:
        """Open a scenario file; reports problems and offers a recovered copy."""
        path = Path(path)
        if self.doc.path is not None and path.resolve() == self.doc.path.resolve():
            return True
        if not self.maybe_save():
            return False
        try:
            sc, notes, stamp = open_file(path)
        except ScenarioError as exc:
            return self._open_bad(path, exc)
        except Exception as exc:  # noqa: BLE001 - never crash on a file
            self.prompter.error(self, "Cannot open scenario", f"{path.name}: {exc}")
            return False
        self.doc.replace(sc, path, notes, stamp=stamp)
        self.recent.add(path)
        self.statusBar().showMessage(f"Opened {path.name}" + (f" ({'; '.join(notes)})"
                                                               if notes else ""), 5000)
        return True

    def _open_bad(self, path: Path, exc: ScenarioError) -> bool:
        details = "\n".join(f"• {i}" for i in exc.issues)
        self.last_open_error = details
        try:
            sc, notes = recover(path, scenarios.load_default())
        except ScenarioError:
            self.prompter.error(self, "Cannot open scenario",
                                f"{path.name} cannot be opened: {len(exc.issues)} problem(s).",
                                details)
            return False
        if not self.prompter.offer(
                self, "Scenario has problems",
                f"{path.name} has {len(exc.issues)} problem(s) and cannot be opened as it is.\n"
                "Open a recovered copy? Rejected values are replaced by defaults; the copy is "
                "unsaved and its remaining problems are listed under the editor.",
                details, "Open recovered copy"):
            return False
        self.doc.replace(sc, None, [f"recovered from {path.name}: {n}" for n in notes] or
                         [f"recovered from {path.name}"], modified=True)
        return True

    def show_help(self, page: str = "kpis"):
        """Help ▸ …: KPI definitions, the model's assumptions, the shipped figures' sources."""
        from ui.help import HelpWindow

        if getattr(self, "help_window", None) is None:
            self.help_window = HelpWindow(self)
        self.help_window.show_page(page)
        return self.help_window

    # -- new and recent ----------------------------------------------------------------
    def new_scenario(self) -> bool:
        """File ▸ New scenario: from a template or a copy of a shipped scenario (unsaved)."""
        if not self.maybe_save():
            return False
        templates = [(f"template:{k}", title, what)
                     for k, (title, what) in scenarios.TEMPLATES.items()]
        shipped = [(f"shipped:{e.key}", e.title,
                    f"A copy of the shipped scenario “{e.title}” ({e.path.name}); its file "
                    "says where its figures come from (Help ▸ Model and sources).")
                   for e in scenarios.list_shipped() if e.error is None]
        key = self.prompter.choose(self, "New scenario", "Start the new scenario from:",
                                   [("Templates", templates), ("Shipped scenarios", shipped)])
        if not key:
            return False
        kind, _, name = key.partition(":")
        try:
            if kind == "template":
                sc = scenarios.new_from_template(name)
                note = f"new, from the template “{scenarios.TEMPLATES[name][0]}”"
            else:
                sc, _, _ = open_file(scenarios.shipped_path(name))
                note = f"new, a copy of the shipped “{sc.name}”"
                sc.name = f"{sc.name} (my copy)"[:80]
        except (ScenarioError, OSError, KeyError) as exc:
            self.prompter.error(self, "Cannot start a new scenario", str(exc))
            return False
        self.doc.replace(sc, None, [note])
        self.statusBar().showMessage(f"New scenario ({note}): Save As keeps it", 6000)
        return True

    def _fill_recent_menu(self) -> None:
        m = self.recent_menu
        m.clear()
        files = self.recent.files()
        for p in files:
            a = m.addAction(f"{p.name}  —  {p.parent}")
            a.setToolTip(str(p))
            a.triggered.connect(lambda _=False, p=p: self.open_recent(p))
        if not files:
            m.addAction("(no recent scenarios)").setEnabled(False)

    def open_recent(self, path: str | Path) -> bool:
        """Open a recent file; a file no longer there is removed from the list, and said so."""
        path = Path(path)
        if not path.is_file():
            self.recent.remove(path)
            self.prompter.error(self, "Scenario not found",
                                f"“{path.name}” is no longer in {path.parent} (moved, renamed "
                                "or deleted). It has been removed from the recent files.")
            return False
        return self.open_path(path)

    def reopen_last(self) -> bool:
        """At start: open the scenario used last (a missing one is forgotten, and said so)."""
        last = self.recent.last()
        if last is None:
            return False
        if not last.is_file():
            self.recent.remove(last)
            self.statusBar().showMessage(
                f"The scenario used last, “{last.name}”, is no longer in {last.parent}: "
                "opened the default scenario, and removed it from the recent files.", 15000)
            return False
        return self.open_path(last)

    def open_file_dialog(self) -> bool:
        """Open any scenario file (TOML/JSON) from disk."""
        start = str(self.doc.path.parent if self.doc.path else scenarios.user_dir())
        p = self.prompter.open_path(self, "Open scenario", start,
                                    "Scenarios (*.toml *.json);;All files (*)")
        return self.open_path(p) if p else False

    def save(self) -> bool:
        """Save (Ctrl+S); shipped or never-saved scenarios go to Save As.

        A file changed on disk since it was opened here (another window or program saved
        it) is never overwritten silently: the user chooses Reload, Overwrite or Save As.
        """
        self.commit_pending_edit()
        if self.doc.read_only or self.doc.path is None or scenarios.is_shipped(self.doc.path):
            return self.save_as()
        try:
            self.doc.save()
        except FileChangedError:
            return self._save_changed_on_disk()
        except (ScenarioError, OSError, PermissionError, ValueError) as exc:
            self.prompter.error(self, "Cannot save", "The scenario was not saved.", str(exc))
            return False
        return self._saved(f"Saved {self.doc.path.name}")

    def _saved(self, message: str) -> bool:
        if self.doc.path is not None:
            self.recent.add(self.doc.path)
        self.library.refresh()
        self.compare.refresh_library()
        self._update_title()
        self.statusBar().showMessage(message, 4000)
        return True

    def _save_changed_on_disk(self) -> bool:
        """The file changed on disk since it was opened: ask, never discard silently."""
        name = self.doc.path.name
        gone = stamp_of(self.doc.path) is None
        answer = self.prompter.changed_on_disk(
            self, f"“{name}” has {'been deleted' if gone else 'changed on disk'} since you "
                  "opened it (another window or program saved it). Saving now would "
                  "discard that version.\n\nReload its current content (your edits here "
                  "are lost), overwrite it with your version, or save yours under another "
                  "name?")
        if answer == "reload" and not gone:
            try:
                self.doc.reload()
            except (ScenarioError, OSError) as exc:
                self.prompter.error(self, "Cannot reload", f"{name} cannot be read.", str(exc))
                return False
            self.statusBar().showMessage(f"Reloaded {name} from disk", 4000)
            return False  # nothing of this window's edits was saved
        if answer == "overwrite":
            try:
                self.doc.save(overwrite=True)
            except (ScenarioError, OSError, PermissionError, ValueError) as exc:
                self.prompter.error(self, "Cannot save", "The scenario was not saved.",
                                    str(exc))
                return False
            return self._saved(f"Saved {name} (replaced the version on disk)")
        if answer == "save_as":
            return self.save_as()
        return False

    def save_as(self) -> bool:
        """Save a copy under a new name into the user's scenarios (Ctrl+Shift+S).

        The file is named after the scenario. A name whose file exists is only replaced
        after the user confirms (and not if it changes meanwhile); a name another process
        takes between the question and the save is never overwritten (exclusive create).
        """
        self.commit_pending_edit()
        name = self.doc.scenario.name
        default = name if not self.doc.read_only else f"{name} (my copy)"
        title = self.prompter.text(self, "Save As", "Name of the scenario:", default)
        if title is None or not title.strip():
            return False
        title = title.strip()
        if title != name:
            refused = self.doc.set_value(("name",), title)
            if refused:
                self.prompter.error(self, "Cannot save", "\n".join(str(i) for i in refused))
                return False
        target = scenarios.user_dir() / f"{scenarios.slug(title)}.toml"
        if self.doc.path is not None and not self.doc.read_only and \
                target.resolve() == self.doc.path.resolve():
            return self.save()  # its own file: a plain save (checks for changes on disk)
        for _ in range(3):
            existing = stamp_of(target)
            try:
                if existing is None:
                    path = self.doc.save_as(target, exclusive=True)
                elif self.prompter.confirm(
                        self, "Replace scenario?",
                        f"“{target.name}” already exists in your scenarios. Replace it with "
                        f"“{title}”?"):
                    path = self.doc.save_as(target, expect=existing)
                else:
                    return False
            except (FileTakenError, FileChangedError):
                continue  # another process took or changed the name meanwhile: ask again
            except (ScenarioError, OSError, PermissionError, ValueError) as exc:
                self.prompter.error(self, "Cannot save", "The scenario was not saved.",
                                    str(exc))
                return False
            return self._saved(f"Saved as {path.name}")
        self.prompter.error(self, "Cannot save", f"“{target.name}” keeps changing on disk "
                            "(another program is writing it); the scenario was not saved.")
        return False

    def _library_renamed(self, old: Path, new: Path) -> None:
        if self.doc.path is not None and Path(old).resolve() == self.doc.path.resolve():
            try:
                sc, _, stamp = open_file(new)
            except ScenarioError:
                return
            if self.doc.modified:
                self.doc.set_path(new)
                self.doc.set_value(("name",), sc.name)
            else:
                self.doc.replace(sc, new, stamp=stamp)
        self.compare.refresh_library()

    def _library_deleted(self, path: Path) -> None:
        if self.doc.path is not None and Path(path).resolve() == self.doc.path.resolve():
            self.doc.set_path(None)  # keeps the content, now unsaved
            self.statusBar().showMessage("The open scenario's file was deleted; it is now "
                                         "unsaved (Save As to keep it).", 6000)
        self.compare.refresh_library()

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

    # -- layout --------------------------------------------------------------------------
    def save_layout(self) -> None:
        """Remember geometry, docks and splitters."""
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/design_splitter", self.design.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        s.sync()

    def restore_layout(self) -> None:
        """Restore what save_layout remembered (ignores missing or bad values)."""
        s = self.settings
        for key, fn in (("window/geometry", self.restoreGeometry),
                        ("window/state", self.restoreState),
                        ("window/design_splitter", self.design.restoreState)):
            v = s.value(key)
            if isinstance(v, (QByteArray, bytes)):
                fn(v)
        try:
            self.tabs.setCurrentIndex(int(s.value("window/tab", 0)))
        except (TypeError, ValueError):
            pass

    def showEvent(self, event) -> None:  # noqa: N802
        """First show without a remembered layout: give the editor about a third of the width."""
        super().showEvent(event)
        if not getattr(self, "_shown", False):
            self._shown = True
            if self.settings.value("window/design_splitter") is None:
                # after the first layout pass: at show time the splitter's width is not final
                QTimer.singleShot(0, self._initial_split)

    def _initial_split(self) -> None:
        w = max(self.design.width(), 800)
        # About a third, but wide enough for the deepest form (tier > benefit > effect)
        # without a horizontal scroll bar when the window allows it.
        forms = [sa.widget().minimumSizeHint().width()
                 for sa in self.editor.findChildren(QScrollArea) if sa.widget() is not None]
        left = max(int(w * 0.36), min(max(forms, default=0) + 40, int(w * 0.42)))
        self.design.setSizes([left, w - left])

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


def _scrolled(widget: QWidget, fill: bool = False) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it (scrolls only when too small).

    ``fill``: the widget takes exactly the visible height when it fits (its own charts
    scroll inside it), rather than the height its wrapped labels would prefer.
    """
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(_Fill(widget) if fill else widget)
    return scroll


class _Fill(QWidget):
    """A holder filled by one widget, without height-for-width.

    A scroll area would otherwise stretch the widget to the (tall) height its
    word-wrapped labels would like.
    """

    def __init__(self, child: QWidget):
        super().__init__()
        child.setParent(self)
        self.child = child

    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        """The held widget's minimum."""
        return self.child.minimumSizeHint()

    def sizeHint(self):  # noqa: N802 - Qt's name
        """The held widget's preferred size."""
        return self.child.sizeHint()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt's name
        """The held widget fills this one."""
        self.child.setGeometry(self.rect())
        super().resizeEvent(ev)


class _WindowShortcuts(QObject):
    """Lets the window's Undo/Redo/Save/Export shortcuts win over a focused text field.

    A spin box or line edit claims Ctrl+Z for its own text undo (a ShortcutOverride), so
    the document's undo never ran while a field had focus. Declining the override for
    those key sequences hands them to the window's actions (which first commit what was
    typed, then act).
    """

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window

    def _keys(self) -> set[str]:
        w = self.window
        return {s.toString() for a in (w.act_undo, w.act_redo, w.act_save, w.act_save_as,
                                       w.act_excel, w.act_run)
                for s in a.shortcuts() if a.isEnabled()}

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(obj, QWidget) and \
                self.window.isAncestorOf(obj):
            seq = QKeySequence(event.keyCombination()).toString()
            if seq in self._keys():
                event.ignore()
                return True
        return False
