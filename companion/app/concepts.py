"""Concept cards: create one with its reference photos as keys, add a key, edit, read, list, forget one everywhere."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from companion.core.errors import CompanionError
from companion.core.store.store import ForgetReport
from companion.core.types import Concept, ConceptRef, Observation, Trigger

if TYPE_CHECKING:
    from companion.app.services import Services
    from companion.core.library.rap_import import RapConcept


def add_concept(services: Services, name: str, category: str, info: str = "", images: list[Path] | None = None,
                box: list[int] | None = None) -> Concept:
    """Create a card; reference images become its keys (faces for people, image embeddings otherwise).

    ``box`` picks the face or region when a single reference image holds several.
    """
    images = list(images or [])
    for image in images:
        if not Path(image).is_file():
            raise CompanionError(f"image not found: {image}")
    concept = services.store.concepts.add(name, category, info)
    try:
        for image in images:
            add_concept_key(services, concept.id, Path(image), box)
    except BaseException:
        # A card without the keys the user asked for would silently mis-recognise: undo it.
        services.store.forget_concept(concept.id)
        raise
    return concept


def add_concept_key(services: Services, concept_id: int, image: Path, box: list[int] | None = None) -> int:
    """Use a reference photo as a key of the concept. Implemented with the photo library."""
    from companion.core.library.recognition import add_reference_image

    # Services is the ReferenceModels: it builds the face model only for a person's photo.
    return add_reference_image(services.store, services.settings, services, services.paths.concept_images_dir,
                               concept_id, image, box)


def waiting_keys(services: Services, concept_id: int | None = None) -> int:
    """Reference photos of pets and things kept without the image model (added offline), not matched yet."""
    return sum(1 for r in services.store.concepts.pending_refs("image")
               if concept_id is None or r.concept_id == concept_id)


def match_waiting_keys(services: Services) -> int:
    """Match the reference photos added while the image model was missing, now that it is installed;
    returns how many (0 without the model). Indexing runs this first; so does installing the model."""
    if not services.store.concepts.pending_refs("image"):
        return 0
    embedder = services.optional.image_embedder
    if embedder is None:
        return 0
    from companion.core.library.recognition import embed_pending_keys

    return embed_pending_keys(services.store, services.settings, services.photo_reader, embedder)


def forget_concept(services: Services, ref: str | int) -> ForgetReport:
    """Forget a card everywhere, with the faces recognised through its keys (``recognition.forget_concept``)."""
    from companion.core.library.recognition import forget_concept as forget

    concept = services.store.concepts.resolve(str(ref))
    return forget(services.store, services.settings, concept.id)


def edit_concept(services: Services, concept_id: int, name: str | None, category: str | None,
                 info: str | None) -> Concept:
    """Change a card (None keeps a field); the next answer uses it (nothing to retrain)."""
    return services.store.concepts.edit(concept_id, name=name, category=category, info=info)


def concept(services: Services, concept_id: int) -> Concept | None:
    return services.store.concepts.get(concept_id)


def resolve(services: Services, ref: str) -> Concept:
    """The card a user named, by name or id; ``NotFoundError`` says when there is none."""
    return services.store.concepts.resolve(ref)


def list_concepts(services: Services, category: str | None = None) -> list[Concept]:
    """Every card (of ``category``), by name."""
    return services.store.concepts.list(category)


def keys(services: Services, concept_id: int) -> list[ConceptRef]:
    """A card's reference keys (faces for people, image embeddings otherwise), oldest first."""
    return services.store.concepts.refs(concept_id)


@dataclass(frozen=True)
class ConceptDetail:
    """A card as ``companion concepts show`` prints it."""

    concept: Concept
    keys: list[ConceptRef]
    timeline: list[Observation]
    reminders: list[Trigger]


def concept_detail(services: Services, ref: str, timeline: int = 20) -> ConceptDetail:
    """A card (by name or id) with its keys, its latest ``timeline`` observations and its active reminders."""
    store = services.store
    found = store.concepts.resolve(ref)
    return ConceptDetail(found, store.concepts.refs(found.id), store.observations.timeline(found.id, limit=timeline),
                         store.triggers.for_concepts([found.id]))


