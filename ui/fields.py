"""One editor widget per scenario field, bound to a document path.

Each widget reads its value from the :class:`~ui.document.ScenarioDocument`,
writes edits back through ``doc.set_value`` (validated, undoable) and shows the
validator's message beside itself when a value is refused or when a
cross-field rule names its path. It holds no value of its own: after undo/redo
it re-reads the document.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from simulator.labels import plain, tip
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


class NumberField(FieldWidget):
    """Slider + spin box with the unit.

    The spin box accepts any number so the validator (not the widget) says what is
    allowed; the slider spans the valid range.
    """

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setMinimumWidth(60)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(0 if spec.is_int else max(spec.decimals, 0))
        self.spin.setRange(-1e15, 1e15)
        self.spin.setGroupSeparatorShown(True)
        self.spin.setKeyboardTracking(False)
        self.spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.spin.setMinimumWidth(92)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.unit = QLabel(spec.unit)
        self.unit.setMinimumWidth(40)
        self.unit.setToolTip(spec.unit)
        self.row.addWidget(self.slider, 1)
        self.row.addWidget(self.spin)
        self.row.addWidget(self.unit)
        # uncertain inputs: a button opens the range editor, a line under the field shows
        # the range (ui/range_editor.py); fields that cannot be ranges get neither
        from simulator.uncertainty import not_allowed

        self.range_button: QToolButton | None = None
        self.range_label = QLabel()
        self.range_label.setObjectName("range_badge")
        self.range_label.setWordWrap(True)
        self.range_label.setStyleSheet(_RANGE_STYLE)
        self.range_label.hide()
        if not_allowed(self.path) is None and len(self.path) > 0:
            self.range_button = QToolButton()
            self.range_button.setObjectName("range_button")
            self.range_button.setText("±")
            self.range_button.setToolTip("Range: say how sure this number is (low – most "
                                         "likely – high, or a distribution), or make a range "
                                         "a plain number again")
            self.range_button.clicked.connect(self.edit_range)
            self.range_button.setAutoRaise(True)
            self.row.addWidget(self.range_button)
            # the unit keeps its width (a narrow form wraps the row instead of cutting it)
            self.unit.setMinimumWidth(max(40, self.unit.sizeHint().width()))
            self.layout().insertWidget(1, self.range_label)
        self._range: tuple[float, float] | None = None
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderReleased.connect(self._slider_released)
        self.spin.valueChanged.connect(self._spin_changed)
        self.spin.editingFinished.connect(self._settle)
        self.refresh()

    def flush(self) -> None:  # noqa: D102
        if not self._disposed:
            self.spin.interpretText()  # emits valueChanged if the typed text differs

    # model units <-> display units
    def _to_display(self, v: float) -> float:
        return v * self.spec.scale

    def _from_display(self, d: float) -> float | int:
        v = d / self.spec.scale
        if self.spec.is_int:
            return int(round(v))
        return round(v, 12)

    def _slider_pos(self, v: float) -> int:
        lo, hi = self._range or (0.0, 1.0)
        if hi <= lo:
            return 0
        return int(round((min(max(v, lo), hi) - lo) / (hi - lo) * SLIDER_STEPS))

    def _slider_value(self, pos: int) -> float | int:
        lo, hi = self._range or (0.0, 1.0)
        v = lo + (hi - lo) * pos / SLIDER_STEPS
        if self.spec.is_int:
            return int(round(v))
        # round to the display precision so the spin box and the model agree
        return round(v * self.spec.scale, self.spec.decimals) / self.spec.scale

    def _show(self, value: Any) -> None:
        v = float(value)
        if self._range is None or not (self._range[0] <= v <= self._range[1]):
            self._range = self.spec.slider_range(v)
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.spin.setValue(self._to_display(v))
        self.slider.setValue(self._slider_pos(v))
        for w in (self.slider, self.spin):
            w.blockSignals(False)
        self.spin.setStyleSheet("")
        self._show_range()

    def _show_range(self) -> None:
        if self.range_button is None:
            return
        from ui.range_editor import badge_text

        text, tooltip = badge_text(self.doc, self.path)
        self.range_label.setText(text)
        self.range_label.setToolTip(tooltip)
        self.range_label.setVisible(bool(text))
        self.range_button.setStyleSheet(_RANGE_BUTTON_STYLE if text else "")

    def has_range(self) -> bool:
        """Whether the field has a range or refers to a shared assumption."""
        return bool(self.range_label.text()) and self.range_button is not None

    def range_dialog(self):
        """The range editor of this field (not shown)."""
        from ui.range_editor import RangeDialog

        return RangeDialog(self.doc, self.path, self)

    def edit_range(self) -> None:
        """Open the range editor (modal)."""
        if self._disposed:
            return
        self.flush()
        self.range_dialog().exec()

    def commit(self, value: Any, merge: bool = False) -> bool:
        """A field with a range moves its range (its number stays its nominal value)."""
        if self._disposed:
            return False
        if self.range_button is not None and self.has_range():
            from ui.range_editor import set_nominal

            refused = set_nominal(self.doc, self.path, value, merge)
            if refused is not None:
                self._refused = refused
                self._update_error()
                if not refused:
                    self.committed.emit(self.path)
                return not refused
        return super().commit(value, merge)

    def _slider_moved(self, pos: int) -> None:
        value = self._slider_value(pos)
        dragging = self.slider.isSliderDown()
        self.spin.blockSignals(True)
        self.spin.setValue(self._to_display(value))
        self.spin.blockSignals(False)
        self.commit(value, merge=dragging)

    def _slider_released(self) -> None:
        # widen the range when the user pushed against the end of an open-ended range
        if self.slider.value() >= SLIDER_STEPS and self.spec.hi is None:
            self._range = self.spec.slider_range((self._range or (0.0, 1.0))[1])
            self.slider.blockSignals(True)
            self.slider.setValue(self._slider_pos(self.doc.get(self.path)))
            self.slider.blockSignals(False)
        self._settle()  # the drag is over: the preview need not wait for more edits

    def _spin_changed(self, d: float) -> None:
        value = self._from_display(d)
        if self.commit(value):
            lo, hi = self._range or (0.0, 1.0)
            if not lo <= value <= hi:
                self._range = self.spec.slider_range(float(value))
            self.slider.blockSignals(True)
            self.slider.setValue(self._slider_pos(float(value)))
            self.slider.blockSignals(False)
            self.spin.setStyleSheet("")
        else:
            self.spin.setStyleSheet("background: #fde7ea;")

    def set_display_value(self, d: float) -> None:
        """Type a value (display units) into the spin box, as a user would."""
        self.spin.setValue(d)


class BigIntField(FieldWidget):
    """Whole numbers beyond a spin box's range (the random seed)."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(self._done)
        self.row.addWidget(self.edit)
        self.refresh()

    def _show(self, value):
        self.edit.setText(str(value))

    def flush(self):  # noqa: D102
        self._done()

    def _done(self):
        if self._disposed or not self.edit.isModified():
            return
        self.edit.setModified(False)
        text = self.edit.text().strip().replace(",", "")
        try:
            value: Any = int(text)
        except ValueError:
            value = text
        self.commit(value)


