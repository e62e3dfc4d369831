"""Watched folders -> a debounced, de-duplicated queue of photo paths (watchdog).

File systems report one save as several events (create, modify, modify...),
and a copy of 500 photos as 1000+. :class:`PhotoWatcher` collects them and,
once nothing has happened for ``quiet_seconds``, hands one batch of
:class:`PathEvent` (latest kind per path) to ``on_batch``; the composition root
indexes just those files. A move becomes "deleted old + created new", which the
indexer recognises as a move by content hash.

A watched folder that is deleted while watched is reported through
``on_status`` and watched again if it comes back; the watcher never dies on it.
A batch whose ``on_batch`` fails (the database stayed locked by a long import, a
model failed) is not dropped: its events go back into the queue (newer events for
the same path win) and are tried again after a backoff, 1 s doubling to at most
:data:`RETRY_MAX_SECONDS`, until a batch succeeds.
This module may import watchdog and the core, never Qt.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from companion.core.library.scan import is_photo_name

DEFAULT_QUIET_SECONDS = 0.5
FOLDER_CHECK_SECONDS = 1.0
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0


Change = Literal["created", "modified", "deleted"]


@dataclass(frozen=True)
class PathEvent:
    kind: Change
    path: str


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "PhotoWatcher") -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory:
            if event.event_type in ("deleted", "moved"):
                # Files under a removed/renamed folder may not get their own events.
                self.watcher._push("deleted", os.fsdecode(event.src_path), folder=True)
            if event.event_type in ("created", "moved"):
                dest = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
                self.watcher._push("created", dest, folder=True)
            return
        if event.event_type == "moved":
            self.watcher._push("deleted", os.fsdecode(event.src_path))
            self.watcher._push("created", os.fsdecode(event.dest_path))
        elif event.event_type in ("created", "modified", "closed"):
            self.watcher._push("modified" if event.event_type != "created" else "created",
                               os.fsdecode(event.src_path))
        elif event.event_type == "deleted":
            self.watcher._push("deleted", os.fsdecode(event.src_path))


class PhotoWatcher:
    """Watch folders and call ``on_batch(list[PathEvent])`` after each quiet period.

    ``on_batch`` runs on the watcher's own thread, one batch at a time; events
    that arrive meanwhile wait for the next batch. ``on_status(str)`` gets
    messages such as a watched folder disappearing.
    """

    def __init__(self, folders: Sequence[str | Path], on_batch: Callable[[list[PathEvent]], Any],
                 on_status: Callable[[str], Any] | None = None, quiet_seconds: float = DEFAULT_QUIET_SECONDS,
                 observer_factory: Callable[[], Any] = Observer) -> None:
        self.folders = [os.path.abspath(os.path.expanduser(str(f))) for f in folders]
        self.on_batch = on_batch
        self.on_status = on_status or (lambda message: None)
        self.quiet_seconds = quiet_seconds
        self._observer_factory = observer_factory
        self._observer: Any = None
        self._handler = _Handler(self)
        self._watches: dict[str, Any] = {}
        self._pending: dict[str, Change] = {}
        self._last_event = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0          # no batch before this (monotonic) time: the last one failed
        self._failures = 0            # batches in a row that failed
        self.batches = 0

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> "PhotoWatcher":
        self._observer = self._observer_factory()
        self._observer.daemon = True
        for folder in self.folders:
            self._schedule(folder)
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="photo-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> "PhotoWatcher":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> threading.Event:
        """Set once ``stop()`` is called; long work in ``on_batch`` should check it."""
        return self._stop

    @property
    def watching(self) -> list[str]:
        return sorted(self._watches)

    # ---- internals ----------------------------------------------------------------------

    def _schedule(self, folder: str) -> None:
        if not os.path.isdir(folder):
            self.on_status(f"watched folder not found: {folder}")
            return
        try:
            self._watches[folder] = self._observer.schedule(self._handler, folder, recursive=True)
        except OSError as exc:   # permission denied, too many inotify watches, ...
            self.on_status(f"cannot watch {folder}: {exc.strerror or exc}")

    def _push(self, kind: Change, path: str, folder: bool = False) -> None:
        if not folder and not is_photo_name(path):
            return
        if any(part.startswith(".") for part in Path(path).parts[1:]):
            return   # hidden files and folders are never indexed
        with self._lock:
            previous = self._pending.get(path)
            # created-then-modified stays "created"; anything then deleted is "deleted".
            self._pending[path] = "created" if previous == "created" and kind == "modified" else kind
            self._last_event = time.monotonic()
        self._wake.set()

    def _take_batch(self) -> list[PathEvent]:
        with self._lock:
            batch = [PathEvent(kind, path) for path, kind in self._pending.items()]
            self._pending.clear()
        return batch

    def _requeue(self, batch: list[PathEvent]) -> float:
        """Put a failed batch back (events that came since are newer and win); returns the wait before retrying."""
        self._failures += 1
        delay = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (self._failures - 1))
        with self._lock:
            for event in batch:
                self._pending.setdefault(event.path, event.kind)
            self._retry_at = time.monotonic() + delay
        return delay

    @property
    def queued(self) -> int:
        """Paths waiting for the next batch (including a failed batch's, waiting for its retry)."""
        with self._lock:
            return len(self._pending)

    def _check_folders(self) -> None:
        """Notice watched folders that vanished (or came back) and re-arm them."""
        for folder in self.folders:
            exists = os.path.isdir(folder)
            if folder in self._watches and not exists:
                watch = self._watches.pop(folder)
                try:
                    self._observer.unschedule(watch)
                except (KeyError, OSError, ValueError):
                    pass   # the backend already dropped it with the folder
                self.on_status(f"watched folder was deleted: {folder}")
                self._push("deleted", folder, folder=True)
            elif folder not in self._watches and exists:
                self._schedule(folder)
                if folder in self._watches:
                    self.on_status(f"watching again: {folder}")
                    self._push("created", folder, folder=True)

    def _run(self) -> None:
        next_check = time.monotonic() + FOLDER_CHECK_SECONDS
        while not self._stop.is_set():
            self._wake.wait(timeout=min(self.quiet_seconds, FOLDER_CHECK_SECONDS))
            self._wake.clear()
            now = time.monotonic()
            if now >= next_check:
                self._check_folders()
                next_check = now + FOLDER_CHECK_SECONDS
            with self._lock:
                ready_at = max(self._last_event + self.quiet_seconds, self._retry_at)
                ready = bool(self._pending) and now >= ready_at
            if not ready:
                if self._pending:   # wake again when the quiet period (or the retry's wait) ends
                    self._stop.wait(min(FOLDER_CHECK_SECONDS, max(0.0, ready_at - now)) + 0.01)
                continue
            batch = self._take_batch()
            self.batches += 1
            try:
                self.on_batch(batch)
            except Exception as exc:  # noqa: BLE001 - one failed batch must not end watching or lose its files
                if self._stop.is_set():
                    return
                delay = self._requeue(batch)
                self.on_status(f"indexing failed: {exc}; {len(batch)} file(s) queued, trying again in {delay:.0f} s")
            else:
                self._failures = 0
