"""Chart axes whose tick labels read as money (¥1.2 M) or counts (350 k).

Part of the result charts (:mod:`ui.charts` re-exports these names).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF


class MoneyAxis(pg.AxisItem):
    """Tick labels as ¥1.2 M / ¥350 k."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    SYMBOL = "¥"

    def tickStrings(self, values, scale, spacing):  # noqa: N802, D102
        return money_ticks([v * scale for v in values], spacing * scale, self.SYMBOL)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        """The tick levels of pyqtgraph, thinned on a short vertical axis.

        Labels stay at least half a line apart: on a plot ~50 px high (two charts a row at
        1920 x 1080) '80 k / 60 k / 40 k / 20 k' and '12 / 10 / 8 / 6' were stacked with
        under a pixel between them. The finest levels whose labels fit are kept; if none
        fits, one level at the finest multiple of a level's spacing (2, 4, 5, 10, … times)
        that fits and still labels two ticks; failing that, pyqtgraph's levels stay.
        """
        levels = super().tickSpacing(minVal, maxVal, size)
        lo, hi = sorted((minVal, maxVal))
        if self.orientation not in ("left", "right") or not levels or hi == lo or size <= 0:
            return levels
        font = self.style.get("tickFont") or QFont()
        line = QFontMetricsF(font).height()
        px = size / (hi - lo)  # pixels per unit
        fits = [lv for lv in levels if lv[0] * px >= 1.5 * line]
        if fits:
            return fits if len(fits) < len(levels) else levels
        margin = line / 2 / px  # a label centred nearer the end than this is not drawn
        for spacing in sorted({lv[0] * m for lv in levels for m in (2, 4, 5, 10, 20, 40, 50)}):
            labelled = math.floor((hi - margin) / spacing) - math.ceil((lo + margin) / spacing) + 1
            if spacing * px >= 1.5 * line and labelled >= 2:
                return [(spacing, 0)]
        return levels

    def resizeEvent(self, ev=None):  # noqa: N802 - Qt's name
        """Place the axis label as pyqtgraph does, but never outside the axis.

        pyqtgraph puts a left axis's rotated label 5 px left of the axis, which starts at
        the chart's edge: "hours" and "customers" were cut at the left.
        """
        super().resizeEvent(ev)
        if self.label is not None and self.orientation == "left":
            r = self.label.mapRectToParent(self.label.boundingRect())
            if r.left() < 0:
                self.label.moveBy(-r.left(), 0)


class CountAxis(MoneyAxis):
    """Tick labels as 15 M / 350 k / 0.5 (customers, points, hours), never '1.5e+07'."""

    SYMBOL = ""


def money_ticks(values, spacing: float, symbol: str = "¥") -> list[str]:
    """Tick labels in one unit (k/M/B of the largest tick).

    As many decimals as the tick spacing needs, so neighbouring ticks never read the
    same ('¥1.1 B, ¥1.1 B').
    """
    if not len(values):
        return []
    big = max(abs(float(v)) for v in values)
    if big >= 1e9:
        div, suf = 1e9, " B"
    elif big >= 1e6:
        div, suf = 1e6, " M"
    elif big >= 1e4:
        div, suf = 1e3, " k"
    else:
        div, suf = 1.0, ""
    step = abs(spacing) / div if spacing else 0.0
    dec = 0 if step <= 0 or step >= 1 else min(6, math.ceil(-math.log10(step) - 1e-9))
    if step and dec < 6 and abs(round(step, dec) - step) > step * 1e-6:
        dec += 1  # 0.25 steps need two decimals, not one
    out = []
    for v in values:
        x = float(v) / div
        sign = "−" if x < 0 and round(abs(x), dec) != 0 else ""
        out.append(f"{sign}{symbol}{abs(x):,.{dec}f}{suf}")
    return out
