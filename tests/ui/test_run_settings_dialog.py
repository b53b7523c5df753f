"""The Run settings dialog chooses where simulations run (issue 17 item 1)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from simulator import execution
from ui.run_settings_dialog import (
    SETTINGS_KEY,
    RunSettingsDialog,
    apply_saved,
    run_settings_action,
)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv(execution.CLUSTER_ENV, raising=False)
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    yield s
    execution.configure(None)  # nothing leaks into the next test


def test_local_cluster_choice_is_saved_and_in_force(qtbot, settings):
    dlg = RunSettingsDialog(settings)
    qtbot.addWidget(dlg)
    assert dlg.pool.isChecked() and execution.current() == "local"
    dlg.workers.setValue(3)  # picking a count picks the option
    assert dlg.here.isChecked()
    dlg.accept()
    assert dlg.result() == RunSettingsDialog.DialogCode.Accepted
    assert settings.value(SETTINGS_KEY) == "local:3"
    assert execution.current() == "local:3"
    again = RunSettingsDialog(settings)  # opens on the saved choice
    qtbot.addWidget(again)
    assert again.here.isChecked() and again.workers.value() == 3


def test_bad_address_keeps_the_dialog_open_and_says_why(qtbot, settings):
    dlg = RunSettingsDialog(settings)
    qtbot.addWidget(dlg)
    dlg.address.setText("my-server")
    dlg.remote.setChecked(True)
    dlg.accept()
    assert dlg.result() != RunSettingsDialog.DialogCode.Accepted
    assert not dlg.error.isHidden()
    assert "'my-server'" in dlg.error.text() and "tcp://HOST:PORT" in dlg.error.text()
    assert settings.value(SETTINGS_KEY) is None and execution.current() == "local"


def test_saved_address_is_put_in_force_when_the_window_builds_its_menu(qtbot, settings):
    settings.setValue(SETTINGS_KEY, "tcp://10.1.2.3:8786")
    act = run_settings_action(None, settings)
    assert act.text() == "Run &settings…"
    assert execution.current() == "tcp://10.1.2.3:8786"  # not connected: no run yet
    settings.setValue(SETTINGS_KEY, "garbage")  # edited by hand: ignored, not fatal
    execution.configure(None)
    assert apply_saved(settings) == "local"
