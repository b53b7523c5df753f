"""What a result came from, and the check that it belongs to the inputs it is shown with.

:func:`simulator.runner.run` records in ``RunResult.meta`` the hash of the
scenario it simulated (``scenario_hash``) and of its base scenario
(``base_hash``, None without one), the seed, sample (``agents``), horizon,
replications and the counterfactual. Anything that shows or exports a result
calls :func:`check_matches` with the scenario (and base) it is presented with,
and refuses on a mismatch instead of writing another scenario's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from simulator.scenario import Scenario
from simulator.scenario_io import scenario_hash

SAMPLE_KEYS = ("seed", "replications", "agents", "horizon_months")


class ResultMismatch(ValueError):
    """A result presented with inputs it was not computed from."""


@dataclass(frozen=True)
class Provenance:
    """The inputs a result was computed from (a typed view of ``RunResult.meta``)."""

    scenario: str
    scenario_hash: str
    base_scenario: str | None
    base_hash: str | None
    seed: int | None  # None: a result whose meta does not record it
    agents: int | None
    horizon_months: int | None
    replications: int | None
    counterfactual: str

    @classmethod
    def of(cls, result: Any) -> "Provenance":
        """Read it from a result's ``meta`` (ResultMismatch if the result carries none)."""
        m = getattr(result, "meta", None) or {}
        if not m.get("scenario_hash"):
            raise ResultMismatch("this result carries no record of the scenario it came from; "
                                 "run the scenario again")
        return cls(m.get("scenario", ""), m["scenario_hash"], m.get("base_scenario"),
                   m.get("base_hash"), m.get("seed"), m.get("agents"), m.get("horizon_months"),
                   m.get("replications"), m.get("counterfactual", ""))

    def sample(self) -> tuple:
        """(seed, replications, agents, horizon) — what common random numbers need equal."""
        return (self.seed, self.replications, self.agents, self.horizon_months)


def check_matches(result: Any, scenario: Scenario, base: Scenario | None = None, *,
                  check_base: bool = True) -> Provenance:
    """Raise :class:`ResultMismatch` unless ``result`` was computed from these inputs.

    ``scenario`` must hash to the result's ``scenario_hash``. When the scenario
    is compared with a base scenario, ``base`` must be that base (same hash);
    otherwise the result must not have been run against a base. ``check_base=False``
    checks the scenario only (for figures that do not depend on the counterfactual).
    """
    pv = Provenance.of(result)
    want = scenario_hash(scenario)
    if pv.scenario_hash != want:
        raise ResultMismatch(
            f"these results were computed for scenario {pv.scenario!r} (inputs hash "
            f"{pv.scenario_hash}), not for the inputs of {scenario.name!r} shown now (hash "
            f"{want}): the scenario changed or another one was opened since the run; run it "
            f"again before exporting")
    if not check_base:
        return pv
    if scenario.run.counterfactual.mode == "base_scenario":
        if base is None:
            raise ResultMismatch(f"{scenario.name!r} is compared with a base scenario, but no "
                                 f"base was given to check the results against")
        bh = scenario_hash(base)
        if pv.base_hash != bh:
            raise ResultMismatch(
                f"the results of {scenario.name!r} were computed against base "
                f"{pv.base_scenario!r} (hash {pv.base_hash}), not the base {base.name!r} it "
                f"names now (hash {bh}): the base changed since the run; run it again")
    elif pv.base_hash is not None:
        raise ResultMismatch(f"the results of {scenario.name!r} were computed against base "
                             f"{pv.base_scenario!r}, but the scenario's counterfactual is now "
                             f"{scenario.run.counterfactual.mode!r}; run it again")
    return pv


def check_same_sample(results: Sequence[Any]) -> None:
    """Raise :class:`ResultMismatch` unless all results share seed, replications, sample, horizon.

    Paired differences (common random numbers) are only meaningful between runs
    that drew the same random streams for the same customers.
    """
    pvs = [Provenance.of(r) for r in results]
    for pv in pvs[1:]:
        if pv.sample() != pvs[0].sample():
            a = dict(zip(SAMPLE_KEYS, pvs[0].sample()))
            b = dict(zip(SAMPLE_KEYS, pv.sample()))
            raise ResultMismatch(
                f"{pv.scenario!r} ran with {b} but {pvs[0].scenario!r} with {a}: compared "
                f"scenarios must share seed, replications, sample and horizon (common random "
                f"numbers); run them together")