class BoolField(FieldWidget):
    """A check box."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        # The description goes in a wrapping label, so a long one never widens the form.
        self.box = QCheckBox()
        self.box.setToolTip(tip(spec.description or ""))
        self.box.toggled.connect(lambda on: self.commit(bool(on)))
        self.row.addWidget(self.box)
        if spec.description:
            text = QLabel(plain(spec.description))
            text.setWordWrap(True)
            text.setMinimumWidth(60)
            sp = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            sp.setHeightForWidth(True)
            text.setSizePolicy(sp)
            text.mousePressEvent = lambda _e: self.box.toggle()
            self.row.addWidget(text, 1)
        self.refresh()

    def _show(self, value):
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceField(FieldWidget):
    """A combo box of the schema's allowed values (Literal), or of names (pool references)."""

    NONE = "(default)"

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.activated.connect(self._picked)
        self.row.addWidget(self.combo)
        self.row.addStretch(1)
        self.refresh()

    def _options(self) -> list:
        if self.spec.kind == "ref":
            return [None] + ref_names(self.doc, self.spec.ref)
        return list(self.spec.choices)

    def _show(self, value):
        self.combo.blockSignals(True)
        self.combo.clear()
        opts = self._options()
        if value not in opts:
            opts.append(value)  # a dangling reference: shown, and flagged by cross_check
        for o in opts:
            self.combo.addItem(self.NONE if o is None else str(o).replace("_", " "), o)
        self.combo.setCurrentIndex(opts.index(value))
        self.combo.blockSignals(False)

    def _picked(self, i: int) -> None:
        self.commit(self.combo.itemData(i))

    def _on_structure(self, path):
        if self.spec.kind == "ref" and path and path[-1] == "pools":
            self.refresh()

    def _on_value_changed(self, path):
        super()._on_value_changed(path)
        if self.spec.kind == "ref" and len(path) >= 2 and path[-1] == "name" and \
                "pools" in path:
            self.refresh()


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


