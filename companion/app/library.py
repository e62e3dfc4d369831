"""The photo library: index, search, page through, face groups, watched folders and watching them, the
face detector, and what the window reads of it (counts, a photo's detail, the grid's filter chips)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from companion.app import settings as app_settings
from companion.core.errors import CompanionError, NotFoundError
from companion.core.library import archives
from companion.core.library.indexing import IndexSummary
from companion.core.store.faces import FaceCluster
from companion.core.store.photos import PhotoCursor, PhotoPage
from companion.core.types import Box, Concept, Photo, Progress

if TYPE_CHECKING:
    from companion.app.services import Services
    from companion.watcher import PathEvent, PhotoWatcher

__all__ = ["IndexSummary", "PhotoCursor", "PhotoPage", "WatchEvent"]   # the types the front ends receive

# What ``watch``'s ``on_event`` gets: the summary of an indexed batch, or a status message in words.
WatchEvent = IndexSummary | str


@dataclass(frozen=True)
class PhotoHit:
    """A photo found for a description, and how far it is from it (cosine distance, nearest first)."""

    photo: Photo
    distance: float


@dataclass(frozen=True)
class Watching:
    """The watched folders being watched (``library.watch``): ``stop()`` ends it and the batch being indexed."""

    folders: list[str]
    _watcher: PhotoWatcher

    def stop(self, timeout: float = 5.0) -> None:
        self._watcher.stop(timeout)


class _EitherEvent(threading.Event):
    """Set when any of its events is set (``index_paths`` only asks ``is_set``)."""

    def __init__(self, *events: threading.Event | None) -> None:
        super().__init__()
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def index(services: Services, targets: Sequence[Path | str], cancel: threading.Event | None = None,
          timings: dict[str, float] | None = None, *,
          retry_failed: bool = False) -> Iterator[Progress | IndexSummary]:
    """Index folders/files: an iterator of ``Progress`` ending with an ``IndexSummary``.

    Missing face/CLIP/geocoder models make indexing skip that step, never fail.
    Runs are serialized across threads and processes (the window, ``companion watch``, a
    command): a second run reports that it waits, and gives up when ``cancel`` is set.
    A file that failed is tried again on the next few runs; ``retry_failed`` tries every
    failed file again now, however often it failed.
    """
    from companion.core.library.indexing import index_paths

    def run_on(folders: list[Path | str]) -> Iterator[Progress | IndexSummary]:
        optional = services.optional
        return index_paths(services.store, services.settings, folders, reader=services.photo_reader,
                           faces=optional.face_backend, embedder=optional.image_embedder,
                           geocoder=optional.geocoder, thumbnails_dir=services.paths.thumbnails_dir,
                           cancel=cancel, timings=timings, retry_failed=retry_failed)

    return _one_at_a_time(services, _unpacking(services, list(targets), cancel, run_on), cancel)


def _unpacking(services: Services, targets: list[Path | str], cancel: threading.Event | None,
               run_on: Callable[[list[Path | str]], Iterator[Progress | IndexSummary]],
               ) -> Iterator[Progress | IndexSummary]:
    """Zip archives among the targets (a Google Takeout export) unpacked first, then everything indexed."""
    folders: list[Path | str] = []
    for target in targets:
        if not archives.is_archive(target):
            folders.append(target)
            continue
        name = Path(target).name
        yield Progress("unpack", 0, None, f"unpacking {name}")
        done = archives.unpack(Path(target), services.paths.imports_dir, cancel=cancel)
        yield Progress("unpack", done.files, done.files, f"unpacked {done.files} files from {name}")
        folders.append(done.folder)
    yield from run_on(folders)


def _one_at_a_time(services: Services, run: Iterator[Progress | IndexSummary],
                   cancel: threading.Event | None = None) -> Iterator[Progress | IndexSummary]:
    from companion.app.concepts import match_waiting_keys
    from companion.core.library.backfill import embed_missing

    lock = services.index_lock
    held = yield from lock.wait(cancel, "scan", "waiting for another indexing run (the window, watch or a command)")
    if not held:
        yield IndexSummary(cancelled=True)
        return
    try:
        embedder = services.optional.image_embedder
        if embedder is not None:
            # Photos indexed before the image model was installed, then the pets and things added meanwhile.
            yield from embed_missing(services.store, services.settings, services.photo_reader, embedder, cancel)
            match_waiting_keys(services)
        yield from run
    finally:
        close = getattr(run, "close", None)
        if close is not None:
            close()       # a closed or failed run ends here, before the next one may start
        lock.release()


def search_photos(services: Services, text: str, k: int = 20, *, offset: int = 0) -> list[PhotoHit]:
    """Photos for a text query, nearest first (CLIP), ranks ``offset..offset+k``."""
    if not text.strip():
        return []
    query = services.image_embedder.embed_texts([text])[0]
    return [PhotoHit(photo, distance) for photo, distance in services.store.photos.search(query, k, offset=offset)]


def photo_page(services: Services, *, person: int | None = None, place: str | None = None, text: str = "",
               after: PhotoCursor | int | None = None, limit: int = 200) -> PhotoPage:
    """One page of the photo library for a view that scrolls through it.

    Without ``text``: every photo, newest first (undated last), optionally only those of
    ``person`` (a concept id) or at ``place`` (city, region or country, a substring).
    With ``text``: the photos that match the description best (CLIP), with the same filters.
    ``after`` is the previous page's ``next`` (None for the first page); ``next`` is None on
    the last page. Each page costs the same at any depth of a 100k-photo library, so call it
    from a worker for each page as the user scrolls, never for the whole library at once.
    """
    if text.strip():
        query = services.image_embedder.embed_texts([text])[0]
        rank = after if isinstance(after, int) else 0
        return services.store.photos.search_page(query, limit, after=rank, concept_id=person, place=place or None)
    cursor = after if isinstance(after, PhotoCursor) else None
    return services.store.photos.page(concept_id=person, place=place or None, after=cursor, limit=limit)


def face_groups(services: Services, named: bool | None = None) -> list[FaceCluster]:
    """Face groups, largest first; ``named=False`` gives those waiting for a name."""
    return services.store.faces.clusters(named=named)


def name_face_group(services: Services, cluster_id: int, name: str | int) -> Concept:
    """Name a face group (a new person, or one who exists): its faces become the person's keys and the
    person is matched again across the library, all in one transaction."""
    from companion.core.library.recognition import name_face_group

    with services.store.db.transaction():
        return name_face_group(services.store, cluster_id, name, settings=services.settings)


@dataclass(frozen=True)
class Naming:
    """A face group the user just named: what Undo needs to put it back."""

    cluster_id: int          # the group as it was
    face_ids: list[int]      # its faces when it was named
    concept: Concept         # who they were named as
    created: bool            # the naming made the card (Undo removes it again)


def name_face_group_undoably(services: Services, cluster_id: int, name: str) -> Naming:
    """Name a face group, remembering what :func:`undo_naming` needs."""
    cluster = services.store.faces.cluster(cluster_id)
    if cluster is None:
        raise NotFoundError("that face group is gone (it may have been named or merged meanwhile)")
    face_ids = [f.id for f in services.store.faces.in_cluster(cluster_id)]
    created = services.store.concepts.by_name(name) is None
    concept = name_face_group(services, cluster_id, name)
    return Naming(cluster_id, face_ids, concept, created)


def undo_naming(services: Services, naming: Naming) -> int:
    """Put a named group back as it was, waiting for a name; returns its group id now."""
    from companion.core.library.recognition import unname_faces

    return unname_faces(services.store, naming.concept.id, naming.face_ids, drop_card=naming.created,
                        settings=services.settings)


def merge_face_groups(services: Services, source_id: int, target_id: int) -> int:
    """Merge two face groups (and re-match the person when one is named), in one transaction."""
    from companion.core.library.recognition import merge_face_groups

    with services.store.db.transaction():
        return merge_face_groups(services.store, source_id, target_id, settings=services.settings)


def split_faces(services: Services, face_ids: list[int]) -> int:
    from companion.core.library.recognition import split_faces

    return split_faces(services.store, list(face_ids))


def remove_face(services: Services, face_id: int) -> None:
    from companion.core.library.recognition import remove_face

    remove_face(services.store, face_id)


def watch(services: Services, on_event: Callable[[WatchEvent], object], quiet_seconds: float = 0.5, *,
          on_progress: Callable[[Progress], object] | None = None,
          cancel: threading.Event | None = None) -> Watching:
    """Start watching the watched folders; call ``stop()`` on what it returns to end it.

    ``on_event`` gets an ``IndexSummary`` after each indexed batch and a ``str`` for status
    messages; ``on_progress`` (optional) every ``Progress`` of a batch. Setting ``cancel``
    stops the batch being indexed (the files are picked up by the next scan); stopping the
    watcher does too. All callbacks run on the watcher's thread.
    """
    from companion.watcher import PhotoWatcher

    folders = [str(Path(f).expanduser().absolute()) for f in services.settings.watched_folders]

    def on_batch(events: list[PathEvent]) -> None:
        targets: list[str] = []
        for event in events:
            path = Path(event.path)
            if path.is_dir() or path.suffix == "":
                # A folder appeared or vanished: rescan the watched folder holding it (cheap:
                # unchanged files cost a stat), which also removes photos that went with it.
                roots = [f for f in folders if event.path == f or event.path.startswith(f + "/")]
                targets += [r for r in roots if Path(r).is_dir()]
            else:
                targets.append(event.path)
        if not targets:
            return
        stop = _EitherEvent(watcher.stopping, cancel)
        for item in index(services, list(dict.fromkeys(targets)), cancel=stop):
            if isinstance(item, IndexSummary):
                on_event(item)
            elif on_progress is not None:
                on_progress(item)

    watcher = PhotoWatcher(folders, on_batch, on_status=on_event, quiet_seconds=quiet_seconds)
    return Watching(folders, watcher.start())


def add_watched_folder(services: Services, path: Path | str) -> list[str]:
    """Watch a folder (saved in the settings); returns the watched folders."""
    folder = Path(path).expanduser().absolute()
    if archives.is_archive(folder):        # a Takeout zip: its photos are unpacked, that folder is watched
        folder = archives.unpack(folder, services.paths.imports_dir).folder
    if not folder.is_dir():
        raise CompanionError(f"not a folder: {path}")
    if str(folder) not in services.settings.watched_folders:
        app_settings.update(services, watched_folders=[*services.settings.watched_folders, str(folder)])
    return list(services.settings.watched_folders)


def remove_watched_folder(services: Services, path: Path | str) -> list[str]:
    """Stop watching a folder; its photos stay in the library."""
    folder = str(Path(path).expanduser().absolute())
    if folder not in services.settings.watched_folders:
        raise CompanionError(f"not a watched folder: {path}")
    app_settings.update(services, watched_folders=[f for f in services.settings.watched_folders if f != folder])
    return list(services.settings.watched_folders)


def merge_into(services: Services, cluster_ids: list[int], target: int | Concept) -> str:
    """Merge face groups into another group or into a named person, all or none; returns what happened, in words."""
    with services.store.db.transaction():
        if isinstance(target, Concept):
            for cluster_id in cluster_ids:
                name_face_group(services, cluster_id, target.id)
            return f"Added {len(cluster_ids)} group{'s' if len(cluster_ids) != 1 else ''} to {target.name}"
        for cluster_id in cluster_ids:
            if cluster_id != target:
                merge_face_groups(services, cluster_id, target)
    return "Merged the groups"


# ---- what the window reads --------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    """The numbers in the window's navigation."""

    people: int
    photos: int
    memories: int
    waiting: int          # face groups waiting for a name


