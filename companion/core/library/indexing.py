"""Photos on disk -> records in the store, as a generator of :class:`Progress`.

``index_paths`` finds photo files (``scan``: folders walked, single files as given), and for each:

- skips it when unchanged (same size and mtime, or else the same content hash);
- treats a file whose content hash belongs to a known photo whose old path is
  gone as a *move*: the path is updated, faces and observations are kept;
- treats a file with the same bytes as a photo still at its path as one more
  path of that photo (album copies are one photo; it is never decoded);
- otherwise decodes it once, finds faces, embeds the image (CLIP, batched
  across photos for speed), reverse-geocodes its GPS position, writes a
  thumbnail, and commits the photo *with* its faces, embedding and
  observations in one transaction, so a killed run never leaves half a photo
  and a second run resumes where the first stopped;
- records anything that is not a usable photo with its reason (``mark_error``)
  and goes on: one bad file never stops indexing. A failed file is tried again on the
  next scans even when its size and mtime did not change (a permission fixed), up to
  :data:`MAX_FAILURES` times in a row, and always when ``retry_failed`` is asked.

Files that disappeared from an indexed folder are forgotten; a photo goes, with
its faces and observations, with its last path. Each new photo joins the
near-duplicate group of an earlier one when their pixel hashes are close
(``near_duplicates``), and places named under older rules are named again.
The core stays pure: models come in through the protocols.

The two models run side by side: worker threads decode photos and find their
faces a batch ahead, while the indexing thread embeds the batch before
(onnxruntime releases the GIL while it computes) and writes the store. Every
store access stays on the indexing thread (SQLite connections are per thread).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from companion.config import Settings
from companion.core import hashing
from companion.core.errors import CompanionError, ModelError, ModelMissingError, StoreError
from companion.core.library import capture_time, face_tags, near_duplicates, recognition, xmp_faces
from companion.core.library.near_duplicates import GroupIndex
from companion.core.library.reminders import PhotoReminder, Sighting, fire_for_sightings
from companion.core.library.scan import Scan, scan_targets
from companion.core.protocols import FaceBackend, Geocoder, ImageEmbedder, PhotoReader
from companion.core.store import Store
from companion.core.store.photos import PhotoRecord
from companion.core.types import DecodedPhoto, DetectedFace, Place, Progress

# Two analysis threads: one thread's face search overlaps the other's JPEG decode (Pillow releases
# the GIL). A third would not help: there is one face search at a time (one face child process,
# or dlib holding the GIL when it runs in this process), so a second search only queues.
ANALYSIS_THREADS = 2
SCAN_REPORT_EVERY = 200
# The version of the place naming rules (the gazetteer's districts and cities): photos named under older
# rules are named again after a run (_refresh_places). Bump it when the naming changes.
PLACE_NAMING = 1
# Scans in a row that try a failed file again while its size and mtime stay the same (a permission
# denied, a file still being copied); then it waits until it changes or `index --retry-failed`.
MAX_FAILURES = 3


@dataclass
class IndexSummary:
    """What one indexing run did; ``skipped`` holds (path, reason) for every file not indexed."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_photos: dict[str, int] = field(default_factory=dict)      # extension -> files in the folders left alone
    copies: int = 0                                                # new paths of photos already here (same bytes)
    faces: int = 0
    tagged: int = 0                                                # faces named by tags from other apps
    tag_problems: list[tuple[str, str]] = field(default_factory=list)   # (path, why its XMP was not read)
    cancelled: bool = False
    seconds: float = 0.0
    reminders: list[PhotoReminder] = field(default_factory=list)   # triggers fired by the new photos
    face_ids: list[int] = field(default_factory=list)              # faces written, to be grouped
    sightings: list[Sighting] = field(default_factory=list)        # recognised concepts, per written photo

    @property
    def photos_indexed(self) -> int:
        return self.new + self.changed

    def not_photos_text(self) -> str:
        """"3 skipped: not photos (.mp4 2, .pdf 1)", or "" when every file was a photo."""
        total = sum(self.not_photos.values())
        if not total:
            return ""
        kinds = ", ".join(f"{ext or 'no extension'} {n}" for ext, n in
                          sorted(self.not_photos.items(), key=lambda item: (-item[1], item[0])))
        return f"{total} skipped: not photos ({kinds})"

    def as_dict(self) -> dict[str, object]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged, "moved": self.moved,
                "removed": self.removed, "copies": self.copies, "not_photos": dict(self.not_photos),
                "faces": self.faces, "tagged": self.tagged, "cancelled": self.cancelled,
                "tag_problems": [{"path": p, "reason": r} for p, r in self.tag_problems],
                "seconds": round(self.seconds, 3), "reminders": [r.as_dict() for r in self.reminders],
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped]}


