"""Backing up a profile into one archive, and restoring it: ``companion backup`` / ``restore``, Settings.

The archive is a zip file (the format is documented in docs/backup.md):

- ``manifest.json``: ``format`` ("companion-backup"), ``format_version``, the ``companion_version`` that
  wrote it, when, the database's migrations, the watched folders, what optional parts it holds, and
  every other member with its size and SHA-256;
- ``data/companion.db``: the database, copied with SQLite's online backup API
  (``core/store/backup.py``: consistent while the window or ``companion index`` writes);
- ``data/concept_images/...``: the reference photos of the cards;
- ``config/settings.toml``: the settings, watched folders included;
- only when asked: ``models/...`` (large) and ``cache/thumbnails/...`` (made again by indexing).

Writing is atomic: the archive is written to a temporary file beside the target and renamed
over it only when complete, so a full disk or a crash leaves the earlier file (or none) and
no half archive. Restoring checks everything before it changes anything: the manifest, its
format version and the Companion version (a backup from a newer Companion is refused), every
member against its checksum, the extracted database with ``PRAGMA integrity_check`` and its
migrations. Only then are the profile's files swapped in, each old one moved aside first and
put back if a later step fails. A profile that holds anything is replaced only when the
caller says so (``replace``: the CLI's ``--replace``, the window's confirmation dialog).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from companion import __version__, config
from companion.app.services import Services, profile_files
from companion.core.errors import DiskFullError, InvalidInputError, SchemaTooNewError, StoreError
from companion.core.store import Store
from companion.core.store import backup as snapshot_db
from companion.paths import PRIVATE_DIR, PRIVATE_FILE, Paths, private, resolve

FORMAT = "companion-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBER = "data/companion.db"
SETTINGS_MEMBER = "config/settings.toml"
CONCEPT_IMAGES = "data/concept_images"
THUMBNAILS = "cache/thumbnails"
MODELS = "models"
_CHUNK = 1 << 20
SPACE_MARGIN = 64 * 1024 * 1024       # left free after a restore
# Files that do not shrink when deflated: stored as they are (photos, models).
_STORED = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".gguf", ".onnx", ".zip", ".gz", ".bin", ".dat"}


@dataclass(frozen=True)
class BackupReport:
    """What ``backup`` wrote."""

    path: Path
    files: int
    bytes: int
    concept_images: int
    watched_folders: tuple[str, ...]
    models: bool
    thumbnails: bool


@dataclass(frozen=True)
class BackupInfo:
    """An archive's manifest, read and checked (``inspect``)."""

    path: Path
    companion_version: str
    format_version: int
    created_at: str
    migrations: tuple[str, ...]
    watched_folders: tuple[str, ...]
    files: int
    models: bool
    thumbnails: bool


@dataclass(frozen=True)
class RestoreReport:
    """What ``restore`` did; ``missing_folders`` are watched folders not found on this computer."""

    info: BackupInfo
    replaced: bool
    people: int
    photos: int
    memories: int
    missing_folders: tuple[str, ...] = field(default=())


# ---- backing up -------------------------------------------------------------------------------


