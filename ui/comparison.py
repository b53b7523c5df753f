"""A comparison of saved scenarios: the run task and its result.

:func:`compare_task` loads the scenarios (each with its base and customer file, through
the one loader) and runs them in a worker thread with the same seed, replication count,
sample and horizon (common random numbers); :class:`Comparison` holds the results, base
first, with the tidy KPI table and the inputs that differ. No widgets here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simulator.scenario import Scenario
from simulator.scenario_io import load


@dataclass
class Comparison:
    """A comparison run: ``results[i] = (scenario, path, RunResult)``; index 0 is the base."""

    results: list
    settings: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Scenario names, base first."""
        return [sc.name for sc, _, _ in self.results]

    @property
    def scenarios(self) -> list[Scenario]:
        """The scenarios, base first."""
        return [sc for sc, _, _ in self.results]

    def table(self):
        """Tidy KPI table with paired deltas vs the base (``simulator.compare``)."""
        from simulator.compare import compare_scenarios

        return compare_scenarios(self.results, base_index=0)

    def input_diff(self) -> list[tuple[str, list[str]]]:
        """(field label, [value text per scenario]) of every input that differs from the base.

        The form's labels, units and formatting (``8 %`` vs ``15 %``, Yes/No), from the
        one input diff (:func:`simulator.input_diff.shown_input_diff`).
        """
        from simulator.input_diff import shown_input_diff

        return shown_input_diff(self.scenarios)


def compare_task(paths: list[Path], replications: int, agents: int | None,
                 horizon: int | None):
    """Task: load the scenarios and run them with common settings (base's seed)."""
    def task(progress, cancel):
        from simulator.compare import run_scenarios
        from simulator.loader import loaded_from

        # The one loader: each scenario with its base and its customer file.
        lds = [loaded_from(load(p), p) for p in paths]
        scs = [ld.scenario for ld in lds]
        results = run_scenarios([(sc, p) for sc, p in zip(scs, paths)],
                                replications=replications, agents=agents,
                                horizon_months=horizon or min(sc.run.horizon_months
                                                              for sc in scs),
                                bases=[ld.base_scenario for ld in lds],
                                progress=progress, cancel=cancel)
        res0 = results[0][2]
        return Comparison(results, {"replications": res0.replications,
                                    "agents": res0.meta.get("agents"),
                                    "seed": res0.meta.get("seed"),
                                    "horizon_months": res0.horizon})
    return task
