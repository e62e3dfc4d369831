"""The application layer: the composition root (``services``) and one module per use case.

``ui`` and ``cli`` call these; they import neither ``companion.backends`` nor
``companion.core.store`` (an import-linter contract).
"""
