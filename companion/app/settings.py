"""Changing the settings: one validated, atomic step that the running models hear about.

:func:`update` is the only way the front ends change a setting. It checks the new values
(type, range, allowed choices: ``config.check``), checks that newly watched folders exist,
writes ``settings.toml`` atomically, and only then changes the settings every part of this
process reads (the one ``Services.settings`` object, so a chat session or a model host
sees the change). Then it tells what is running: the idle-unload timers wake up to apply a
new ``idle_unload_seconds`` now, and a face backend built for another detector is closed so
the next photo uses the new one. A refused change leaves the file and the running settings
as they were.

A settings file that cannot be loaded is refused when ``Services`` opens
(:class:`SettingsError`, naming the file and the key); the command line prints it in one
line and exits with status 2, the window shows it before it starts.
"""

from __future__ import annotations

import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from companion import config
from companion.config import (
    APPEARANCES,
    DEVICES,
    FACE_DETECTORS,
    Appearance,
    Device,
    FaceDetectorSetting,
    Settings,
    SettingsError,
    SettingsSaveError,
)
from companion.core.errors import InvalidInputError

if TYPE_CHECKING:
    from companion.app.services import Services

# The front ends take these from here (they import nothing below the app layer but core.types and core.errors).
__all__ = ["APPEARANCES", "DEVICES", "FACE_DETECTORS", "Appearance", "Device", "FaceDetectorSetting", "Settings",
           "SettingsChanges", "SettingsError", "SettingsSaveError", "save", "update"]

# One settings change at a time: two workers saving at once must not interleave file and memory.
_lock = threading.Lock()


class SettingsChanges(TypedDict, total=False):
    """The settings a front end may change, with their types (``schema_version`` is the file's own)."""

    watched_folders: list[str]
    model: str
    n_gpu_layers: int | None
    device: Device
    idle_unload_seconds: int
    image_max_tokens: int
    llm_allow_amx: bool
    session_gap_minutes: int
    face_match_distance: float
    face_cluster_distance: float
    face_min_cluster_size: int
    image_match_similarity: float
    face_detector: FaceDetectorSetting
    onboarding_done: bool
    remember_conversations: bool
    appearance: Appearance
    mcp_allow_writes: bool
    mcp_write_clients: list[str]


def update(services: Services, **changes: Unpack[SettingsChanges]) -> Settings:
    """Change settings in one step: check, save atomically, apply, tell the running models; returns them.

    Watched folders are stored absolute; a folder not watched before must exist.
    Raises ``InvalidInputError`` (naming the key) for a value that is not allowed; nothing changes then.
    """
    with _lock:
        live = services.settings
        wanted = replace(live, **changes)
        try:
            config.check(wanted)
        except SettingsError as exc:
            raise InvalidInputError(f"{exc}; nothing was changed") from exc
        if "watched_folders" in changes:
            wanted.watched_folders = _folders(wanted.watched_folders, live.watched_folders)
        config.save(services.paths.settings_path, wanted)
        changed = {f.name for f in fields(Settings) if getattr(live, f.name) != getattr(wanted, f.name)}
        for name in changed:
            setattr(live, name, getattr(wanted, name))
    _tell_running(services, changed)
    return live


def save(services: Services) -> Settings:
    """Write the current settings (``companion init`` creates the file this way)."""
    return update(services)


def _folders(wanted: list[str], before: list[str]) -> list[str]:
    """``wanted`` made absolute, each once; a folder that is new to the list must exist."""
    folders: list[str] = []
    for entry in wanted:
        folder = Path(entry).expanduser().absolute()
        if str(folder) not in before and not folder.is_dir():
            raise InvalidInputError(f"not a folder: {entry}")
        if str(folder) not in folders:
            folders.append(str(folder))
    return folders


def _tell_running(services: Services, changed: set[str]) -> None:
    """Apply a change to what is already running in this process."""
    if "idle_unload_seconds" in changed:
        services.wake_hosts()            # the timers read the setting live; waking them applies it now
    if "face_detector" in changed:
        services.reset_backend("face_backend")   # the next photo builds a face backend with the new detector
