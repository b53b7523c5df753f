"""File ▸ Import transaction log…: map the columns, fit, check on a holdout, open the scenario.

The dialog reads the first rows of the chosen log and shows them as mapped (with the
bad rows found there), then fits the baseline in the background with progress and
Cancel (:mod:`simulator.datafit`). With a split date it also runs the fitted base
through the engine over the holdout from the actual customers and draws the tracking
and cumulative charts beside BG/NBD. "Open fitted scenario" saves the commented file
in the user's scenarios folder and opens it in the editor.
"""

from __future__ import annotations

import datetime as _dt
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator.datafit import importlog, simcheck, toscenario
from simulator.datafit.importlog import Columns, LogError
from simulator.labels import wrap
from ui.charts import color, make_plot
from ui.workers import TaskRunner

NONE = "(none)"
SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "whitespace": "whitespace"}
PREVIEW_ROWS = 200
SHOWN_ROWS = 12


def fit_job(path: str, cols: Columns, split: str | None, segments: int,
            replications: int) -> Callable[[Callable[[int, int], None], threading.Event], Any]:
    """The background task: read, fit (and check on the holdout); a dict of results."""
    def job(progress: Callable[[int, int], None], cancel: threading.Event) -> dict:
        try:
            log = importlog.read_log(path, cols, cancel=cancel,
                                     progress=lambda n, f: progress(int(500 * (f or 0)), 1000))
            fitted = toscenario.fit_segments(log, split, segments)
            sc, text = toscenario.build(log, split, segments, fitted=fitted)
            # The customers at the end of the fit period (as `fit --customers` writes them).
            cb = simcheck.customer_base_at(log, sc, fitted[0], split, segments,
                                           season=fitted[1]["seasonal"])
            r = None
            if split:
                r = simcheck.run_holdout(log, split, segments=segments, cancel=cancel,
                                         replications=replications,
                                         progress=lambda f: progress(500 + int(500 * f), 1000))
            progress(1000, 1000)
        except InterruptedError:
            cancel.set()  # the runner reports it as cancelled
            raise
        except (LogError, FileNotFoundError) as exc:
            return {"error": str(exc)}
        return {"log": log, "scenario": sc, "text": text, "holdout": r, "customers": cb,
                "fitted": fitted, "split": split, "segments": segments}
    return job


