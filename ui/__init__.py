"""The PySide6 desktop app: library, editor, live preview, full runs, charts, compare.

Views subscribe to :class:`ui.document.ScenarioDocument`; all numbers come from
the engine (:mod:`simulator.runner`). Nothing in ``simulator/`` imports this.
"""
