"""Companion's evaluation: the personal-memory benchmark (issue 7) and CoViP's diagnostic suite.

A developer tool, not part of the app: ``python -m evaluation --help``. It is
not installed with ``companion`` nor bundled by PyInstaller, and ``companion``
never imports it (an import-linter contract). It uses the test extras
(scikit-image and matplotlib for real face photos, the Gemma 3 270M package).

The benchmark's parts (``life``, ``tasks``, ``metrics``, ``prompts``,
``systems``, ``runner``, ``report``) are pure: the suite runners build the
world on disk and hand the real model and perception in through ``Deps``.
"""
