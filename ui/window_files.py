"""The main window's file commands: new, open, open recent, save, save as, library renames.

A mixin of :class:`ui.main_window.MainWindow` (it uses the window's ``doc``, ``prompter``,
``recent``, ``library`` and ``compare``). Every command asks about unsaved changes first
and never lets a bad file crash the app: problems are listed and, where possible, a
recovered copy is offered. A file changed on disk since it was opened is never
overwritten silently.
"""

from __future__ import annotations

from pathlib import Path

import scenarios
from simulator.scenario_io import FileChangedError, FileTakenError, ScenarioError, stamp_of
from ui.document import open_file
from ui.recovery import recover


class FileCommands:
    """File ▸ New, Open, Open recent, Save, Save As; the library's renames and deletes."""

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
