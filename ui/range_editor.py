"""The range editor: make a number uncertain, change its range, or make it a number again.

A field of the form may hold a range of its own (triangular, uniform, normal or
lognormal, :mod:`simulator.uncertainty`) or refer to a shared assumption (one range
for several fields). :class:`RangeDialog` edits either; every change is one
undoable :class:`RangeCommand` on the document's stack (the ranges and the values of
the fields they set change together). Typing a number into a field with a range
moves the range (:func:`simulator.uncertainty.with_nominal`): the range never
becomes invalid by an edit of its number. The edits themselves (what a field has, the
line under it, the undoable command) are :mod:`ui.range_edits`.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from simulator import uncertainty
from simulator.labels import display_unit, wrap
from simulator.metrics import counted
from simulator.scenario import Scenario
from ui.document import ScenarioDocument, field_words
from ui.fieldspec import Path
from ui.range_edits import apply_table, compact, link, share_as, state_of

_ERROR_STYLE = "color: #b00020;"
KINDS = [("fixed", "Fixed number"), ("triangular", "Triangular: low – most likely – high"),
         ("uniform", "Uniform: low – high"), ("normal", "Normal: mean, sd (bounds optional)"),
         ("lognormal", "Lognormal: mean, sd (bounds optional)")]
KEYS = [("low", "Low"), ("mode", "Most likely"), ("high", "High"), ("mean", "Mean"),
        ("sd", "Standard deviation")]
_USES = {"fixed": (), "triangular": ("low", "mode", "high"), "uniform": ("low", "high"),
         "normal": ("mean", "sd", "low", "high"), "lognormal": ("mean", "sd", "low", "high")}
_OPTIONAL = ("low", "high")  # for normal and lognormal

# ------------------------------------------------------------------ the dialog
def _key_of_message(msg: str) -> str | None:
    m = re.search(r"\b(low|mode|high|mean|sd)\b", msg)
    return m.group(1) if m else None


class RangeDialog(QDialog):
    """Edit the range of one field (or the shared assumption it refers to)."""

    def __init__(self, doc: ScenarioDocument, path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.path = doc, tuple(path)
        sc = doc.scenario
        self.setObjectName("range_dialog")
        self.setWindowTitle(f"Range of {field_words(sc, self.path)}")
        self.unit, self.scale, self.is_int = display_unit(Scenario, self.path)
        self.state, x = state_of(doc, self.path)
        self.ref: uncertainty.Ref | None = None
        current: dict = {}
        if self.state == "range":
            current = x.to_table()
        elif self.state == "shared":
            self.ref, dist = x
            current = dist.to_table() if dist is not None else {}
        value = float(doc.get(self.path))
        lay = QVBoxLayout(self)
        self.info = QLabel(self._info_text())
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.only_here = QCheckBox("Only this field: stop sharing (a range of its own)")
        self.only_here.setVisible(self.ref is not None)
        self.only_here.toggled.connect(self._validate)
        lay.addWidget(self.only_here)
        self._make_sharing(lay)
        self.kind = QComboBox()
        for k, text in KINDS:
            self.kind.addItem(text, k)
        lay.addWidget(self.kind)
        grid = QGridLayout()
        lay.addLayout(grid)
        self.rows: dict[str, tuple[QLabel, QCheckBox, QDoubleSpinBox, QLabel]] = {}
        self.units: dict[str, QLabel] = {}
        self.value_label = QLabel("Value")
        self.value_spin = self._spin()
        self.value_unit = QLabel(self.unit)
        grid.addWidget(self.value_label, 0, 0)
        grid.addWidget(self.value_spin, 0, 2)
        grid.addWidget(self.value_unit, 0, 3)
        for r, (k, text) in enumerate(KEYS, start=1):
            lab, use, spin, err = QLabel(text), QCheckBox("bound"), self._spin(), QLabel()
            use.setToolTip("Truncate the distribution at this value")
            err.setStyleSheet(_ERROR_STYLE)
            err.setWordWrap(True)
            grid.addWidget(lab, 2 * r - 1, 0)
            grid.addWidget(use, 2 * r - 1, 1)
            grid.addWidget(spin, 2 * r - 1, 2)
            self.units[k] = QLabel(self.unit)
            grid.addWidget(self.units[k], 2 * r - 1, 3)
            grid.addWidget(err, 2 * r, 0, 1, 4)
            use.toggled.connect(self._changed)
            spin.valueChanged.connect(self._changed)
            self.rows[k] = (lab, use, spin, err)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        lay.addWidget(self.rule)
        self.error = QLabel()
        self.error.setStyleSheet(_ERROR_STYLE)
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                       | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._fill(current, value)
        self.setMinimumWidth(460)

    # -- widgets ------------------------------------------------------------
    def _make_sharing(self, lay: QVBoxLayout) -> None:
        """For a field that shares nothing: keep the range here, share it, or link it.

        "As a new shared assumption" names the range so that other fields can take it;
        "Share “x”" makes the field take an existing assumption (times a scale) instead
        of a range of its own (issue 14: both needed the TOML before).
        """
        sc = self.doc.scenario
        self.share = QComboBox()
        self.share.setObjectName("range_sharing")
        self.share.addItem("This field only: a range of its own", "own")
        self.share.addItem("As a new shared assumption, named…", "new")
        refs = uncertainty.references_of(sc)
        for name, dist in sorted(uncertainty.assumptions_of(sc).items()):
            paths = [p for k, r in refs.items() if r.name == name
                     and (p := uncertainty.resolve(sc, k)) is not None]
            # in the units of a field that takes it (this field's may differ: % vs %/year)
            unit = display_unit(Scenario, tuple(paths[0])) if paths else ("", 1.0, False)
            self.share.addItem(f"Take shared assumption “{name}” "
                               f"({counted(len(paths), 'field')}: {compact(dist, *unit)})",
                               f"link:{name}")
        self.share_name = QLineEdit()
        self.share_name.setPlaceholderText("name, e.g. free_shipping_order_rate")
        self.share_name.setToolTip(wrap("The assumption's name in the file and in the risk "
                                        f"view: {uncertainty.ASSUMPTION_NAME}"))
        self.share_scale = self._spin()
        self.share_scale.setDecimals(4)
        self.share_scale.setGroupSeparatorShown(False)
        self.share_scale.setValue(1.0)
        self.share_scale.setPrefix("× ")
        self.share_scale.setSuffix(" its value")
        self.share_scale.setToolTip(wrap("This field takes the assumption's value times this "
                                         "factor (1: the same value)"))
        self.share.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.share.setMinimumContentsLength(30)
        self.share_name_label = QLabel("Name")
        self.share_scale_label = QLabel("This field takes")
        box = QVBoxLayout()
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.share)
        row = QHBoxLayout()
        for w in (self.share_name_label, self.share_name, self.share_scale_label,
                  self.share_scale):
            row.addWidget(w)
        row.addStretch(1)
        box.addLayout(row)
        self.share_row = QWidget()
        self.share_row.setLayout(box)
        self.share_row.setVisible(self.ref is None)
        lay.addWidget(self.share_row)
        self.share.currentIndexChanged.connect(self._kind_changed)
        self.share_name.textChanged.connect(self._validate)
        self.share_scale.valueChanged.connect(self._validate)

    def sharing(self) -> str:
        """'own', 'new' or 'link:<assumption>' (a field already sharing: 'own')."""
        return str(self.share.currentData()) if self.ref is None else "own"

    def set_sharing(self, key: str) -> None:
        """Choose how the field holds its range, as a user would."""
        self.share.setCurrentIndex(self.share.findData(key))

    def _spin(self) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(-1e15, 1e15)
        s.setDecimals(0 if self.is_int else 4)
        s.setKeyboardTracking(False)
        s.setAlignment(Qt.AlignmentFlag.AlignRight)
        s.setGroupSeparatorShown(True)
        return s

    def _info_text(self) -> str:
        if self.ref is None:
            return ("A range says how sure the number is: a run that samples the assumptions "
                    "draws it from the range; the number in the form is its nominal value.")
        n = sum(1 for r in uncertainty.references_of(self.doc.scenario).values()
                if r.name == self.ref.name)
        times = f" This field takes {self.ref.scale:g} × its value." if self.ref.scale != 1 \
            else ""
        return (f"Shared assumption “{self.ref.name}”: {n} fields refer to it and take one "
                f"draw of it. A change here changes all of them.{times}")

    def _fill(self, table: dict, value: float) -> None:
        kind = "fixed"
        if table:
            kind = table.get("dist") or ("triangular" if "mode" in table else
                                         "normal" if "mean" in table else "uniform")
        self._block(True)
        self.value_spin.setValue(value * self.scale)
        v = value
        defaults = {"low": v - abs(v) * 0.5, "mode": v, "high": v + abs(v) * 0.5, "mean": v,
                    "sd": abs(v) * 0.25 or 1.0}
        for k, (_lab, use, spin, _err) in self.rows.items():
            spin.setValue(float(table.get(k, defaults[k])) * self.scale)
            use.setChecked(k in table)
        self.kind.setCurrentIndex([k for k, _ in KINDS].index(kind))
        self._block(False)
        self._kind_changed()

    def _block(self, on: bool) -> None:
        for _lab, use, spin, _err in self.rows.values():
            use.blockSignals(on)
            spin.blockSignals(on)
        self.kind.blockSignals(on)

    def _kind_changed(self, *_: Any) -> None:
        sharing = self.sharing()
        linking = sharing.startswith("link:")
        for w in (self.share_name_label, self.share_name):
            w.setVisible(sharing == "new")
        for w in (self.share_scale_label, self.share_scale):
            w.setVisible(linking)
        self.kind.setVisible(not linking)
        kind = self.current_kind()
        fixed = kind == "fixed"
        for w in (self.value_label, self.value_spin, self.value_unit):
            w.setVisible(fixed)
        for k, (lab, use, spin, err) in self.rows.items():
            shown = k in _USES[kind]
            optional = kind in ("normal", "lognormal") and k in _OPTIONAL
            for w in (lab, spin, self.units[k]):
                w.setVisible(shown)
            use.setVisible(shown and optional)
            spin.setEnabled(shown and (not optional or use.isChecked()))
            if not shown:
                err.hide()
        self.rule.setText("" if fixed else "In the form, "
                          f"{uncertainty.NOMINAL_RULE[kind]}."
                          + (" Every field sharing the assumption moves with it."
                             if self.ref is not None and not self.only_here.isChecked()
                             else ""))
        if fixed:
            self.rule.setText("The field becomes a plain number" + (
                " and stops sharing the assumption." if self.ref is not None else "."))
        if linking:  # the assumption's range applies: nothing of this field's to edit
            for w in (self.value_label, self.value_spin, self.value_unit, *self.units.values()):
                w.setVisible(False)
            for lab, use, spin, err in self.rows.values():
                for w in (lab, use, spin, err):
                    w.setVisible(False)
            self.rule.setText(f"The field takes one draw of “{sharing[5:]}” (times the "
                              "factor) in a sampled run, and moves with it when any field "
                              "sharing it is typed into.")
        self._validate()

    def _changed(self, *_: Any) -> None:
        self._kind_changed()

    # -- values -------------------------------------------------------------
    def current_kind(self) -> str:
        """The chosen kind: fixed, triangular, uniform, normal or lognormal."""
        return str(self.kind.currentData())

    def table(self) -> dict | None:
        """The range as the file writes it (model units); None for a fixed number."""
        kind = self.current_kind()
        if kind == "fixed":
            return None
        out: dict[str, Any] = {"dist": kind} if kind == "lognormal" else {}
        for k in _USES[kind]:
            _lab, use, spin, _err = self.rows[k]
            if kind in ("normal", "lognormal") and k in _OPTIONAL and not use.isChecked():
                continue
            v = spin.value() / self.scale
            out[k] = int(round(v)) if self.is_int and k != "sd" else round(v, 12)
        return out

    def set_number(self, key: str, display_value: float) -> None:
        """Type a number (display units) into one of the boxes, as a user would."""
        spin = self.value_spin if key == "value" else self.rows[key][2]
        spin.setValue(display_value)

    def set_kind(self, kind: str) -> None:
        """Choose a kind, as a user would."""
        self.kind.setCurrentIndex([k for k, _ in KINDS].index(kind))

    def messages(self) -> dict[str, str]:
        """{key or '': message} shown now ('' for messages about the range as a whole)."""
        out = {k: err.text() for k, (_l, _u, _s, err) in self.rows.items()
               if err.isVisibleTo(self) and err.text()}
        if self.error.text():
            out[""] = self.error.text()
        return out

    def _problems(self) -> list[str]:
        sharing = self.sharing()
        if sharing.startswith("link:"):
            try:
                uncertainty.link_to_assumption(self.doc.scenario, self.path, sharing[5:],
                                               self.share_scale.value())
            except uncertainty.EditRefused as exc:
                return exc.messages
            return []
        if sharing == "new":
            why = uncertainty.name_problem(self.doc.scenario, self.share_name.text().strip())
            if self.table() is None:
                return ["a shared assumption is a range: choose its kind"] + ([why] if why
                                                                              else [])
            if why:
                return [why]
        table = self.table()
        if table is None:
            why = uncertainty.value_problem(self.path, self.value_spin.value() / self.scale)
            return [why] if why else []
        if self.ref is not None and not self.only_here.isChecked():
            _, found = uncertainty.check_assumption(self.doc.scenario, self.ref.name, table)
            return [m if w.startswith("Assumptions") else f"{w} — {m}" for w, m in found]
        _, msgs = uncertainty.check_range(self.path, table)
        return msgs

    def _validate(self, *_: Any) -> None:
        msgs = self._problems()
        per: dict[str, list[str]] = {}
        rest = []
        for m in msgs:
            m = re.sub(r"^range( \([a-z]+\))?: ", "", m)  # the dialog is about the range
            k = _key_of_message(m)
            if k in self.rows and k in _USES[self.current_kind()]:
                per.setdefault(k, []).append(m)
            else:
                rest.append(m)
        for k, (_l, _u, spin, err) in self.rows.items():
            text = "\n".join(per.get(k, []))
            err.setText(text)
            err.setVisible(bool(text))
            spin.setStyleSheet("background: #fde7ea;" if text else "")
        self.error.setText("\n".join(rest))
        self.error.setVisible(bool(rest))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not msgs)
        if self.isVisible():
            self.adjustSize()  # messages come and go: the dialog fits them, never clipped

    def accept(self) -> None:  # noqa: D102
        if self._problems():
            return
        table = self.table()
        shared = self.ref.name if self.ref is not None and not self.only_here.isChecked() \
            else None
        value: Any = None
        if table is None:
            v = self.value_spin.value() / self.scale
            value = int(round(v)) if self.is_int else round(v, 12)
        sharing = self.sharing()
        try:
            if sharing.startswith("link:"):
                link(self.doc, self.path, sharing[5:], self.share_scale.value())
            elif sharing == "new" and table is not None:
                share_as(self.doc, self.path, self.share_name.text().strip(), table)
            else:
                apply_table(self.doc, self.path, table, shared=shared, value=value)
        except uncertainty.EditRefused as exc:  # the form changed meanwhile
            self.error.setText("\n".join(exc.messages))
            self.error.show()
            return
        super().accept()
