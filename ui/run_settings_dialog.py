"""Run settings: where the app's simulations run (this computer or a Dask cluster).

The choice is remembered in the app's settings (``run/cluster``) and handed to
:func:`simulator.execution.configure`; without a saved choice the app follows
``$BENEFIT_SIM_CLUSTER`` (else this computer's process pool). Nothing connects
here: the first run after OK reaches the cluster, and a cluster that cannot be
reached is that run's error. docs/CLUSTER.md explains how to start one.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from simulator import execution

SETTINGS_KEY = "run/cluster"
log = logging.getLogger(__name__)


def saved_choice(settings: QSettings) -> str | None:
    """The saved choice (``local``, ``local:N`` or an address), None when there is none."""
    v = settings.value(SETTINGS_KEY)
    return str(v) if v not in (None, "") else None


def apply_saved(settings: QSettings) -> str:
    """Configure the execution back end from the saved choice; the back end in force.

    A saved value that is no longer valid (edited by hand) is ignored with a log line.
    """
    v = saved_choice(settings)
    if v is not None:
        try:
            return execution.configure(v)
        except ValueError as exc:
            log.warning("run settings: ignoring the saved %s (%s)", SETTINGS_KEY, exc)
    try:
        return execution.current()
    except ValueError:  # a bad $BENEFIT_SIM_CLUSTER: the run says so in its own words
        return "local"


class RunSettingsDialog(QDialog):
    """Where simulations run: this computer, a Dask cluster here, or one at an address."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Run settings")
        self.settings = settings
        self.pool = QRadioButton(f"This computer (process pool, {execution.pool_size()} "
                                 "worker processes)")
        self.here = QRadioButton("Dask cluster on this computer, with")
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setSuffix(" worker processes")
        self.remote = QRadioButton("Dask cluster at")
        self.address = QLineEdit()
        self.address.setPlaceholderText("tcp://HOST:8786")
        self.group = QButtonGroup(self)
        for b in (self.pool, self.here, self.remote):
            self.group.addButton(b)
        grid = QGridLayout()
        grid.addWidget(self.pool, 0, 0, 1, 2)
        grid.addWidget(self.here, 1, 0)
        grid.addWidget(self.workers, 1, 1)
        grid.addWidget(self.remote, 2, 0)
        grid.addWidget(self.address, 2, 1)
        note = QLabel("Results are the same wherever they run. A cluster is started with "
                      "'dask scheduler' and 'dask worker tcp://HOST:8786' (docs/CLUSTER.md).")
        note.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(note)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.address.textEdited.connect(lambda _t: self.remote.setChecked(True))
        self.workers.valueChanged.connect(lambda _v: self.here.setChecked(True))
        self._show(saved_choice(settings))

    def _show(self, saved: str | None) -> None:
        try:
            spec = execution.parse_spec(saved) if saved is not None else execution.current()
        except ValueError:
            spec = "local"
        self.workers.blockSignals(True)
        self.workers.setValue(2)
        self.workers.blockSignals(False)
        if spec == "local":
            self.pool.setChecked(True)
        elif spec.startswith("local:"):
            self.workers.blockSignals(True)
            self.workers.setValue(int(spec.split(":")[1]))
            self.workers.blockSignals(False)
            self.here.setChecked(True)
        else:
            self.address.setText(spec)
            self.remote.setChecked(True)

    def choice(self) -> str:
        """The choice as :func:`simulator.execution.parse_spec` reads it."""
        if self.here.isChecked():
            return f"local:{self.workers.value()}"
        if self.remote.isChecked():
            return self.address.text().strip() or "(empty)"
        return "local"

    def accept(self) -> None:
        """Check the choice, remember it and put it in force; a bad address stays open."""
        text = self.choice()
        try:
            spec = execution.configure(text)
        except ValueError as exc:
            msg = str(exc).removeprefix(f"cluster: {text!r} ")
            self.error.setText(f"Dask cluster at: {text!r} — {msg}")
            self.error.show()
            self.address.setFocus()
            return
        self.settings.setValue(SETTINGS_KEY, spec)
        self.settings.sync()
        super().accept()


def run_settings_action(window: QWidget, settings: QSettings) -> QAction:
    """The "Run settings…" menu action of ``window``; puts the saved choice in force."""
    apply_saved(settings)
    a = QAction("Run &settings…", window)
    a.setStatusTip("Where simulations run: this computer or a Dask cluster")
    a.triggered.connect(lambda: RunSettingsDialog(settings, window).exec())
    return a
