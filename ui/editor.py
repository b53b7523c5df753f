"""The scenario editor, generated from the pydantic schema.

Every field of :class:`~simulator.scenario.Scenario` gets a widget chosen by
:mod:`ui.fieldspec` (slider + spin box with unit for numbers, combo boxes for
choices, tables with add/duplicate/remove/reorder for lists), grouped into one
tab per lever group of the model. The editor reads and writes only through the
:class:`~ui.document.ScenarioDocument`. This module holds the sections and the
navigation to a field; the forms and list tables are :mod:`ui.forms`, the list of
problems :mod:`ui.issues_panel`.
"""

from __future__ import annotations

from pydantic import BaseModel
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QListWidget,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from simulator.scenario import Promotion, Scenario, Segment, Tier
from ui.document import ScenarioDocument
from ui.fields import FieldWidget
from ui.fieldspec import Path, path_str, spec_for
from ui.forms import ListEditor, ModelForm
from ui.issues_panel import IssuesPanel

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
