"""The generic worker: progress, items, result, failure and cancellation; the stall meter."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from companion.core.errors import CompanionError
from companion.core.types import Progress
from companion.ui.stall import StallMeter
from companion.ui.workers import WorkerPool


def test_generator_items_progress_and_result(qtbot, workers: WorkerPool) -> None:
    def job(_cancel: Any) -> Any:
        for i in range(3):
            yield Progress("step", i + 1, 3)
            yield f"item {i}"
        return "done"

    progress, items, threads = [], [], set()
    worker = workers.start(job)
    worker.signals.progress.connect(progress.append)
    worker.signals.item.connect(lambda value: (items.append(value), threads.add(threading.current_thread())))
    with qtbot.waitSignal(worker.signals.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == ["done"]
    assert [p.done for p in progress] == [1, 2, 3]
    assert items == ["item 0", "item 1", "item 2"]
    assert threads == {threading.main_thread()}  # slots run on the GUI thread, not the worker's


def test_failure_is_a_message(qtbot, workers: WorkerPool) -> None:
    def job(_cancel: Any) -> None:
        raise CompanionError("the disk is full")

    worker = workers.start(job)
    with qtbot.waitSignal(worker.signals.failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["the disk is full"]


def test_cancel_stops_the_generator_and_runs_its_cleanup(qtbot, workers: WorkerPool) -> None:
    cleaned = threading.Event()

    def job(cancel: threading.Event) -> Any:
        try:
            while not cancel.wait(0.005):
                yield "tick"
        finally:
            cleaned.set()

    worker = workers.start(job)
    with qtbot.waitSignal(worker.signals.item, timeout=5000):
        pass
    with qtbot.waitSignal(worker.signals.finished, timeout=5000) as blocker:
        worker.cancel()
    assert blocker.args == [None]
    assert cleaned.is_set()


def test_a_busy_worker_leaves_the_event_loop_running(qtbot, workers: WorkerPool) -> None:
    """CPU-bound Python work on a worker leaves the GUI thread running (how long its longest gap is, against
    the 50 ms target, is benchmarks/gui.py's figure)."""
    def job(_cancel: Any) -> Any:
        data = b"x" * 200_000
        for i in range(200):
            data = hashlib.sha256(data).digest() * 6250  # releases the GIL
            sum(n * n for n in range(30_000))  # holds the GIL: pure Python work
            yield Progress("work", i + 1, 200)

    meter = StallMeter(5)
    meter.start()
    worker = workers.start(job)
    with qtbot.waitSignal(worker.signals.finished, timeout=60_000):
        pass
    meter.stop()
    assert meter.ticks > 10
