"""Forms generated from the pydantic schema: a model's fields and its lists of items.

:class:`ModelForm` lays out one model at a document path: a widget per leaf field
(chosen by :mod:`ui.fieldspec`, built by :func:`ui.fields.make_field`), a group box per
nested model and a :class:`ListEditor` per list of models. A list editor is a table of
summary columns with Add/Duplicate/Remove/Up/Down and the selected item's
:class:`ModelForm` under it (the two build each other, so they live together). Both
read and write only through the :class:`~ui.document.ScenarioDocument`.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from simulator.labels import tip
from simulator.library import unique_name
from simulator.scenario import (
    Benefit,
    LeverBound,
    Pool,
    Promotion,
    Segment,
    Shift,
    Tier,
)
from ui.document import ScenarioDocument
from ui.fields import FieldWidget, make_field
from ui.fieldspec import FieldSpec, Path, spec_for

# Summary columns of list tables, per item model.
COLUMNS: dict[type, list[str]] = {
    Segment: ["name", "share", "orders_per_month", "spend_per_order_cny", "churn_annual"],
    Tier: ["name", "threshold_cny", "benefits", "service_priority"],
    Benefit: ["name", "kind", "cost_model", "cost_cny", "cost_share", "intensity"],
    Pool: ["name", "shifts", "handle_minutes", "cost_per_agent_hour_cny"],
    Shift: ["start_hour", "end_hour", "staff"],
    Promotion: ["name", "kind", "start_month", "repeat_every_months", "channel"],
    LeverBound: ["lever", "min_cny", "max_cny", "pinned"],
}


def new_item(cls: type[BaseModel], existing: list) -> BaseModel:
    """A sensible new list item for the 'Add' button."""
    n = len(existing) + 1
    if cls is Segment:
        return Segment(name=f"Segment {n}", share=0.0, orders_per_month=0.5,
                       spend_per_order_cny=300.0, gross_margin=0.3, churn_annual=0.3)
    if cls is Tier:
        last = existing[-1].threshold_cny if existing else 0.0
        return Tier(name=f"Tier {n}", threshold_cny=last * 2 if last else 1000.0)
    if cls is Benefit:
        return Benefit(name=f"Benefit {n}", kind="other", cost_model="per_member_month")
    if cls is Pool:
        return Pool(name=f"Pool {n}", shifts=[Shift(start_hour=9, end_hour=18, staff=5)])
    if cls is Shift:
        return Shift(start_hour=9, end_hour=18, staff=5)
    if cls is Promotion:
        return Promotion(name=f"Campaign {n}", kind="percent_off", start_month=1)
    if cls is LeverBound:
        return LeverBound(lever="acquisition")
    return cls()


def unique_copy_name(name: str, taken: list[str]) -> str:
    """'Gold' -> 'Gold (copy)', 'Gold (copy 2)' ... not in ``taken``."""
    return unique_name(name, taken, tag="copy")


def format_value(spec: FieldSpec | None, value: Any) -> str:
    """Table cell text of a value, with its unit."""
    if isinstance(value, list):
        if value and isinstance(value[0], Shift):
            return f"{sum(s.staff for s in value)} staff in {len(value)} shift(s)"
        return f"{len(value)}"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and spec is not None and spec.kind == "number":
        v = value * spec.scale
        dec = 0 if spec.is_int else min(spec.decimals, 2 if abs(v) < 1000 else 0)
        unit = spec.unit
        if unit == "%":
            return f"{v:,.{dec}f} %"
        if unit.startswith("¥"):
            return f"¥{v:,.{dec}f}{unit[1:]}"
        return f"{v:,.{dec}f} {unit}".strip()
    return str(value).replace("_", " ")


# Fields a planner never types: the file's schema version, and the customer file's content
# hash, which the loader fills in from the file on every load (a typed value is overwritten).
EXCLUDED_FIELDS = ("schema_version", "customer_file_sha256")


class ModelForm(QWidget):
    """A form for one model at ``path``: leaf fields, nested groups and list editors."""

    def __init__(self, doc: ScenarioDocument, path: Path, model: type[BaseModel],
                 only: list[str] | None = None, exclude: tuple = EXCLUDED_FIELDS,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.path, self.model = doc, tuple(path), model
        self.fields: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        # A narrow column (1366-px laptop, 1.5x scaling, a deep form such as tier ▸ benefit
        # ▸ effect) puts a field under its label instead of scrolling the editor sideways.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setContentsMargins(4, 4, 4, 4)
        names = only if only is not None else [n for n in model.model_fields if n not in exclude]
        for name in names:
            spec = spec_for(model, name)
            fpath = self.path + (name,)
            if spec.kind in ("model", "model_list"):
                box = QGroupBox(spec.label)
                inner = QVBoxLayout(box)
                inner.setContentsMargins(4, 8, 4, 4)
                kind = ModelForm if spec.kind == "model" else ListEditor
                sub = kind(doc, fpath, spec.model)
                inner.addWidget(sub)
                form.addRow(box)
                self.fields[name] = sub
            else:
                w = make_field(doc, fpath, spec)
                label = QLabel(spec.label)
                label.setToolTip(tip(spec.description))
                form.addRow(label, w)
                self.fields[name] = w


def _button(text: str, tooltip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tooltip)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return b


class ListEditor(QWidget):
    """A table of items (summary columns) with Add/Duplicate/Remove/Up/Down and a detail form."""

    selection_changed = Signal(int)

    def __init__(self, doc: ScenarioDocument, list_path: Path, item_cls: type[BaseModel],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.list_path, self.item_cls = doc, tuple(list_path), item_cls
        self.setObjectName("list:" + ".".join(str(p) for p in self.list_path))
        self.columns = COLUMNS.get(item_cls, ["name"])
        self.specs = {c: (spec_for(item_cls, c) if c in item_cls.model_fields else None)
                      for c in self.columns}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(self.columns))
        self.table.setHorizontalHeaderLabels([self._header(c) for c in self.columns])
        # a narrow column: headers end in '…' (whole in the tooltip) instead of losing both ends
        self.table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for c, col in enumerate(self.columns):
            self.table.horizontalHeaderItem(c).setToolTip(self._header(col))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table)
        buttons = QHBoxLayout()
        # tool buttons as wide as their text (push buttons are at least 80 px each: five of
        # them widened a nested list, tier ▸ benefits, past a 1366-px editor column)
        self.btn_add = _button("Add", "Add an item after the selected one")
        self.btn_dup = _button("Duplicate", "Add a copy of the selected item")
        self.btn_remove = _button("Remove", "Remove the selected item")
        self.btn_up = _button("▲ Up", "Move the selected item up")
        self.btn_down = _button("▼ Down", "Move the selected item down")
        for b in (self.btn_add, self.btn_dup, self.btn_remove, self.btn_up, self.btn_down):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.message = QLabel()
        self.message.setStyleSheet("color: #b00020;")
        buttons.addWidget(self.message)
        lay.addLayout(buttons)
        self.detail_box = QFrame()
        self.detail_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.detail_lay = QVBoxLayout(self.detail_box)
        self.detail_lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.detail_box)
        self.detail: ModelForm | None = None
        self._detail_index = -1

        self.btn_add.clicked.connect(self.add)
        self.btn_dup.clicked.connect(self.duplicate)
        self.btn_remove.clicked.connect(self.remove)
        self.btn_up.clicked.connect(lambda: self.move(-1))
        self.btn_down.clicked.connect(lambda: self.move(+1))
        self.table.itemSelectionChanged.connect(self._selected)
        doc.structure_changed.connect(self._on_structure)
        doc.value_changed.connect(self._on_value)
        doc.replaced.connect(self._on_replaced)
        self._fill()
        if self.items():
            self.select(0)

    def _header(self, c: str) -> str:
        spec = self.specs[c]
        if spec is None:
            return c
        unit = f" ({spec.unit})" if spec.kind == "number" and spec.unit else ""
        return spec.label + unit

    def items(self) -> list:
        """The live list in the document."""
        try:
            return self.doc.get(self.list_path)
        except (KeyError, IndexError, AttributeError):
            return []

    def current(self) -> int:
        """Selected row (-1 if none)."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def select(self, i: int) -> None:
        """Select item ``i`` and show its form."""
        n = len(self.items())
        if n == 0:
            self._show_detail(-1)
            return
        i = max(0, min(i, n - 1))
        self.table.selectRow(i)
        if self._detail_index != i:
            self._show_detail(i)

    def _fill(self) -> None:
        items = self.items()
        self.table.blockSignals(True)
        self.table.setRowCount(len(items))
        for r, item in enumerate(items):
            self._fill_row(r, item)
        self.table.blockSignals(False)
        rows = max(len(items), 1)
        h = self.table.horizontalHeader().height() + rows * self.table.verticalHeader()\
            .defaultSectionSize() + 6
        self.table.setFixedHeight(min(h, 220))

    def _fill_row(self, r: int, item: Any) -> None:
        for c, col in enumerate(self.columns):
            text = format_value(self.specs[col], getattr(item, col))
            cell = QTableWidgetItem(text)
            if isinstance(getattr(item, col), (int, float)) and not isinstance(
                    getattr(item, col), bool):
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, c, cell)

    def _show_detail(self, i: int) -> None:
        if self.detail is not None:
            for f in self.detail.findChildren(FieldWidget):
                f.dispose()
            self.detail.setParent(None)
            self.detail.deleteLater()
            self.detail = None
        self._detail_index = i
        if i >= 0:
            self.detail = ModelForm(self.doc, self.list_path + (i,), self.item_cls)
            self.detail_lay.addWidget(self.detail)
        self.detail_box.setVisible(i >= 0)
        self.selection_changed.emit(i)

    def _selected(self) -> None:
        i = self.current()
        if i >= 0 and i != self._detail_index:
            self._show_detail(i)

    # -- actions ---------------------------------------------------------------
    def _want(self, i: int) -> None:
        self._pending_select = i

    _pending_select: int | None = None

    def add(self) -> None:
        """Add a new item after the selected one (or at the end)."""
        items = self.items()
        at = self.current() + 1 if self.current() >= 0 else len(items)
        self._want(at)
        self.doc.insert_item(self.list_path, at, new_item(self.item_cls, items))

    def duplicate(self) -> None:
        """Copy the selected item (name gets '(copy)')."""
        i = self.current()
        if i < 0:
            return
        items = self.items()
        item = copy.deepcopy(items[i])
        if "name" in self.item_cls.model_fields:
            item = item.model_copy(update={"name": unique_copy_name(
                item.name, [x.name for x in items])})
        self._want(i + 1)
        self.doc.insert_item(self.list_path, i + 1, item)

    def remove(self) -> None:
        """Remove the selected item (refused if the list must keep one)."""
        i = self.current()
        if i < 0:
            return
        self._want(max(0, i - 1) if i >= len(self.items()) - 1 else i)
        refused = self.doc.remove_item(self.list_path, i)
        self.message.setText("; ".join(str(x) for x in refused))

    def move(self, step: int) -> None:
        """Move the selected item up (-1) or down (+1)."""
        i = self.current()
        j = i + step
        if i < 0 or not 0 <= j < len(self.items()):
            return
        self._want(j)
        self.doc.move_item(self.list_path, i, j)

    # -- document events ---------------------------------------------------------
    def _on_structure(self, path: Path) -> None:
        if tuple(path) != self.list_path:
            return
        self.message.setText("")
        want = self._pending_select
        self._pending_select = None
        self._fill()
        target = want if want is not None else max(self._detail_index, 0)
        self._detail_index = -2  # force a new form: indices moved
        self.select(target)

    def _on_value(self, path: Path) -> None:
        n = len(self.list_path)
        if tuple(path[:n]) == self.list_path and len(path) > n + 1 and \
                path[n + 1] in self.columns:
            i = path[n]
            items = self.items()
            if 0 <= i < len(items):
                self._fill_row(i, items[i])
        elif tuple(path[:n]) == self.list_path and len(path) > n + 1 and \
                path[n + 1] in ("shifts", "benefits"):
            items = self.items()
            if 0 <= path[n] < len(items):
                self._fill_row(path[n], items[path[n]])

    def _on_replaced(self) -> None:
        self._fill()
        self._detail_index = -2
        self.select(0)

    def child_structure(self, path: Path) -> None:
        """Update the summary row when a nested list (benefits, shifts) changed."""
