"""Choice field widgets: a check box, a combo box, ticked names, per-name numbers.

Part of the editor's fields (:mod:`ui.fields` re-exports these names).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
)

from simulator.labels import plain, tip
from ui.field_base import FieldWidget, ref_names


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

    def _show(self, value: dict | None):
        value = value or {}  # an optional table not given (e.g. no seasonal order rate)
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
