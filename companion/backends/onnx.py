"""onnxruntime, loaded the one way Companion allows: with Microsoft's telemetry off.

onnxruntime's Linux wheels from 1.32 carry the 1DS telemetry client
(``core/platform/posix/telemetry_1ds.cc``): unless ``ORT_DISABLE_TELEMETRY`` is set when
the library loads, it looks up ``mobile.events.data.microsoft.com``, opens TLS connections
to it and keeps a device id and an event queue under ``~/.cache/Microsoft/DeveloperTools``.
That breaks Companion's promise (no network, nothing outside the profile).

The variable is set twice over: by ``companion/__init__.py``, so it is in the environment
of every Companion process before anything can import onnxruntime (and spawned children,
the face child included, inherit it), and again here, with the library's own
``disable_telemetry_events()`` on top. Every module that needs onnxruntime gets it from
:func:`onnxruntime` (``tests/unit/test_privacy.py`` fails on any other import of it).
"""

from __future__ import annotations

import os
from types import ModuleType

TELEMETRY_OFF = {"ORT_DISABLE_TELEMETRY": "1"}


def disable_telemetry_in_environment() -> None:
    """Put the switch in this process's environment (children inherit it)."""
    os.environ.update(TELEMETRY_OFF)


def onnxruntime() -> ModuleType:
    """The onnxruntime module with telemetry off; ImportError when it is not installed."""
    disable_telemetry_in_environment()
    import onnxruntime as ort

    # The Python switch as well: it also covers a library already loaded by someone else.
    disable = getattr(ort, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    return ort
