"""The error hierarchy. Every error a user can cause has a one-line message.

``InvalidInputError`` and ``NotFoundError`` are the user's input (a file, an argument, a name):
the command line exits with status 2 for them, as for a wrong option; the rest (a damaged
store, a full disk, a missing model) exit with 1.
"""

from __future__ import annotations


class CompanionError(Exception):
    """Base class: ``str(error)`` is a message fit to show a user.

    ``str(error)`` is what the command line prints, and may name a command to run. A
    front end with its own controls shows ``brief`` instead (the same news without the
    command) and offers ``action`` as a button or link of its own: "get_chat_model",
    "choose_model", "get_photo_model", "retry_download" (``ACTIONS``). Both are optional.
    """

    def __init__(self, *args: object, brief: str = "", action: str = "") -> None:
        super().__init__(*args)
        self.brief = brief
        self.action = action

    def window_text(self) -> str:
        """What a window shows: ``brief`` when there is one, else the whole message."""
        return self.brief or str(self)


# The next steps a front end can offer for an error or a notice, instead of a command line.
ACTIONS = ("get_chat_model", "choose_model", "get_photo_model", "retry_download")


class StoreError(CompanionError):
    """The memory store cannot be opened or written."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer Companion."""


class StoreBusyError(StoreError):
    """Another process kept the database locked for longer than a writer waits."""


class DiskFullError(StoreError):
    """The disk is full or read-only; nothing was written."""


class StoreDamagedError(StoreError):
    """The database file is damaged (a failed integrity check, a malformed page): it is not written to."""


class NotFoundError(CompanionError):
    """A concept, memory, photo or other record does not exist."""


class InvalidInputError(CompanionError):
    """User input (a file, an argument, a JSON line) is not acceptable."""


class ImportFormatError(InvalidInputError):
    """A conversation import file is malformed; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class BadImageError(InvalidInputError):
    """A file cannot be used as a photo (corrupt, too large, not an image)."""


class ModelMissingError(CompanionError):
    """A model the operation needs is not installed."""


class DownloadUnreachableError(ModelMissingError):
    """A model download could not reach its server (offline, or the name does not resolve).

    ``str()`` keeps the command line's instructions; ``brief`` is the one sentence a window
    shows ("Can't reach the download server."), ``folder`` where the files belong and
    ``files`` their names, for "add the files I already have".
    """

    def __init__(self, message: str, *, host: str = "", folder: str = "", files: list[str] | None = None,
                 detail: str = "") -> None:
        super().__init__(message, brief="Can't reach the download server.", action="retry_download")
        self.host, self.folder, self.files, self.detail = host, folder, list(files or []), detail


class ModelError(CompanionError):
    """A model failed to load or run (wrong mmproj, corrupt file, ...)."""


class BadModelFileError(ModelError, InvalidInputError):
    """A model file is not a usable GGUF: not one at all, damaged, or cut short."""


class ModelCrashedError(ModelError):
    """The language model's process died while working (a crash in native code)."""

    def __init__(self, model: str, exitcode: int | None = None) -> None:
        how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
        restarted = (f"The language model {model} crashed ({how}); Companion restarted it and your question "
                     "is still in the box: send it again.")
        super().__init__(f"{restarted} If this keeps happening, run `companion doctor` "
                         "or choose another model in Settings.",
                         brief=f"{restarted} If this keeps happening, choose another model.", action="choose_model")
        self.model = model
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.model, self.exitcode))


class CancelledError(CompanionError):
    """The user cancelled a long operation."""