@dataclass
class _Work:
    """A file that needs (re-)analysis, carried from decoding to its commit."""

    path: str
    size: int
    mtime: float
    content_hash: str
    changed: bool
    decoded: DecodedPhoto | None = None
    faces: list[DetectedFace] = field(default_factory=list)
    vector: np.ndarray | None = None
    tags: xmp_faces.FaceTags | None = None     # names other apps gave its faces (XMP regions)
    hints: tuple[str, ...] = ()                # names a Google Takeout sidecar gives for the photo
    seconds: dict[str, float] = field(default_factory=dict)   # decode/faces time, merged by the indexing thread


@dataclass
class _Run:
    """What one run keeps between photos: files waiting for a copy of theirs to commit, near-duplicate hashes."""

    queued: dict[str, list[tuple[str, int, float]]] = field(default_factory=dict)   # hash -> later paths
    groups: GroupIndex | None = None          # loaded on the first commit


@dataclass
class _Queued:
    """A scanned file waiting for its turn: ``work`` is None when it needs no analysis."""

    done: int
    path: str
    work: _Work | None
    analysis: Future[None] | None


@contextmanager
def _timed(timings: dict[str, float] | None, key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - start


def content_hash(path: str) -> str:
    """A photo's identity: BLAKE2b-160 of its bytes (a moved or touched file keeps its analysis)."""
    return hashing.content_hash(path)


# ---- the run --------------------------------------------------------------------------


def index_paths(store: Store, settings: Settings, targets: Sequence[str | Path], *, reader: PhotoReader,
                faces: FaceBackend | None = None, embedder: ImageEmbedder | None = None,
                geocoder: Geocoder | None = None, thumbnails_dir: Path | None = None,
                cancel: threading.Event | None = None, batch_size: int = 8,
                timings: dict[str, float] | None = None,
                prefetch: int | None = None, retry_failed: bool = False) -> Iterator[Progress | IndexSummary]:
    """Index ``targets`` (folders and/or files); yields Progress, then one IndexSummary.

    ``timings`` (optional) accumulates seconds per stage: scan, hash, decode,
    faces, embeddings, geocode, thumbnails, database, clustering. Decode and
    faces run on worker threads, overlapping the other stages, so the
    stages can add up to more than the wall time.
    ``prefetch``: how many photos the worker threads may decode and search for
    faces ahead of the indexing thread (default ``batch_size``, enough to keep
    it busy while a batch is embedded; 0 = everything on the calling thread).
    ``retry_failed``: try files that failed again even past :data:`MAX_FAILURES`.
    """
    started = time.perf_counter()
    summary = IndexSummary()
    yield Progress("scan", 0, None, "looking for photos")
    with _timed(timings, "scan"):
        scan = scan_targets(targets)
    summary.skipped.extend(scan.skipped)
    summary.not_photos = dict(scan.not_photos)
    total = len(scan.files)
    run = _Run()
    yield Progress("scan", total, total, f"found {total} photo files")

    ahead = batch_size if prefetch is None else max(0, int(prefetch))
    pool = ThreadPoolExecutor(max_workers=ANALYSIS_THREADS, thread_name_prefix="companion-analyse") if ahead else None
    queue: deque[_Queued] = deque()
    pending: list[_Work] = []

    def cancelled() -> bool:
        if cancel is not None and cancel.is_set():
            summary.cancelled = True
        return summary.cancelled

    def drain(keep: int) -> Iterator[Progress]:
        """Take analysed files off the queue in order, embed and commit full batches."""
        nonlocal pending
        while len(queue) > keep and not cancelled():
            item = queue.popleft()
            work = item.work
            if work is not None:
                try:
                    if item.analysis is None:
                        _analyse(work, reader, faces, work.seconds)
                    else:
                        item.analysis.result()
                    pending.append(work)
                except (ModelError, ModelMissingError, StoreError):
                    raise               # not the file's fault: stop and say so
                except (CompanionError, OSError, ValueError) as exc:
                    _skip(store, summary, work.path, work.size, work.mtime, _reason(exc))
                    for copy, size, mtime in run.queued.pop(work.content_hash, []):   # the same bytes fail alike
                        _skip(store, summary, copy, size, mtime, _reason(exc))
                finally:
                    _merge(timings, work.seconds)
            if len(pending) >= batch_size or (pending and item.done == total):
                summary.faces += _finish(store, settings, pending, summary, embedder, geocoder, reader,
                                         thumbnails_dir, timings, run)
                pending = []
            yield Progress("index", item.done, total, Path(item.path).name, item.path)

    try:
        for done, path in enumerate(scan.files, start=1):
            if cancelled():
                break
            work = _triage(store, path, summary, timings, run.queued, retry_failed)
            analysis = None
            if work is not None and pool is not None:
                analysis = pool.submit(_analyse, work, reader, faces, work.seconds)
            queue.append(_Queued(done, path, work, analysis))
            yield from drain(ahead)
        yield from drain(0)
    finally:
        # Cancelled, failed or abandoned: drop what was not committed (the next run picks it up);
        # each worker finishes at most the photo it is on.
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    if not summary.cancelled:
        with _timed(timings, "database"):
            _remove_vanished(store, scan, summary, thumbnails_dir)
        if geocoder is not None:
            with _timed(timings, "geocode"):
                _refresh_places(store, geocoder, cancel)
    if summary.sightings:
        with _timed(timings, "database"):
            summary.reminders = fire_for_sightings(store, summary.sightings)
    if summary.faces and not summary.cancelled:
        yield Progress("faces", 0, None, "grouping faces")
        with _timed(timings, "clustering"):
            report = recognition.cluster_new_faces(store, settings, summary.face_ids)
        yield Progress("faces", report.assigned, report.assigned + report.deferred,
                       f"{report.assigned} faces grouped, {report.new_clusters} new groups")
    summary.seconds = time.perf_counter() - started
    yield summary


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file disappeared while indexing"
    if isinstance(exc, PermissionError):
        return "cannot read file (permission denied)"
    if isinstance(exc, CompanionError):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]


