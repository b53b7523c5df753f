"""The base of every editor field widget: label, error line, commit to the document.

Part of the editor's fields (:mod:`ui.fields` re-exports these names).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from simulator.labels import tip
from simulator.scenario import MONTH_NAMES
from simulator.scenario_io import Issue
from ui.document import ScenarioDocument
from ui.fieldspec import FieldSpec, Path, issue_matches

SLIDER_STEPS = 1000
_ERROR_STYLE = "color: #b00020;"
_RANGE_STYLE = "color: #1f5fa8;"
_RANGE_BUTTON_STYLE = "color: #1f5fa8; font-weight: bold;"


def ref_names(doc: ScenarioDocument, ref: str | None) -> list[str]:
    """Names a reference field may take (pools, segments or tiers of the scenario)."""
    sc = doc.scenario
    if ref == "pools":
        return [p.name for p in sc.service.pools]
    if ref == "segments":
        return [s.name for s in sc.segments]
    if ref == "tiers":
        return [t.name for t in sc.tiers]
    if ref == "months":  # the seasonal order rate's calendar months
        return list(MONTH_NAMES)
    return []


class FieldWidget(QWidget):
    """Base: a labelled editor for ``doc.get(path)`` with an error line under it."""

    committed = Signal(object)  # path, after a successful edit

    def __init__(self, doc: ScenarioDocument, path: Path, spec: FieldSpec,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.path, self.spec = doc, tuple(path), spec
        self.setObjectName("field:" + ".".join(str(p) for p in self.path))
        self._refused: list[Issue] = []
        self._cross: list[Issue] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        self.row = QHBoxLayout()
        self.row.setSpacing(6)
        outer.addLayout(self.row)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        if spec.description:
            self.setToolTip(tip(spec.description))
        doc.value_changed.connect(self._on_value_changed)
        doc.replaced.connect(self.refresh)
        doc.structure_changed.connect(self._on_structure)
        doc.issues_changed.connect(self._on_issues)

    _disposed = False

    def dispose(self) -> None:
        """The form holding this field is going away: ignore late signals (focus-out ...)."""
        self._disposed = True

    def flush(self) -> None:
        """Commit what the user typed but has not entered yet (no Enter, no focus-out)."""

    def _settle(self) -> None:
        if not self._disposed:
            self.doc.settle()

    # Every concrete field defines ``_show(value)``: put a document value into its widgets.
    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        if not callable(getattr(cls, "_show", None)):
            raise TypeError(f"{cls.__name__} must define _show(value)")

    def refresh(self) -> None:
        """Re-read the value from the document."""
        if self._disposed:
            return
        try:
            value = self.doc.get(self.path)
        except (KeyError, IndexError, AttributeError):
            return  # our item was removed; the owning form is being rebuilt
        self._refused = []
        self._show(value)
        self._on_issues(self.doc.issues())

    def commit(self, value: Any, merge: bool = False) -> bool:
        """Send an edit to the document; show the validator's message if refused."""
        if self._disposed:
            return False
        refused = self.doc.set_value(self.path, value, merge=merge)
        self._refused = refused
        self._update_error()
        if not refused:
            self.committed.emit(self.path)
        return not refused

    @property
    def error_text(self) -> str:
        """The message shown beside the field ('' if none)."""
        return self.error_label.text() if self.error_label.isVisibleTo(self) else ""

    def _on_value_changed(self, path: Path) -> None:
        if tuple(path[: len(self.path)]) == self.path or \
                tuple(self.path[: len(path)]) == tuple(path):
            self.refresh()

    def _on_structure(self, path: Path) -> None:
        pass

    def _on_issues(self, issues: list[Issue]) -> None:
        if self._disposed:
            return
        self._cross = [i for i in issues if issue_matches(i.path, self.path)]
        self._update_error()

    def _update_error(self) -> None:
        msgs = [str(i) for i in self._refused + self._cross]
        self.error_label.setText("\n".join(msgs))
        self.error_label.setVisible(bool(msgs))