class ImportDialog(QDialog):
    """Import a transaction log and fit the baseline scenario from it."""

    def __init__(self, parent: QWidget | None = None,
                 open_path: Callable[[Path], bool] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import transaction log")
        self.open_path = open_path
        self.result_data: dict | None = None
        self.runner = TaskRunner("import", parent=self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(lambda msg: self._status(msg.split("\n")[0], error=True))
        self.runner.cancelled.connect(lambda: self._done_running("Cancelled."))

        top = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText("a CSV, TXT, Excel or Parquet file with one row per order")
        self.path.editingFinished.connect(self.refresh_columns)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        top.addWidget(QLabel("Log file"))
        top.addWidget(self.path, 1)
        top.addWidget(browse)

        mapping = QGroupBox("Columns")
        form = QFormLayout(mapping)
        self.sep = QComboBox()
        self.sep.addItems(list(SEPARATORS))
        self.header = QCheckBox("First line is a header")
        self.header.setChecked(True)
        self.combos: dict[str, QComboBox] = {}
        for key, label in (("customer", "Customer id"), ("date", "Date"), ("amount", "Amount"),
                           ("segment", "Segment (optional)"), ("order_id", "Order id (optional)")):
            cb = QComboBox()
            cb.currentIndexChanged.connect(self.refresh_preview)
            self.combos[key] = cb
            form.addRow(label, cb)
        self.sep.currentIndexChanged.connect(self.refresh_columns)
        self.header.toggled.connect(self.refresh_columns)
        form.insertRow(0, "Separator", self.sep)
        form.insertRow(1, "", self.header)

        fit_box = QGroupBox("Fit")
        ff = QFormLayout(fit_box)
        self.use_split = QCheckBox("Check on a holdout from")
        self.use_split.setChecked(True)
        self.split = QDateEdit()
        self.split.setCalendarPopup(True)
        self.split.setDisplayFormat("yyyy-MM-dd")
        self.use_split.toggled.connect(self.split.setEnabled)
        row = QHBoxLayout()
        row.addWidget(self.use_split)
        row.addWidget(self.split)
        ff.addRow(row)
        self.segments = QSpinBox()
        self.segments.setRange(1, 10)
        self.segments.setToolTip(wrap("Without a segment column: k-means clusters of today's "
                                 "customers on recency, frequency and spend"))
        ff.addRow("Segments", self.segments)
        self.replications = QSpinBox()
        self.replications.setRange(1, 50)
        self.replications.setValue(8)
        ff.addRow("Engine runs", self.replications)
        self.actual = QCheckBox("Start from the actual customers")
        self.actual.setChecked(True)
        self.actual.setToolTip(wrap(
            "Save the fit period's customers (P(alive), order rate, dropout, spend per order, "
            "12 months of history) beside the scenario and start its runs from them "
            "(Acquisition ▸ Actual customers). Off: customers are drawn from the segments."))
        ff.addRow(self.actual)

        self.table = QTableWidget(0, 0)
        self.table.setMinimumHeight(120)
        self.bad = QLabel("")
        self.bad.setWordWrap(True)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_btn = QPushButton("Fit")
        self.run_btn.clicked.connect(self.start)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.runner.cancel)
        self.open_btn = QPushButton("Open fitted scenario")
        self.open_btn.setEnabled(False)
        self.open_btn.clicked.connect(self.open_scenario)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for b in (self.run_btn, self.cancel_btn, self.open_btn):
            buttons.addWidget(b)

        self.track = make_plot("Repeat transactions per month of the holdout", "transactions",
                               x_label="month from the split")
        self.cumul = make_plot("Cumulative over the holdout", "transactions",
                               x_label="month from the split")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(mapping)
        left.addWidget(fit_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(QLabel("Preview of the mapped columns (first rows of the file)"))
        right.addWidget(self.table, 1)
        right.addWidget(self.bad)
        charts = QGridLayout()
        charts.addWidget(self.track, 0, 0)
        charts.addWidget(self.cumul, 0, 1)
        right.addLayout(charts, 2)
        right.addWidget(self.summary)
        body = QHBoxLayout()
        body.addLayout(left, 0)
        body.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(body, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)

    # ------------------------------------------------------------- mapping
    def columns(self) -> Columns:
        """The mapping as chosen in the form."""
        def pick(key: str) -> str | None:
            t = self.combos[key].currentText()
            return None if t in ("", NONE) else t
        return Columns(customer=pick("customer") or "customer_id", date=pick("date") or "date",
                       amount=pick("amount") or "amount", segment=pick("segment"),
                       order_id=pick("order_id"), sep=SEPARATORS[self.sep.currentText()],
                       header=self.header.isChecked())

    def browse(self) -> None:
        """Choose the log file."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Transaction log", "", "Logs (*.csv *.txt *.tsv *.xlsx *.parquet);;All (*)")
        if name:
            self.set_path(name)

    def set_path(self, name: str) -> None:
        """Use this file: guess its separator and columns, show the preview."""
        self.path.setText(name)
        if Path(name).suffix.lower() in (".txt", ".dat"):
            first = Path(name).open(encoding="utf-8", errors="replace").readline()
            if "," not in first and ";" not in first and "\t" not in first:
                self.sep.setCurrentText("whitespace")
        elif Path(name).suffix.lower() == ".tsv":
            self.sep.setCurrentText("tab")
        self.refresh_columns()

    def refresh_columns(self) -> None:
        """Read the file's columns and fill the mapping with the likely ones."""
        p = self.path.text().strip()
        if not p:
            return
        try:
            names = list(importlog._head(Path(p), Columns(sep=SEPARATORS[self.sep.currentText()],
                                                          header=self.header.isChecked()),
                                         PREVIEW_ROWS).columns)
        except (LogError, OSError, ValueError) as exc:
            self._status(str(exc), error=True)
            return
        guess = importlog.guess_columns(names) if self.header.isChecked() else {}
        defaults = ["1", "2", "3"]
        for i, (key, cb) in enumerate(self.combos.items()):
            cb.blockSignals(True)
            cb.clear()
            optional = key in ("segment", "order_id")
            cb.addItems(([NONE] if optional else []) + names)
            want = guess.get(key) or (None if optional or i >= 3 else
                                      (names[i] if i < len(names) else defaults[i]))
            if want in names:
                cb.setCurrentText(want)
            cb.blockSignals(False)
        self.refresh_preview()

    def refresh_preview(self) -> None:
        """Show the first rows as mapped and the bad rows among them."""
        p = self.path.text().strip()
        if not p or not self.combos["amount"].count():
            return
        try:
            pv = importlog.preview(p, self.columns(), PREVIEW_ROWS)
        except (LogError, OSError, ValueError) as exc:
            self.table.setRowCount(0)
            self.bad.setText(str(exc))
            return
        t = pv.table.head(SHOWN_ROWS)
        self.table.setColumnCount(len(t.columns))
        self.table.setHorizontalHeaderLabels(list(t.columns))
        self.table.setRowCount(len(t))
        for i in range(len(t)):
            for j, v in enumerate(t.iloc[i]):
                self.table.setItem(i, j, QTableWidgetItem("" if v is None else str(v)))
        self.table.resizeColumnsToContents()
        bad = pv.bad.report()
        self.bad.setText(f"First {pv.rows:,} rows: {pv.rows - pv.bad.total:,} valid"
                         + (f"; set aside: {'; '.join(bad)}" if bad else "; no bad rows")
                         + (f"; dates read as {pv.date_format}" if pv.date_format else ""))
        try:
            days = importlog._parse_dates(pv.table["date"], pv.date_format)
            days = days[~np.isnat(days)]
            if days.size and not self.runner.busy:
                lo = days.min().astype("datetime64[D]").astype(_dt.date)
                self.split.setMinimumDate(QDate(lo.year, lo.month, lo.day))
        except (ValueError, TypeError):
            pass

    # ------------------------------------------------------------- fitting
    def start(self) -> None:
        """Fit in the background."""
        p = self.path.text().strip()
        if not p:
            self._status("Choose a log file first.", error=True)
            return
        split = self.split.date().toString("yyyy-MM-dd") if self.use_split.isChecked() else None
        self.result_data = None
        self.open_btn.setEnabled(False)
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.progress.setValue(0)
        self._status("Reading and fitting…")
        self.runner.submit(fit_job(p, self.columns(), split, self.segments.value(),
                                   self.replications.value()))

    def _progress(self, done, total) -> None:
        self.progress.setValue(int(1000 * done / max(total, 1)))

    def _done_running(self, message: str, error: bool = False) -> None:
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        self._status(message, error)

    def _status(self, message: str, error: bool = False) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #c62828;" if error else "")
        if error:
            self.run_btn.setEnabled(True)
            self.cancel_btn.setEnabled(False)

    def _finished(self, result: dict, seconds: float) -> None:
        if "error" in result:
            self._done_running(result["error"], error=True)
            return
        self.result_data = result
        self.open_btn.setEnabled(self.open_path is not None)
        log, sc = result["log"], result["scenario"]
        text = (f"{log.source}: {len(log):,} valid rows of {log.rows_read:,}, "
                f"{len(log.customer_ids):,} customers; {len(sc.segments)} segment(s) fitted "
                f"in {seconds:.1f} s.")
        self._done_running(text + (" " + " ".join(log.bad.report()) if log.bad.total else ""))
        self.show_holdout(result.get("holdout"))

    def show_holdout(self, r: dict | None) -> None:
        """Draw the holdout charts and the comparison (nothing without a split)."""
        for w in (self.track, self.cumul):
            w.clear()
        if not r:
            self.summary.setText("No holdout check (no split date).")
            return
        e = r["engine"]
        m = e["monthly"]
        x = np.arange(1, len(m["actual"]) + 1)
        for i, (key, name) in enumerate((("actual", "actual"), ("bgnbd", "BG/NBD"),
                                         ("engine", "engine (fitted scenario)"))):
            y = np.asarray(m[key], dtype=float)
            pen = {"color": color(i), "width": 2}
            sym = {"symbol": "o", "symbolSize": 5, "symbolBrush": color(i)} if i == 0 else {}
            self.track.plot(x, y, pen=pen, name=name, **sym)
            self.cumul.plot(x, np.cumsum(y), pen=pen, name=name, **sym)
        h, c = e["holdout_total"], e["cumulative_at_end"]
        self.summary.setText(
            f"Holdout {r['split']} to {r['last_day']}: repeat transactions {h['actual']:,.0f} "
            f"actual, engine {h['engine']:,.0f} ({h['error']:+.1%}), BG/NBD "
            f"{h['bgnbd']:,.0f} ({h['bgnbd_error']:+.1%}). Cumulative at the end: engine "
            f"{c['error']:+.1%}, BG/NBD {c['bgnbd_error']:+.1%}. Spend: engine "
            f"{e['holdout_spend']['error']:+.1%}. Mean error by calibration frequency: engine "
            f"{e['conditional_mae']['engine']:.3f}, BG/NBD {e['conditional_mae']['bgnbd']:.3f}.")

    def open_scenario(self) -> Path | None:
        """Save the fitted scenario (with its comments) as a new user file and open it."""
        if not self.result_data or self.open_path is None:
            return None
        from simulator import library
        from simulator.scenario_io import atomic_write_bytes

        rd = self.result_data
        sc = rd["scenario"]
        cb = rd.get("customers") if self.actual.isChecked() else None
        for _ in range(100):
            target = library.unique_user_path(sc.name)
            text = rd["text"]
            if cb is not None:  # the scenario names its customer file, saved beside it
                customers = target.with_name(f"{target.stem} customers.csv")
                text = toscenario.build(rd["log"], rd["split"], rd["segments"],
                                        fitted=rd["fitted"],
                                        customer_file=(customers.name, len(cb)))[1]
            try:
                atomic_write_bytes(target, text.encode("utf-8"), exclusive=True)
                break
            except FileExistsError:
                continue
        else:
            self._status("No free file name in the scenarios folder.", error=True)
            return None
        if cb is not None:
            from simulator.customer_base import to_csv

            atomic_write_bytes(customers, to_csv(cb, [s.name for s in sc.segments])
                               .encode("utf-8"))
        if self.open_path(target):
            self.accept()
        return target

    def done(self, r: int) -> None:  # noqa: D102 - QDialog.done: stop the work first
        self.stop()
        super().done(r)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Closing stops the work (within a second) and its thread."""
        self.stop()
        super().closeEvent(event)

    def stop(self) -> None:
        """Cancel any fit and end the worker thread."""
        self.runner.cancel()
        self.runner.shutdown()  # waits up to 30 s: a QThread destroyed while running aborts


def add_import_action(window, menu) -> QAction:
    """File ▸ Import transaction log… on the main window (opens the fitted scenario there)."""
    act = menu.addAction("&Import transaction log…")
    act.triggered.connect(lambda: ImportDialog(window, window.open_path).exec())
    return act
