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
