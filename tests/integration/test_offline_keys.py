"""A pet added before the image model is installed is kept, and found in the photos once it is (issue 23)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from companion.app import concepts, library
from companion.app.services import Services
from companion.core.library.indexing import IndexSummary

pytestmark = pytest.mark.models


def _index(services: Services, folder: Path) -> list[object]:
    return list(library.index(services, [folder]))


def test_a_pet_added_offline_is_kept_and_matched_once_the_image_model_is_installed(clip_dir, tmp_path, monkeypatch):
    from skimage import data

    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(models))        # no image model yet
    photos = tmp_path / "photos"
    photos.mkdir()
    cat = data.chelsea()
    Image.fromarray(cat).save(photos / "chelsea-on-the-sofa.jpg", quality=92)
    Image.fromarray(data.coffee()).save(photos / "coffee.jpg", quality=92)
    reference = tmp_path / "chelsea.png"
    Image.fromarray(np.ascontiguousarray(cat[:, ::-1])).save(reference)   # her photo, mirrored

    services = Services.open()
    # The test CLIP has random weights: it tells near-copies apart from other photos, not cats from coffee.
    services.settings.image_match_similarity = 0.97
    try:
        assert services.optional.image_embedder is None
        summary = [s for s in _index(services, photos) if isinstance(s, IndexSummary)][0]
        assert summary.new == 2
        chelsea = concepts.add_concept(services, "Chelsea", "pet", images=[reference])   # offline: accepted
        assert concepts.waiting_keys(services, chelsea.id) == 1
        assert library.photo_count(services, chelsea.id) == 0

        (models / "clip-vit-b-32").symlink_to(clip_dir, target_is_directory=True)        # the model arrives
        services.reset_backend("image_embedder")
        events = _index(services, photos)
        assert any(getattr(e, "stage", "") == "embed" for e in events)      # the old photos got image vectors
        assert concepts.waiting_keys(services, chelsea.id) == 0
        seen = [p.path for p in library.photo_page(services, person=chelsea.id).photos]
        assert seen == [str(photos / "chelsea-on-the-sofa.jpg")]
    finally:
        services.close()
