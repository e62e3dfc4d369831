"""Locks that hold across processes: the window, ``companion watch`` and a command can share one profile.

One lock file per job in the profile's ``locks`` folder (``Paths.locks_dir``), taken with
``filelock`` (``flock`` on POSIX, ``LockFileEx`` on Windows). The operating system drops such
a lock when its process ends, so a ``kill -9`` never leaves a profile locked. A
``threading.Lock`` in front of it orders the threads of one process, so the file lock is only
ever taken by one thread at a time.

Waiting is a generator: :meth:`ProfileLock.wait` yields a ``Progress`` now and then, so a
window or a command can say what it waits for, and gives up when ``cancel`` is set.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path

from filelock import FileLock, Timeout

from companion.core.types import Progress

POLL_SECONDS = 0.2
REPORT_EVERY = 5          # polls between two "waiting" progress reports (about a second)


class ProfileLock:
    """A lock shared by every thread and process that opens this profile."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._threads = threading.Lock()
        self._file: FileLock | None = None

    def try_acquire(self, timeout: float = 0.0) -> bool:
        """Take the lock if it is free within ``timeout`` seconds (0: only if free now)."""
        held = self._threads.acquire(timeout=timeout) if timeout > 0 else self._threads.acquire(blocking=False)
        if not held:
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.path))
            lock.acquire(timeout=timeout)
        except Timeout:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        self._file = lock
        return True

    def release(self) -> None:
        lock, self._file = self._file, None
        if lock is not None:
            lock.release()
        self._threads.release()

    def wait(self, cancel: threading.Event | None, stage: str, message: str) -> Generator[Progress, None, bool]:
        """Take the lock, yielding ``Progress(stage, 0, None, message)`` while someone else holds it.

        Returns True once held (the caller must :meth:`release` it), False when ``cancel`` was set first.
        """
        polls = 0
        while not self.try_acquire(POLL_SECONDS):
            if cancel is not None and cancel.is_set():
                return False
            if polls % REPORT_EVERY == 0:
                yield Progress(stage, 0, None, message)
            polls += 1
        return True
