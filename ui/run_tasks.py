"""Engine runs as worker-thread tasks of the GUI, and their failures as a planner reads them.

:func:`run_task` wraps one run of a scenario (base scenario and customer file resolved
by the one loader) for a :class:`~ui.workers.TaskRunner`; the preview, the full run and
"why different" use it. :func:`error_text` turns a failed task's message into text for
the status line.
"""

from __future__ import annotations

from simulator.scenario import Scenario


def base_for(sc: Scenario, path=None) -> Scenario | None:
    """The base scenario of ``counterfactual.mode = 'base_scenario'`` (None otherwise).

    Resolved by the one loader (:func:`simulator.loader.base_of`): relative to ``path``
    (the scenario's file) when given, else in the shipped and user folders.
    """
    from simulator.loader import base_of

    return base_of(sc, path)


def run_task(sc: Scenario, path=None, **kwargs):
    """A TaskRunner task running the engine on ``sc`` (a private copy).

    ``path`` is the scenario's file, against which a base scenario's name is resolved.
    """
    def task(progress, cancel):
        from simulator.loader import loaded_from
        from simulator.runner import run

        # The one loader: the base scenario and the customer file, relative to ``path``.
        ld = loaded_from(sc, path)
        return run(ld.scenario, progress=progress, cancel=cancel, base=ld.base_scenario,
                   **kwargs)
    return task


def error_text(message: str) -> str:
    """The failure as a planner reads it.

    The message with every problem listed, without the exception's class name and the
    traceback that follows it.
    """
    text = message.split("\n\n")[0].strip()
    head, sep, rest = text.partition(": ")
    if sep and head.isidentifier() and (head.endswith("Error") or head.endswith("Exception")):
        text = rest
    return text
