"""The open scenario as an observable, undoable document.

:class:`ScenarioDocument` owns the one :class:`~simulator.scenario.Scenario`
the window edits. Views never keep their own copy of a number: they read the
document and subscribe to its signals. Every edit is a ``QUndoCommand`` on the
document's ``QUndoStack``; a value is validated by pydantic (assignment
validation) *before* the command is pushed, so the scenario is never invalid
field-by-field. Cross-field rules (``cross_check``) may be broken while the
user works; they are reported through :meth:`issues`.
"""

from __future__ import annotations

import copy
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

import scenarios
from simulator.labels import display_unit, number, where
from simulator.scenario import Scenario
from simulator.scenario_io import (
    Issue,
    ScenarioError,
    Stamp,
    _issues_from_pydantic,
    check,
    load_with_stamp,
    save,
    stamp_of,
)
from ui.fieldspec import Path, get_at, path_str

_SET_ID = 1001


def _assign(sc: Scenario, path: Path, value: Any) -> None:
    """Set the value at ``path``; dict/list leaves are replaced through their owning model.

    Raises pydantic.ValidationError (scenario unchanged) if the value is not allowed.
    """
    # Find the deepest model on the path; everything after it is copied and reassigned,
    # so that pydantic validates the change.
    owner_idx = 0
    obj: Any = sc
    for i, part in enumerate(path[:-1]):
        obj = obj[part] if isinstance(part, int) or isinstance(obj, dict) else getattr(obj, part)
        if isinstance(obj, BaseModel):
            owner_idx = i + 1
    owner = get_at(sc, path[:owner_idx])
    attr = path[owner_idx]
    rest = path[owner_idx + 1:]
    if not rest:
        setattr(owner, attr, value)
        return
    container = copy.deepcopy(getattr(owner, attr))
    target = get_at(container, rest[:-1])
    target[rest[-1]] = value
    setattr(owner, attr, container)


def field_words(sc: Scenario, path: Path) -> str:
    """A field as the form names it, without its tab: "Pool 'General' ▸ Shift 1 ▸ Staff"."""
    parts = where(path, sc).split(" ▸ ")
    return " ▸ ".join(parts[1:] if len(parts) > 1 else parts)