def _skip(store: Store, summary: IndexSummary, path: str, size: int, mtime: float, reason: str) -> None:
    summary.skipped.append((path, reason))
    if os.path.lexists(path):   # a file that vanished needs no error row
        store.photos.mark_error(path, size, mtime, reason)


def _triage(store: Store, path: str, summary: IndexSummary, timings: dict[str, float] | None,
            queued: dict[str, list[tuple[str, int, float]]] | None = None, retry_failed: bool = False) -> _Work | None:
    """Decide what a file needs: nothing (unchanged/moved/another path of a known photo/skipped) or analysis.

    ``queued`` maps the content hash of each file waiting for its commit in this run to the later
    files with the same bytes, which become its other paths once it is committed (``_add_paths``).
    """
    try:
        stat = os.stat(path)
    except OSError as exc:
        summary.skipped.append((path, _reason(exc)))
        return None
    size, mtime = stat.st_size, stat.st_mtime
    known = store.photos.by_path(path)
    copy = store.photos.copy_at(path) if known is None else None
    if copy is not None and copy.size == size and copy.mtime == mtime:
        summary.unchanged += 1
        return None
    if known is not None and known.size == size and known.mtime == mtime:
        if known.status != "error":
            summary.unchanged += 1
            return None
        # A file that failed may work now (a permission fixed, a file finished copying): tried again on
        # the next scans, up to a cap, then only when it changes or the user asks.
        if not retry_failed and store.photos.failures(path) >= MAX_FAILURES:
            summary.skipped.append((path, known.error or "could not be indexed"))
            return None
    if size == 0:
        _skip(store, summary, path, size, mtime, "empty file")
        return None
    try:
        with _timed(timings, "hash"):
            digest = content_hash(path)
    except OSError as exc:
        _skip(store, summary, path, size, mtime, _reason(exc))
        return None
    if copy is not None:
        if copy.content_hash == digest:    # another path of a photo, touched
            store.photos.touch_path(path, size, mtime)
            summary.unchanged += 1
            return None
        store.photos.delete(path)          # edited: no longer the same bytes, a photo of its own (below)
    if known is not None and known.status == "ok":
        if known.content_hash == digest:   # touched, not edited: keep everything
            store.photos.touch(path, size, mtime)
            summary.unchanged += 1
            return None
        if store.photos.hand_over(known.id) is not None:
            # Edited, but another file still holds the old bytes: that file keeps the photo, this is a new one.
            return _Work(path, size, mtime, digest, changed=False)
        return _Work(path, size, mtime, digest, changed=True)
    others = store.photos.by_hash(digest)
    for other in others:
        if not os.path.lexists(other.path):
            store.photos.move(other.path, path)
            store.photos.touch(path, size, mtime)
            summary.moved += 1
            return None
    if others:                             # the same bytes as a photo already here: one photo, one more path
        _add_paths(store, others[0].id, [(path, size, mtime)], summary)
        return None
    if queued is not None:
        if digest in queued:               # the same bytes as a file waiting for its commit in this run
            queued[digest].append((path, size, mtime))
            return None
        queued[digest] = []
    return _Work(path, size, mtime, digest, changed=False)


