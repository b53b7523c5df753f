"""Work around a reference-counting bug of PySide6 6.12.0 on CPython 3.11.

``SignalInstance.emit()`` returns ``True`` without taking a new reference, so
every ``emit`` from Python (ours, pyqtgraph's, pytest-qt's) steals one
reference to ``True``. On CPython < 3.12 ``True`` is an ordinary object: once
its count reaches zero the interpreter aborts with
"Fatal Python error: bool_dealloc" (seen at exit of the GUI tests, and it
would hit a long app session). CPython 3.12+ makes ``True``/``False`` immortal,
which is what we do here: if a probe shows that ``emit`` loses a reference, we
add a very large count to ``True``, ``False`` and ``None`` (the same build also
loses references to ``None``: "none_dealloc" at exit of a longer test run; they
are never freed anyway), so the lost references can never bring them to zero.
"""

from __future__ import annotations

import ctypes
import sys

_APPLIED = False
RESERVE = 1 << 40  # ~10^12 emits before the reserve is used up


def emit_steals_true() -> bool:
    """Probe whether ``Signal.emit`` drops a reference to True (no Qt app needed)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    p = _Probe()
    before = sys.getrefcount(True)
    for _ in range(20):
        p.ping.emit()
    return sys.getrefcount(True) < before - 10


def apply() -> bool:
    """Make True/False effectively immortal if this PySide6 needs it. Returns True if applied."""
    global _APPLIED
    if _APPLIED or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _APPLIED
    if not emit_steals_true():
        return False
    for obj in (True, False, None):
        # ob_refcnt is the first field of every CPython object (Py_ssize_t).
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE
    _APPLIED = True
    return True
