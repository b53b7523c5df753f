"""Number formats, column widths, fonts, fills and alignments shared by every sheet."""

from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.table import TableStyleInfo

from simulator import metrics

# Number formats: the metric display kinds (simulator.metrics) plus cell kinds of their own.
FMT = {
    **metrics.EXCEL_FORMAT,
    "cny": metrics.EXCEL_FORMAT["money"],
    "month": metrics.EXCEL_FORMAT["months"],
    "factor": "0.00000",
    "int": "0",
    "num": "#,##0.00",
}
PER_PAGE = 3  # scenarios side by side on one printed Summary page
MONEY_FORMATS = {FMT["money"], FMT["cny"]}
# Summary money at or above a million: CNY millions, one decimal (the cell keeps the full value).
MONEY_M = '#,##0.0,,;[Red]-#,##0.0,,'
WIDTH = {"money": 17, "cny": 17, "share": 10, "ratio": 10, "hours": 10, "months": 9, "month": 9,
         "count": 12, "score": 10, "factor": 11, "int": 8, "num": 12}

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
NOTE = Font(italic=True, color="555555")
SMALL = Font(size=8)  # long reference tables printed compactly (Inputs)
WARN = Font(bold=True, color="B00020")
HEAD_SIM = PatternFill("solid", fgColor="DDEBF7")  # simulated columns (values)
HEAD_FORMULA = PatternFill("solid", fgColor="E2EFDA")  # derived columns (formulas)
HEAD_PLAIN = PatternFill("solid", fgColor="D9D9D9")
DIFF = PatternFill("solid", fgColor="FFEB9C")
WRAP_HEAD = Alignment(wrap_text=True, vertical="top")
WRAP_HEAD_RIGHT = Alignment(wrap_text=True, vertical="top", horizontal="right")
CENTER = Alignment(horizontal="center")
LEFT = Alignment(horizontal="left", vertical="top")
RIGHT = Alignment(horizontal="right")
LEFT_WRAP = Alignment(horizontal="left", vertical="top", wrap_text=True)
TABLE_STYLE = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
