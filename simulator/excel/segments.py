"""Sheet "Segments & tiers": horizon totals by segment and tier over the monthly detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from simulator.excel.cells import add_table, formula, label, print_setup, put, set_width
from simulator.excel.data import MONTHLY_SIM, breakdown_means
from simulator.excel.styles import (
    BOLD,
    CENTER,
    FMT,
    HEAD_FORMULA,
    HEAD_SIM,
    NOTE,
    TITLE,
    WIDTH,
    WRAP_HEAD,
    WRAP_HEAD_RIGHT,
)

if TYPE_CHECKING:
    from simulator.excel.book import Book


def write(book: Book, ws) -> None:
    """Fill the Segments & tiers sheet."""
    put(ws, 1, 1, "Segments & tiers: figures by segment and current tier", font=TITLE)
    put(ws, 2, 1, "Mean over replications (scenario arm). Total cost and net contribution "
                  "are formulas over the simulated columns; the horizon totals are sums "
                  "over the monthly detail below them.", font=NOTE)
    spec: list[tuple[str, str, str | None]] = (
            [("no", "No", "int"), ("month", "Month", "int"),
             ("segment", "Segment", None), ("tier", "Tier", None)]
            + MONTHLY_SIM + [("members_end", "Members (end of month)", "count")])
    derived: list[tuple[str, str, str | None]] = [
        ("total_cost", "Total cost", "cny"), ("net", "Net contribution", "cny")]
    heads = spec + derived
    ncol = len(heads)
    col = {k: j for j, (k, _, _) in enumerate(heads, start=1)}
    L = {k: get_column_letter(c) for k, c in col.items()}
    for j, (_, _, kind) in enumerate(heads, start=1):
        set_width(ws, j, WIDTH.get(kind, 14) if kind else 14)
    set_width(ws, col["no"], 6)
    set_width(ws, col["month"], 7)
    sim_keys = [k for k, _, _ in MONTHLY_SIM] + ["members_end"]
    kinds: dict[str, Any] = {k: kind for k, _, kind in heads}
    frames = []
    for i, (sc, _, res) in enumerate(book.results):
        df = breakdown_means(res)
        df = df.sort_values(["segment", "tier", "month"], kind="stable", key=lambda s: (
            s.map({v: n for n, v in enumerate(res.segments)}) if s.name == "segment" else
            s.map({v: n for n, v in enumerate(res.tiers)}) if s.name == "tier" else s))
        # A segment with nobody in a tier that month has nothing to show.
        empty = (df[sim_keys].abs() < 0.005).all(axis=1)
        frames.append((df[~empty].reset_index(drop=True), res.horizon))

    def header(r, title_month: str):
        for j, (key, h, kind) in enumerate(heads, start=1):
            h = title_month if j == col["month"] else h
            put(ws, r, j, h, font=BOLD,
                fill=HEAD_FORMULA if (key, h, kind) in derived else HEAD_SIM)
            # Figures' headers right-aligned, over their numbers.
            ws.cell(row=r, column=j).alignment = (
                WRAP_HEAD if kind is None or key in ("no", "month") else WRAP_HEAD_RIGHT)
        ws.row_dimensions[r].height = 45

    # Scenario key: the detail names each scenario by its number only.
    r = 4
    put(ws, r, 1, "No", font=BOLD)
    put(ws, r, 2, "Scenario", font=BOLD)
    for i, (sc, _, _) in enumerate(book.results):
        r += 1
        put(ws, r, 1, i + 1, FMT["int"]).alignment = CENTER
        put(ws, r, 2, label(i, sc, book.base if len(book.results) > 1 else None))
    # Horizon totals (printed), then the monthly detail they sum (a filterable table).
    r += 2
    put(ws, r, 1, "Totals over the horizon", font=BOLD)
    tot_head = r + 1
    n_groups = sum(len(df.groupby(["segment", "tier"], sort=False)) for df, _ in frames)
    det_title = tot_head + 1 + n_groups + 2
    det_head = det_title + 1
    header(tot_head, "Months")
    header(det_head, "Month")
    put(ws, det_title, 1, "Monthly detail (not in the print area: filter the table and "
                          "print the selection)", font=BOLD)
    rt, rd = tot_head, det_head
    flows = [k for k in sim_keys if k not in ("active_customers", "members_end")]
    for i, (df, horizon) in enumerate(frames):
        arrays = {k: df[k].to_numpy() for k, _, _ in spec[1:]}
        start = rd + 1
        for k in range(len(df)):
            rd += 1
            put(ws, rd, col["no"], i + 1, FMT["int"]).alignment = CENTER
            for key, _, kind in spec[1:]:
                put(ws, rd, col[key], arrays[key][k], FMT[kind] if kind else None)
            formula(ws, rd, col["total_cost"],
                    f"=SUM({L['benefit_cost']}{rd}:{L['acquisition_cost']}{rd})",
                    FMT["cny"])
            formula(ws, rd, col["net"],
                    f"=ROUND({L['gross_margin']}{rd}-{L['total_cost']}{rd},2)", FMT["cny"])
        # Rows of one segment and tier are consecutive: their totals are plain SUMs.
        keys = list(zip(df["segment"], df["tier"]))
        a = 0
        while a < len(keys):
            b = a
            while b + 1 < len(keys) and keys[b + 1] == keys[a]:
                b += 1
            rt += 1
            r0, r1 = start + a, start + b
            put(ws, rt, col["no"], i + 1, FMT["int"]).alignment = CENTER
            put(ws, rt, col["month"], f"1–{horizon}").alignment = CENTER
            put(ws, rt, col["segment"], keys[a][0])
            put(ws, rt, col["tier"], keys[a][1])
            for key in flows + ["total_cost", "net"]:
                formula(ws, rt, col[key], f"=SUM({L[key]}{r0}:{L[key]}{r1})",
                        FMT[kinds[key]])
            months = df["month"].to_numpy()
            if int(months[b]) == horizon:
                formula(ws, rt, col["members_end"], f"={L['members_end']}{r1}",
                        FMT["count"])
            else:
                put(ws, rt, col["members_end"], 0, FMT["count"])
            a = b + 1
    add_table(ws, "SegmentsTiersTotals", tot_head, rt, 1, ncol)
    add_table(ws, "SegmentsTiers", det_head, rd, 1, ncol)
    print_setup(ws, f"{tot_head}:{tot_head}")
    ws.print_area = f"A1:{get_column_letter(ncol)}{rt}"