def _analyse(work: _Work, reader: PhotoReader, faces: FaceBackend | None,
             timings: dict[str, float] | None) -> None:
    """Decode and find faces (on a worker thread unless prefetch is 0): no store access here."""
    with _timed(timings, "decode"):
        work.decoded = reader.read(Path(work.path))
        work.tags, work.hints = _tags(work.path, work.decoded)
    if faces is not None:
        with _timed(timings, "faces"):
            work.faces = faces.detect(work.decoded.pixels)


def _tags(path: str, photo: DecodedPhoto) -> tuple[xmp_faces.FaceTags, tuple[str, ...]]:
    """The face tags in the photo's XMP (and sidecars) and the names its Takeout sidecar gives."""
    turned = photo.orientation in (5, 6, 7, 8)
    stored = (photo.height, photo.width) if turned else (photo.width, photo.height)
    tags = xmp_faces.read(path, photo.orientation, stored)
    sidecar = capture_time.find_sidecar(path)
    return tags, sidecar.people if sidecar is not None else ()


def _merge(timings: dict[str, float] | None, seconds: dict[str, float]) -> None:
    if timings is not None:
        for key, value in seconds.items():
            timings[key] = timings.get(key, 0.0) + value
    seconds.clear()


def _finish(store: Store, settings: Settings, batch: list[_Work], summary: IndexSummary,
            embedder: ImageEmbedder | None, geocoder: Geocoder | None, reader: PhotoReader,
            thumbnails_dir: Path | None, timings: dict[str, float] | None, run: _Run | None = None) -> int:
    """Embed a batch in one model call, then commit each photo in its own transaction."""
    run = run or _Run()
    if embedder is not None:
        with _timed(timings, "embeddings"):
            _embed(batch, embedder)
    faces_written = 0
    for work in batch:
        photo = work.decoded
        assert photo is not None
        try:
            place = None
            if geocoder is not None and photo.latitude is not None and photo.longitude is not None:
                with _timed(timings, "geocode"):
                    place = _reverse(geocoder, photo.latitude, photo.longitude)
            thumbnail = None
            if thumbnails_dir is not None:
                with _timed(timings, "thumbnails"):
                    target = Path(thumbnails_dir) / work.content_hash[:2] / f"{work.content_hash}.jpg"
                    if not target.exists():
                        reader.thumbnail(photo, target)
                    thumbnail = str(target)
            with _timed(timings, "database"):
                waiting = run.queued.pop(work.content_hash, [])
                existing = _existing(store, work)
                if existing is not None:
                    _add_paths(store, existing, [(work.path, work.size, work.mtime), *waiting], summary)
                    continue
                if run.groups is None:
                    run.groups = GroupIndex(store.photos.dhashes())
                fingerprint = near_duplicates.dhash(photo.pixels)
                lead = run.groups.group_of(fingerprint, photo.taken_at) if fingerprint is not None else None
                named = PLACE_NAMING if geocoder is not None else 0
                photo_id, seen, face_ids, tagged = _commit(store, settings, work, place, thumbnail, fingerprint,
                                                           lead, named)
                summary.tagged += tagged
                if work.tags is not None:
                    summary.tag_problems += [(work.path, problem) for problem in work.tags.problems]
                if fingerprint is not None:
                    run.groups.add(photo_id, fingerprint, lead, photo.taken_at)
                _add_paths(store, photo_id, waiting, summary)
            summary.face_ids += face_ids
            if seen:
                summary.sightings.append(Sighting(photo_id, work.path, photo.taken_at, tuple(seen)))
        except StoreError:
            raise
        except (CompanionError, OSError, ValueError) as exc:
            _skip(store, summary, work.path, work.size, work.mtime, _reason(exc))
            continue
        faces_written += len(work.faces)
        if work.changed:
            summary.changed += 1
        else:
            summary.new += 1
        work.decoded = None    # free the pixels early
    return faces_written


