"""The live preview as shipped: a quick pass first, then the refined pass replaces it.

The other GUI tests use a one-pass preview for speed; this one keeps the default
PreviewSize (quick 1 replication, refined 4, paired interval on the change).
"""

import pytest

pytestmark = pytest.mark.gui

STAFF = ("service", "pools", 0, "shifts", 0, "staff")


@pytest.fixture
def default_window(qtbot, prompter, small_path):
    from simulator.scenario_io import load
    from ui.main_window import MainWindow
    from ui.results_panel import PreviewSize

    size = PreviewSize()
    assert size.refine and size.quick_replications < size.replications  # two passes
    win = MainWindow(load(small_path), small_path, prompter=prompter, preview=size,
                     compare_quick={"replications": 2, "agents": 800, "horizon_months": 12})
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    with qtbot.waitSignal(win.results.preview_refined, timeout=120_000):
        pass
    yield win
    win.doc.undo_stack.setClean()
    win.shutdown()


def test_edit_shows_the_quick_pass_then_the_refined_one(qtbot, default_window):
    panel = default_window.results
    size = panel.preview_size
    field = default_window.editor.field(STAFF)
    shown, refined = [], []
    panel.preview_shown.connect(lambda *_: shown.append(panel.result))
    panel.preview_refined.connect(lambda: refined.append(panel.result))
    with qtbot.waitSignal(panel.preview_refined, timeout=120_000):
        field.spin.setValue(field.spin.value() + 5)
    quick, final = shown[-1], refined[-1]
    assert quick.replications == size.quick_replications
    assert quick.meta.get("agents") == size.quick_agents
    assert final.replications == size.replications
    assert final.meta.get("agents") == size.agents
    assert panel.result is final and panel.is_current()
    # The refined figures belong to the edited scenario: staff as typed.
    assert default_window.doc.scenario.service.pools[0].shifts[0].staff == field.spin.value()
