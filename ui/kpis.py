"""The KPI strip: NPV, ROI, incremental contribution, LTV, churn ... each with its 95 % CI.

Under a live preview each figure also shows what the last edit changed: the paired
difference from the state before the edit (same seed, same customers), with its
95 % interval, or "within noise" when that interval includes zero.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from simulator.labels import tip, wrap
from simulator.metrics import MINUS, delta, delta_interval, interval, not_defined, value
from simulator.metrics import metric as metric_of
from ui.charts import good_bad_color

STRIP = ["npv", "roi", "incremental_contribution", "ltv_per_customer", "churn_annual",
         "payback_month", "sla_attainment"]


class KpiBox(QFrame):
    """One figure: label, value with unit, and its interval."""

    def __init__(self, metric: str):
        super().__init__()
        self.metric_name = metric
        m = metric_of(metric)
        self.label, self.kind = m.label, m.kind
        self.definition = m.definition
        self.setObjectName(f"kpi:{metric}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 3, 6, 3)
        lay.setSpacing(0)
        self.title = QLabel(self.label)
        _muted(self.title)
        self.value = FitLabel("—")
        self.ci = QLabel("")
        _muted(self.ci)
        for w in (self.title, self.value, self.ci):
            w.setAlignment(Qt.AlignmentFlag.AlignLeft)
            lay.addWidget(w)
        # the interval may wrap onto a second line rather than squeeze the editor beside it
        self.ci.setWordWrap(True)
        self.title.setWordWrap(True)
        self.delta_label = QLabel("")
        self.delta_label.setObjectName(f"delta:{metric}")
        self.delta_label.setWordWrap(True)
        self.delta_label.hide()
        lay.addWidget(self.delta_label)
        lay.addStretch(1)  # spare height below the text: the figures stay on one line
        self.stat = None
        self.delta = None

    def set_stat(self, stat) -> None:
        """Show a Stat (mean, ci95_low, ci95_high); None clears."""
        self.stat = stat
        if stat is None:
            self.value.setText("—")
            self.ci.setText("")
            self.setToolTip(tip(self.definition))
            return
        n = getattr(stat, "n", 0)
        why = not_defined(stat)
        if why:
            self.value.setText("—")
            self.ci.setText(_joined(why))
            self.setToolTip(wrap(f"{self.label}: {why}.") + "\n" + tip(self.definition))
            return
        if not _finite(stat.mean):  # e.g. payback in no replication: not "1 run"
            self.value.setText("—")
            self.ci.setText("not reached within the horizon" if self.metric_name ==
                            "payback_month" else f"no value in {n} replication(s)")
            self.setToolTip(wrap(f"{self.label}: {_plain(self.ci.text())}.") + "\n"
                            + tip(self.definition))
            return
        self.value.setText(value(stat.mean, self.kind))
        ci = interval(stat.ci95_low, stat.ci95_high, self.kind)
        self.ci.setText(f"95 % CI {_joined(ci)}" if ci else
                        ("1 run: no CI" if n <= 1 else "no CI"))
        self.setToolTip(wrap(f"{self.label}: mean {value(stat.mean, self.kind)}; "
                             f"P10 {value(stat.p10, self.kind)}, P50 {value(stat.p50, self.kind)}"
                             f", P90 {value(stat.p90, self.kind)} over {n} replication(s).")
                        + "\n" + tip(self.definition))

    def set_delta(self, stat) -> None:
        """Show the change made by the last edit (a paired-difference Stat); None hides it."""
        self.delta = stat
        if stat is None or not _finite(stat.mean):
            self.delta_label.hide()
            self.delta_label.setText("")
            return
        text, noise = delta_text(stat, self.kind)
        self.delta_label.setText(_joined(text))
        if noise:
            self.delta_label.setStyleSheet("")
            _muted(self.delta_label)
        else:
            col = good_bad_color(stat.mean > 0, self.delta_label.palette())
            self.delta_label.setStyleSheet(f"color: {col.name()};")
        self.delta_label.setToolTip(wrap(
            "Change from the state before your last edit, simulated with the same seed and "
            "the same customers (common random numbers); the 95 % interval is over the "
            "paired replications. 'Within noise' means the interval includes zero: this "
            "preview cannot tell the change apart from chance."))
        self.delta_label.show()

    @property
    def within_noise(self) -> bool:
        """True if the shown change's interval includes zero (or it has no interval)."""
        return self.delta is not None and delta_text(self.delta, self.kind)[1]

    def text(self) -> str:
        """'NPV ¥12.3 M (95 % CI 10.1–14.2 M)' as shown."""
        return _plain(f"{self.label} {self.value.text()} ({self.ci.text()})")