def known_names(services: Services, category: str | None = "person") -> list[str]:
    return [c.name for c in services.store.concepts.list(category)]


def reference_images(services: Services, concept_id: int) -> list[str]:
    """The files of a card's reference photos."""
    return [r.image_path for r in services.store.concepts.refs(concept_id) if r.image_path]


@dataclass(frozen=True)
class RapImportLine:
    """What became of one concept of a RAP database."""

    name: str
    action: str                 # "added" | "updated" | "unchanged" | "skipped"
    category: str               # Companion's category
    rap_category: str
    keys_added: int = 0
    missing: tuple[str, ...] = ()       # images the database names that are not on disk
    by_default: bool = False            # the category was mapped by default (to object)
    reason: str = ""                    # why a concept was skipped


@dataclass(frozen=True)
class RapImportReport:
    path: str
    lines: list[RapImportLine]

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action)


def import_rap(services: Services, path: Path | str) -> RapImportReport:
    """Bring a RAP concept database (``database.json``) in as cards: new names added, known names updated.

    Each concept is one transaction: its card, its changed fields and its new reference photos (made
    keys by the same step as ``concepts add``: faces for people, image vectors otherwise) are stored
    together or not at all; a concept whose photo cannot be a key (no face in a person's photo) is
    skipped with the reason. A card is matched by name (case-insensitive), so importing again updates
    it and adds only the photos it does not have yet. Missing images are reported and skipped.
    """
    from companion.core.library.rap_import import read_database

    lines = [_import_one(services, concept) for concept in read_database(Path(path))]
    return RapImportReport(str(path), lines)


def _import_one(services: Services, rap: RapConcept) -> RapImportLine:
    from companion.core.library.recognition import reference_copy_name

    store = services.store
    line = RapImportLine(rap.name, "added", rap.category, rap.rap_category, 0, rap.missing, rap.by_default)
    existing = store.concepts.by_name(rap.name)
    if existing is not None and existing.category != rap.category:
        # A person's keys are faces, anything else's whole images: a new category needs new keys.
        kinds = {r.kind for r in store.concepts.refs(existing.id)}
        if kinds and kinds != {"face" if rap.category == "person" else "image"}:
            return replace(line, action="skipped", reason=f"{existing.name} is a {existing.category} here; change "
                           f"it with concepts edit before importing it as a {rap.category}")
    folder = services.paths.concept_images_dir
    before = set(folder.glob("concept-*")) if folder.is_dir() else set()
    try:
        with store.db.transaction():
            if existing is None:
                concept = store.concepts.add(rap.name, rap.category, rap.info)
            else:
                concept = existing
                if (existing.info, existing.category) != (rap.info, rap.category):
                    concept = store.concepts.edit(existing.id, category=rap.category, info=rap.info)
            have = {Path(r.image_path).name for r in store.concepts.refs(concept.id) if r.image_path}
            added = 0
            for image in rap.images:
                if reference_copy_name(concept.id, image) in have:     # already a key: importing again
                    continue
                add_concept_key(services, concept.id, image)
                added += 1
    except CompanionError as exc:
        # Rolled back: remove the copies the failed keys left in the profile.
        for stray in (set(folder.glob("concept-*")) if folder.is_dir() else set()) - before:
            stray.unlink(missing_ok=True)
        return replace(line, action="skipped", reason=exc.window_text())
    if existing is None:
        return replace(line, keys_added=added)
    changed = added or (existing.info, existing.category) != (rap.info, rap.category)
    return replace(line, action="updated" if changed else "unchanged", keys_added=added)



def describe_rap_line(line: RapImportLine) -> list[str]:
    """The lines a user reads about one imported concept (the command line and the window show them)."""
    if line.action == "skipped":
        return [f"skipped {line.name}: {line.reason}"]
    keys = f", {line.keys_added} new reference photo{'s' if line.keys_added != 1 else ''}" if line.keys_added else ""
    texts = [f"{line.action} {line.category} {line.name}{keys}"]
    if line.by_default:
        texts.append(f"  {line.name}: {line.rap_category or 'no category'!r} is not a category Companion knows; kept "
                     f"as an object (change it with: companion concepts edit {line.name!r} --category ...)")
    texts += [f"  {line.name}: image not found, skipped: {image}" for image in line.missing]
    return texts
