"""Paths honour --home / COMPANION_HOME; settings migrate forward and refuse newer files."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion import config, paths


def test_home_argument_wins_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_HOME", str(tmp_path / "env"))
    chosen = paths.resolve(tmp_path / "arg")
    assert chosen.db_path == tmp_path / "arg" / "data" / "companion.db"
    for directory in (chosen.data_dir, chosen.cache_dir, chosen.models_dir, chosen.logs_dir):
        assert (tmp_path / "arg") in directory.parents


def test_environment_home_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_HOME", str(tmp_path / "env"))
    assert paths.resolve().settings_path == tmp_path / "env" / "settings.toml"


def test_models_dir_can_be_shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(tmp_path / "shared-models"))
    assert paths.resolve(tmp_path / "a").models_dir == tmp_path / "shared-models"


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    settings = config.Settings(watched_folders=["/photos"], model="smolvlm-256m", n_gpu_layers=12)
    config.save(path, settings)
    assert config.load(path) == settings


def test_missing_settings_give_defaults(tmp_path: Path) -> None:
    assert config.load(tmp_path / "none.toml") == config.Settings()


def test_version_1_settings_are_migrated_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('schema_version = 1\nfolders = ["/home/me/Pictures"]\nmodel = "x"\n')
    settings = config.load(path)
    assert settings.watched_folders == ["/home/me/Pictures"]
    assert settings.onboarding_done is True
    assert f"schema_version = {config.SCHEMA_VERSION}" in path.read_text()


def test_newer_settings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("schema_version = 99\n")
    with pytest.raises(config.SettingsError, match="newer Companion"):
        config.load(path)


def test_broken_settings_give_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("model = [unclosed\n")
    with pytest.raises(config.SettingsError, match="not valid TOML"):
        config.load(path)


def test_version_2_unsafe_face_distance_is_replaced_but_user_choice_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("schema_version = 2\nface_match_distance = 0.5\nface_cluster_distance = 0.05\n")
    settings = config.load(path)
    assert settings.face_match_distance == config.Settings().face_match_distance < 0.1
    assert settings.face_cluster_distance == 0.05


def test_version_4_single_face_threshold_becomes_two_distances_but_a_user_choice_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("schema_version = 4\nface_match_distance = 0.07\n")      # v4's default: it auto-assigned
    settings = config.load(path)
    assert (settings.face_match_distance, settings.face_suggest_distance, settings.face_match_margin) == (
        0.06, 0.09, 0.02)
    path.write_text("schema_version = 4\nface_match_distance = 0.05\n")      # the user's own stricter value
    assert config.load(path).face_match_distance == 0.05


def test_version_3_settings_get_the_automatic_face_detector_and_a_choice_survives(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('schema_version = 3\nwatched_folders = ["/photos"]\n')
    settings = config.load(path)
    assert (settings.face_detector, settings.watched_folders) == ("auto", ["/photos"])
    assert 'face_detector = "auto"' in path.read_text()           # written back as version 4
    settings.face_detector = "hog"
    config.save(path, settings)
    assert config.load(path).face_detector == "hog"
