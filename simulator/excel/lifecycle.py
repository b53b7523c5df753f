"""Sheet "Lifecycle": customers by lifecycle stage by month, one block per scenario.

For scenarios where a lifecycle mechanism acts (dormancy, recall campaigns, referrals,
negative word of mouth; docs/MODEL_NOTES.md "Customer lifecycle"): the headline
figures (dormant share, recall success, cost per acquired customer by source, ...)
and the monthly columns of :data:`simulator.metrics.LIFECYCLE_MONTHLY` (means over
replications, scenario arm), with a native stacked area chart of active (not
dormant), dormant and churned-so-far customers. Labels and definitions come from
the metric catalogue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from openpyxl.chart import AreaChart, Reference
from openpyxl.worksheet.pagebreak import Break

from simulator import metrics
from simulator.excel.cells import formula, label, note, print_setup, put, ref, set_width
from simulator.excel.styles import BOLD, FMT, HEAD_SIM, TITLE, WRAP_HEAD_RIGHT

if TYPE_CHECKING:
    from simulator.excel.book import Book

_STACK = ("Active (not dormant)", "Dormant customers", "Churned (cumulative)")


def wanted(book: Book) -> bool:
    """True if a lifecycle mechanism acts in any scenario of the workbook."""
    return any(any(o.lifecycle for o in res.scn) for _, _, res in book.results)


def _fmt(key: str) -> str:
    return metrics.EXCEL_FORMAT[metrics.kind_of(key)]


def write(book: Book, ws) -> None:
    """Fill the Lifecycle sheet."""
    cols = metrics.LIFECYCLE_MONTHLY
    put(ws, 1, 1, "Customer lifecycle, scenario arm, means over replications", font=TITLE)
    note(ws, 2, "Dormant: no purchase for the segment's 'dormant after' months; recall: "
         "campaigns at dormant or at-risk customers; referrals join the month after they "
         "are made. Definitions on the Definitions sheet.", 1 + len(cols) + len(_STACK))
    r = 4
    for i, (sc, _, res) in enumerate(book.results):
        if not any(o.lifecycle for o in res.scn):
            continue
        put(ws, r, 1, label(i, sc, book.base if len(book.results) > 1 else None), font=BOLD)
        r += 1
        for key in metrics.LIFECYCLE_HEADLINE:
            st = res.summary.get(key)
            if st is None:
                continue
            put(ws, r, 2, metrics.label_of(key))
            put(ws, r, 3, st.mean if np.isfinite(st.mean) else None, _fmt(key))
            r += 1
        head = r + 1
        put(ws, head, 1, "Month", font=BOLD, fill=HEAD_SIM)
        for j, key in enumerate(cols):
            put(ws, head, 2 + j, metrics.label_of(key), font=BOLD,
                fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
        s0 = 2 + len(cols)
        for j, name in enumerate(_STACK):
            put(ws, head, s0 + j, name, font=BOLD, fill=HEAD_SIM).alignment = WRAP_HEAD_RIGHT
        ws.row_dimensions[head].height = 48
        bands = {key: res.band(key)["mean"].to_numpy() for key in cols}
        H = len(bands[cols[0]])
        a_col, d_col, c_col = (2 + cols.index(k) for k in
                               ("active_customers", "dormant_customers", "churned_customers"))
        for m in range(H):
            rr = head + 1 + m
            put(ws, rr, 1, m + 1, FMT["int"])
            for j, key in enumerate(cols):
                put(ws, rr, 2 + j, float(bands[key][m]), _fmt(key))
            # The stack as formulas over the columns beside it (auditable).
            formula(ws, rr, s0, f"={ref(ws.title, a_col, rr)}-{ref(ws.title, d_col, rr)}",
                    _fmt("active_customers"))
            formula(ws, rr, s0 + 1, f"={ref(ws.title, d_col, rr)}", _fmt("active_customers"))
            first = ref(ws.title, c_col, head + 1, absolute=True)
            formula(ws, rr, s0 + 2, f"=SUM({first}:{ref(ws.title, c_col, rr)})",
                    _fmt("active_customers"))
        last = head + H
        ch = AreaChart()
        ch.grouping = "stacked"
        ch.title = f"Customers by lifecycle stage ({sc.name})"
        ch.add_data(Reference(ws, min_col=s0, max_col=s0 + 2, min_row=head, max_row=last),
                    titles_from_data=True)
        ch.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        ch.x_axis.title = "month"
        ch.y_axis.numFmt = _fmt("active_customers")
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.width, ch.height = 18.0, 8.0
        ws.row_breaks.append(Break(id=last + 1))
        ws.add_chart(ch, f"B{last + 2}")
        r = last + 20
    set_width(ws, 1, 8)
    set_width(ws, 2, 30)
    for j in range(3, 3 + len(cols) + len(_STACK)):
        set_width(ws, j, 13)
    print_setup(ws)
