"""``companion doctor``: what a user (or a bug report) needs to know about this installation."""

from __future__ import annotations

import platform
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias

from companion import __version__
from companion.core.errors import StoreError
from companion.core.store.db import damaged_message, versions
from companion.core.store.integrity import integrity_check

if TYPE_CHECKING:
    from companion.app.services import Services

# The report is plain data, printed as a tree or as JSON.
Json: TypeAlias = str | int | float | bool | None | Sequence["Json"] | Mapping[str, "Json"]


def face_detector_report(services: Services) -> dict[str, Json]:
    """Which face detector runs, why, and a note when the fast ones cannot (``companion doctor``)."""
    try:
        from companion.backends import face_detectors

        # Probed afresh: doctor is asked after installing or converting a model.
        return face_detectors.detector_choice(services.settings, services.paths.models_dir, refresh=True).as_dict()
    except ImportError as exc:
        return {"error": f"face detector probe unavailable: {exc}"}


def clip_report(services: Services) -> str:
    """One line on the image model (CLIP): missing, random weights (a test model), or trained."""
    try:
        from companion.backends import clip_check
        from companion.backends.clip_onnx import DEFAULT_DIRNAME, GET_IT, OnnxClipEmbedder
        from companion.core.errors import CompanionError, ModelMissingError

        try:
            embedder = OnnxClipEmbedder(services.paths.models_dir / DEFAULT_DIRNAME)
            verdict = clip_check.check(embedder, services.paths.cache_dir)
        except ModelMissingError:
            return f"not installed; {GET_IT}"
        except CompanionError as exc:
            return f"cannot be used: {exc}"
    except ImportError as exc:
        return f"unavailable: {exc}"
    if verdict.trained:
        return f"{verdict.label} ({verdict.detail})"
    note = " (accepted: COMPANION_ALLOW_TEST_MODELS=1)" if clip_check.test_models_allowed() else f"; refused: {GET_IT}"
    return f"{verdict.label}{note}"


def store_integrity(services: Services) -> dict[str, Json]:
    """``PRAGMA integrity_check`` over the whole database (indexes against tables, every page)."""
    db = services.store.db
    problems = integrity_check(db)
    report: dict[str, Json] = {"ok": not problems}
    if problems:
        report["problems"] = problems
        report["what to do"] = db.damaged or damaged_message(db.path, problems[0])
    return report


def doctor(services: Services) -> dict[str, Json]:
    """Versions, paths, disk space, the database's integrity, store counts, hardware, the face detector and
    installed models."""
    usage = shutil.disk_usage(services.paths.data_dir)
    report: dict[str, Json] = {
        "companion": __version__,
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        **versions(services.store.db),
        "paths": {"data": str(services.paths.data_dir), "cache": str(services.paths.cache_dir),
                  "models": str(services.paths.models_dir), "settings": str(services.paths.settings_path)},
        "disk_free_gb": round(usage.free / 1e9, 1),
        "integrity": store_integrity(services),
    }
    try:
        report["store"] = services.store.stats()
    except StoreError as exc:
        report["store"] = {"error": str(exc)}
    try:
        from companion.backends import hardware

        report["hardware"] = hardware.report(services.settings)
    except ImportError as exc:
        report["hardware"] = {"error": f"hardware probe unavailable: {exc}"}
    report["faces"] = face_detector_report(services)
    report["CLIP"] = clip_report(services)
    report["loaded"] = services.loaded_models()   # in this process: loaded on first use, released when idle
    try:
        from companion.backends import model_manager

        report["models"] = model_manager.installed_summary(services.paths)
    except ImportError as exc:
        report["models"] = {"error": f"model manager unavailable: {exc}"}
    return report
