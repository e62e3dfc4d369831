"""Export an open_clip model to ONNX for ``companion.backends.clip_onnx.OnnxClipEmbedder``.

Writes into ``out_dir``:
  image.onnx       pixels float32 (batch, 3, S, S) -> embedding (batch, dim), L2-normalised
  image.int8.onnx  the same with int8 weights (onnxruntime dynamic quantisation); the app runs it on
                   CPU-only machines: ~25-35 % less CPU per image, embeddings at cosine >= 0.999 to fp32
  text.onnx        tokens int64 (batch, context) -> embedding (batch, dim), L2-normalised
  preprocess.json  image size, mean/std, interpolation, resize mode; model name, dim, context length
  tokenizer.json   open_clip's BPE (bpe_simple_vocab_16e6) as a Hugging Face ``tokenizers`` file,
                   so the app tokenizes without torch or open_clip
  bpe_simple_vocab_16e6.txt.gz  the original vocabulary, kept for reference

Needs the export extras (torch, open-clip-torch, onnx, onnxscript); the app does not.
Usage:  python scripts/export_clip.py OUT_DIR [--model ViT-B-32] [--pretrained laion2b_s34b_b79k]
Without ``--pretrained`` the weights are random (same speed, no semantics): used by the tests, marked
``"weights": "random"`` in preprocess.json, and refused by the app (``companion doctor`` says
"CLIP: random weights (test model)"). Users get the trained model with ``companion models download
clip-vit-b-32``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from companion.paths import atomic_folder

TEST_MODEL = "ViT-B-32"
FILES = ("image.onnx", "text.onnx", "preprocess.json", "tokenizer.json")
IMAGE_INT8 = "image.int8.onnx"
OPSET = 18


def export_clip(out_dir: Path | str, model_name: str = TEST_MODEL, pretrained: str | None = None,
                seed: int = 0) -> Path:
    """Export ``model_name`` (open_clip name) to ``out_dir``; files appear atomically (temp dir + rename)."""
    import open_clip
    import torch

    out_dir = Path(out_dir)
    torch.manual_seed(seed)
    model = open_clip.create_model(model_name, pretrained=pretrained, device="cpu")
    model.eval()
    cfg = dict(open_clip.get_model_preprocess_cfg(model))
    size = cfg["size"] if isinstance(cfg["size"], int) else cfg["size"][0]
    context = int(getattr(model, "context_length", 77))
    tokenizer = open_clip.get_tokenizer(model_name)
    if type(tokenizer).__name__ != "SimpleTokenizer":
        raise ValueError(f"{model_name} uses {type(tokenizer).__name__}; only CLIP BPE models are supported")

    class ImageEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            return self.model.encode_image(pixels, normalize=True)

    class TextEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.model.encode_text(tokens, normalize=True)

    with atomic_folder(out_dir) as work:
        # The fused MHA fast path (aten::_native_multi_head_attention) has no ONNX symbolic.
        fastpath = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)
        with torch.no_grad():
            pixels = torch.randn(2, 3, size, size)
            tokens = tokenizer(["a photo of a dog", "a cat"])
            _export(ImageEncoder(), pixels, work / "image.onnx", "pixels")
            _export(TextEncoder(), tokens, work / "text.onnx", "tokens")
            dim = int(model.encode_image(pixels[:1]).shape[-1])
        torch.backends.mha.set_fastpath_enabled(fastpath)
        quantize_image_encoder(work / "image.onnx", work / IMAGE_INT8)
        bpe = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
        shutil.copy(bpe, work / bpe.name)
        build_clip_tokenizer(bpe).save(str(work / "tokenizer.json"))
        (work / "preprocess.json").write_text(json.dumps({
            "model": model_name, "pretrained": pretrained or "", "dim": dim, "context_length": context,
            # The app refuses a random model as a user's image model (companion/backends/clip_check.py).
            "weights": "trained" if pretrained else "random",
            "size": size, "mean": list(cfg["mean"]), "std": list(cfg["std"]),
            "interpolation": cfg.get("interpolation", "bicubic"), "resize_mode": cfg.get("resize_mode", "shortest"),
            "sot_token_id": tokenizer.sot_token_id, "eot_token_id": tokenizer.eot_token_id,
            "open_clip_version": open_clip.__version__, "opset": OPSET,
        }, indent=2))
    return out_dir


def _export(module: object, example: object, path: Path, input_name: str) -> None:
    import torch

    torch.onnx.export(
        module, (example,), str(path), input_names=[input_name], output_names=["embedding"],
        dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=OPSET, dynamo=False)


def quantize_image_encoder(source: Path, target: Path) -> Path:
    """Write an int8 copy of the image encoder (weights int8, activations quantised at run time).

    Linear layers only (MatMul/Gemm: nearly all of a ViT's FLOPs). ``reduce_range`` keeps weights
    to 7 bits: x86 CPUs without VNNI (AVX2 only, most laptops) multiply u8 x s8 pairs into int16
    with saturation, which with full-range weights cost accuracy (cosine 0.983 to fp32 on test
    photos, against 0.9997 with it; per-channel scales keep the loss of the 8th bit small).
    Written atomically (temp file + rename). Needs the ``onnx`` package (the export extra).
    """
    from companion.backends.onnx import onnxruntime

    onnxruntime()   # telemetry off before the quantiser loads the library
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = Path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")   # two test runs may add it at once
    try:
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, op_types_to_quantize=["MatMul", "Gemm"])
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def build_clip_tokenizer(bpe_gz: Path):  # -> tokenizers.Tokenizer
    """open_clip's SimpleTokenizer rules as a ``tokenizers`` BPE (same ids; no ftfy step)."""
    import gzip

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    lines = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1:49152 - 256 - 2 + 1]]
    byte_chars = list(_bytes_to_unicode().values())
    vocab_list = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(m) for m in merges]
    vocab_list += ["<start_of_text>", "<end_of_text>"]
    vocab = {token: index for index, token in enumerate(vocab_list)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, continuing_subword_prefix="",
                                     end_of_word_suffix="</w>", fuse_unk=False))
    # open_clip: whitespace_clean + lower; then its regex splits words; then byte-level BPE.
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                             behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (as in open_clip)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def ensure_test_clip(cache_dir: Path | str) -> Path:
    """The random-weight ViT-B-32 export under ``cache_dir`` (exported once, then reused).

    An export made before the int8 encoder existed gets it added (seconds, no torch needed).
    """
    target = Path(cache_dir)
    if all((target / name).is_file() for name in FILES):
        if not (target / IMAGE_INT8).is_file():
            quantize_image_encoder(target / "image.onnx", target / IMAGE_INT8)
        return target
    return export_clip(target, TEST_MODEL, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, nargs="?", help="folder to write (or use --out)")
    parser.add_argument("--out", type=Path, default=None, help="same as OUT_DIR")
    parser.add_argument("--model", default=TEST_MODEL)
    parser.add_argument("--pretrained", default=None,
                        help="open_clip pretrained tag or a local checkpoint file; omit for random weights")
    args = parser.parse_args(argv)
    args.out_dir = args.out or args.out_dir
    if args.out_dir is None:
        parser.error("give the output folder (OUT_DIR or --out)")
    out = export_clip(args.out_dir, args.model, args.pretrained)
    print(f"exported {args.model} ({args.pretrained or 'random weights'}) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
