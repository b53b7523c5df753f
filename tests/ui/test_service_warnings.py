"""Issue 20 item 1 in the GUI: an overloaded queue shows its warning above the KPIs."""

import pytest

import scenarios

pytestmark = pytest.mark.gui

CUSTOMERS = ("population", "customers")


@pytest.fixture
def grown(qtbot, prompter, private_home):
    """Xinghe today grown to 300,000 customers on today's staff (a short run)."""
    from simulator.scenario_io import load
    from tests.support.gui import close_window, open_window
    from ui.results_panel import PreviewSize

    sc = load(scenarios.shipped_path("xinghe_today"))
    sc.population.customers = 300_000
    sc.run.replications, sc.run.agents, sc.run.horizon_months = 2, 500, 2
    win = open_window(qtbot, sc, None, prompter,
                      PreviewSize(replications=1, agents=500, horizon_months=2,
                                  debounce_ms=30, refine=False, window_contacts=300),
                      size=(1200, 800))
    yield win
    close_window(win)


def _banner_lines(panel):
    return [ln for ln in panel.service_banner.text().splitlines() if ln.strip()]


def test_overloaded_queue_warning_shown_and_cleared(qtbot, grown):
    panel = grown.results
    banner = panel.service_banner
    # the preview of the grown scenario: the banner is visible, above the KPIs, and wraps
    assert banner.isVisible()
    assert banner.wordWrap()
    assert any("Pool 'General'" in ln and "cannot keep up" in ln for ln in _banner_lines(panel))
    assert banner.text().count("⚠") == len(panel.result.service_warnings()) >= 1
    lay = panel.layout()
    assert lay.indexOf(banner) < lay.indexOf(panel.kpis)
    assert banner.width() <= panel.width()
    # a full run shows its own warnings
    with qtbot.waitSignal(panel.full_finished, timeout=120_000):
        assert panel.start_full_run()
    assert panel.shown_kind == "full" and banner.isVisible()
    assert panel.service_warnings() == panel.full_result.service_warnings()
    # back to a population today's staff can serve: the warning goes away
    with qtbot.waitSignal(panel.preview_shown, timeout=90_000):
        grown.doc.set_value(CUSTOMERS, 20_000)
    assert panel.result.service_warnings() == []
    assert not banner.isVisible() and panel.service_warnings() == []