def _embed(batch: list[_Work], embedder: ImageEmbedder) -> None:
    # Pair each vector with the photo it came from, so a photo without pixels cannot shift the rest.
    decoded = [(w, w.decoded.pixels) for w in batch if w.decoded is not None]
    vectors = embedder.embed_images([pixels for _, pixels in decoded])
    for (work, _), vector in zip(decoded, vectors, strict=True):
        work.vector = np.asarray(vector, dtype=np.float32)


def _reverse(geocoder: Geocoder, latitude: float, longitude: float) -> Place | None:
    try:
        return geocoder.reverse(latitude, longitude)
    except Exception:  # noqa: BLE001 - a place name is a nicety; the photo must still be indexed
        return None


def _existing(store: Store, work: _Work) -> int | None:
    """The photo that already holds ``work``'s bytes at another path (committed meanwhile), or None."""
    if work.changed:
        return None
    others = [p for p in store.photos.by_hash(work.content_hash) if p.path != work.path]
    return others[0].id if others else None


def _add_paths(store: Store, photo_id: int, paths: list[tuple[str, int, float]], summary: IndexSummary) -> None:
    """Files with the same bytes as the photo: more paths of it, not photos of their own."""
    for path, size, mtime in paths:
        store.photos.add_path(photo_id, path, size, mtime)
        summary.copies += 1
        _copy_hints(store, photo_id, path, summary)


def _copy_hints(store: Store, photo_id: int, path: str, summary: IndexSummary) -> None:
    """The names a copy's Takeout sidecar gives (an album copy may be met before the original with its JSON)."""
    sidecar = capture_time.find_sidecar(path)
    photo = store.photos.get(photo_id)
    if sidecar is None or not sidecar.people or photo is None:
        return
    faces = [(face.id, face.box) for face in store.faces.for_photo(photo_id)]
    with store.db.transaction():
        report = face_tags.apply(store, photo_id, (photo.width, photo.height), faces, [], sidecar.people)
    summary.tagged += len(report.named_faces)