def backup(paths: Paths, target: Path, *, include_models: bool = False, include_thumbnails: bool = False,
           progress: Callable[[str], None] | None = None) -> BackupReport:
    """Write the profile at ``paths`` into the archive ``target`` (replaced atomically when complete).

    Safe while the profile is in use: the database is copied under one read transaction.
    Raises ``DiskFullError`` when the disk fills (the target is then untouched), ``InvalidInputError``
    when ``target`` is inside the profile or its folder does not exist.
    """
    target = Path(target).expanduser().absolute()
    if not target.parent.is_dir():
        raise InvalidInputError(f"no such folder: {target.parent}")
    if target.suffix.lower() != ".zip":
        raise InvalidInputError(f"a backup is a .zip file: {target.name}")
    say = progress or (lambda _text: None)
    settings = config.load(paths.settings_path) if paths.settings_path.exists() else config.Settings()
    staging = Path(tempfile.mkdtemp(prefix=".companion-backup-", dir=target.parent))
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        say("copying the memory store")
        db_copy = staging / "companion.db"
        check = snapshot_db.snapshot(paths.db_path, db_copy) if paths.db_path.exists() else None
        members: list[tuple[str, Path]] = []
        if check is not None:
            members.append((DB_MEMBER, db_copy))
        if paths.settings_path.exists():
            members.append((SETTINGS_MEMBER, paths.settings_path))
        images = list(_files_under(paths.concept_images_dir, CONCEPT_IMAGES))
        members += images
        if include_thumbnails:
            members += _files_under(paths.thumbnails_dir, THUMBNAILS)
        if include_models:
            members += _files_under(paths.models_dir, MODELS)
        say(f"writing {len(members)} files")
        written: list[dict[str, object]] = []
        total = 0
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            for member, source in members:
                try:
                    size, digest = _add(archive, member, source)
                except FileNotFoundError:
                    continue            # a reference photo forgotten meanwhile: the copied database no longer names it
                written.append({"path": member, "size": size, "sha256": digest})
                total += size
            manifest = {
                "format": FORMAT, "format_version": FORMAT_VERSION, "companion_version": __version__,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "database": {"migrations": list(check.migrations) if check else []},
                "watched_folders": list(settings.watched_folders),
                "includes": {"models": include_models, "thumbnails": include_thumbnails},
                "files": written,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        _fsync(partial)
        os.replace(partial, target)
        private(target)
        kept = {entry["path"] for entry in written}
        return BackupReport(target, len(written), total, sum(1 for m, _ in images if m in kept),
                            tuple(settings.watched_folders), include_models, include_thumbnails)
    except OSError as exc:
        if _disk_full(exc):
            raise DiskFullError(f"the disk is full: the backup {target} was not written (free some space "
                                "and try again); nothing was changed") from exc
        raise StoreError(f"the backup {target} could not be written: {exc}; nothing was changed") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
        shutil.rmtree(staging, ignore_errors=True)


def _files_under(folder: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            yield f"{prefix}/{path.relative_to(folder).as_posix()}", path


def _add(archive: zipfile.ZipFile, member: str, source: Path) -> tuple[int, str]:
    """Stream one file into the archive; its size and SHA-256 as written."""
    digest = hashlib.sha256()
    size = 0
    compress = zipfile.ZIP_STORED if source.suffix.lower() in _STORED else zipfile.ZIP_DEFLATED
    info = zipfile.ZipInfo(member, date_time=datetime.now().timetuple()[:6])
    info.compress_type = compress
    info.external_attr = (PRIVATE_FILE & 0o777) << 16
    with open(source, "rb") as reader, archive.open(info, "w", force_zip64=True) as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


# ---- reading an archive ------------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    """"0.10.2" -> (0, 10, 2); anything after the numbers (rc1, +local) is ignored."""
    parts = []
    for piece in str(text).split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts)


@contextlib.contextmanager
def _opened(archive: Path) -> Iterator[zipfile.ZipFile]:
    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise InvalidInputError(f"no such backup file: {archive}")
    try:
        with zipfile.ZipFile(archive) as handle:
            yield handle
    except (zipfile.BadZipFile, EOFError) as exc:
        raise InvalidInputError(f"{archive.name} is not a complete backup (the archive is damaged or cut short: "
                                f"{exc}); nothing was restored") from exc


def _manifest(handle: zipfile.ZipFile, archive: Path) -> tuple[BackupInfo, list[dict[str, object]]]:
    try:
        raw = handle.read(MANIFEST)
    except KeyError:
        raise InvalidInputError(f"{archive.name} is not a Companion backup (it has no {MANIFEST}); "
                                "nothing was restored") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInputError(f"{archive.name} is damaged ({exc}); nothing was restored") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidInputError(f"{archive.name}: its manifest is not valid JSON ({exc}); "
                                "nothing was restored") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInputError(f"{archive.name} is not a Companion backup; nothing was restored")
    made_by = str(data.get("companion_version", ""))
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise InvalidInputError(f"{archive.name}: its manifest has no valid format_version; nothing was restored")
    if version > FORMAT_VERSION or _version(made_by) > _version(__version__):
        raise InvalidInputError(
            f"{archive.name} was made by a newer Companion ({made_by or 'unknown version'}, backup format "
            f"{version}) than this one ({__version__}, format {FORMAT_VERSION}): update Companion to restore it; "
            "nothing was restored")
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise InvalidInputError(f"{archive.name}: its manifest lists no files; nothing was restored")
    includes = _mapping(data.get("includes"))
    folders = _sequence(data.get("watched_folders"))
    migrations = _sequence(_mapping(data.get("database")).get("migrations"))
    info = BackupInfo(archive, made_by, version, str(data.get("created_at", "")),
                      tuple(str(m) for m in migrations), tuple(str(f) for f in folders), len(files),
                      bool(includes.get("models")), bool(includes.get("thumbnails")))
    return info, files


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _sequence(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _safe_member(name: str) -> PurePosixPath:
    """A member's path, refused when it would land outside its folder (absolute, ``..``, a drive)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or ":" in path.parts[0]:
        raise InvalidInputError(f"the backup holds an unsafe path ({name!r}); nothing was restored")
    known = name in (DB_MEMBER, SETTINGS_MEMBER) or any(
        name.startswith(prefix + "/") for prefix in (CONCEPT_IMAGES, THUMBNAILS, MODELS))
    if not known:
        raise InvalidInputError(f"the backup holds an unexpected file ({name!r}); nothing was restored")
    return path


def inspect(archive: Path) -> BackupInfo:
    """Read and check an archive's manifest (not its members: ``restore`` checks those)."""
    archive = Path(archive).expanduser()
    with _opened(archive) as handle:
        return _manifest(handle, archive)[0]


def _extract(handle: zipfile.ZipFile, archive: Path, files: list[dict[str, object]], staging: Path) -> None:
    """Every listed member into ``staging``, each checked against its size and SHA-256."""
    listed = {str(f.get("path", "")) for f in files}
    # Unpacked here once, then renamed into the profile; models are copied (their folder may be elsewhere).
    needed = sum(i.file_size for i in handle.infolist()) + sum(
        i.file_size for i in handle.infolist() if i.filename.startswith(MODELS + "/")) + SPACE_MARGIN
    free = shutil.disk_usage(staging).free
    if needed > free:
        raise DiskFullError(f"restoring {archive.name} needs about {needed / 1e9:.1f} GB free and "
                            f"{free / 1e9:.1f} GB is: nothing was restored (free some space and try again)")
    extra = sorted(n for n in handle.namelist() if n != MANIFEST and not n.endswith("/") and n not in listed)
    if extra:
        raise InvalidInputError(f"{archive.name} holds files its manifest does not list ({extra[0]}); "
                                "nothing was restored")
    for entry in files:
        name = str(entry.get("path", ""))
        relative = _safe_member(name)
        destination = staging.joinpath(*relative.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            with handle.open(name) as reader, open(destination, "wb") as writer:
                while chunk := reader.read(_CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
        except KeyError:
            raise InvalidInputError(f"{archive.name} lacks {name}, which its manifest lists; nothing was "
                                    "restored") from None
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise InvalidInputError(f"{archive.name} is damaged at {name} ({exc}); nothing was restored") from exc
        if size != entry.get("size") or digest.hexdigest() != entry.get("sha256"):
            raise InvalidInputError(f"{archive.name}: {name} does not match its checksum (the archive is damaged); "
                                    "nothing was restored")
        os.chmod(destination, PRIVATE_FILE)


# ---- restoring ----------------------------------------------------------------------------------


def profile_in_use(paths: Paths) -> bool:
    """Whether the profile holds anything a restore would replace: any row of its own, or a reference photo."""
    if paths.concept_images_dir.is_dir() and any(p.is_file() for p in paths.concept_images_dir.rglob("*")):
        return True
    if not paths.db_path.is_file() or paths.db_path.stat().st_size == 0:
        return False
    try:
        store = Store.open(paths.db_path)
    except SchemaTooNewError:
        return True
    try:
        counts = store.stats()
    finally:
        store.close()
    return any(counts.get(k, 0) for k in ("photos", "concepts", "memories", "turns", "faces"))


def restore(paths: Paths, archive: Path, *, replace: bool = False,
            progress: Callable[[str], None] | None = None) -> RestoreReport:
    """Restore the archive into the profile at ``paths``; nothing changes unless every check passes.

    A profile that holds anything is replaced only with ``replace`` (``InvalidInputError`` otherwise).
    The profile must not be open in another process (the window, ``companion watch``) while it is replaced.
    """
    archive = Path(archive).expanduser().absolute()
    say = progress or (lambda _text: None)
    paths.ensure()
    existing = profile_in_use(paths)
    if existing and not replace:
        raise InvalidInputError(f"the profile at {paths.data_dir} already holds people, photos or memories: "
                                "restoring would replace them; restore into a new profile (--home DIR) or "
                                "pass --replace; nothing was restored")
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=paths.data_dir))
    try:
        with _opened(archive) as handle:
            info, files = _manifest(handle, archive)
            say(f"checking {len(files)} files")
            _extract(handle, archive, files, staging)
        db = staging / "data" / "companion.db"
        if not db.is_file():
            raise InvalidInputError(f"{archive.name} holds no database; nothing was restored")
        say("checking the memory store")
        check = snapshot_db.check_copy(db)
        if check.problems:
            raise InvalidInputError(f"the memory store in {archive.name} failed its integrity check ("
                                    + "; ".join(check.problems[:3]) + "); nothing was restored")
        settings_file = staging / "config" / "settings.toml"
        if settings_file.is_file():
            try:
                config.load(settings_file)
            except config.SettingsError as exc:
                raise InvalidInputError(f"the settings in {archive.name} cannot be read ({exc}); "
                                        "nothing was restored") from exc
        say("replacing the profile's files" if existing else "writing the profile's files")
        _swap_in(paths, staging)
    except OSError as exc:
        if _disk_full(exc):
            raise DiskFullError("the disk is full: nothing was restored and the profile is as it was "
                                "(free some space and try again)") from exc
        raise StoreError(f"the backup could not be restored ({exc}); the profile is as it was") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    store = Store.open(paths.db_path)
    try:
        counts = store.stats()
        people = len(store.concepts.list("person"))
    finally:
        store.close()
    settings = config.load(paths.settings_path) if paths.settings_path.exists() else config.Settings()
    missing = tuple(f for f in settings.watched_folders if not Path(f).is_dir())
    return RestoreReport(info, existing, people, counts.get("photos", 0), counts.get("memories", 0), missing)


def _swap_in(paths: Paths, staging: Path) -> None:
    """Move the staged files into the profile; every old file is moved aside first and put back on failure."""
    aside = Path(tempfile.mkdtemp(prefix=".replaced-", dir=paths.data_dir))
    moves: list[tuple[Path, Path]] = []            # (where it was, where it is now), to undo
    db = paths.db_path

    def set_aside(path: Path) -> None:
        if path.exists():
            hold = aside / f"{len(moves)}-{path.name}"
            shutil.move(str(path), hold)       # a rename: the same folder's file system
            moves.append((path, hold))

    placed: list[Path] = []
    try:
        # The database with its WAL and shared memory: an old -wal beside a new database would be replayed into it.
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            set_aside(path)
        os.replace(staging / "data" / "companion.db", db)
        placed.append(db)
        pairs = [(staging / "data" / "concept_images", paths.concept_images_dir),
                 (staging / "cache" / "thumbnails", paths.thumbnails_dir)]
        for source, target in pairs:
            if source.is_dir():
                set_aside(target)
                shutil.move(str(source), target)
                placed.append(target)
        paths.concept_images_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        paths.thumbnails_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        settings = staging / "config" / "settings.toml"
        if settings.is_file():
            set_aside(paths.settings_path)
            temp = paths.settings_path.with_name(f".{paths.settings_path.name}.restore")
            shutil.copyfile(settings, temp)
            os.replace(temp, paths.settings_path)
            placed.append(paths.settings_path)
            private(paths.settings_path)
        models = staging / "models"
        if models.is_dir():              # models are added, never deleted: another profile may share the folder
            for source in sorted(models.rglob("*")):
                target = paths.models_dir / source.relative_to(models)
                if source.is_file() and not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
    except BaseException:
        for path in placed:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
        for original, hold in reversed(moves):
            with contextlib.suppress(OSError):
                shutil.move(str(hold), original)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def reload_settings(live: config.Settings, fresh: config.Settings) -> None:
    """Make the running settings object the restored one (every part of the process shares it)."""
    for item in fields(config.Settings):
        setattr(live, item.name, getattr(fresh, item.name))


def _disk_full(exc: OSError) -> bool:
    return exc.errno in (28, 122)        # ENOSPC, EDQUOT


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore_into(services: Services, archive: Path, *,
                 progress: Callable[[str], None] | None = None) -> RestoreReport:
    """Restore into the profile this process has open (the window, after the user confirmed replacing it).

    The store is closed while its files are swapped and opened again afterwards, and the running
    settings become the restored ones. Refused while photos are being indexed. On failure the
    profile is as it was and is opened again as it was.
    """
    if not services.index_lock.try_acquire(1.0):
        raise InvalidInputError("photos are being indexed: restore when indexing is done; nothing was restored")
    try:
        services.store.close()
        try:
            report = restore(services.paths, archive, replace=True, progress=progress)
        finally:
            services.store = Store.open(services.paths.db_path, files=profile_files(services.paths))
        if services.paths.settings_path.exists():
            reload_settings(services.settings, config.load(services.paths.settings_path))
    finally:
        services.index_lock.release()
    return report


def backup_profile(services: Services, target: Path, *, include_models: bool = False,
                   include_thumbnails: bool = False, progress: Callable[[str], None] | None = None) -> BackupReport:
    """``backup`` of the profile ``services`` has open (the window, ``companion backup``)."""
    return backup(services.paths, target, include_models=include_models, include_thumbnails=include_thumbnails,
                  progress=progress)


def restore_home(home: str | Path | None, archive: Path, *, replace: bool = False,
                 progress: Callable[[str], None] | None = None) -> RestoreReport:
    """``restore`` into the profile at ``home`` (``--home``, else ``COMPANION_HOME``, else the user's own)."""
    return restore(resolve(home), archive, replace=replace, progress=progress)
