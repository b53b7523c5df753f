"""The live preview: a small run after each edit, showing the change it made.

:class:`PreviewRuns` is a mixin of :class:`ui.results_panel.ResultsPanel` (it uses the
panel's document, runners, timer, progress bar and KPI strip). Each edit (re)starts the
debounce timer (cut short when the gesture ends: slider released, value entered); a quick
pass then a refined pass go to a latest-only worker thread (stale previews are cancelled
and their results discarded). The refined pass shows, for each figure, the change from
the state before the edit under common random numbers (same seed, same customers, paired
by replication), with its 95 % interval. Results are kept by scenario hash (undo shows
them again without a run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from simulator.compare import paired_delta
from simulator.metrics import counted
from simulator.scenario import Scenario
from simulator.scenario_io import scenario_hash
from ui.run_tasks import error_text, run_task


@dataclass
class PreviewSize:
    """The small samples used for the live preview.

    A quick first pass (fewer agents, short service-queue windows) shows figures within
    a fraction of a second of the edit; unless another edit comes first, a refined pass
    (more agents, longer queue windows: less noisy waits) then replaces it. The refined
    pass runs several replications so that the change an edit makes has an interval
    (paired replications under the same seed); both run the scenario's own horizon
    unless ``horizon_months`` caps it.
    """

    # Each replication has a fixed cost (~0.15 s under load on 2 cores, whatever its size),
    # so the quick pass is one replication (the change without interval) and the refined
    # pass four (the change with its paired 95 % interval).
    replications: int = 4
    agents: int = 2000
    horizon_months: int | None = None  # None: the scenario's own horizon
    workers: int = 1
    debounce_ms: int = 150
    window_contacts: int | None = 1000  # refined pass: shorter windows are faster but noisier
    quick_agents: int = 2000
    quick_replications: int = 1
    quick_window_contacts: int = 300
    refine: bool = True  # False: only one pass, with replications / agents / window_contacts


class PreviewRuns:
    """Schedule, run, show and cancel the preview (both passes) of the scenario on screen."""

    def schedule_preview(self) -> None:
        """An edit happened: figures are stale; preview again after the debounce."""
        self._edit_time = time.perf_counter()
        self._hash = None
        if not self._edit_open:
            # changes are measured from what was on screen before this edit
            self._baseline_hash = self._settled_hash
            self._edit_open = True
        self._mark_stale()
        self.timer.start()

    def flush_preview(self) -> None:
        """The edit gesture ended (slider released, Enter): start a pending preview now.

        The debounce only exists to skip the values a drag passes through; once the
        slider is released the value is final, so waiting out the timer is pure delay.
        """
        if self.timer.isActive():
            self.timer.stop()
            self.start_preview()

    def start_preview(self) -> bool:
        """Send a preview run of the current scenario to the worker thread."""
        issues = self.doc.issues()
        if issues:
            self.preview_runner.cancel()
            self._mark_stale(": fix the problems listed under the editor first.")
            self.kpis.set_caption(f"Preview paused: {len(issues)} problem(s) in the scenario "
                                  "(listed under the editor) must be fixed first.")
            self.state_changed.emit()
            return False
        h = self.doc_hash()
        if self.full_result is not None and self.full_hash == h and \
                not self.full_runner.busy:
            # back to the state of the full run (e.g. undo): show it, no preview needed
            self.preview_runner.cancel()
            self._show_full(self.full_result, self.full_result.meta.get("elapsed_seconds")
                            or 0.0)
            self._settle(h)
            return True
        cached = self._cache.get((h, False))
        if cached is not None and not self.full_runner.busy:
            self.preview_runner.cancel()
            self._preview_quick = False
            self._preview_done((cached, h, False), 0.0)
            return True
        self._submit_preview(quick=self.preview_size.refine)
        return True

    def _preview_args(self, sc: Scenario, quick: bool) -> dict:
        p = self.preview_size
        reps, agents, wc = (p.quick_replications, p.quick_agents, p.quick_window_contacts) \
            if quick else (p.replications, p.agents, p.window_contacts)
        horizon = sc.run.horizon_months if p.horizon_months is None else \
            min(p.horizon_months, sc.run.horizon_months)
        extra = {"window_contacts": wc} if wc else {}
        return dict(replications=reps, agents=agents, horizon_months=horizon,
                    workers=p.workers, seed=sc.run.seed, **extra)

    def _submit_preview(self, quick: bool) -> None:
        sc = self.doc.snapshot()
        h = scenario_hash(sc)
        task = run_task(sc, self.doc.path, **self._preview_args(sc, quick))

        def stamped(progress, cancel):
            return task(progress, cancel), h, quick

        self._preview_quick = quick
        if not self.full_runner.busy:
            self.progress.setRange(0, 0)  # busy until the first replication reports
            self.progress.setFormat(f"preview{' (quick pass)' if quick else ''}: running…")
        self.preview_runner.submit(stamped)
        self._busy_changed()
        self.state_changed.emit()

    def _preview_progress(self, done, total) -> None:
        if self.full_runner.busy:
            return
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))
        self.progress.setFormat(f"preview: {int(done)}/{int(total)} replications")

    def _deltas(self, res, quick: bool) -> dict | None:
        """The change from the baseline state, paired by replication (same seed, customers)."""
        base = self._cache.get((self._baseline_hash, quick))
        if base is None or base is res or base.replications != res.replications:
            return None
        a, b = base.kpis, res.kpis
        return {m: paired_delta(a[m].to_numpy(), b[m].to_numpy())
                for m in self.kpis.boxes if m in a.columns and m in b.columns}

    def _preview_done(self, payload, seconds: float) -> None:
        res, h, quick = payload
        self._cache[(h, quick)] = res
        self._cache.move_to_end((h, quick))
        while len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)
        if self.full_runner.busy:
            return  # a full run is on its way; do not flash previews meanwhile
        if h != self.doc_hash():
            return  # the scenario changed meanwhile: its own preview follows
        self.deltas = self._deltas(res, quick)
        noise = ""
        if self.deltas is not None:
            noise = (" Δ lines: change from before your last edit, same seed and customers, "
                     "95 % interval over the paired replications.")
        reps = res.replications
        self._show(res, h, "preview",
                   f"Live preview{' (quick pass, refining…)' if quick else ''}: "
                   f"{reps} replication{'s' if reps != 1 else ''} × "
                   f"{res.meta.get('agents', 0):,} simulated customers, "
                   f"{res.horizon} months ({seconds:.2f} s) — indicative; "
                   f"Ctrl+R runs the full "
                   f"{counted(self.doc.scenario.run.replications, 'replication')}."
                   + noise)
        if not self.preview_runner.busy:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setFormat(f"preview shown ({seconds:.2f} s)")
        # Paint the new figures now (synchronously), so preview_shown means "visible" and the
        # refined pass does not start until they are: run in the worker thread, it would
        # compete for the GIL with the paint the user is waiting for.
        self.repaint()
        if quick:
            self.last_latency = time.perf_counter() - self._edit_time
            self.preview_shown.emit(self.last_latency)
            self._submit_preview(quick=False)  # a newer edit cancels it (latest only)
        else:
            self._settle(h)
            if not self.preview_size.refine:
                self.last_latency = time.perf_counter() - self._edit_time
                self.preview_shown.emit(self.last_latency)
            self.preview_refined.emit()

    def _settle(self, h: str) -> None:
        """The figures of state ``h`` are final: the next edit is measured from it."""
        self._settled_hash = h
        if not self.timer.isActive():
            self._edit_open = False

    def _preview_failed(self, message: str) -> None:
        first = error_text(message)
        # nothing on screen may pretend to belong to a scenario whose run fails
        self.result = None
        self.result_hash = None
        self.deltas = None
        self.kpis.clear("Preview failed: no figures for this scenario (the reason is above).")
        self.charts.clear()
        self.accounting.clear()
        self._show_warnings(None)
        self._mark_stale()
        self.status.setText(first)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("preview failed")
        self.state_changed.emit()

    def _preview_cancelled(self) -> None:
        if self.full_runner.busy:
            return
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("preview cancelled")
        self._busy_changed()

    def cancel_preview(self) -> None:
        """Stop the preview now; the figures stay greyed out until the next run."""
        self.timer.stop()
        if not self.preview_runner.busy:
            return
        self.preview_runner.cancel()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("preview cancelled")
        self._mark_stale(": the preview was cancelled (F5 previews again).")
        self.status.setText("Preview cancelled.")
        self.state_changed.emit()

    def _busy_changed(self) -> None:
        self.btn_cancel.setEnabled(self.full_runner.busy or self.preview_runner.busy)
        self.state_changed.emit()
