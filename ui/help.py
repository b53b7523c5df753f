"""Help ▸ KPI definitions, the model's assumptions, and where the shipped figures come from.

Three pages in one window (a QTextBrowser each, no network: links are not
followed). Their text comes from where it is kept, never a second copy:

- KPI definitions: the metric catalogue (:data:`simulator.metrics.METRICS`);
- the model and its assumptions: ``docs/MODEL_NOTES.md``;
- each shipped scenario: its file's header comment (the source notes every file
  carries) and its section of ``docs/SCENARIOS.md`` with the file's description
  when the docs are not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QTextBrowser, QVBoxLayout

import scenarios
from simulator.metrics import METRICS

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {"kpis": "KPI definitions", "model": "Model and assumptions",
         "sources": "Where the shipped figures come from"}
_BETTER = {True: "higher", False: "lower", None: "neither (a size)"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def kpi_page() -> str:
    """Markdown: every figure of the metric catalogue with its unit and definition."""
    rows = ["# KPI definitions", "",
            "Every figure the app, the command line and the workbook report, as the metric "
            "catalogue defines it. Intervals are 95 % intervals over the replications; "
            "P10/P50/P90 in a figure's tooltip are the spread over replications.", "",
            "| Figure | Unit | Better | Definition |", "|---|---|---|---|"]
    for m in METRICS.values():
        rows.append(f"| {_cell(m.label)} | {_cell(m.unit)} | {_BETTER[m.higher_is_better]} "
                    f"| {_cell(m.definition)} |")
    return "\n".join(rows) + "\n"


def _doc(name: str) -> str | None:
    try:
        return (DOCS / name).read_text(encoding="utf-8")
    except OSError:
        return None


def model_page() -> str:
    """Markdown: the model's design note with its assumptions (docs/MODEL_NOTES.md)."""
    text = _doc("MODEL_NOTES.md")
    if text is None:
        return ("# Model and assumptions\n\nThe model notes (docs/MODEL_NOTES.md) are not "
                "installed with this copy of the program.\n")
    return text


def _header_comment(path: Path) -> str:
    lines = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("#"):
                    break
                lines.append(line[1:].strip())
    except OSError:
        return ""
    return " ".join(lines)


def _scenario_sections() -> dict[str, str]:
    """``docs/SCENARIOS.md`` split by scenario key (its ``### `key` — title`` sections)."""
    text = _doc("SCENARIOS.md") or ""
    out: dict[str, str] = {}
    parts = re.split(r"^### `([^`]+)`[^\n]*\n", text, flags=re.M)
    for key, body in zip(parts[1::2], parts[2::2]):
        out[key] = re.split(r"^#{1,3} ", body, maxsplit=1, flags=re.M)[0].strip()
    return out


def sources_page() -> str:
    """Markdown: per shipped scenario, its file's source notes and what it is built from."""
    sections = _scenario_sections()
    rows = ["# Where the shipped scenarios' figures come from", "",
            "Every parameter line of a shipped scenario file says where its number comes "
            "from: a study figure (cited by letter), CALIBRATED (tuned to a study target), "
            "derived, or an assumption (a modeller's choice). Open a file in a text editor "
            "to read them line by line.", ""]
    for e in scenarios.list_shipped():
        rows += [f"## {e.title}", "", f"File: {e.path.name}", ""]
        head = _header_comment(e.path)
        if head:
            rows += [f"*Source notes:* {head}", ""]
        if e.key in sections:
            rows += [sections[e.key], ""]
        else:  # docs not installed: the file's own description
            rows += [_description(e.path), ""]
    extra = _doc("SCENARIOS.md") or ""
    marker = "## Which figures are assumptions"
    if marker in extra:
        rows += [marker, "", extra.split(marker, 1)[1].strip(), ""]
    return "\n".join(rows) + "\n"


def _description(path: Path) -> str:
    from simulator.scenario_io import load

    try:
        return load(path).description
    except Exception:  # noqa: BLE001 - a broken file shows no description
        return ""


class HelpWindow(QDialog):
    """The help pages in tabs; no network (links are not followed)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("benefit-sim help")
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.pages: dict[str, QTextBrowser] = {}
        for key, title, text in (("kpis", PAGES["kpis"], kpi_page()),
                                 ("model", PAGES["model"], model_page()),
                                 ("sources", PAGES["sources"], sources_page())):
            b = QTextBrowser()
            b.setObjectName(f"help_{key}")
            b.setOpenLinks(False)  # nothing is fetched, local or remote
            b.setOpenExternalLinks(False)
            b.setMarkdown(text)
            self.pages[key] = b
            self.tabs.addTab(b, title)
        lay.addWidget(self.tabs)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.close)
        lay.addWidget(bb)
        self.resize(900, 640)

    def show_page(self, key: str) -> None:
        """Bring the window up at one page (``kpis``, ``model`` or ``sources``)."""
        self.tabs.setCurrentWidget(self.pages[key])
        screen = self.screen()
        if screen is not None:  # inside a small screen (1366 x 768, 1.5x scaling)
            avail = screen.availableGeometry()
            self.resize(min(self.width(), avail.width() - 40),
                        min(self.height(), avail.height() - 60))
        self.show()
        self.raise_()
        self.activateWindow()
