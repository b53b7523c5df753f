"""The optimisation workbook: today's run, the recommended split's run and the Optimisation sheet.

One function for ``benefit-sim optimise --excel`` and the GUI's "Export to Excel".
Both scenarios' results are the optimiser's own verification runs (each with its
counterfactual, at the optimiser's sample and seed), so the workbook shows the
figures of the headline and re-runs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.optimiser import Allocation
from simulator.scenario import Scenario


def export_optimisation_workbook(sc: Scenario, path: str | os.PathLike | None,
                                 alloc: Allocation, out: str | os.PathLike, *,
                                 overwrite: bool = False) -> Path:
    """Write the workbook for ``alloc``, the optimisation of ``sc`` (its file ``path``, if any).

    The workbook refuses (:class:`simulator.provenance.ResultMismatch`) when ``sc``
    is not the scenario that was optimised: its figures would belong to other inputs.
    """
    from simulator import excel

    today, rec = alloc.runs.get("today"), alloc.runs.get("recommended")
    if today is None or rec is None:
        raise ValueError("the optimisation has no verification runs to export")
    sc_rec = alloc.apply(sc)
    return excel.write_workbook([(sc, Path(path) if path else None, today), (sc_rec, None, rec)],
                                out, base_index=0, optimisation=alloc.to_frames(),
                                overwrite=overwrite)
