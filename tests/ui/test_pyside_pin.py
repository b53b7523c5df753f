"""The PySide6 pin keeps out the release whose ``emit`` steals references.

PySide6 6.12.0's ``SignalInstance.emit()`` returned ``True`` without a new
reference: on CPython 3.11 every emit from Python lowered True's count until the
interpreter aborted ("Fatal Python error: bool_dealloc"). The app used to patch
True/False/None's reference counts through ctypes; the pin in pyproject.toml
(``PySide6-Essentials<6.12``) makes that unnecessary, and this test fails if a
pin change lets such a build in.
"""

import sys
import tomllib
from pathlib import Path

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()
    value = Signal(object)


def test_emit_keeps_references_to_true_false_and_none():
    p = _Probe()
    p.value.connect(lambda v: None)
    before = [sys.getrefcount(o) for o in (True, False, None)]
    for _ in range(2000):
        p.ping.emit()
        p.value.emit(None)
        p.value.emit(True)
        p.value.emit(False)
    after = [sys.getrefcount(o) for o in (True, False, None)]
    # Other threads may hold a few references for a moment; 2,000 emits of a stealing
    # build drop thousands.
    assert all(a >= b - 50 for a, b in zip(after, before)), (before, after)


def test_pin_excludes_the_stealing_release():
    root = Path(__file__).resolve().parents[2]
    gui = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["gui"]
    pin = next(d for d in gui if d.startswith("PySide6-Essentials"))
    assert "<6.12" in pin.replace(" ", ""), pin
