"""Helpers for tests of how arms run: their output arrays, and the pairing each was run with."""

import numpy as np


def arm_arrays(out) -> dict:
    """An ArmOutput's numpy arrays by name."""
    return {k: v for k, v in vars(out).items() if isinstance(v, np.ndarray)}


def assert_same_arrays(a: dict, b: dict) -> None:
    """Two arms' arrays byte for byte (the same numbers, not just close)."""
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


def record_pairings(monkeypatch) -> list:
    """The ``pairing`` of every Simulation made from now on (None: unpaired)."""
    import simulator.engine as engine

    modes: list = []
    real = engine.Simulation.__init__

    def init(self, *a, pairing=None, **k):
        modes.append(pairing)
        real(self, *a, pairing=pairing, **k)

    monkeypatch.setattr(engine.Simulation, "__init__", init)
    return modes
