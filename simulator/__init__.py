"""benefit-sim engine: scenario model, SimPy agent simulation, results (no Qt)."""

__version__ = "0.1.0"
