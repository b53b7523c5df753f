"""The scenario editor, generated from the pydantic schema.

Every field of :class:`~simulator.scenario.Scenario` gets a widget chosen by
:mod:`ui.fieldspec` (slider + spin box with unit for numbers, combo boxes for
choices, tables with add/duplicate/remove/reorder for lists), grouped into one
tab per lever group of the model. The editor reads and writes only through the
:class:`~ui.document.ScenarioDocument`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
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
    Scenario,
    Segment,
    Shift,
    Tier,
)
from simulator.scenario_io import Issue
from ui.document import ScenarioDocument
from ui.fields import FieldWidget, make_field
from ui.fieldspec import FieldSpec, Path, path_str, spec_for

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


def parse_path(text: str) -> Path:
    """``"tiers[2].threshold_cny"`` -> ``("tiers", 2, "threshold_cny")`` ([*] -> 0)."""
    out: list = []
    for name, idx in re.findall(r"([^.\[\]]+)|\[(\d+|\*)\]", text):
        if name:
            out.append(name)
        else:
            out.append(0 if idx == "*" else int(idx))
    return tuple(out)


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
            if spec.kind == "model":
                box = QGroupBox(spec.label)
                inner = QVBoxLayout(box)
                inner.setContentsMargins(4, 8, 4, 4)
                sub = ModelForm(doc, fpath, spec.model)
                inner.addWidget(sub)
                form.addRow(box)
                self.fields[name] = sub
            elif spec.kind == "model_list":
                box = QGroupBox(spec.label)
                inner = QVBoxLayout(box)
                inner.setContentsMargins(4, 8, 4, 4)
                sub = ListEditor(doc, fpath, spec.model)
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


# Tabs: title -> (what it shows)
TABS = [
    ("General", "general"),
    ("Segments", "segments"),
    ("Tiers && benefits", "tiers"),
    ("Service", "service"),
    ("Promotions", "promotions"),
    ("Acquisition", "population"),
    ("Budget", "budget"),
    ("Run settings", "run"),
]


class SectionList(QListWidget):
    """The editor's sections as a strip of titles that wraps onto a second row.

    It wraps when the column is narrow: every title stays whole and the forms keep the
    column's full width (eight tabs overflowed into scroll arrows, 'Run setti ◂▸', even
    at 1920).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setSpacing(2)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(self.sizePolicy().horizontalPolicy(),
                           self.sizePolicy().Policy.Fixed)

    def _fit_height(self) -> None:
        if self.count() == 0:
            return
        self.doItemsLayout()
        bottom = max(self.visualItemRect(self.item(i)).bottom() for i in range(self.count()))
        h = bottom + 2 * self.frameWidth() + 6 + self.verticalOffset()
        if h != self.height():
            self.setFixedHeight(h)

    def resizeEvent(self, ev):  # noqa: N802 - Qt's name
        """Re-wrap and take exactly the rows the titles need."""
        super().resizeEvent(ev)
        self._fit_height()

    def showEvent(self, ev):  # noqa: N802 - Qt's name
        """Fit the strip's height once shown (its width is known then)."""
        super().showEvent(ev)
        self._fit_height()

    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        """As narrow as the widest title (the rest wraps)."""
        hint = super().minimumSizeHint()
        hint.setWidth(self.sizeHintForColumn(0) + 8)
        return hint