class FitLabel(QLabel):
    """A figure in bold, as large as its box's width allows, never cut off.

    The text gets the largest point size from ``scale`` times the normal size down to
    ``floor`` times it at which it fits on one line (no larger than :meth:`set_cap`'s,
    which the KPI strip uses to give all its figures one size); if even the smallest
    does not fit, it wraps at its spaces. A figure cut at the box's edge read "−¥114.2"
    for −¥114.2 M in a 1366-pixel window.
    """

    def __init__(self, text: str = "", scale: float = 1.35, floor: float = 0.85):
        super().__init__(text)
        base = QFont(self.font())
        base.setBold(True)
        self._sizes = [base.pointSizeF() * (scale - 0.05 * k)
                       for k in range(int(round((scale - floor) / 0.05)) + 1)]
        f = QFont(base)
        f.setPointSizeF(self._sizes[0])
        super().setFont(f)
        self._cap = self._sizes[0]
        self._fitting = False
        self.on_resized = None  # called after a resize (the strip evens its figures out)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        """Show ``text`` at the size that fits."""
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Fit the text again to the new width."""
        super().resizeEvent(event)
        self._fit()
        if self.on_resized is not None:
            self.on_resized()

    def _width_at(self, pt: float) -> float:
        f = QFont(self.font())
        f.setPointSizeF(pt)
        return QFontMetricsF(f).horizontalAdvance(self.text())

    def best_size(self) -> float:
        """The largest point size at which the text fits its width (else the smallest)."""
        width = self.contentsRect().width()
        return next((pt for pt in self._sizes if self._width_at(pt) <= width), self._sizes[-1])

    def set_cap(self, pt: float) -> None:
        """Show the text no larger than ``pt`` points."""
        if pt != self._cap:
            self._cap = pt
            self._fit()

    def _fit(self) -> None:
        if self._fitting:
            return
        self._fitting = True
        try:
            pt = min(self.best_size(), self._cap)
            if pt != self.font().pointSizeF():
                f = QFont(self.font())
                f.setPointSizeF(pt)
                super().setFont(f)
            fits = self.fits()
            if self.wordWrap() == fits:
                self.setWordWrap(not fits)
        finally:
            self._fitting = False

    def fits(self) -> bool:
        """True if the text is shown whole on one line at its current size."""
        return QFontMetricsF(self.font()).horizontalAdvance(self.text()) \
            <= self.contentsRect().width()


def _joined(text: str) -> str:
    """``text`` for a narrow wrapping label: numbers kept whole, long words breakable.

    Qt may break a line between "−" and "¥" (both prefix characters to the line-breaking
    rules), which left an interval's end as "−" on one line and "¥92.2 M" on the next;
    a word joiner (U+2060, invisible) between them forbids that break, and a no-break
    space holds a number to its unit ("¥5.4 B", "95.8 %"), which wrapped alone onto the
    next line. "counterfactual", wider than a box at 1366 pixels, gets a soft hyphen
    (shown only where it breaks).
    """
    text = _UNIT_SPACE.sub("\\1\u00a0\\2", text.replace(MINUS, MINUS + "\u2060"))
    return text.replace("counterfactual", "counter\u00adfactual")


_UNIT_SPACE = re.compile(r"(\d) (%|pp\b|[MBkh]\b)")


def _plain(text: str) -> str:
    """``text`` without the break controls :func:`_joined` put in."""
    return text.replace("\u2060", "").replace("\u00ad", "").replace("\u00a0", " ")


def _muted(label: QLabel) -> None:
    """Secondary text in the system palette's muted colour.

    Readable in light and dark palettes; a fixed grey was grey on grey in a dark one.
    """
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def delta_text(stat, kind: str) -> tuple[str, bool]:
    r"""('Δ +¥1.2 M\n(+¥0.4 to +¥2.0 M)', within_noise) for a paired difference."""
    lo, hi = getattr(stat, "ci95_low", math.nan), getattr(stat, "ci95_high", math.nan)
    if stat.mean == 0 and lo == 0 and hi == 0:
        return "Δ none: this edit does not change it", True
    head = f"Δ {delta(stat.mean, kind)}"
    if not (_finite(lo) and _finite(hi)):
        return f"{head} (no interval yet)", True
    ci = delta_interval(lo, hi, kind)
    if lo <= 0 <= hi:
        return f"{head}, within noise\n({ci})", True
    return f"{head}\n({ci})", False


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
        self.stale = False
        self.boxes = {m: KpiBox(m) for m in (metrics or STRIP)}
        for b in self.boxes.values():
            row.addWidget(b, 1)
            b.value.on_resized = self._even_out

    def _even_out(self) -> None:
        """The figures at one size: the largest at which all fit their boxes.

        Not below the normal text size: a figure that needs a smaller one (a long
        "month 11.0" in a narrow box) takes it alone.
        """
        cap = max(min(b.value.best_size() for b in self.boxes.values()),
                  QFont(self.font()).pointSizeF())
        for b in self.boxes.values():
            b.value.set_cap(cap)
        # titles as tall as the tallest, so the figures stand on one line ("Discounted LTV
        # per customer" wraps to three lines at 1366 px and put its figure a line lower)
        tall = max(b.title.heightForWidth(max(b.title.width(), 1)) for b in self.boxes.values())
        for b in self.boxes.values():
            if b.title.minimumHeight() != tall:
                b.title.setMinimumHeight(tall)

    def show_summary(self, summary: dict, caption: str, deltas: dict | None = None) -> None:
        """Fill the boxes from ``res.summary`` (and the last edit's changes, if given)."""
        for m, box in self.boxes.items():
            box.set_stat(summary.get(m))
            box.set_delta((deltas or {}).get(m))
        self._even_out()
        self.caption.setText(caption)
        self.set_stale(False)

    def clear(self, caption: str) -> None:
        """No figures (another scenario was opened, or its run failed)."""
        for box in self.boxes.values():
            box.set_stat(None)
            box.set_delta(None)
            box.setToolTip("")
        self.caption.setText(caption)
        self.set_stale(False)

    def set_stale(self, stale: bool) -> None:
        """Grey the figures out: they belong to an earlier version of the scenario."""
        self.stale = stale
        for box in self.boxes.values():
            box.setEnabled(not stale)
            if stale:
                box.delta_label.hide()  # the change shown was that of an earlier edit

    def set_caption(self, text: str) -> None:
        """Say what is shown (or why nothing is)."""
        self.caption.setText(text)

    def value_of(self, metric: str) -> float:
        """The mean shown for a metric (NaN if none)."""
        st = self.boxes[metric].stat
        return float("nan") if st is None else float(st.mean)
