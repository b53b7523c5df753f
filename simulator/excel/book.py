"""The workbook being built and where its sheets put things, so that formulas can refer to them."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from openpyxl import Workbook

from simulator.compare import Kpi, kpi_catalogue
from simulator.results import RunResult
from simulator.scenario import Scenario


class Book:
    """Builds the workbook; remembers where things are so formulas can refer to them."""

    def __init__(self, results: Sequence[tuple[Scenario, Path | None, RunResult]],
                 base_index: int, out_name: str):
        self.results = list(results)
        self.base = base_index
        self.out_name = out_name
        self.wb = Workbook()
        self.kpis: list[Kpi] = [k for k in kpi_catalogue(self.results)  # vs base: 2+ scenarios
                                 if len(self.results) > 1 or k.section != "vs_base"]
        self.monthly_titles: list[str] = []
        self.monthly_cols: list[dict[str, int]] = []  # key -> column on each Monthly sheet
        self.monthly_first = 6  # first data row on Monthly sheets
        self.rate_cells: list[str] = []  # Inputs cell of each scenario's discount rate
        self.summary_rows: dict[str, int] = {}
        self.summary_mean_col: list[int] = []
        self.tier_blocks: list[tuple[int, int, int]] = []  # (header row, first col, n tiers)
        self.risk_answers: dict[str, int] = {}  # Risk sheet: answer -> row (value in column B)
        self.risk_tornado_rows: tuple[int, int] = (0, 0)  # Risk sheet: first, last bar row
