"""Benchmark: a 5-scenario comparison over 36 months exported to Excel.

Times the simulation and the workbook writing separately; the export (build +
atomic save) must take under 5 s. Usage:

    .venv/bin/python benchmarks/bench_excel.py [--agents 5000] [--replications 10]

Exit code 1 if the export takes 5 s or more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

import scenarios
from simulator.compare import run_scenarios
from simulator.excel import build_workbook, write_workbook
from simulator.scenario_io import save

LIMIT_S = 5.0


def variants(tmp: Path):
    """Xinghe today and four what-ifs, saved to files as a user would have them."""
    base = scenarios.load_default()
    out = [(base, scenarios.shipped_path("xinghe_today"))]

    def add(name, change):
        sc = base.model_copy(deep=True)
        sc.name = name
        change(sc)
        p = tmp / f"v{len(out)}.toml"
        save(sc, p)
        out.append((sc, p))

    add("More service staff (+50 %)",
        lambda s: setattr(s.service.pools[0].shifts[0], "staff",
                          int(s.service.pools[0].shifts[0].staff * 1.5)))
    add("No Double 11 promotion", lambda s: setattr(s, "promotions", []))
    add("Double paid acquisition", lambda s: setattr(
        s.population.acquisition, "paid_spend_cny_per_month",
        2 * s.population.acquisition.paid_spend_cny_per_month))
    add("黄金 tier 5 % off", lambda s: setattr(s.tiers[2].benefits[0], "cost_share", 0.05)
        if s.tiers[2].benefits and s.tiers[2].benefits[0].cost_share else None)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=5000)
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--months", type=int, default=36)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        items = variants(d)
        t0 = time.perf_counter()
        results = run_scenarios(items, agents=a.agents, replications=a.replications,
                                horizon_months=a.months)
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_workbook(results)
        t_build = time.perf_counter() - t0
        out = d / "compare.xlsx"
        t0 = time.perf_counter()
        write_workbook(results, out)
        t_export = time.perf_counter() - t0
        size = out.stat().st_size
        wb = openpyxl.load_workbook(out)
        cells = sum(ws.max_row * ws.max_column for ws in wb.worksheets)
        formulas = sum(1 for ws in wb.worksheets for row in ws.iter_rows() for c in row
                       if c.data_type == "f")
    print(f"scenarios: {len(items)}, months: {a.months}, replications: {a.replications}, "
          f"agents: {a.agents:,}")
    print(f"simulation:          {t_sim:7.2f} s")
    print(f"workbook build only: {t_build:7.2f} s")
    print(f"export (build+save): {t_export:7.2f} s   (limit {LIMIT_S:.0f} s)")
    print(f"workbook: {size / 1e6:.2f} MB, {len(wb.sheetnames)} sheets, ~{cells:,} cells, "
          f"{formulas:,} formulas")
    ok = t_export < LIMIT_S
    print("OK" if ok else "TOO SLOW")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