def _commit(store: Store, settings: Settings, work: _Work, place: Place | None, thumbnail: str | None,
            fingerprint: int | None = None, lead: int | None = None,
            place_version: int = 0) -> tuple[int, list[int], list[int], int]:
    """Write one photo with its faces, embedding and observations, and name its faces from other apps' tags;
    returns (photo id, concept ids seen, face ids, faces named by tags)."""
    photo = work.decoded
    assert photo is not None
    record = PhotoRecord(path=work.path, content_hash=work.content_hash, size=work.size, mtime=work.mtime,
                         taken_at=photo.taken_at, taken_at_source=photo.taken_at_source,
                         latitude=photo.latitude, longitude=photo.longitude, place=place,
                         width=photo.width, height=photo.height, thumbnail=thumbnail,
                         place_version=place_version, dhash=fingerprint, dup_of=lead)
    with store.db.transaction():
        photo_id = store.photos.upsert(record)
        if work.changed:
            store.faces.replace_for_photo(photo_id)
            store.observations.clear_photo(photo_id)
            store.photos.delete_embedding(photo_id)
        face_vectors, boxes = [], []
        for face in work.faces:
            box = photo.full_box(face.box)
            face_id = store.faces.add(photo_id, box, face.score, face.embedding, face.quality)
            face_vectors.append((face_id, face.embedding, face.quality))
            boxes.append((face_id, box))
        if work.vector is not None:
            store.photos.set_embedding(photo_id, work.vector)
        seen = recognition.match_photo(store, settings, photo_id, face_vectors, work.vector)
        tagged = 0
        if (work.tags is not None and work.tags.tags) or work.hints:
            report = face_tags.apply(store, photo_id, (photo.width, photo.height), boxes,
                                     work.tags.tags if work.tags is not None else [], work.hints)
            seen = sorted(set(seen) | set(report.concepts))
            tagged = len(report.named_faces)
        return photo_id, seen, [face_id for face_id, _, _ in face_vectors], tagged


def _refresh_places(store: Store, geocoder: Geocoder, cancel: threading.Event | None, batch: int = 500) -> int:
    """Name again the places of photos named under older rules (a district stored as the city before 0009)."""
    renamed = 0
    while not (cancel is not None and cancel.is_set()):
        stale = store.photos.stale_places(PLACE_NAMING, limit=batch)
        for photo in stale:
            store.photos.set_place(photo.id, _reverse(geocoder, photo.latitude, photo.longitude), PLACE_NAMING)
        renamed += len(stale)
        if len(stale) < batch:
            break
    return renamed


def _remove_vanished(store: Store, scan: Scan, summary: IndexSummary, thumbnails_dir: Path | None) -> None:
    """Forget files gone from a fully read folder, or named as missing targets; a photo goes with its last file."""
    found = set(scan.files)
    gone: list[str] = []
    for folder in scan.folders:
        prefix = folder.rstrip(os.sep) + os.sep
        gone += [p for p in store.photos.paths_under(folder)
                 if p.startswith(prefix) and p not in found and not os.path.lexists(p)]
    for path in scan.missing:
        if store.photos.has_path(path):
            gone.append(path)     # a deleted file named directly (the watcher does this)
        elif any(p.startswith(path.rstrip(os.sep) + os.sep) for p in store.photos.paths_under(path)):
            # A missing folder is more likely an unplugged drive than a deletion: keep its photos.
            summary.skipped.append((path, "folder not found (its photos are kept; is the drive connected?)"))
        else:
            summary.skipped.append((path, "not found"))
    for path in dict.fromkeys(gone):
        photo = store.photos.by_path(path)
        if store.photos.delete(path) is None or photo is None:
            continue              # another file holds the same bytes: the photo stays
        if photo.status == "ok":
            summary.removed += 1
        if photo.thumbnail and thumbnails_dir is not None and not store.photos.by_hash(photo.content_hash):
            Path(photo.thumbnail).unlink(missing_ok=True)
