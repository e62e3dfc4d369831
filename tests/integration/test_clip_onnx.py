"""OnnxClipEmbedder on the random-weight ViT-B-32 export (same graph and speed as the trained model).

Random weights carry no meaning, so these tests check what does not depend on
training: the exported graph equals open_clip's torch model, preprocessing and
tokens equal open_clip's, outputs are unit vectors with a dynamic batch, and
batching does not change results; the int8 encoder agrees with the fp32 one.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from companion.backends.clip_onnx import OnnxClipEmbedder, open_embedder
from companion.backends.factory import BackendFactory
from companion.config import Settings
from companion.core.errors import ModelError, ModelMissingError
from companion.core.protocols import ImageEmbedder
from companion.paths import resolve

pytestmark = pytest.mark.models

TEXTS = ["a photo of a dog", "Hello   World!! it's 3 o'clock &amp; café naïve 東京", "word " * 100, "", "  x  "]


@pytest.fixture(scope="module")
def embedder(clip_dir):
    return OnnxClipEmbedder(clip_dir, batch_size=4, quantized=False)   # the graph that equals open_clip's


def test_is_an_image_embedder_with_unit_vectors_and_a_dynamic_batch(embedder, astronaut, grace_hopper):
    assert isinstance(embedder, ImageEmbedder)
    assert embedder.dim == 512 and embedder.name == "clip-onnx:ViT-B-32:random"
    images = [astronaut, grace_hopper, astronaut[:, ::-1], grace_hopper[100:400], astronaut[::2, ::2]]
    vectors = embedder.embed_images(images)          # 5 images in batches of 4 and 1
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.concatenate([embedder.embed_images([image]) for image in images])
    assert np.allclose(vectors, one_by_one, atol=1e-4)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)
    texts = embedder.embed_texts(TEXTS)
    assert texts.shape == (5, 512) and np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_images([]).shape == (0, 512) and embedder.embed_texts([]).shape == (0, 512)
    assert "CPUExecutionProvider" in embedder.providers_in_use


def test_tokens_match_open_clip(embedder):
    open_clip = pytest.importorskip("open_clip")
    reference = open_clip.get_tokenizer("ViT-B-32")(TEXTS).numpy()
    tokens = embedder.tokenize(TEXTS)
    assert tokens.dtype == np.int64 and tokens.shape == (5, 77)
    assert np.array_equal(tokens, reference)
    assert tokens[2, -1] == 49407                     # truncated text still ends with end-of-text


def test_preprocessing_and_outputs_match_the_torch_model(embedder, astronaut, grace_hopper):
    torch = pytest.importorskip("torch")
    open_clip = pytest.importorskip("open_clip")
    from PIL import Image

    torch.manual_seed(0)                              # the export used seed 0: same random weights
    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    model.eval()
    for pixels in (astronaut, grace_hopper):          # square and portrait: tests resize + center crop
        expected = preprocess(Image.fromarray(pixels)).numpy()
        assert np.abs(embedder.preprocess(pixels) - expected).max() < 1e-5
    batch = torch.from_numpy(np.stack([embedder.preprocess(p) for p in (astronaut, grace_hopper)]))
    with torch.no_grad():
        image_ref = model.encode_image(batch, normalize=True).numpy()
        text_ref = model.encode_text(torch.from_numpy(embedder.tokenize(TEXTS)), normalize=True).numpy()
    assert np.allclose(embedder.embed_images([astronaut, grace_hopper]), image_ref, atol=1e-4)
    assert np.allclose(embedder.embed_texts(TEXTS), text_ref, atol=1e-4)


def test_missing_or_broken_model_files_are_clear_errors(clip_dir, tmp_path, astronaut):
    with pytest.raises(ModelMissingError, match="companion models download clip-vit-b-32"):
        OnnxClipEmbedder(tmp_path)                    # the hint is the download, never the random export
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("preprocess.json", "tokenizer.json", "text.onnx"):
        shutil.copy(clip_dir / name, broken / name)
    (broken / "image.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="image.onnx"):
        OnnxClipEmbedder(broken).embed_images([astronaut])
    (broken / "preprocess.json").write_text("{")
    with pytest.raises(ModelError, match="preprocess.json"):
        OnnxClipEmbedder(broken)


def test_the_factory_finds_the_model_in_the_models_folder(clip_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(tmp_path))
    factory = BackendFactory(resolve(tmp_path / "home"), Settings())
    with pytest.raises(ModelMissingError):
        factory.image_embedder()
    (tmp_path / "clip-vit-b-32").symlink_to(clip_dir, target_is_directory=True)
    assert factory.image_embedder().dim == 512
    embedder = open_embedder(tmp_path / "clip-vit-b-32", None, batch_size=2)
    assert embedder.batch_size == 2 and embedder.dim == 512
    config = json.loads((clip_dir / "preprocess.json").read_text())
    assert config["size"] == 224 and config["resize_mode"] == "shortest"


def test_bad_pixels_are_rejected(embedder):
    with pytest.raises(ValueError, match="RGB uint8"):
        embedder.embed_images([np.zeros((50, 50), dtype=np.uint8)])


def test_ensure_test_clip_reuses_the_cached_export(clip_dir):
    from conftest_perception import load_script

    before = (clip_dir / "image.onnx").stat().st_mtime_ns
    assert load_script("export_clip").ensure_test_clip(clip_dir) == clip_dir
    assert (clip_dir / "image.onnx").stat().st_mtime_ns == before


def test_int8_encoder_is_used_on_cpu_and_agrees_with_fp32(clip_dir, embedder, astronaut, grace_hopper, tmp_path):
    from conftest_perception import load_script, variants

    load_script("export_clip").ensure_test_clip(clip_dir)       # adds image.int8.onnx to an older export
    int8 = OnnxClipEmbedder(clip_dir, batch_size=4)
    assert int8.image_file == "image.int8.onnx" and embedder.image_file == "image.onnx"
    assert int8.name == embedder.name                           # one index for both: same vector space
    photos = [astronaut, grace_hopper, *variants(astronaut).values(), *variants(grace_hopper).values()]
    fp32_vectors, int8_vectors = embedder.embed_images(photos), int8.embed_images(photos)
    agreement = (fp32_vectors * int8_vectors).sum(axis=1)
    assert agreement.min() > 0.995, agreement                   # measured 0.9997 on an AVX2 machine
    # Rankings: photo-to-photo similarities (0.3-1.0 here) move by under 0.005 (measured 0.003), and
    # every nearest neighbour that fp32 picks by a clear margin, int8 picks too.
    fp32_similarity, int8_similarity = fp32_vectors @ fp32_vectors.T, int8_vectors @ int8_vectors.T
    assert np.abs(fp32_similarity - int8_similarity).max() < 0.005
    np.fill_diagonal(fp32_similarity, -1)
    np.fill_diagonal(int8_similarity, -1)
    ordered = np.sort(fp32_similarity, axis=1)
    clear = ordered[:, -1] - ordered[:, -2] > 0.005
    assert clear.sum() >= 5
    assert (fp32_similarity.argmax(axis=1) == int8_similarity.argmax(axis=1))[clear].all()
    with pytest.raises(ModelMissingError, match="image.int8.onnx"):
        OnnxClipEmbedder(_copy_without_int8(clip_dir, tmp_path), quantized=True)


def _copy_without_int8(clip_dir, tmp_path):
    folder = tmp_path / "fp32-only"
    folder.mkdir()
    for name in ("image.onnx", "text.onnx", "preprocess.json", "tokenizer.json"):
        (folder / name).symlink_to(clip_dir / name)
    return folder


# ---- the download's layout; random weights are told and refused (issue 23) -----------------------------


def _download_layout(clip_dir, folder):
    """The test export laid out as the catalog's download is (Immich's ViT-B-32 export), without the marker."""
    config = json.loads((clip_dir / "preprocess.json").read_text())
    (folder / "visual").mkdir(parents=True)
    (folder / "textual").mkdir()
    (folder / "visual" / "model.onnx").symlink_to(clip_dir / "image.onnx")
    (folder / "textual" / "model.onnx").symlink_to(clip_dir / "text.onnx")
    (folder / "textual" / "tokenizer.json").symlink_to(clip_dir / "tokenizer.json")
    (folder / "config.json").write_text(json.dumps({"embed_dim": 512, "text_cfg": {"context_length": 77}}))
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps(
        {"size": [224, 224], "mode": "RGB", "mean": config["mean"], "std": config["std"],
         "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}))
    return folder


def test_the_download_layout_gives_the_same_vectors(clip_dir, embedder, tmp_path, astronaut, grace_hopper):
    downloaded = OnnxClipEmbedder(_download_layout(clip_dir, tmp_path / "clip-vit-b-32"), batch_size=4)
    assert downloaded.image_file == "model.onnx" and downloaded.dim == 512
    assert np.allclose(downloaded.embed_images([astronaut, grace_hopper]),
                       embedder.embed_images([astronaut, grace_hopper]), atol=1e-5)
    assert np.allclose(downloaded.embed_texts(TEXTS), embedder.embed_texts(TEXTS), atol=1e-5)


def test_random_weights_are_told_by_metadata_and_by_behaviour_alone(clip_dir, embedder, tmp_path):
    from companion.backends import clip_check

    assert clip_check.by_metadata(embedder.config) is not None           # the exporter marked it
    unmarked = OnnxClipEmbedder(_download_layout(clip_dir, tmp_path / "m"))
    assert clip_check.by_metadata(unmarked.config) is None               # nothing in its files says so...
    verdict = clip_check.by_behaviour(unmarked)
    assert not verdict.trained and "of 8 colours" in verdict.detail       # ...its behaviour does
    assert clip_check.check(unmarked, tmp_path / "cache") == verdict
    assert (tmp_path / "cache" / clip_check.CACHE_NAME).is_file()         # remembered: checked once


def test_the_app_refuses_a_random_clip_and_doctor_says_so(clip_dir, tmp_path, monkeypatch, capsys):
    from companion.app.services import Services
    from companion.cli import main

    models = tmp_path / "models"
    _download_layout(clip_dir, models / "clip-vit-b-32")                  # no marker: refused by behaviour
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(models))
    monkeypatch.delenv("COMPANION_ALLOW_TEST_MODELS")
    services = Services.open()
    try:
        assert services.optional.image_embedder is None                # works as without an image model
        with pytest.raises(ModelMissingError, match=r"random weights \(test model\).*models download clip-vit-b-32"):
            services.image_embedder  # noqa: B018 - building it is the point
    finally:
        services.close()
    assert main(["doctor"]) == 0
    assert "CLIP: random weights (test model); refused" in capsys.readouterr().out


def test_doctor_names_the_test_export_a_random_model(models_env, capsys):
    from companion.cli import main

    assert main(["doctor"]) == 0                   # models_env links the test export as clip-vit-b-32
    out = capsys.readouterr().out
    assert "CLIP: random weights (test model) (accepted: COMPANION_ALLOW_TEST_MODELS=1)" in out
