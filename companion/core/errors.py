"""The error hierarchy. Every error a user can cause has a one-line message."""

from __future__ import annotations


class CompanionError(Exception):
    """Base class: ``str(error)`` is a message fit to show a user."""


class StoreError(CompanionError):
    """The memory store cannot be opened or written."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer Companion."""


class DiskFullError(StoreError):
    """The disk is full or read-only; nothing was written."""


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


class CancelledError(CompanionError):
    """The user cancelled a long operation."""
