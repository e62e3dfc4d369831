"""The personal-memory benchmark (issue 7): a seeded life, tasks with gold answers, metrics, baselines, reports.

Everything here is pure (no PIL, no llama_cpp): the CLI builds the world on
disk and hands the real model and perception in through ``Deps``.
"""
