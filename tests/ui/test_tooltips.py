"""Tooltips are plain text that fits the screen (no markdown, no code names, wrapped)."""

import re
import typing

import pytest
from pydantic import BaseModel
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QToolTip, QWidget

from simulator.labels import TIP_WIDTH, tip, unwrap
from simulator.scenario import Benefit, Scenario
from ui.fieldspec import spec_for

pytestmark = pytest.mark.gui

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _models(root=Scenario, seen=None):
    seen = set() if seen is None else seen
    if root in seen:
        return seen
    seen.add(root)
    for info in root.model_fields.values():
        stack = [unwrap(info.annotation)[0]]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _models(tp, seen)
            stack.extend(unwrap(a)[0] for a in typing.get_args(tp))
    return seen


def _plain_and_short(text: str) -> None:
    assert "`" not in text and "**" not in text, text
    assert not SNAKE.search(text), text
    assert all(len(line) <= TIP_WIDTH for line in text.splitlines()), text


def test_every_fields_tooltip_is_plain_wrapped_text():
    models = _models()
    assert Benefit in models and len(models) > 10
    n = 0
    for model in models:
        for name in model.model_fields:
            desc = spec_for(model, name).description
            if desc:
                _plain_and_short(tip(desc))
                n += 1
    assert n > 50
    effect = tip(Benefit.model_fields["effect_at_share"].description)
    assert "square root" in effect and "\n" in effect  # wrapped, not one 150-char line


def test_tooltips_on_screen_fit_a_1366_screen(window):
    win = window
    for i in range(win.editor.tabs.count()):  # build every editor section's forms
        win.editor.tabs.setCurrentIndex(i)
    tiers = win.editor.list_editor(("tiers",))
    tiers.select(len(win.doc.scenario.tiers) - 1)  # the deepest form: tier > benefit
    fm = QFontMetrics(QToolTip.font())
    seen = 0
    for w in win.findChildren(QWidget):
        text = w.toolTip()
        if not text:
            continue
        seen += 1
        assert "`" not in text and "**" not in text, text
        widest = max(fm.horizontalAdvance(line) for line in text.splitlines())
        assert widest <= 0.6 * 1366, (w, text)
    assert seen > 100
    effect = [w for w in win.findChildren(QWidget)
              if w.objectName().endswith(".effect_at_share")]
    assert effect and "\n" in effect[0].toolTip()
