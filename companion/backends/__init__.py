"""Adapters from real libraries to the core's protocols; heavy imports are lazy."""
