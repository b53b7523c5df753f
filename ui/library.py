"""The scenario library panel: shipped (read-only) and the user's own scenarios.

Lists :func:`scenarios.list_all`, and offers open, duplicate, rename and delete
(with confirmation). File operations go through the ``scenarios`` package;
the panel tells the window what happened so the open document can follow a
rename or a delete.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import scenarios
from simulator.labels import wrap
from simulator.scenario_io import ScenarioError, load
from ui.dialogs import Prompter
from ui.forms import unique_copy_name

PATH_ROLE = Qt.ItemDataRole.UserRole


class LibraryPanel(QWidget):
    """Tree of scenarios with Open / Duplicate / Rename / Delete."""

    open_requested = Signal(object)  # Path
    renamed = Signal(object, object)  # old Path, new Path
    deleted = Signal(object)  # Path
    changed = Signal()  # the set of files changed

    def __init__(self, prompter: Prompter, parent: QWidget | None = None):
        super().__init__(parent)
        self.prompter = prompter
        self.current_path: Path | None = None
        self.current_modified = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setObjectName("library")
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemDoubleClicked.connect(self._activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.tree)
        row1 = QHBoxLayout()
        row2 = QHBoxLayout()
        self.btn_open = QPushButton("Open")
        self.btn_dup = QPushButton("Duplicate")
        self.btn_rename = QPushButton("Rename…")
        self.btn_delete = QPushButton("Delete…")
        for b in (self.btn_open, self.btn_dup):
            row1.addWidget(b)
        for b in (self.btn_rename, self.btn_delete):
            row2.addWidget(b)
        lay.addLayout(row1)
        lay.addLayout(row2)
        self.btn_open.clicked.connect(self.open_selected)
        self.btn_dup.clicked.connect(self.duplicate_selected)
        self.btn_rename.clicked.connect(self.rename_selected)
        self.btn_delete.clicked.connect(self.delete_selected)
        self.refresh()

    # -- listing -------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the shipped and user folders."""
        keep = self.selected_path()
        self.tree.clear()
        style = self.style()
        groups = [("Shipped (read-only)", scenarios.list_shipped()),
                  ("My scenarios", scenarios.list_user())]
        warning = scenarios.user_dir_warning()
        for title, entries in groups:
            top = QTreeWidgetItem([f"{title} ({len(entries)})"])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if warning and not entries[:1] and title.startswith("My"):
                top.setText(0, f"{title}: folder unavailable")
                top.setIcon(0, style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
                top.setToolTip(0, wrap(warning))
            self.tree.addTopLevelItem(top)
            for e in entries:
                mark = ""
                if self.current_path is not None and e.path.resolve() == \
                        Path(self.current_path).resolve():
                    mark = " ●*" if self.current_modified else " ●"
                it = QTreeWidgetItem([e.title + mark])
                it.setData(0, PATH_ROLE, str(e.path))
                tip = f"{e.title}\n{e.path}"  # the full name: long ones are cut in the list
                if e.shipped:
                    it.setIcon(0, style.standardIcon(QStyle.StandardPixmap.SP_FileDialogInfoView))
                    tip += "\nShipped scenario: read-only (Save As to change it)"
                if e.error:
                    it.setIcon(0, style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
                    it.setForeground(0, Qt.GlobalColor.darkRed)
                    tip += "\n" + e.error
                it.setToolTip(0, wrap(tip))
                top.addChild(it)
                if keep is not None and e.path == keep:
                    self.tree.setCurrentItem(it)
            top.setExpanded(True)
        self._update_buttons()

    def set_current(self, path: Path | None, modified: bool) -> None:
        """Mark the open scenario (● open, ●* open with unsaved changes)."""
        if path == self.current_path and modified == self.current_modified:
            return
        self.current_path, self.current_modified = path, modified
        self.refresh()

    def entries(self) -> list[tuple[str, Path]]:
        """(shown text, path) of every listed scenario."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                it = top.child(j)
                out.append((it.text(0), Path(it.data(0, PATH_ROLE))))
        return out

    def select_path(self, path: Path) -> bool:
        """Select the entry of a file."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                it = top.child(j)
                if Path(it.data(0, PATH_ROLE)) == Path(path):
                    self.tree.setCurrentItem(it)
                    return True
        return False

    def selected_path(self) -> Path | None:
        """File of the selected entry."""
        it = self.tree.currentItem()
        if it is None or it.data(0, PATH_ROLE) is None:
            return None
        return Path(it.data(0, PATH_ROLE))

    def _update_buttons(self) -> None:
        p = self.selected_path()
        user = p is not None and not scenarios.is_shipped(p)
        self.btn_open.setEnabled(p is not None)
        self.btn_dup.setEnabled(p is not None)
        self.btn_rename.setEnabled(user)
        self.btn_delete.setEnabled(user)

    # -- actions -------------------------------------------------------------------
    def _activated(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        if item.data(0, PATH_ROLE):
            self.open_requested.emit(Path(item.data(0, PATH_ROLE)))

    def open_selected(self) -> None:
        """Ask the window to open the selected scenario."""
        p = self.selected_path()
        if p is not None:
            self.open_requested.emit(p)

    def duplicate_selected(self) -> Path | None:
        """Copy the selected scenario into the user folder as '<name> (copy)'."""
        p = self.selected_path()
        if p is None:
            return None
        try:
            sc = load(p)
        except ScenarioError as exc:
            self.prompter.error(self, "Cannot duplicate", f"{p.name} cannot be read.", str(exc))
            return None
        taken = [e.title for e in scenarios.list_all()]
        sc = sc.model_copy(update={"name": unique_copy_name(sc.name, taken)})
        try:
            new = scenarios.save_user(sc)
        except (OSError, ScenarioError) as exc:
            self.prompter.error(self, "Cannot duplicate", str(exc))
            return None
        self.refresh()
        self.select_path(new)
        self.changed.emit()
        return new

    def rename_selected(self) -> Path | None:
        """Rename a user scenario (its name and its file)."""
        p = self.selected_path()
        if p is None or scenarios.is_shipped(p):
            return None
        try:
            old_title = load(p).name
        except ScenarioError as exc:
            self.prompter.error(self, "Cannot rename", f"{p.name} cannot be read.", str(exc))
            return None
        title = self.prompter.text(self, "Rename scenario", "New name:", old_title)
        if not title or not title.strip() or title == old_title:
            return None
        try:
            new = scenarios.rename_user(p, title.strip())
        except (OSError, ScenarioError, PermissionError) as exc:
            self.prompter.error(self, "Cannot rename", str(exc))
            return None
        self.renamed.emit(p, new)
        self.refresh()
        self.select_path(new)
        self.changed.emit()
        return new

    def _title_of(self, path: Path) -> str:
        """The scenario's name as listed (its file stem if it cannot be read)."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                it = top.child(j)
                if it.data(0, PATH_ROLE) and Path(it.data(0, PATH_ROLE)) == Path(path):
                    return it.toolTip(0).split("\n")[0]
        return Path(path).stem

    def delete_selected(self) -> bool:
        """Delete a user scenario after confirmation."""
        p = self.selected_path()
        if p is None or scenarios.is_shipped(p):
            return False
        if not self.prompter.confirm(self, "Delete scenario",
                                     f"Delete “{self._title_of(p)}” ({p.name}) from your "
                                     "scenarios?\n"
                                     "This cannot be undone."):
            return False
        try:
            scenarios.delete_user(p)
        except (OSError, PermissionError) as exc:
            self.prompter.error(self, "Cannot delete", str(exc))
            return False
        self.deleted.emit(p)
        self.refresh()
        self.changed.emit()
        return True

    def _menu(self, pos) -> None:
        it = self.tree.itemAt(pos)
        if it is None or it.data(0, PATH_ROLE) is None:
            return
        self.tree.setCurrentItem(it)
        m = QMenu(self)
        m.addAction("Open", self.open_selected)
        m.addAction("Duplicate", self.duplicate_selected)
        user = not scenarios.is_shipped(Path(it.data(0, PATH_ROLE)))
        a = m.addAction("Rename…", self.rename_selected)
        a.setEnabled(user)
        a = m.addAction("Delete…", self.delete_selected)
        a.setEnabled(user)
        m.exec(self.tree.viewport().mapToGlobal(pos))
