"""Chart colours: the series palette and colours taken from the application palette.

Part of the result charts (:mod:`ui.charts` re-exports these names). Importing this
module sets pyqtgraph's global options, before any plot is made.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

pg.setConfigOptions(antialias=True, background="w", foreground="#333")  # before a palette applies

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def color(i: int, alpha: int = 255) -> QColor:
    """The i-th series colour."""
    c = QColor(PALETTE[i % len(PALETTE)])
    c.setAlpha(alpha)
    return c


def chart_colors(pal: QPalette) -> dict[str, QColor]:
    """Chart colours from the application palette.

    Background (Base), text and axes (WindowText), secondary lines (PlaceholderText,
    as the KPI strip's captions).
    """
    return {"background": QColor(pal.color(QPalette.ColorRole.Base)),
            "foreground": QColor(pal.color(QPalette.ColorRole.WindowText)),
            "muted": QColor(pal.color(QPalette.ColorRole.PlaceholderText))}


def muted_text_color(pal: QPalette) -> QColor:
    """Secondary text (notes, hints) a step softer than the palette's text, still readable.

    A third of the way from WindowText to Window: #505050 on the app's light palette
    (7.0:1), #a9a9a9 on the dark one (6.0:1; a fixed #555 was 1.9:1 there).
    """
    fg, bg = pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Window)
    return QColor(*(round(a + (b - a) / 3) for a, b in ((fg.red(), bg.red()),
                                                        (fg.green(), bg.green()),
                                                        (fg.blue(), bg.blue()))))


def good_bad_color(good: bool, pal: QPalette) -> QColor:
    """Green/red text for a better/worse (or up/down) figure, readable on the palette's base.

    Light shades on a dark palette, dark shades on a light one: dark red on dark grey
    and mid green on light grey were unreadable (contrast under 3:1). Used by the
    compare deltas, the optimiser's spend changes and the KPI strip's edit deltas.
    """
    dark = pal.color(QPalette.ColorRole.Base).lightness() < 128
    if dark:
        return QColor("#7ddc8a") if good else QColor("#ff8a80")
    return QColor("#006400") if good else QColor("#8b0000")
