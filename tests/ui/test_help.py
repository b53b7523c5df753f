"""Help menu: KPI definitions from the metric catalogue, the model notes, scenario sources."""

import pytest

import scenarios
from simulator.metrics import METRICS
from ui.help import _header_comment

pytestmark = pytest.mark.gui


def test_help_pages_come_from_the_catalogue_notes_and_files(window):
    win = window
    titles = [a.text() for a in win.menuBar().actions()]
    assert "&Help" in titles
    help_win = win.show_help("kpis")
    assert help_win.isVisible()
    assert help_win.tabs.currentWidget() is help_win.pages["kpis"]
    kpis = help_win.pages["kpis"].toPlainText()
    for m in METRICS.values():  # every figure, with the catalogue's own definition
        assert m.label in kpis
        assert m.definition.split(",")[0][:40] in kpis
    model = help_win.pages["model"].toPlainText()
    assert "Timing convention" in model and "Counterfactual" in model
    src = help_win.pages["sources"].toPlainText()
    for e in scenarios.list_shipped():
        assert e.title in src and e.path.name in src
        head = _header_comment(e.path)
        assert head and head[:50] in src  # the file's own source notes
    assert "Which figures are assumptions" in src
    for b in help_win.pages.values():  # nothing is fetched when a link is clicked
        assert not b.openLinks() and not b.openExternalLinks()
    win.help_actions["sources"].trigger()
    assert help_win.tabs.currentWidget() is help_win.pages["sources"]
    help_win.close()
