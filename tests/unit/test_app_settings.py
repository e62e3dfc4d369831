"""Changing settings through the app layer: checked, saved atomically, applied to what is running."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from companion import config
from companion.app import settings as app_settings
from companion.app.services import Services
from companion.backends import text_embed
from companion.core.errors import InvalidInputError


@pytest.fixture()
def services(tmp_path: Path) -> Iterator[Services]:
    opened = Services.open(tmp_path / "home")
    yield opened
    opened.close()


def test_an_update_is_saved_and_seen_by_everyone_holding_the_settings(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    held = services.deps(with_model=False).settings            # e.g. a chat session's
    app_settings.update(services, watched_folders=[str(folder)], device="cpu", idle_unload_seconds=30,
                        appearance="dark")
    on_disk = config.load(services.paths.settings_path)
    assert (on_disk.watched_folders, on_disk.device, on_disk.idle_unload_seconds, on_disk.appearance) == (
        [str(folder)], "cpu", 30, "dark")
    assert held is services.settings and held == on_disk


def test_a_value_that_is_not_allowed_changes_nothing_and_names_the_key(services: Services) -> None:
    app_settings.update(services, idle_unload_seconds=30)
    before = services.paths.settings_path.read_bytes()
    for bad in ({"idle_unload_seconds": -1}, {"device": "gpu"}, {"face_match_distance": "near"},
                {"watched_folders": "~/Pictures"}):
        with pytest.raises(InvalidInputError, match=next(iter(bad))):
            app_settings.update(services, **bad)                     # as a caller without mypy might
        assert services.paths.settings_path.read_bytes() == before
        assert services.settings == config.load(services.paths.settings_path)


def test_a_new_watched_folder_must_exist_and_a_refusal_keeps_the_other_changes_out(services: Services,
                                                                                   tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a folder"):
        app_settings.update(services, watched_folders=[str(tmp_path / "nowhere")], model="gemma")
    assert services.settings.watched_folders == [] and services.settings.model == ""
    assert not services.paths.settings_path.exists()


def test_watched_folders_are_stored_absolute_once_each(services: Services, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Photos").mkdir()
    monkeypatch.chdir(tmp_path)
    app_settings.update(services, watched_folders=["Photos", str(tmp_path / "Photos")])
    assert services.settings.watched_folders == [str(tmp_path / "Photos")]


class Embedder:
    name, dim = "fake", 4

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 4), np.float32)

    def close(self) -> None:
        pass


def test_a_shorter_idle_time_applies_to_a_model_already_loaded(services: Services,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_embed, "OnnxTextEmbedder", lambda folder: Embedder())
    services.text_embedder.embed(["x"])
    assert services.loaded_models()["text_embedder"] is True
    app_settings.update(services, idle_unload_seconds=1)          # the timer slept for 600 s; it is told
    deadline = time.monotonic() + 10
    while services.loaded_models()["text_embedder"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.loaded_models()["text_embedder"] is False


def test_another_face_detector_closes_the_running_face_backend(services: Services) -> None:
    class Running:
        closed = False

        def close(self) -> None:
            self.closed = True

    running = services.__dict__["face_backend"] = Running()
    app_settings.update(services, face_detector="auto")           # unchanged: the running one stays
    assert not running.closed
    app_settings.update(services, face_detector="hog")
    assert running.closed and "face_backend" not in services.__dict__
