"""Every location Companion reads or writes, in one place.

Resolution order for the home: an explicit ``--home`` argument, then the
``COMPANION_HOME`` environment variable, then the platform's user directories
(through platformdirs). With a home set, everything lives below it so a test or
a portable install never touches the user's real profile.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

APP_NAME = "Companion"
HOME_ENV = "COMPANION_HOME"
# Lets several profiles (or test homes) share one folder of large model files.
MODELS_ENV = "COMPANION_MODELS_DIR"


@dataclass(frozen=True)
class Paths:
    """The directories and files of one Companion profile."""

    data_dir: Path
    cache_dir: Path
    models_dir: Path
    logs_dir: Path
    config_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "companion.db"

    @property
    def settings_path(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def thumbnails_dir(self) -> Path:
        return self.cache_dir / "thumbnails"

    @property
    def locks_dir(self) -> Path:
        """Lock files that serialise writers across processes (app/locks.py); made on first use."""
        return self.data_dir / "locks"

    @property
    def imports_dir(self) -> Path:
        """Photo archives (a Google Takeout zip) unpacked to be indexed (core/library/archives.py); made on use."""
        return self.data_dir / "imports"

    @property
    def chat_images_dir(self) -> Path:
        """Images a chat export (a zip) held, copied out when their turns are stored, named by content."""
        return self.data_dir / "chat_images"

    @property
    def concept_images_dir(self) -> Path:
        """Reference images the user gave for concepts (kept, unlike the cache)."""
        return self.data_dir / "concept_images"

    def ensure(self) -> "Paths":
        """Create the profile's folders, private to the user (0700); the models folder may be shared."""
        # The config folder is the home itself with --home: a folder the user may have made is left as it is.
        self.config_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        for directory in (self.data_dir, self.cache_dir, self.logs_dir, self.thumbnails_dir,
                          self.concept_images_dir):
            directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            private(directory, PRIVATE_DIR)     # also one made before profiles were private
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return self


PRIVATE_DIR = 0o700     # the profile's folders: only the user may list them
PRIVATE_FILE = 0o600    # its files (database, WAL, settings, reference photos): only the user may read them


def private(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Make an existing file or folder of the profile private (a no-op where chmod means little: Windows)."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:
        pass                # gone, or not ours to change: reading it still works


def resolve(home: str | os.PathLike[str] | None = None) -> Paths:
    """Return the profile's paths, honouring ``home`` and ``COMPANION_HOME``."""
    chosen = home if home is not None else os.environ.get(HOME_ENV)
    models_override = os.environ.get(MODELS_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        paths = Paths(
            data_dir=root / "data",
            cache_dir=root / "cache",
            models_dir=root / "models",
            logs_dir=root / "logs",
            config_dir=root,
        )
    else:
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        data = Path(dirs.user_data_dir)
        paths = Paths(
            data_dir=data,
            cache_dir=Path(dirs.user_cache_dir),
            models_dir=data / "models",
            logs_dir=Path(dirs.user_log_dir),
            config_dir=Path(dirs.user_config_dir),
        )
    if models_override:
        paths = replace(paths, models_dir=Path(models_override).expanduser().resolve())
    return paths


# Package data (pyproject.toml's package-data; the PyInstaller spec puts them at the same place
# under sys._MEIPASS, where the frozen modules' __file__ points), so a plain wheel, an editable
# install and the bundle all find them next to this module.
RESOURCES = Path(__file__).resolve().parent / "resources"


def resources_dir() -> Path:
    """The read-only resources: language tables, prompt templates, icons, the model catalog."""
    return RESOURCES


def catalog_path() -> Path:
    """The model catalog (TOML) shipped with the app."""
    return RESOURCES / "catalog.toml"


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """A new sibling folder to fill; it replaces ``target`` only if the block finishes.

    A model folder is either the old one or the complete new one, never half written
    (an export or conversion that fails or is interrupted leaves nothing behind).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        yield work
        work.chmod(0o755)                  # mkdtemp makes it private; a models folder is not
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise

