"""Opening and closing the main window in pytest-qt tests (one place for the set-up)."""


def open_window(qtbot, sc, path, prompter, preview, size=(1400, 900), **kw):
    """A shown main window on ``sc`` once its first preview is on screen."""
    from ui.main_window import MainWindow

    win = MainWindow(sc, path, prompter=prompter, preview=preview, **kw)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    with qtbot.waitSignal(win.results.preview_shown, timeout=90_000):
        pass
    return win


def close_window(win) -> None:
    """Close a window from :func:`open_window` without a save prompt."""
    win.doc.undo_stack.setClean()
    win.shutdown()


def contrast_ratio(fg, bg) -> float:
    """WCAG contrast ratio of two QColors (1 to 21; body text wants at least 4.5)."""

    def luminance(c) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + \
            0.0722 * channel(c.blueF())

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def app_palette(which: str):
    """The app's own light or dark palette (main.apply_palette's colours) as a QPalette."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from main import apply_palette

    app = QApplication.instance()
    before_style, before = app.style().name(), QPalette(app.palette())
    apply_palette(app, which)
    pal = QPalette(app.palette())
    app.setPalette(before)
    app.setStyle(before_style)
    return pal
