"""Running tasks on the back end in force (:func:`execute`) and choosing it (:func:`configure`)."""

from __future__ import annotations

from typing import Any, Callable, Hashable, Sequence

from simulator.engine import ArmOutput
from simulator.execution import backend
from simulator.execution.backend import current, parse_spec
from simulator.execution.cluster import _DASK_LOCK, _DASK_STATE, _close_dask, _execute_dask
from simulator.execution.local_pool import run_local, start_pool
from simulator.execution.tasks import Task


def configure(spec: str | None) -> str:
    """Choose the back end for this process (None: back to ``$BENEFIT_SIM_CLUSTER``).

    Returns the normalised choice. Connecting happens at the first run; a
    different choice closes the cluster this process started before.
    """
    new = None if spec is None else parse_spec(spec)
    with _DASK_LOCK:
        backend._CHOSEN = new
    if current() != _DASK_STATE.get("spec"):
        _close_dask()
    return current()


def execute(tasks: Sequence[Task], *, workers: int = 1,
            on_result: Callable[[Task, Any], None] | None = None,
            cancel=None) -> dict[Hashable, tuple[ArmOutput, ArmOutput | None]]:
    """Run ``tasks`` on the back end in force; results keyed by ``task.key``.

    ``on_result(task, result)`` is called (in the caller's thread) as each
    result arrives, in completion order. ``cancel.is_set()`` is looked at at
    least every POLL_SECONDS; it raises :class:`Cancelled` after stopping the
    tasks (a cluster's running tasks stop at their next month). ``workers``
    caps this call's tasks in flight on the local pool (1: in this process); a
    cluster runs as many at once as it has worker threads.
    """
    spec = current()
    if spec != "local":
        return _execute_dask(spec, tasks, on_result, cancel)
    return run_local(tasks, workers, on_result, cancel)


def prepare(workers: int) -> None:
    """Get the back end ready for a batch of up to ``workers`` tasks in flight, not waiting.

    The local pool's workers start (and import the engine) while the caller plans the
    batch; a cluster connects at :func:`execute` as before.
    """
    if workers > 1 and current() == "local":
        start_pool()
