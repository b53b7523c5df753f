"""Every question the app asks the user, in one replaceable object.

Widgets call ``prompter.confirm(...)`` etc. instead of ``QMessageBox`` directly,
so tests can answer with a scripted :class:`Prompter` subclass and no modal
dialog ever blocks an offscreen test run.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)


class Prompter:
    """Modal dialogs (the real ones)."""

    def confirm(self, parent: QWidget | None, title: str, text: str) -> bool:
        """Yes/No question; True for Yes."""
        r = QMessageBox.question(parent, title, text,
                                 QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                 QMessageBox.StandardButton.No)
        return r == QMessageBox.StandardButton.Yes

    def save_discard_cancel(self, parent: QWidget | None, text: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes", text,
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, parent)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        r = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(r), "cancel")

    def changed_on_disk(self, parent: QWidget | None, text: str) -> str:
        """The file changed on disk since it was opened: what to do.

        One of 'reload', 'overwrite', 'save_as' or 'cancel'.
        """
        box = QMessageBox(QMessageBox.Icon.Warning, "File changed on disk", text, parent=parent)
        buttons = {box.addButton("Reload", QMessageBox.ButtonRole.DestructiveRole): "reload",
                   box.addButton("Overwrite", QMessageBox.ButtonRole.AcceptRole): "overwrite",
                   box.addButton("Save As…", QMessageBox.ButtonRole.ActionRole): "save_as"}
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return buttons.get(box.clickedButton(), "cancel")

    def text(self, parent: QWidget | None, title: str, label: str, default: str = "") -> str | None:
        """A line of text, or None if cancelled.

        The dialog is wide enough for an 80-character name and for its title.
        """
        dlg = QInputDialog(parent)
        dlg.setWindowTitle(title)
        dlg.setLabelText(label)
        dlg.setTextValue(default)
        dlg.setMinimumWidth(520)
        dlg.resize(max(520, dlg.fontMetrics().horizontalAdvance(default) + 80), dlg.height())
        ok = dlg.exec() == QInputDialog.DialogCode.Accepted
        return dlg.textValue() if ok else None

    def error(self, parent: QWidget | None, title: str, text: str, details: str = "") -> None:
        """Report a problem (never raises)."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok,
                          parent)
        if details:
            box.setDetailedText(details)
        box.exec()

    def offer(self, parent: QWidget | None, title: str, text: str, details: str,
              accept_label: str) -> bool:
        """Report a problem and offer one way out (True if taken)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
        if details:
            box.setDetailedText(details)
        take = box.addButton(accept_label, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is take

    def open_path(self, parent: QWidget | None, title: str, start: str, filt: str) -> str | None:
        """A file to open, or None."""
        path, _ = QFileDialog.getOpenFileName(parent, title, start, filt)
        return path or None

    def save_path(self, parent: QWidget | None, title: str, start: str, filt: str) -> str | None:
        """A file to write, or None."""
        path, _ = QFileDialog.getSaveFileName(parent, title, start, filt)
        return path or None

    def choose(self, parent: QWidget | None, title: str, label: str,
               groups: list[tuple[str, list[tuple[str, str, str]]]]) -> str | None:
        """Pick one item: ``groups`` = [(heading, [(key, title, what it is)])]; its key or None."""
        dlg = QDialog(parent)
        dlg.setWindowTitle(title)
        dlg.setMinimumWidth(560)
        lay = QVBoxLayout(dlg)
        lay.addWidget(QLabel(label))
        lst = QListWidget()
        about = QLabel("")
        about.setWordWrap(True)
        about.setMinimumHeight(48)
        for heading, items in groups:
            head = QListWidgetItem(heading)
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            f = head.font()
            f.setBold(True)
            head.setFont(f)
            lst.addItem(head)
            for key, text, what in items:
                it = QListWidgetItem("    " + text)
                it.setData(Qt.ItemDataRole.UserRole, key)
                it.setData(Qt.ItemDataRole.UserRole + 1, what)
                lst.addItem(it)
        lst.currentItemChanged.connect(
            lambda it, _old: about.setText(it.data(Qt.ItemDataRole.UserRole + 1) or ""
                                           if it is not None else ""))
        for i in range(lst.count()):
            if lst.item(i).data(Qt.ItemDataRole.UserRole):
                lst.setCurrentRow(i)
                break
        lay.addWidget(lst, 1)
        lay.addWidget(about)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                              | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(dlg.accept)
        bb.rejected.connect(dlg.reject)
        lst.itemDoubleClicked.connect(lambda _it: dlg.accept())
        lay.addWidget(bb)
        dlg.resize(560, 420)
        if dlg.exec() != QDialog.DialogCode.Accepted or lst.currentItem() is None:
            return None
        return lst.currentItem().data(Qt.ItemDataRole.UserRole) or None

