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


@pytest.mark.parametrize(("text", "key"), [
    ('schema_version = 4\nwatched_folders = "~/Pictures"\n', "watched_folders"),
    ('schema_version = 4\nidle_unload_seconds = "ten minutes"\n', "idle_unload_seconds"),
    ("schema_version = 4\nidle_unload_seconds = -5\n", "idle_unload_seconds"),
    ('schema_version = 4\ndevice = "gpu"\n', "device"),
    ('schema_version = 4\nface_detector = "fastest"\n', "face_detector"),
    ('schema_version = 4\nappearance = "blue"\n', "appearance"),
    ("schema_version = 4\nface_match_distance = 7.5\n", "face_match_distance"),
    ('schema_version = 4\nremember_conversations = "no"\n', "remember_conversations"),
    ("schema_version = 4\nidle_unload_secs = 60\n", "idle_unload_secs"),
    ('schema_version = "four"\n', "schema_version"),
    ('watched_folders = "~/Pictures"\n', "watched_folders"),        # no version: read as version 1
])
def test_a_value_that_is_not_allowed_is_refused_naming_the_key_and_the_file(tmp_path: Path, text: str,
                                                                            key: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(config.SettingsError) as refused:
        config.load(path)
    message = str(refused.value)
    assert key in message and str(path) in message and "\n" not in message
    assert refused.value.key == key
    assert path.read_text() == text                                 # not "fixed" behind the user's back


def test_the_refusal_says_what_would_be_allowed(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('schema_version = 4\nwatched_folders = "~/Pictures"\n')
    with pytest.raises(config.SettingsError, match=r'like watched_folders = \["~/Pictures"\]'):
        config.load(path)
    path.write_text('schema_version = 4\ndevice = "gpu"\n')
    with pytest.raises(config.SettingsError, match='one of "auto", "cpu", "cuda", "metal"'):
        config.load(path)


def test_good_files_load_with_every_kind_of_value(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('schema_version = 4\nwatched_folders = ["~/Pictures", "/media/phone"]\nmodel = "gemma"\n'
                    'n_gpu_layers = -1\ndevice = "cpu"\nidle_unload_seconds = 0\nface_match_distance = 0\n'
                    'image_match_similarity = 1\nface_detector = "hog"\nappearance = "dark"\n'
                    "llm_allow_amx = true\n")
    settings = config.load(path)
    assert settings.watched_folders == ["~/Pictures", "/media/phone"] and settings.n_gpu_layers == -1
    assert (settings.device, settings.face_detector, settings.appearance) == ("cpu", "hog", "dark")
    assert settings.idle_unload_seconds == 0 and settings.llm_allow_amx is True
    assert settings.face_match_distance == 0.0 and isinstance(settings.face_match_distance, float)
    assert settings.image_match_similarity == 1.0


def test_a_hand_written_file_without_a_version_keeps_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('watched_folders = ["/photos"]\n')
    assert config.load(path).watched_folders == ["/photos"]


def test_a_failed_migration_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    original = b'schema_version = 1\r\nfolders = "/home/me/Pictures"   # one folder, not a list\r\n'
    path.write_bytes(original)
    with pytest.raises(config.SettingsError, match="watched_folders") as refused:
        config.load(path)
    assert str(path) in str(refused.value)
    assert path.read_bytes() == original


def test_a_migration_step_that_fails_is_a_settings_error_and_writes_nothing(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.toml"
    original = b"schema_version = 2\nface_match_distance = 0.5\n"
    path.write_bytes(original)

    def broken(data: dict[str, object]) -> dict[str, object]:
        raise KeyError("face_cluster_distance")

    monkeypatch.setitem(config.MIGRATIONS, 2, broken)       # a step meeting a file it did not expect
    with pytest.raises(config.SettingsError, match="from version 2") as refused:
        config.load(path)
    assert str(path) in str(refused.value)
    assert path.read_bytes() == original


def test_saving_refuses_a_value_that_is_not_allowed_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    config.save(path, config.Settings(idle_unload_seconds=60))
    before = path.read_bytes()
    with pytest.raises(config.SettingsError, match="idle_unload_seconds"):
        config.save(path, config.Settings(idle_unload_seconds=-1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.toml"]   # no temporary file left behind