class Editor(QWidget):
    """All lever groups of a scenario in tabs, plus the list of problems."""

    def __init__(self, doc: ScenarioDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Vertical)
        # Sections as a list on the left (as in a settings window): eight tab titles do not
        # fit the editor column ("Run setti ◂▸" even at 1920). The tab widget stays as the
        # page container (its tab bar hidden); the list and it select each other.
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().hide()
        self.nav = SectionList()
        self.nav.setObjectName("editor_sections")
        self.pages: dict[str, QWidget] = {}
        self.lists: dict[Path, ListEditor] = {}
        for title, key in TABS:
            page = self._page(key)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            self.tabs.addTab(scroll, title)
            self.nav.addItem(title.replace("&&", "&"))
            self.pages[key] = page
        self.nav.setCurrentRow(0)
        self.nav.currentRowChanged.connect(
            lambda r: self.tabs.setCurrentIndex(r) if r >= 0 else None)
        self.tabs.currentChanged.connect(self.nav.setCurrentRow)
        top = QWidget()
        row = QVBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.nav)
        row.addWidget(self.tabs, 1)
        split.addWidget(top)
        self.issues = IssuesPanel(doc)
        self.issues.go_to.connect(self.reveal)
        split.addWidget(self.issues)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        lay.addWidget(split)

    def _page(self, key: str) -> QWidget:
        doc = self.doc
        if key == "general":
            w = QWidget()
            lay = QVBoxLayout(w)
            lay.addWidget(ModelForm(doc, (), Scenario, only=["name", "description", "currency"]))
            lay.addStretch(1)
            return w
        if key == "segments":
            return self._list_page(("segments",), Segment,
                                   "Customer segments: shares must sum to 100 %.")
        if key == "tiers":
            w = QWidget()
            lay = QVBoxLayout(w)
            box = QGroupBox("Tier rules (qualification, review, downgrade, points)")
            QVBoxLayout(box).addWidget(ModelForm(doc, ("tier_rules",),
                                                 spec_for(Scenario, "tier_rules").model))
            lay.addWidget(self._list_box("Tiers (entry tier first) and their benefits",
                                         ("tiers",), Tier))
            lay.addWidget(box)
            lay.addStretch(1)
            return w
        if key == "promotions":
            return self._list_page(("promotions",), Promotion, "Campaign calendar")
        spec = spec_for(Scenario, key)
        form = ModelForm(doc, (key,), spec.model)
        self._collect_lists(form)
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.addWidget(form)
        if key == "service":  # offered load vs staff, live from queueing theory
            from ui.capacity_panel import CapacityPanel

            self.capacity = CapacityPanel(doc)
            lay.addWidget(self.capacity)
        lay.addStretch(1)
        return w

    def _list_box(self, title: str, path: Path, cls: type[BaseModel]) -> QGroupBox:
        box = QGroupBox(title)
        ed = ListEditor(self.doc, path, cls)
        self.lists[path] = ed
        QVBoxLayout(box).addWidget(ed)
        return box

    def _list_page(self, path: Path, cls: type[BaseModel], title: str) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.addWidget(self._list_box(title, path, cls))
        lay.addStretch(1)
        return w

    def _collect_lists(self, form: ModelForm) -> None:
        for sub in form.fields.values():
            if isinstance(sub, ListEditor):
                self.lists[sub.list_path] = sub
            elif isinstance(sub, ModelForm):
                self._collect_lists(sub)

    # -- navigation -------------------------------------------------------------
    def _tab_for(self, path: Path) -> str:
        head = path[0] if path else "name"
        if head in ("name", "description", "currency"):
            return "general"
        if head == "tier_rules":
            return "tiers"
        return head

    def reveal(self, path: Path) -> QWidget | None:
        """Show the field at ``path`` (switching tab, selecting list items); returns its widget."""
        path = tuple(path)
        key = self._tab_for(path)
        keys = [k for _, k in TABS]
        if key not in keys:
            return None
        self.tabs.setCurrentIndex(keys.index(key))
        container: QWidget = self.pages[key]
        # walk down list editors: select the item, then look inside its detail form
        for i, part in enumerate(path):
            if isinstance(part, int):
                ed = self._list_editor(container, path[:i])
                if ed is None:
                    return None
                ed.select(part)
                container = ed.detail
                if container is None:
                    return None
        name = "field:" + ".".join(str(p) for p in path)
        w = container.findChild(FieldWidget, name)
        if w is not None:
            w.setFocus()
            scroll = self.tabs.currentWidget()
            if isinstance(scroll, QScrollArea):
                scroll.ensureWidgetVisible(w)
        return w

    def field(self, path: Path) -> FieldWidget:
        """The field widget at ``path`` (revealed). Raises KeyError if there is none."""
        w = self.reveal(path)
        if w is None:
            raise KeyError(path_str(tuple(path)))
        return w

    def _list_editor(self, container: QWidget, list_path: Path) -> ListEditor | None:
        name = "list:" + ".".join(str(p) for p in list_path)
        for ed in container.findChildren(ListEditor):
            if ed.objectName() == name:
                return ed
        return None

    def list_editor(self, list_path: Path) -> ListEditor:
        """The list editor of ``list_path`` (revealing its tab and parents)."""
        list_path = tuple(list_path)
        self.reveal(list_path[:-1] + ("name",) if list_path[:-1] else ("name",))
        key = self._tab_for(list_path)
        keys = [k for _, k in TABS]
        self.tabs.setCurrentIndex(keys.index(key))
        container: QWidget = self.pages[key]
        for i, part in enumerate(list_path):
            if isinstance(part, int):
                ed = self._list_editor(container, list_path[:i])
                ed.select(part)
                container = ed.detail
        ed = self._list_editor(container, list_path)
        if ed is None:
            raise KeyError(path_str(list_path))
        return ed


def issue_lines(issues: list[Issue]) -> str:
    """Issues as lines for dialogs."""
    return "\n".join(f"• {i}" for i in issues)
