"""Number field widgets: slider + spin box, big whole numbers, numbers that may be unset.

Part of the editor's fields (:mod:`ui.fields` re-exports these names).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSlider,
    QToolButton,
)

from ui.field_base import _RANGE_BUTTON_STYLE, _RANGE_STYLE, SLIDER_STEPS, FieldWidget


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
        # the range (ui/range_editor.py, ui/range_edits.py); fields that cannot be ranges
        # get neither
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
        from ui.range_edits import badge_text

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
            from ui.range_edits import set_nominal

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