class OptionalNumberField(FieldWidget):
    """A number that may be unset (None = the model's default rule): check box + number."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.box = QCheckBox("set")
        self.spin = QDoubleSpinBox()
        self.spin.setRange(-1e15, 1e15)
        self.spin.setDecimals(spec.decimals)
        self.spin.setGroupSeparatorShown(True)
        self.spin.setKeyboardTracking(False)
        self.spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.spin.setMinimumWidth(120)
        self.row.addWidget(self.box)
        self.row.addWidget(self.spin, 1)
        self.row.addWidget(QLabel(spec.unit))
        self.box.toggled.connect(self._toggled)
        self.spin.valueChanged.connect(self._changed)
        self.refresh()

    def _show(self, value):
        for w in (self.box, self.spin):
            w.blockSignals(True)
        self.box.setChecked(value is not None)
        self.spin.setEnabled(value is not None)
        if value is not None:
            self.spin.setValue(float(value) * self.spec.scale)
        for w in (self.box, self.spin):
            w.blockSignals(False)

    def _toggled(self, on):
        self.spin.setEnabled(on)
        self.commit(self.spin.value() / self.spec.scale if on else None)

    def flush(self):  # noqa: D102
        if not self._disposed:
            self.spin.interpretText()

    def _changed(self, d):
        if self.box.isChecked():
            self.commit(d / self.spec.scale)


class NameListField(FieldWidget):
    """Check boxes for names (target segments / tiers) or for a Literal list (switch_off)."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.hint = QLabel("none ticked = all" if spec.ref else "")
        self.hint.setStyleSheet("color: gray;")
        self.boxes: list[QCheckBox] = []
        # at most three boxes a line: six tier names in a row widened the editor column
        self.box_grid = QGridLayout()
        self.box_grid.setContentsMargins(0, 0, 0, 0)
        col = QVBoxLayout()
        col.addLayout(self.box_grid)
        col.addWidget(self.hint)
        self.row.addLayout(col)
        self.row.addStretch(1)
        self.refresh()

    def _options(self) -> list[str]:
        return list(self.spec.choices) if self.spec.kind == "choice_list" else \
            ref_names(self.doc, self.spec.ref)

    def _show(self, value):
        opts = self._options()
        for v in value:
            if v not in opts:
                opts.append(v)
        if [b.property("name") for b in self.boxes] != opts:
            for b in self.boxes:
                b.setParent(None)
                b.deleteLater()
            self.boxes = []
            for i, o in enumerate(opts):
                b = QCheckBox(str(o).replace("_", " "))
                b.setProperty("name", o)
                b.toggled.connect(self._toggled)
                self.box_grid.addWidget(b, i // 3, i % 3)
                self.boxes.append(b)
        for b in self.boxes:
            b.blockSignals(True)
            b.setChecked(b.property("name") in value)
            b.blockSignals(False)

    def _toggled(self, _on):
        self.commit([b.property("name") for b in self.boxes if b.isChecked()])

    def _on_structure(self, path):
        if self.spec.ref and path and path[-1] == self.spec.ref:
            self.refresh()


class NameDictField(FieldWidget):
    """Per-segment numbers (acquisition mix, a benefit's value per segment); unticked = default."""

    def __init__(self, doc, path, spec, parent=None):
        super().__init__(doc, path, spec, parent)
        self.grid = QVBoxLayout()
        self.row.addLayout(self.grid, 1)
        self.rows: dict[str, tuple[QCheckBox, QDoubleSpinBox]] = {}
        self.refresh()

    def _show(self, value: dict):
        names = ref_names(self.doc, self.spec.ref)
        for k in value:
            if k not in names:
                names.append(k)
        if list(self.rows) != names:
            while self.grid.count():
                item = self.grid.takeAt(0)
                if item.layout():
                    while item.layout().count():
                        w = item.layout().takeAt(0).widget()
                        if w:
                            w.deleteLater()
            self.rows = {}
            for n in names:
                line = QHBoxLayout()
                box = QCheckBox(n)
                spin = QDoubleSpinBox()
                spin.setRange(-1e9, 1e9)
                spin.setDecimals(self.spec.decimals)
                spin.setKeyboardTracking(False)
                spin.setSuffix(" " + self.spec.unit)
                line.addWidget(box, 1)
                line.addWidget(spin)
                self.grid.addLayout(line)
                box.toggled.connect(self._edited)
                spin.valueChanged.connect(self._edited)
                self.rows[n] = (box, spin)
        for n, (box, spin) in self.rows.items():
            box.blockSignals(True)
            spin.blockSignals(True)
            box.setChecked(n in value)
            spin.setEnabled(n in value)
            default = 1.0 if self.spec.unit == "×" else 0.0
            spin.setValue(float(value.get(n, default)) * self.spec.scale)
            box.blockSignals(False)
            spin.blockSignals(False)
        if not value:
            self.setToolTip(tip((self.spec.description or "") + "\n(nothing ticked: default)"))

    def flush(self):  # noqa: D102
        if not self._disposed:
            for _box, spin in self.rows.values():
                spin.interpretText()

    def _edited(self, *_):
        new = {n: spin.value() / self.spec.scale
               for n, (box, spin) in self.rows.items() if box.isChecked()}
        for n, (box, spin) in self.rows.items():
            spin.setEnabled(box.isChecked())
        self.commit(new)

    def _on_structure(self, path):
        if path and path[-1] == "segments":
            self.refresh()


_KINDS = {
    "number": NumberField,
    "bigint": BigIntField,
    "bool": BoolField,
    "choice": ChoiceField,
    "ref": ChoiceField,
    "text": TextField,
    "optional_text": TextField,
    "longtext": LongTextField,
    "optional_number": OptionalNumberField,
    "name_list": NameListField,
    "choice_list": NameListField,
    "name_dict": NameDictField,
}


def make_field(doc: ScenarioDocument, path: Path, spec: FieldSpec) -> FieldWidget:
    """The widget for a leaf field of the given spec."""
    cls = _KINDS[spec.kind]
    w = cls(doc, path, spec)
    return w


def bold(text: str) -> QLabel:
    """A bold label."""
    lab = QLabel(text)
    f = QFont(lab.font())
    f.setBold(True)
    lab.setFont(f)
    return lab

