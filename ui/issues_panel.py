"""The editor's list of problems: every cross-field problem and every load note.

Clicking a problem reveals its field (the editor listens to :attr:`IssuesPanel.go_to`).
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from ui.document import ScenarioDocument
from ui.fieldspec import Path


def parse_path(text: str) -> Path:
    """``"tiers[2].threshold_cny"`` -> ``("tiers", 2, "threshold_cny")`` ([*] -> 0)."""
    out: list = []
    for name, idx in re.findall(r"([^.\[\]]+)|\[(\d+|\*)\]", text):
        if name:
            out.append(name)
        else:
            out.append(0 if idx == "*" else int(idx))
    return tuple(out)


class IssuesPanel(QListWidget):
    """Every cross-field problem and every load note; click one to go to its field."""

    go_to = Signal(object)

    def __init__(self, doc: ScenarioDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("issues")
        self.setMaximumHeight(110)
        doc.issues_changed.connect(self._fill)
        doc.replaced.connect(self._fill)
        self.itemActivated.connect(self._go)
        self.itemClicked.connect(self._go)
        self._fill()

    # (light palette, dark palette): dark blue on a dark base was unreadable
    TONES = {"note": ("#00008b", "#8ab4f8"), "problem": ("#8b0000", "#ff8a80"),
             "ok": ("#006400", "#7ddc8a")}

    def _tone(self, kind: str) -> QColor:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        return QColor(self.TONES[kind][1 if dark else 0])

    def _fill(self, *_):
        self.clear()
        for note in self.doc.notes:
            it = QListWidgetItem("ℹ " + note)
            it.setForeground(self._tone("note"))
            self.addItem(it)
        for issue in self.doc.issues():
            it = QListWidgetItem("⚠ " + str(issue))
            it.setForeground(self._tone("problem"))
            it.setData(Qt.ItemDataRole.UserRole, issue.path)
            self.addItem(it)
        if self.count() == 0:
            it = QListWidgetItem("✓ No problems: the scenario can run.")
            it.setForeground(self._tone("ok"))
            self.addItem(it)

    def messages(self) -> list[str]:
        """Texts shown (for tests and the status bar)."""
        return [self.item(i).text() for i in range(self.count())]

    def _go(self, item: QListWidgetItem) -> None:
        p = item.data(Qt.ItemDataRole.UserRole)
        if p:
            self.go_to.emit(parse_path(p))
