"""The main window's layout: size on the screen, remembered geometry, scrolling tabs, shortcuts.

:class:`WindowLayout` is a mixin of :class:`ui.main_window.MainWindow` (it uses the
window's ``settings``, ``design`` splitter, ``tabs`` and ``editor``); ``scrolled`` wraps a
view so that a 1366 × 768 screen scrolls it rather than pushing the window off the screen;
:class:`WindowShortcuts` lets the window's shortcuts win over a focused text field.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QScrollArea, QWidget

APP_NAME = "benefit-sim"


def app_settings() -> QSettings:
    """Where the window layout is remembered (tests redirect it with QSettings.setPath)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_NAME, APP_NAME)


class WindowLayout:
    """Fit to the screen, remember and restore geometry, docks, splitter and tab."""

    def _fit_to_screen(self, width: int, height: int) -> None:
        """Open at ``width`` × ``height``, or smaller, centred on the available screen.

        Smaller so that the window lies inside the screen (1366 × 768 laptops).
        """
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(width, height)
            return
        avail = screen.availableGeometry()
        frame_w, frame_h = 16, 40  # window-manager borders and title bar (not yet known)
        w = min(width, avail.width() - frame_w)
        h = min(height, avail.height() - frame_h)
        self.resize(max(w, 640), max(h, 480))
        self.move(avail.x() + max((avail.width() - w - frame_w) // 2, 0),
                  avail.y() + max((avail.height() - h - frame_h) // 2, 0))

    def save_layout(self) -> None:
        """Remember geometry, docks and splitters."""
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/design_splitter", self.design.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        s.sync()

    def restore_layout(self) -> None:
        """Restore what save_layout remembered (ignores missing or bad values)."""
        s = self.settings
        for key, fn in (("window/geometry", self.restoreGeometry),
                        ("window/state", self.restoreState),
                        ("window/design_splitter", self.design.restoreState)):
            v = s.value(key)
            if isinstance(v, (QByteArray, bytes)):
                fn(v)
        try:
            self.tabs.setCurrentIndex(int(s.value("window/tab", 0)))
        except (TypeError, ValueError):
            pass

    def showEvent(self, event) -> None:  # noqa: N802
        """First show without a remembered layout: give the editor about a third of the width."""
        super().showEvent(event)
        if not getattr(self, "_shown", False):
            self._shown = True
            if self.settings.value("window/design_splitter") is None:
                # after the first layout pass: at show time the splitter's width is not final
                QTimer.singleShot(0, self._initial_split)

    def _initial_split(self) -> None:
        w = max(self.design.width(), 800)
        # About a third, but wide enough for the deepest form (tier > benefit > effect)
        # without a horizontal scroll bar when the window allows it.
        forms = [sa.widget().minimumSizeHint().width()
                 for sa in self.editor.findChildren(QScrollArea) if sa.widget() is not None]
        left = max(int(w * 0.36), min(max(forms, default=0) + 40, int(w * 0.42)))
        self.design.setSizes([left, w - left])


def scrolled(widget: QWidget, fill: bool = False) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it (scrolls only when too small).

    ``fill``: the widget takes exactly the visible height when it fits (its own charts
    scroll inside it), rather than the height its wrapped labels would prefer.
    """
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(_Fill(widget) if fill else widget)
    return scroll


class _Fill(QWidget):
    """A holder filled by one widget, without height-for-width.

    A scroll area would otherwise stretch the widget to the (tall) height its
    word-wrapped labels would like.
    """

    def __init__(self, child: QWidget):
        super().__init__()
        child.setParent(self)
        self.child = child

    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        """The held widget's minimum."""
        return self.child.minimumSizeHint()

    def sizeHint(self):  # noqa: N802 - Qt's name
        """The held widget's preferred size."""
        return self.child.sizeHint()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt's name
        """The held widget fills this one."""
        self.child.setGeometry(self.rect())
        super().resizeEvent(ev)


class WindowShortcuts(QObject):
    """Lets the window's Undo/Redo/Save/Export shortcuts win over a focused text field.

    A spin box or line edit claims Ctrl+Z for its own text undo (a ShortcutOverride), so
    the document's undo never ran while a field had focus. Declining the override for
    those key sequences hands them to the window's actions (which first commit what was
    typed, then act).
    """

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window

    def _keys(self) -> set[str]:
        w = self.window
        return {s.toString() for a in (w.act_undo, w.act_redo, w.act_save, w.act_save_as,
                                       w.act_excel, w.act_run)
                for s in a.shortcuts() if a.isEnabled()}

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        """Decline a text field's override of the window's shortcuts."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(obj, QWidget) and \
                self.window.isAncestorOf(obj):
            seq = QKeySequence(event.keyCombination()).toString()
            if seq in self._keys():
                event.ignore()
                return True
        return False
