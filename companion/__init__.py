"""Companion: a local-first memory of the people, pets and things in your life."""

__version__ = "0.1.0"
