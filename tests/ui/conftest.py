"""pytest-qt fixtures: offscreen Qt, a private user folder and settings, scripted dialogs."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# pytest puts tests/ on sys.path, where this folder (tests/ui, no __init__.py) would shadow
# the real `ui` package as a namespace package: make the repository root win.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
if "ui" in sys.modules and getattr(sys.modules["ui"], "__file__", None) is None:
    del sys.modules["ui"]

import pytest  # noqa: E402

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from ui.dialogs import Prompter  # noqa: E402


class ScriptedPrompter(Prompter):
    """Answers every question from ``answers`` (FIFO per kind) and records what was asked."""

    def __init__(self):
        self.answers: dict[str, list] = {}
        self.asked: list[tuple[str, str]] = []

    def answer(self, kind, *values):
        self.answers.setdefault(kind, []).extend(values)

    def _next(self, kind, default):
        q = self.answers.get(kind)
        return q.pop(0) if q else default

    def confirm(self, parent, title, text):
        self.asked.append(("confirm", text))
        return self._next("confirm", False)

    def save_discard_cancel(self, parent, text):
        self.asked.append(("save_discard_cancel", text))
        return self._next("save_discard_cancel", "discard")

    def changed_on_disk(self, parent, text):
        self.asked.append(("changed_on_disk", text))
        return self._next("changed_on_disk", "cancel")

    def text(self, parent, title, label, default=""):
        self.asked.append(("text", label))
        return self._next("text", default)

    def error(self, parent, title, text, details=""):
        self.asked.append(("error", f"{title}: {text}\n{details}"))

    def offer(self, parent, title, text, details, accept_label):
        self.asked.append(("offer", f"{text}\n{details}"))
        return self._next("offer", False)

    def open_path(self, parent, title, start, filt):
        self.asked.append(("open_path", title))
        return self._next("open_path", None)

    def save_path(self, parent, title, start, filt):
        self.asked.append(("save_path", title))
        return self._next("save_path", None)

    def choose(self, parent, title, label, groups):
        self.asked.append(("choose", label))
        self.offered = groups
        return self._next("choose", None)

    def kinds(self):
        return [k for k, _ in self.asked]


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """User scenarios and QSettings go to tmp_path, never to the real home."""
    monkeypatch.setenv("BENEFIT_SIM_HOME", str(tmp_path / "home"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    return tmp_path


@pytest.fixture
def prompter():
    return ScriptedPrompter()


@pytest.fixture
def small_path(private_home):
    """The default scenario with a small run and Chinese tier names, saved as a user file."""
    import scenarios

    sc = scenarios.load_default()
    for t, zh in zip(sc.tiers, ["青铜", "白银", "黄金", "钻石"]):
        t.name = zh
    sc.name = "星河 small test"
    sc.run.replications = 3
    sc.run.agents = 1000
    sc.run.horizon_months = 12
    return scenarios.save_user(sc)


@pytest.fixture
def window(qtbot, prompter, small_path):
    """The main window on the small scenario, with a tiny, fast preview."""
    from simulator.scenario_io import load
    from tests.support.gui import close_window, open_window
    from ui.results_panel import PreviewSize

    win = open_window(qtbot, load(small_path), small_path, prompter,
                      PreviewSize(replications=3, agents=1000, horizon_months=12,
                                  debounce_ms=30, refine=False),
                      compare_quick={"replications": 2, "agents": 800, "horizon_months": 12})
    yield win
    close_window(win)

