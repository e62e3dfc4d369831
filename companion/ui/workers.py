"""Run core generators off the GUI thread and re-emit what they yield as Qt signals.

A job is ``job(cancel: threading.Event)``. When it returns an iterator, the
worker iterates it on a :class:`QThreadPool` thread: ``Progress`` values go out
as ``progress``, everything else as ``item``; the generator's return value
goes out with ``finished``. A plain return value goes out with ``finished``
too. Cancelling sets the event (which core generators check) and stops
iterating at the next item.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from companion.core.errors import CompanionError
from companion.core.types import Progress
from companion.ui.qt import QObject, QRunnable, QtCore, QThreadPool, QTimer, Signal, emit

QCoreApplication, QEvent = QtCore.QCoreApplication, QtCore.QEvent

log = logging.getLogger(__name__)

Job = Callable[["CancelToken"], Any]


class CancelToken(threading.Event):
    """The cancel event handed to a job; ``report`` sends progress from callback-style APIs.

    Core generators only see a ``threading.Event``; jobs wrapping an API that
    reports through a callback (a download) call ``token.report(progress)``.
    """

    def __init__(self, report: Callable[[Progress], None]) -> None:
        super().__init__()
        self.report = report


class WorkerSignals(QObject):
    """Signals of one :class:`Worker`; lives in the GUI thread so slots run there.

    Signals:
        progress(object): a :class:`~companion.core.types.Progress` yielded by the job.
        item(object): any other value yielded by the job.
        finished(object): the job's result (None when cancelled).
        error(object): the job raised this ``CompanionError`` (its ``action`` is a next step the
            window can offer); ``failed`` follows.
        failed(str): a message a user can read (an error's ``window_text()``: no command lines); the job stopped.
    """

    progress = Signal(object)
    item = Signal(object)
    finished = Signal(object)
    error = Signal(object)
    failed = Signal(str)


class Worker(QRunnable):
    """One job on the thread pool; see the module docstring."""

    def __init__(self, job: Job, name: str = "job") -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps a Python reference until it is done
        self.job = job
        self.name = name
        self.signals = WorkerSignals()
        self.cancel_event = CancelToken(lambda value: emit(self.signals.progress, value))
        self.done = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:  # runs on a pool thread
        try:
            result = self.job(self.cancel_event)
            if isinstance(result, Iterator):
                result = self._drain(result)
            emit(self.signals.finished, None if self.cancelled else result)
        except CompanionError as exc:
            emit(self.signals.error, exc)
            emit(self.signals.failed, exc.window_text())
        except Exception as exc:
            log.exception("%s failed", self.name)
            emit(self.signals.failed, f"{self.name} failed: {type(exc).__name__}: {exc}")
        finally:
            self.done.set()

    def _drain(self, iterator: Iterator[Any]) -> Any:
        while True:
            if self.cancelled:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()  # lets the generator's finally blocks release what they hold
                return None
            try:
                value = next(iterator)
            except StopIteration as stop:
                return stop.value
            if isinstance(value, Progress):
                emit(self.signals.progress, value)
            else:
                emit(self.signals.item, value)


class WorkerPool(QObject):
    """Starts workers, keeps them alive while they run, and cancels them all at shutdown.

    Signals:
        busy_changed(int): how many workers are running now.
    """

    busy_changed = Signal(int)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._running: set[Worker] = set()
        self.closed = False

    def start(self, job: Job, name: str = "job") -> Worker:
        """Run ``job`` on the pool; connect to ``worker.signals`` before control returns to Qt."""
        worker = Worker(job, name)
        if self.closed:          # shut down: a late timer must not run jobs on a closed store
            worker.cancel()
            worker.done.set()
            return worker
        self._running.add(worker)
        worker.signals.finished.connect(lambda _r, w=worker: self._forget(w))
        worker.signals.failed.connect(lambda _m, w=worker: self._forget(w))
        # Start on the next loop iteration: the caller connects its slots first, so no
        # signal (even from a job that ends at once) can be emitted before anyone listens.
        QTimer.singleShot(0, lambda w=worker: self._launch(w))
        emit(self.busy_changed, len(self._running))
        return worker

    def _launch(self, worker: Worker) -> None:
        if worker.cancelled:  # cancelled (or shut down) before it ever ran
            worker.done.set()
            emit(worker.signals.finished, None)
        else:
            self.pool.start(worker)

    def _forget(self, worker: Worker) -> None:
        self._running.discard(worker)
        try:
            emit(self.busy_changed, len(self._running))
        except RuntimeError:     # the pool's window was deleted while this job's last signal was queued
            pass

    @property
    def running(self) -> int:
        return len(self._running)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every worker and wait for the pool; True when all stopped in time. Later jobs never run."""
        self.closed = True
        for worker in list(self._running):
            worker.cancel()
        stopped = bool(self.pool.waitForDone(timeout_ms))  # never-launched workers hold no thread
        # Deliver the signals the jobs queued while their receivers (the window's views) still exist.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.MetaCall)
        return stopped
