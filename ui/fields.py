"""One editor widget per scenario field, bound to a document path.

Each widget reads its value from the :class:`~ui.document.ScenarioDocument`,
writes edits back through ``doc.set_value`` (validated, undoable) and shows the
validator's message beside itself when a value is refused or when a
cross-field rule names its path. It holds no value of its own: after undo/redo
it re-reads the document.

The widgets live in sibling modules by kind and are re-exported here: the base
(:mod:`ui.field_base`), numbers (:mod:`ui.number_fields`), text
(:mod:`ui.text_fields`) and choices (:mod:`ui.choice_fields`).
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

from ui.choice_fields import BoolField, ChoiceField, NameDictField, NameListField
from ui.document import ScenarioDocument
from ui.field_base import SLIDER_STEPS, FieldWidget, ref_names
from ui.fieldspec import FieldSpec, Path
from ui.number_fields import BigIntField, NumberField, OptionalNumberField
from ui.text_fields import LongTextField, TextField

__all__ = [
    "SLIDER_STEPS", "BigIntField", "BoolField", "ChoiceField", "FieldWidget", "LongTextField",
    "NameDictField", "NameListField", "NumberField", "OptionalNumberField", "TextField", "bold",
    "make_field", "ref_names",
]


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
