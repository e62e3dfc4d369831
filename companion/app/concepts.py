"""Concept cards: create one with its reference photos as keys, add a key, edit, read, list, forget one everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from companion.core.errors import CompanionError
from companion.core.store.store import ForgetReport
from companion.core.types import Concept, ConceptRef, Observation, Trigger

if TYPE_CHECKING:
    from companion.app.services import Services


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
