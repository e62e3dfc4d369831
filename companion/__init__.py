"""Companion: a local-first memory of the people, pets and things in your life."""

import os

__version__ = "0.1.0"

# onnxruntime's Linux wheels (>= 1.32) send telemetry to Microsoft unless this is set before the
# library loads. Set first thing in every Companion process; spawned children inherit it.
# companion/backends/onnx.py says more and is the only way the code imports onnxruntime.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
