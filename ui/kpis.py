"""The KPI strip: NPV, ROI, incremental contribution, LTV, churn ... each with its 95 % CI."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.formatting import KPI_DISPLAY, interval, value

STRIP = ["npv", "roi", "incremental_contribution", "ltv_per_customer", "churn_annual",
         "payback_month", "sla_attainment"]


class KpiBox(QFrame):
    """One figure: label, value with unit, and its interval."""

    def __init__(self, metric: str):
        super().__init__()
        self.metric_name = metric
        self.label, self.kind = KPI_DISPLAY[metric]
        self.setObjectName(f"kpi:{metric}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 3, 6, 3)
        lay.setSpacing(0)
        self.title = QLabel(self.label)
        self.title.setStyleSheet("color: #555;")
        self.value = QLabel("—")
        f = QFont(self.value.font())
        f.setPointSizeF(f.pointSizeF() * 1.35)
        f.setBold(True)
        self.value.setFont(f)
        self.ci = QLabel("")
        self.ci.setStyleSheet("color: #555;")
        for w in (self.title, self.value, self.ci):
            w.setAlignment(Qt.AlignmentFlag.AlignLeft)
            lay.addWidget(w)
        # the interval may wrap onto a second line rather than squeeze the editor beside it
        self.ci.setWordWrap(True)
        self.title.setWordWrap(True)
        self.stat = None

    def set_stat(self, stat) -> None:
        """Show a Stat (mean, ci95_low, ci95_high); None clears."""
        self.stat = stat
        if stat is None:
            self.value.setText("—")
            self.ci.setText("")
            return
        self.value.setText(value(stat.mean, self.kind))
        ci = interval(stat.ci95_low, stat.ci95_high, self.kind)
        n = getattr(stat, "n", 0)
        if self.metric_name == "payback_month" and n == 0:
            self.ci.setText("not within the horizon")
        else:
            self.ci.setText(f"95 % CI {ci}" if ci else ("1 run: no CI" if n <= 1 else "no CI"))
        self.setToolTip(f"{self.label}: mean {value(stat.mean, self.kind)}; "
                        f"P10 {value(stat.p10, self.kind)}, P50 {value(stat.p50, self.kind)}, "
                        f"P90 {value(stat.p90, self.kind)} over {n} replication(s)")

    def text(self) -> str:
        """'NPV ¥12.3 M (95 % CI 10.1–14.2 M)' as shown."""
        return f"{self.label} {self.value.text()} ({self.ci.text()})"


class KpiStrip(QWidget):
    """A row of KpiBoxes plus a caption saying what the figures are (preview / full run)."""

    def __init__(self, metrics: list[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self.caption = QLabel("No results yet.")
        self.caption.setWordWrap(True)
        outer.addWidget(self.caption)
        row = QHBoxLayout()
        row.setSpacing(4)
        outer.addLayout(row)
        self.boxes = {m: KpiBox(m) for m in (metrics or STRIP)}
        for b in self.boxes.values():
            row.addWidget(b, 1)

    def show_summary(self, summary: dict, caption: str) -> None:
        """Fill the boxes from ``res.summary``."""
        for m, box in self.boxes.items():
            box.set_stat(summary.get(m))
        self.caption.setText(caption)

    def set_caption(self, text: str) -> None:
        """Say what is shown (or why nothing is)."""
        self.caption.setText(text)

    def value_of(self, metric: str) -> float:
        """The mean shown for a metric (NaN if none)."""
        st = self.boxes[metric].stat
        return float("nan") if st is None else float(st.mean)