def counts(services: Services) -> Counts:
    store = services.store
    from companion.core.library.recognition import GROUP_MIN_PHOTOS

    return Counts(people=len(store.concepts.list()), photos=store.photos.count(), memories=store.memories.count(),
                  waiting=len(store.faces.clusters(named=False, min_photos=GROUP_MIN_PHOTOS)))


def photo_filters(services: Services, sample: int = 2000, max_places: int = 8) -> tuple[list[Concept], list[str]]:
    """Chips for the grid: people and pets, and the most frequent cities among the newest ``sample`` photos."""
    store = services.store
    people = [c for c in store.concepts.list() if c.category in ("person", "pet")]
    cities: dict[str, int] = {}
    for photo in photo_page(services, limit=sample).photos:
        if photo.place and photo.place.city:
            cities[photo.place.city] = cities.get(photo.place.city, 0) + 1
    return people, [c for c, _n in sorted(cities.items(), key=lambda kv: -kv[1])[:max_places]]


@dataclass(frozen=True)
class PhotoDetail:
    photo: Photo
    faces: list[tuple[Box, str | None]]    # each face and the name on it (None: nobody named yet)
    people: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)     # every file with these bytes, the photo's own first
    date_note: str = ""                    # where the date may be a guess: "Date from the file, not the camera"


