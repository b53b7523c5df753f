"""Cyclic garbage is finalised on the GUI thread, never in a worker thread.

A collection started by a worker thread's allocations used to finalise a closed
window's Qt objects there and deadlock the app (GIL vs Qt's object mutex).
"""

import gc
import threading

from ui.workers import TaskRunner


class _Cycle:
    finalised_in: list[str] = []

    def __init__(self):
        self.me = self

    def __del__(self):
        _Cycle.finalised_in.append(threading.current_thread().name)


def test_cycles_made_in_a_worker_thread_are_collected_on_the_gui_thread(qtbot):
    runner = TaskRunner("gc-test")
    try:
        _Cycle.finalised_in.clear()

        def churn():
            # Enough cyclic garbage and allocations to pass every generation's threshold:
            # with automatic collection the worker thread would finalise these itself.
            for _ in range(20_000):
                _Cycle()
                [[] for _ in range(3)]

        t = threading.Thread(target=churn, name="worker")
        t.start()
        t.join()
        assert not gc.isenabled()
        assert "worker" not in _Cycle.finalised_in
        qtbot.waitUntil(lambda: len(_Cycle.finalised_in) >= 20_000, timeout=5_000)
        assert set(_Cycle.finalised_in) == {threading.main_thread().name}
    finally:
        runner.shutdown()
