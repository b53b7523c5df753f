"""Text field widgets: a line edit for names, a multi-line box for longer text.

Part of the editor's fields (:mod:`ui.fields` re-exports these names).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QLineEdit,
    QPlainTextEdit,
)

from ui.field_base import FieldWidget


class TextField(FieldWidget):
    """A line edit (names); ``optional_text`` treats an empty entry as 'not set'."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.edit = QLineEdit()
        if spec.kind == "optional_text":
            self.edit.setPlaceholderText("(not set)")
        self.edit.editingFinished.connect(self._done)
        self.row.addWidget(self.edit)
        self.refresh()

    def _show(self, value):
        if not self.edit.hasFocus() or self.edit.text() != (value or ""):
            self.edit.setText("" if value is None else str(value))

    def flush(self):  # noqa: D102
        self._done()

    def _done(self):
        if self._disposed or not self.edit.isModified():
            return  # only what the user typed is committed
        self.edit.setModified(False)
        text = self.edit.text()
        value = None if (self.spec.kind == "optional_text" and not text.strip()) else text
        if value != self.doc.get(self.path):
            self.commit(value)


class LongTextField(FieldWidget):
    """Multi-line text (the description); committed when focus leaves."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.edit = _FocusOutText(self._done)
        self.edit.setMaximumHeight(90)
        self.row.addWidget(self.edit)
        self.refresh()

    def _show(self, value):
        if self.edit.toPlainText() != value:
            self.edit.setPlainText(value or "")

    def flush(self):  # noqa: D102
        self._done()

    def _done(self):
        if self._disposed or not self.edit.document().isModified():
            return
        self.edit.document().setModified(False)
        if self.edit.toPlainText() != self.doc.get(self.path):
            self.commit(self.edit.toPlainText())


class _FocusOutText(QPlainTextEdit):
    def __init__(self, on_done):
        super().__init__()
        self._on_done = on_done

    def focusOutEvent(self, e):  # noqa: N802
        super().focusOutEvent(e)
        self._on_done()
