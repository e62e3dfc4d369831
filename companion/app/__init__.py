"""The application layer: the composition root (``services``) and one module per use case.

This is the product's typed API: ``ui``, ``cli`` and any other front end call these functions,
which take a :class:`~companion.app.services.Services` and typed arguments and return frozen
dataclasses or the core's shared types (mypy refuses ``Any`` here). A use case that writes in
several steps writes in one transaction; settings change only through
:func:`companion.app.settings.update`. The front ends import neither ``companion.backends`` nor
any of the core but ``core.types`` and ``core.errors`` (import-linter contracts); the types they
receive are re-exported here (``app.library.IndexSummary``, ``app.chat.AnswerEvent``, ...).
"""