def value_words(path: Path, value: Any) -> str:
    """A value in the form's units: '20 %', '27 agents', 'Yes', "'Gold'"."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        unit, scale, is_int = display_unit(Scenario, tuple(path))
        shown = number(value * scale, is_int)
        return f"{shown} {unit}".strip() if unit else shown
    if value is None:
        return "not set"
    if isinstance(value, str):
        v = value if len(value) <= 40 else value[:39] + "…"
        return f"“{v}”"
    if isinstance(value, (list, dict)):
        return ", ".join(str(v) for v in value) or "none" if isinstance(value, list) else \
            f"{len(value)} value(s)"
    return str(value)


def change_text(sc: Scenario, path: Path, value: Any) -> str:
    """Undo-entry text that reads like an action.

    For example "Change Pool 'General' ▸ Shift 1 ▸ Staff to 27 agents".
    """
    return f"Change {field_words(sc, path)} to {value_words(path, value)}"


class SetValueCommand(QUndoCommand):
    """Set one field. Consecutive slider moves on the same field merge into one step."""

    def __init__(self, doc: ScenarioDocument, path: Path, old: Any, new: Any, merge: bool):
        super().__init__(change_text(doc.scenario, path, new))
        self.doc, self.path, self.old, self.new, self.merge = doc, path, old, new, merge

    def id(self) -> int:  # noqa: D102
        return _SET_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: D102, N802
        if isinstance(other, SetValueCommand) and other.merge and other.path == self.path:
            self.new = other.new
            self.setText(other.text())
            return True
        return False

    def redo(self) -> None:  # noqa: D102
        self.doc._apply_value(self.path, self.new)

    def undo(self) -> None:  # noqa: D102
        self.doc._apply_value(self.path, self.old)


class ListCommand(QUndoCommand):
    """Insert, remove or move an item of a list field (tiers, benefits, pools ...)."""

    def __init__(self, doc: ScenarioDocument, list_path: Path, op: str, index: int,
                 item: Any = None, to: int | None = None):
        names = {"insert": "Add", "remove": "Remove", "move": "Move"}
        if op == "insert":
            what = field_words(doc.scenario, list_path)
            nm = getattr(item, "name", None)
            text = f"Add to {what}" + (f": “{nm}”" if nm else "")
        else:
            text = f"{names[op]} {field_words(doc.scenario, tuple(list_path) + (index,))}"
            if op == "move" and to is not None:
                text += " up" if to < index else " down"
        super().__init__(text)
        self.doc, self.list_path, self.op, self.index, self.item, self.to = (
            doc, list_path, op, index, item, to)

    def _lst(self) -> list:
        return get_at(self.doc.scenario, self.list_path)

    def redo(self) -> None:  # noqa: D102
        lst = self._lst()
        if self.op == "insert":
            lst.insert(self.index, copy.deepcopy(self.item))
        elif self.op == "remove":
            self.item = lst.pop(self.index)
        else:
            lst.insert(self.to, lst.pop(self.index))
        self.doc._structure(self.list_path)

    def undo(self) -> None:  # noqa: D102
        lst = self._lst()
        if self.op == "insert":
            lst.pop(self.index)
        elif self.op == "remove":
            lst.insert(self.index, self.item)
        else:
            lst.insert(self.index, lst.pop(self.to))
        self.doc._structure(self.list_path)


class ScenarioDocument(QObject):
    """The scenario being edited, its file, its undo history and its problems."""

    value_changed = Signal(object)  # path of the field that changed
    structure_changed = Signal(object)  # path of the list whose items changed
    replaced = Signal()  # a different scenario (or file) is now open
    edited = Signal()  # any change of the scenario's content (for previews)
    settled = Signal()  # the user finished a gesture (slider released, Enter): no more edits
    issues_changed = Signal(list)  # list[Issue] from cross_check
    # no bool argument: PySide6 6.12 corrupts the refcount of True/False sent through a
    # Python-defined signal ("bool_dealloc" abort at exit); read .modified instead
    modified_changed = Signal()
    title_changed = Signal(str)

    def __init__(self, scenario: Scenario, path: str | FsPath | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._sc = scenario
        self._path = FsPath(path) if path is not None else None
        # what the file was when opened or last saved: a save over a file changed on
        # disk since (another window or program) is refused, not silently overwritten
        self._stamp: Stamp | None = stamp_of(self._path) if self._path is not None else None
        self.notes: list[str] = []  # e.g. "migrated from schema version 1 to 2"
        self.undo_stack = QUndoStack(self)
        # a bound method, not a lambda: Qt drops the connection when the document is
        # deleted (a lambda outlived it: 'Signal source has been deleted' at teardown)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._issues: list[Issue] = []
        self._refresh_issues()

    # -- state ---------------------------------------------------------------
    @property
    def scenario(self) -> Scenario:
        """The live scenario (read it; change it only through this document)."""
        return self._sc

    @property
    def path(self) -> FsPath | None:
        """File the scenario was opened from / saved to (None = never saved)."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Shipped scenarios are read-only: Save As to change them."""
        return self._path is not None and scenarios.is_shipped(self._path)

    @property
    def modified(self) -> bool:
        """True if there are unsaved changes."""
        return not self.undo_stack.isClean()

    def title(self) -> str:
        """Window title text: name, file, read-only and modified markers."""
        name = self._sc.name
        where = self._path.name if self._path else "unsaved"
        ro = " [read-only]" if self.read_only else ""
        star = "*" if self.modified else ""
        return f"{star}{name} ({where}){ro}"

    def get(self, path: Path) -> Any:
        """Value at a path of the live scenario."""
        return get_at(self._sc, path)

    def issues(self) -> list[Issue]:
        """Cross-field problems of the current scenario (empty = runnable)."""
        return list(self._issues)

    def snapshot(self) -> Scenario:
        """An independent copy (for worker threads)."""
        return self._sc.model_copy(deep=True)

    # -- edits ---------------------------------------------------------------
    def set_value(self, path: Path, value: Any, merge: bool = False) -> list[Issue]:
        """Validate and set one field (undoable). Returns the problems if it is refused."""
        path = tuple(path)
        old = copy.deepcopy(self.get(path))
        if old == value and type(old) is type(value):
            return []
        try:
            _assign(self._sc, path, value)
        except ValidationError as exc:
            found = _issues_from_pydantic(exc)
            return [Issue(path_str(path), value, i.message) for i in found] or [
                Issue(path_str(path), value, "is not allowed")]
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            return [Issue(path_str(path), value, f"is not allowed ({exc})")]
        _assign(self._sc, path, old)  # the command re-applies it (redo on push)
        self.undo_stack.push(SetValueCommand(self, path, old, copy.deepcopy(value), merge))
        return []

    def insert_item(self, list_path: Path, index: int, item: Any) -> None:
        """Insert an item (a validated model instance) into a list field."""
        self.undo_stack.push(ListCommand(self, tuple(list_path), "insert", index, item))

    def remove_item(self, list_path: Path, index: int) -> list[Issue]:
        """Remove an item; refused if the list would become shorter than allowed."""
        lst = self.get(list_path)
        if list_path in (("segments",), ("tiers",), ("service", "pools")) and len(lst) <= 1:
            return [Issue(path_str(list_path), len(lst), "must keep at least one item")]
        self.undo_stack.push(ListCommand(self, tuple(list_path), "remove", index))
        return []

    def move_item(self, list_path: Path, index: int, to: int) -> None:
        """Move an item within a list (reorder tiers, benefits ...)."""
        n = len(self.get(list_path))
        if index == to or not (0 <= index < n and 0 <= to < n):
            return
        self.undo_stack.push(ListCommand(self, tuple(list_path), "move", index, to=to))

    def settle(self) -> None:
        """The edit gesture is over (slider released, value entered).

        Previews may start now instead of waiting out their debounce for further edits.
        """
        self.settled.emit()

    # -- files ---------------------------------------------------------------
    def replace(self, scenario: Scenario, path: str | FsPath | None,
                notes: list[str] | None = None, modified: bool = False,
                stamp: Stamp | None = None) -> None:
        """Open another scenario (clears the undo history).

        ``stamp``: the file as it was read (:func:`~simulator.scenario_io.load_with_stamp`),
        else its stamp now.
        """
        self._sc = scenario
        self._path = FsPath(path) if path is not None else None
        self._stamp = stamp if stamp is not None or self._path is None else \
            stamp_of(self._path)
        self.notes = list(notes or [])
        self.undo_stack.clear()
        if modified:
            # a clean index that can never be reached again marks the document modified
            self.undo_stack.resetClean()
        self._refresh_issues()
        self.replaced.emit()
        self.edited.emit()
        self._modified_changed()

    @property
    def stamp(self) -> Stamp | None:
        """The file as it was opened or last saved (None: no file)."""
        return self._stamp

    def changed_on_disk(self) -> bool:
        """True if the file changed (or vanished) since it was opened or saved here."""
        return self._path is not None and stamp_of(self._path) != self._stamp

    def save(self, overwrite: bool = False) -> FsPath:
        """Save to the current file (user scenarios only).

        Raises PermissionError/ScenarioError, and FileChangedError if the file changed on
        disk since it was opened or saved here (unless ``overwrite``: the user chose to
        replace the other version).
        """
        if self._path is None or self.read_only:
            raise PermissionError("this scenario has no user file yet: use Save As")
        expect = stamp_of(self._path) if overwrite else self._stamp
        self._stamp = save(self._sc, self._path, expect=expect)
        self._mark_saved()
        return self._path

    def save_as(self, path: str | FsPath | None = None, *, exclusive: bool = False,
                expect: Stamp | None = None) -> FsPath:
        """Save into the user folder (a new file unless ``path`` is given).

        ``exclusive``: ``path`` must not exist (FileTakenError, even if another process
        took it a moment ago); ``expect``: the stamp of the existing file the user agreed
        to replace (FileChangedError if it changed since).
        """
        target = FsPath(scenarios.save_user(self._sc, path, exclusive=exclusive,
                                            expect=expect))
        self._path = target
        self._stamp = stamp_of(target)
        self._refresh_issues()
        self._mark_saved()
        return self._path

    def reload(self) -> None:
        """Replace the scenario by its file's current content (discarding the edits here)."""
        if self._path is None:
            raise PermissionError("this scenario has no file to reload")
        sc, stamp = load_with_stamp(self._path)
        self.replace(sc, self._path, stamp=stamp)

    def _mark_saved(self) -> None:
        self.undo_stack.setClean()
        self._modified_changed()

    def set_path(self, path: str | FsPath | None) -> None:
        """The file moved (renamed in the library) or vanished (deleted)."""
        self._path = FsPath(path) if path is not None else None
        self._stamp = stamp_of(self._path) if self._path is not None else None
        self._refresh_issues()
        if path is None:
            self.undo_stack.resetClean()
        self._modified_changed()

    # -- internals -----------------------------------------------------------
    def _apply_value(self, path: Path, value: Any) -> None:
        _assign(self._sc, path, copy.deepcopy(value))
        self._refresh_issues()
        self.value_changed.emit(path)
        self.edited.emit()
        if path == ("name",):
            self.title_changed.emit(self.title())

    def _structure(self, list_path: Path) -> None:
        self._refresh_issues()
        self.structure_changed.emit(list_path)
        self.edited.emit()

    def _refresh_issues(self) -> None:
        new = check(self._sc)  # cross-field rules, list items named as in validate
        pop = self._sc.population
        if not new and (self._sc.run.counterfactual.mode == "base_scenario"
                        or pop.customer_file):
            # the base scenario and the customer file are resolved as a run resolves them
            # (the one loader, relative to this document's file): a missing, cyclic or
            # incompatible base, or a missing or invalid customer file, is a problem
            from simulator.loader import loaded_from

            try:
                ld = loaded_from(self._sc, self._path)
                sha = ld.scenario.population.customer_file_sha256
                if pop.customer_file and pop.customer_file_sha256 != sha:
                    # the shown scenario names the customers a run starts from (its hash)
                    pop.customer_file_sha256 = sha
            except ScenarioError as exc:
                new = list(exc.issues)
        if new != self._issues:
            self._issues = new
            self.issues_changed.emit(new)

    def _clean_changed(self, _clean: bool) -> None:
        self._modified_changed()

    def _modified_changed(self) -> None:
        self.modified_changed.emit()
        self.title_changed.emit(self.title())


def open_file(path: str | FsPath) -> tuple[Scenario, list[str], Stamp]:
    """Load a scenario file. Raises ScenarioError.

    Returns (scenario, notes such as migrations, the file's stamp as read).
    """
    import tomllib

    from simulator.scenario_io import migrate

    sc, stamp = load_with_stamp(path)
    notes: list[str] = []
    try:
        data = tomllib.loads(FsPath(path).read_text(encoding="utf-8"))
        _, notes = migrate(data)
    except (tomllib.TOMLDecodeError, OSError, ScenarioError, UnicodeDecodeError):
        pass
    return sc, notes, stamp
