"""A backend object that lives in a child process and is called through a pipe.

Native code that holds the GIL for long (dlib) or that can crash (llama.cpp,
dlib) runs in a child, so it neither freezes the window nor takes the app and
the user's unsaved chat down with it: a crash there ends the child, and this
process gets a :class:`ChildDied` instead of a segfault.

A plain "spawn" ``multiprocessing.Process`` and a ``Pipe`` (the same on Linux,
macOS and Windows, safe next to threads; the frozen app calls
``multiprocessing.freeze_support``) rather than ``ProcessPoolExecutor``: Python
3.11's pool hung forever on its next call after its worker was killed while idle,
while a dead child here ends the pipe and fails every waiting call at once.

The child builds ``factory()`` (a picklable callable: a class, or a
``functools.partial`` of one) and serves calls in the order they were sent; several
may be in flight (the two indexing threads each send a photo, so the child never
idles between them). A call names the method itself, not its name as a string
(``child.call(DlibFaceBackend.detect, pixels)``: pickled by reference, checked by
mypy against the object the child builds), and returns one value; a stream yields
parts until the method's generator ends and can be cancelled while it runs.
Exceptions raised in the child are raised here.

Only the reader thread closes our end of the pipe, once it has stopped reading:
closing a ``Connection`` while another thread is inside ``recv()`` made that
``recv()`` die with ``TypeError`` (the handle became None between two reads).
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

_STOP_SECONDS = 5.0        # how long stop() waits for the child before killing it
_POLL_SECONDS = 0.5        # how often an idle reader checks whether its child was stopped
_END = object()            # marks the end of a call's answers in its queue

T = TypeVar("T")           # the object the child builds
A = TypeVar("A")
R = TypeVar("R")
P = ParamSpec("P")
# What crosses the pipe to the child: (kind, sequence number, (method, args, kwargs)).
Message = tuple[str, int, tuple[Any, ...]]


def process_time(_target: object) -> float:
    """A call every child answers: the CPU seconds it has used so far."""
    return time.process_time()


class ChildDied(Exception):
    """The child ended before answering (killed, out of memory, crashed, or stopped)."""

    def __init__(self, message: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.exitcode = exitcode


class ChildProcess(Generic[T]):
    """One running child: its process, our end of the pipe and the calls it has not answered yet."""

    def __init__(self, factory: Callable[[], T], name: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process: BaseProcess = context.Process(target=_serve, args=(theirs, factory),
                                                    name=name, daemon=True)
        self.process.start()
        theirs.close()   # only the child holds its end: its death then ends our reads and writes
        self._lock = threading.Lock()          # guards _waiting and _dead
        self._send_lock = threading.Lock()     # one message on the pipe at a time
        self._waiting: deque[queue.SimpleQueue[Any]] = deque()
        self._dead = False
        self._stopping = False
        self._sent = 0                         # sequence number of the last call sent
        self._reader = threading.Thread(target=self._read_answers, name=f"{name}-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return not self._dead and self.process.is_alive()

    def call(self, method: Callable[Concatenate[T, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``method(target, *args, **kwargs)`` on the child's object; its return value."""
        _, answers = self._send("call", (method, args, kwargs))
        result = _END
        while (item := answers.get()) is not _END:
            result = item
        value: R = self._unwrap(result)
        return value

    def stream(self, method: Callable[[T, A, threading.Event], Iterable[R]], argument: A,
               cancel: threading.Event | None = None) -> Iterator[R]:
        """The parts ``method(target, argument, event)`` yields in the child.

        Setting ``cancel`` sets the child's event (checked here as each part arrives), so its
        generator can stop early; the parts it still sends are read and dropped. Closing this
        generator before the end cancels too: nobody reads the rest.
        """
        seq, answers = self._send("stream", (method, (argument,), {}))
        cancelled = False
        try:
            while (item := answers.get()) is not _END:
                kind, value = item
                if kind != "part":
                    self._unwrap(item)
                elif cancel is not None and cancel.is_set():
                    if not cancelled:
                        self._post(("cancel", seq, ()))
                        cancelled = True
                else:
                    yield value
        except GeneratorExit:
            if not cancelled:
                self._post(("cancel", seq, ()))
            raise

    def stop(self) -> None:
        """End the child (politely, then by force), fail whatever it has not answered, and wait
        for the reader thread to close our end of the pipe."""
        self._post(("stop", 0, ()))
        self.process.join(_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._stopping = True                  # the reader ends at EOF, or at its next poll
        if self._reader is not threading.current_thread():
            self._reader.join(_STOP_SECONDS + 2 * _POLL_SECONDS)

    # ---- our side of the pipe -------------------------------------------------------

    def _send(self, kind: str, payload: tuple[Any, ...]) -> tuple[int, queue.SimpleQueue[Any]]:
        answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        with self._send_lock:
            with self._lock:
                if self._dead:
                    raise self._died("the child has ended")
                self._waiting.append(answers)
            self._sent += 1
            try:
                self.connection.send((kind, self._sent, payload))
            except (OSError, ValueError) as error:     # broken pipe, or a connection already closed
                with self._lock:
                    if answers in self._waiting:
                        self._waiting.remove(answers)
                raise self._died(repr(error)) from error
        return self._sent, answers

    def _post(self, message: Message) -> None:
        with self._send_lock:
            try:
                self.connection.send(message)
            except (OSError, ValueError):
                pass                                     # already gone

    def _unwrap(self, item: Any) -> Any:
        if item is _END:
            raise AssertionError("no answer before the end marker")
        kind, value = item
        if kind == "ok":
            return value
        if kind == "died":
            raise value
        raise value                                      # "error": the child's own exception

    def _died(self, message: str) -> ChildDied:
        self.process.join(0.5)                           # let the exit code settle
        return ChildDied(message, self.process.exitcode)

    def _read_answers(self) -> None:
        while True:
            try:
                # A child killed before it took its end of the pipe may never send EOF: poll, so a
                # stopped child's reader still ends.
                if not self.connection.poll(_POLL_SECONDS):
                    if self._stopping and not self.process.is_alive():
                        break
                    continue
                kind, value = self.connection.recv()
            except (EOFError, OSError, ValueError):
                break
            with self._lock:
                answers = self._waiting[0] if kind == "part" else self._waiting.popleft()
            answers.put((kind, value))
            if kind != "part":
                answers.put(_END)
        with self._lock:
            self._dead = True
            waiting, self._waiting = list(self._waiting), deque()
        with self._send_lock:                  # no send is inside the connection while it closes
            self.connection.close()
        if waiting:
            error = self._died("the child ended before answering")
            for answers in waiting:
                answers.put(("died", error))
                answers.put(_END)


# ---- in the child ----------------------------------------------------------------------

def _serve(connection: Connection, factory: Callable[[], object]) -> None:
    """Build the object, then answer calls in order until told to stop or the parent goes away.

    A reader thread takes messages off the pipe so that a "cancel" reaches the running
    stream at once; the main thread does the work. Ctrl-C in a terminal signals the whole
    process group: the child ignores it (the parent cancels or stops it), or it would die
    printing a traceback over the parent's "cancelled".
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    failure: Exception | None = None
    try:
        target = factory()
    except Exception as error:  # noqa: BLE001 - every call then raises it in the parent
        target, failure = None, error
    work: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
    cancels: dict[int, threading.Event] = {}     # by sequence number; a cancel may come before its call starts

    def read() -> None:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                message = ("stop", 0, ())                # the parent exited or closed the pipe
            kind, seq, _ = message
            if kind == "stop":
                work.put(None)
                return
            event = cancels.setdefault(seq, threading.Event())
            if kind == "cancel":
                event.set()
            else:
                work.put(message)

    threading.Thread(target=read, name="companion-child-reader", daemon=True).start()
    while (message := work.get()) is not None:
        kind, seq, (method, args, kwargs) = message
        cancel = cancels.setdefault(seq, threading.Event())
        try:
            if failure is not None:
                raise failure
            if kind == "stream":
                for part in method(target, *args, cancel):
                    connection.send(("part", part))
                connection.send(("ok", None))
            else:
                connection.send(("ok", method(target, *args, **kwargs)))
        except (BrokenPipeError, EOFError):
            return
        except Exception as error:  # noqa: BLE001 - sent back and raised in the parent
            if not _send_error(connection, error):
                return
        finally:
            cancels.pop(seq, None)
    close = getattr(target, "close", None)   # whatever the child built: a model that holds memory has one
    if callable(close):
        close()


def _send_error(connection: Connection, error: Exception) -> bool:
    """Send the child's exception back; one that cannot be pickled goes as a RuntimeError."""
    for value in (error, RuntimeError(f"{type(error).__name__}: {error}")):
        try:
            connection.send(("error", value))
            return True
        except (OSError, ValueError):
            return False
        except Exception:  # noqa: BLE001 - pickling failed: try the plain copy
            continue
    return False
