"""Live-preview latency: slider released -> KPI strip and charts updated (target <= 0.3 s).

Drives the real window offscreen on the default scenario: moves the staff slider and the
Silver discount slider like a user (press, drag, release), and times from the release to
the ``preview_shown`` signal (debounce + preview run in the worker thread + drawing).
Prints each measurement and the figures shown after it.

    .venv/bin/python benchmarks/bench_preview_latency.py [--repeats 5]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("BENEFIT_SIM_HOME", tempfile.mkdtemp(prefix="bsim-bench-"))

TARGET_S = 0.3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      os.environ["BENEFIT_SIM_HOME"])
    from ui.main_window import MainWindow

    win = MainWindow()
    win.resize(1500, 950)
    win.show()
    panel = win.results
    size = panel.preview_size

    def wait_preview(timeout: float = 60.0) -> float:
        got: list[float] = []
        panel.preview_shown.connect(got.append)
        end = time.monotonic() + timeout
        while not got and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.001)
        panel.preview_shown.disconnect(got.append)
        if not got:
            raise TimeoutError("no preview")
        return got[0]

    wait_preview()  # first preview (engine warm-up)
    doc = win.doc
    staff_path = ("service", "pools", 0, "shifts", 0, "staff")
    disc = next(("tiers", i, "benefits", j, "cost_share")
                for i, t in enumerate(doc.scenario.tiers) for j, b in enumerate(t.benefits)
                if b.kind == "discount")
    print(f"scenario: {doc.scenario.name}")
    print(f"preview: quick pass {size.quick_agents:,} agents / queue windows of "
          f"{size.quick_window_contacts} contacts, then refined {size.agents:,} agents / "
          f"{size.window_contacts}; 1 replication, {size.horizon_months} months, "
          f"debounce {size.debounce_ms} ms, workers={size.workers}")
    latencies = []
    refined = []
    for k in range(args.repeats):
        for path in (staff_path, disc):
            field = win.editor.field(path)
            s = field.slider
            s.setSliderDown(True)
            for step in range(5):  # a short drag
                s.setValue(min(s.maximum(), s.value() + 15 + k))
                app.processEvents()
            t0 = time.perf_counter()
            s.setSliderDown(False)
            s.sliderReleased.emit()
            wait_preview()
            dt = time.perf_counter() - t0
            latencies.append(dt)
            first = panel.result.summary["service_wait_mean_hours"].mean
            while panel.preview_runner.busy:  # the user pauses: let the refined pass finish
                app.processEvents()
                time.sleep(0.001)
            refined_s = time.perf_counter() - t0
            refined.append(refined_s)
            summ = panel.result.summary
            print(f"{'staff' if path == staff_path else 'discount':8s} = "
                  f"{doc.get(path)!s:>6}: release -> figures {dt * 1000:5.0f} ms "
                  f"(quick pass, wait {first:.2f} h), refined {refined_s * 1000:5.0f} ms | "
                  f"{panel.kpis.boxes['npv'].text()}; "
                  f"benefit cost ¥{summ['benefit_cost'].mean / 1e6:,.1f} M; "
                  f"mean wait {summ['service_wait_mean_hours'].mean:.2f} h")
    med = statistics.median(latencies)
    worst = max(latencies)
    print(f"release -> figures: median {med * 1000:.0f} ms, max {worst * 1000:.0f} ms "
          f"(target <= {TARGET_S * 1000:.0f} ms) {'OK' if med <= TARGET_S else 'SLOW'}; "
          f"refined figures: median {statistics.median(refined) * 1000:.0f} ms")
    doc.undo_stack.setClean()
    win.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