def date_note(photo: Photo) -> str:
    """How sure a photo's date is, in the window's words: "" when the camera's clock says it, else
    e.g. "Date from the file, not the camera" (the file's time: a guess) or "Date from the file name"."""
    if photo.taken_at is None:
        return ""
    from companion.core import language

    said = language.get("en").date_source(photo.taken_at_source)
    return said[:1].upper() + said[1:]


def photo_detail(services: Services, photo_id: int) -> PhotoDetail | None:
    """A photo with its faces (boxed, named where known) and everyone seen in it."""
    store = services.store
    photo = store.photos.get(photo_id)
    if photo is None:
        return None
    faces, names = [], []
    for face in store.faces.for_photo(photo_id):
        concept = store.concepts.get(face.concept_id) if face.concept_id else None
        faces.append((face.box, concept.name if concept else None))
    for observation in store.observations.for_photo(photo_id):
        concept = store.concepts.get(observation.concept_id)
        if concept is not None and concept.name not in names:
            names.append(concept.name)
    return PhotoDetail(photo, faces, names, store.photos.paths(photo_id), date_note(photo))


def photo(services: Services, photo_id: int) -> Photo | None:
    return services.store.photos.get(photo_id)


def photo_count(services: Services, person: int) -> int:
    """How many photos ``person`` (a concept id) is seen in."""
    return services.store.photos.count_matching(concept_id=person)
