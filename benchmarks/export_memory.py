"""Peak memory of ``companion chat --import`` on a large ChatGPT export, against the same messages as JSONL.

Writes a synthetic ChatGPT ``conversations.json`` of about ``--megabytes`` MB in the real shape
(conversations with a ``mapping`` tree: a hidden system root, an edited question whose old branch
stays in the tree, long assistant answers with the metadata real exports carry), its zip, and the
kept messages as Companion's JSONL. Then runs ``python -m companion chat --import`` on each in a fresh
profile and reads each child's peak RSS from ``wait4`` (Linux/macOS). The baselines, measured in the
same run: the JSONL import of the same messages (the streaming importer, one line at a time), and
``json.load`` of the export alone (what any reader that parses the whole file holds before it stores
anything).

    python benchmarks/export_memory.py --megabytes 50
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PEOPLE = ["Anna", "Bo", "Carla", "Dev"]
PLACES = ["Paris", "Lyon", "Nice", "Berlin", "Rome", "Porto"]
ACTIVITIES = ["hiking", "swimming", "cooking", "reading", "cycling", "painting"]
ANSWER = ("That sounds like a lovely day. Here are a few thoughts on how you could plan the next one, "
          "with a list of places to see, what to pack, and how long each walk takes. ") * 12


def message(node: str, role: str, text: str, when: float) -> dict[str, Any]:
    return {"id": node, "author": {"role": role, "name": None, "metadata": {}}, "create_time": when,
            "update_time": None, "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "end_turn": True, "weight": 1.0, "recipient": "all",
            "metadata": {"model_slug": "gpt-4o", "request_id": f"req-{node}", "message_type": "next",
                         "citations": [], "content_references": [], "timestamp_": "absolute"}}


def conversation(number: int, rng: random.Random, when: float, exchanges: int) -> dict[str, Any]:
    prefix = f"c{number}"
    mapping: dict[str, Any] = {f"{prefix}-root": {"id": f"{prefix}-root", "message": None, "parent": None,
                                                  "children": [f"{prefix}-sys"]}}
    mapping[f"{prefix}-sys"] = {"id": f"{prefix}-sys", "parent": f"{prefix}-root", "children": [],
                                "message": {**message(f"{prefix}-sys", "system", "", when),
                                            "metadata": {"is_visually_hidden_from_conversation": True}}}
    parent = f"{prefix}-sys"
    for turn in range(exchanges):
        text = f"I went {rng.choice(ACTIVITIES)} in {rng.choice(PLACES)} with {rng.choice(PEOPLE)}."
        user, answer = f"{prefix}-u{turn}", f"{prefix}-a{turn}"
        if turn == 1:       # an edited question: the old branch stays in the tree
            old = f"{prefix}-u{turn}-old"
            mapping[old] = {"id": old, "parent": parent, "children": [],
                            "message": message(old, "user", "an earlier wording", when)}
            mapping[parent]["children"].append(old)
        mapping[user] = {"id": user, "parent": parent, "children": [answer],
                         "message": message(user, "user", text, when)}
        mapping[parent]["children"].append(user)
        when += 60
        mapping[answer] = {"id": answer, "parent": user, "children": [], "message": message(answer, "assistant",
                                                                                            ANSWER, when)}
        parent = answer
        when += 240
    return {"title": f"Chat {number}", "create_time": when, "update_time": when, "mapping": mapping,
            "current_node": parent, "conversation_id": f"conv-{number}", "id": f"conv-{number}"}


def write_export(folder: Path, megabytes: float, exchanges: int = 10) -> tuple[Path, Path, Path, int]:
    """(conversations.json, its zip, the kept messages as JSONL, the number of kept messages)."""
    rng = random.Random(7)
    export, jsonl = folder / "conversations.json", folder / "kept.jsonl"
    when, number, kept = 1_600_000_000.0, 0, 0
    with open(export, "w", encoding="utf-8") as out, open(jsonl, "w", encoding="utf-8") as lines:
        out.write("[")
        while out.tell() < megabytes * 1e6:
            item = conversation(number, rng, when, exchanges)
            out.write(("," if number else "") + json.dumps(item))
            node = item["current_node"]
            chain = []
            while node:
                entry = item["mapping"][node]
                msg = entry["message"]
                if msg and msg["author"]["role"] in ("user", "assistant"):
                    chain.append(msg)
                node = entry["parent"]
            for msg in reversed(chain):
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(msg["create_time"]))
                role, text = msg["author"]["role"], msg["content"]["parts"][0]
                row = {"time": stamp, "role": role, "text": text, "id": msg["id"]}
                lines.write(json.dumps(row) + "\n")
                kept += 1
            number += 1
            when += 86_400
        out.write("]")
    archive = folder / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(export, "conversations.json")
    return export, archive, jsonl, kept


def peak(args: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit status, peak RSS in MB, seconds, last output line) of one command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    peak_kb = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)   # bytes on macOS, KB on Linux
    lines = output.strip().splitlines()
    return os.waitstatus_to_exitcode(status), peak_kb / 1024, seconds, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--work", type=Path, help="where to write the files (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="companion-export-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    export, archive, jsonl, kept = write_export(work, args.megabytes)
    print(f"export: {export.stat().st_size / 1e6:.0f} MB conversations.json ({archive.stat().st_size / 1e6:.1f} MB "
          f"zipped), {kept:,} kept messages ({jsonl.stat().st_size / 1e6:.0f} MB as JSONL)\n")
    runs = [("JSONL of the same messages (baseline)", jsonl), ("ChatGPT conversations.json", export),
            ("ChatGPT export zip", archive)]
    print("| input | peak RSS | vs baseline | time | result |\n|---|---:|---:|---:|---|")
    baseline = None
    for label, path in runs:
        home = work / f"home-{path.stem}"
        env = dict(os.environ, COMPANION_HOME=str(home), PYTHONPATH=str(REPO))
        code, rss, seconds, last = peak([sys.executable, "-m", "companion", "chat", "--import", str(path)], env)
        if code != 0:
            raise SystemExit(f"{label}: exit {code}: {last}")
        baseline = baseline or rss
        print(f"| {label} | {rss:,.0f} MB | {rss / baseline:.2f}x | {seconds:,.0f} s | {last} |", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    code, rss, seconds, _ = peak([sys.executable, "-c", f"import json; json.load(open({str(export)!r}))"],
                                 dict(os.environ))
    print(f"| json.load of conversations.json alone (no import) | {rss:,.0f} MB | {rss / (baseline or rss):.2f}x | "
          f"{seconds:,.1f} s | parse only |")


if __name__ == "__main__":
    main()
