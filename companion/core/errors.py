"""The error hierarchy. Every error a user can cause has a one-line message.

``InvalidInputError`` and ``NotFoundError`` are the user's input (a file, an argument, a name):
the command line exits with status 2 for them, as for a wrong option; the rest (a damaged
store, a full disk, a missing model) exit with 1.
"""

from __future__ import annotations


class CompanionError(Exception):
    """Base class: ``str(error)`` is a message fit to show a user."""


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


class ModelError(CompanionError):
    """A model failed to load or run (wrong mmproj, corrupt file, ...)."""


class BadModelFileError(ModelError, InvalidInputError):
    """A model file is not a usable GGUF: not one at all, damaged, or cut short."""


class ModelCrashedError(ModelError):
    """The language model's process died while working (a crash in native code)."""

    def __init__(self, model: str, exitcode: int | None = None) -> None:
        how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
        super().__init__(
            f"The language model {model} crashed ({how}); Companion restarted it and your question "
            "is still in the box: send it again. If this keeps happening, run `companion doctor` "
            "or choose another model in Settings.")
        self.model = model
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.model, self.exitcode))


class CancelledError(CompanionError):
    """The user cancelled a long operation."""
