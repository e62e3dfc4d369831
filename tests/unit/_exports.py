"""Small chat exports in the real formats (ChatGPT, Claude), written by the tests that read them.

The shapes follow real exports: ChatGPT's ``mapping`` tree with ``current_node``, a hidden system
root, an edited user message (a branch that was not kept), a tool call, custom instructions
(``user_editable_context``), an uploaded image as an ``image_asset_pointer`` held in the zip as
``file-<id>-<name>``; Claude's ``chat_messages`` with ``content`` blocks.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

T0 = 1_700_000_000.0        # 2023-11-14 22:13:20 UTC
PHOTO_ASSET = "file-Ph0t0AbC123"
LOST_ASSET = "file-M1ss1ngXyZ"


def _node(node_id: str, parent: str | None, children: list[str], role: str | None, parts: list[Any] | None = None,
          *, time: float | None = None, content_type: str = "text", **extra: Any) -> dict[str, Any]:
    message = None
    if role is not None:
        content: dict[str, Any] = {"content_type": content_type}
        if parts is not None:
            content["parts"] = parts
        content.update(extra.pop("content", {}))
        message = {"id": node_id, "author": {"role": role, "name": None, "metadata": {}}, "create_time": time,
                   "update_time": None, "content": content, "status": "finished_successfully", "end_turn": True,
                   "weight": 1.0, "metadata": extra.pop("metadata", {}), "recipient": extra.pop("recipient", "all")}
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def chatgpt_conversations(extra_turn: bool = False) -> list[dict[str, Any]]:
    """Two conversations: one branched (an edited question), with an image and a missing one; one plain."""
    image = {"content_type": "image_asset_pointer", "asset_pointer": f"file-service://{PHOTO_ASSET}",
             "size_bytes": 1000, "width": 64, "height": 48, "metadata": None}
    lost = {"content_type": "image_asset_pointer", "asset_pointer": f"sediment://{LOST_ASSET}",
            "size_bytes": 1000, "width": 64, "height": 48, "metadata": None}
    instructions = {"user_profile": "The user provided the following information about themselves.\nUser profile:\n"
                                    "```Preferred name: Sam\nI have a dog called Bo.```",
                    "user_instructions": "The user provided the additional info about how they would like you "
                                         "to respond:\n```Keep answers short.```"}
    mapping = {
        "root": _node("root", None, ["sys"], None),
        "sys": _node("sys", "root", ["ctx"], "system", [""], metadata={"is_visually_hidden_from_conversation": True}),
        "ctx": _node("ctx", "sys", ["u1"], "user", None, content_type="user_editable_context",
                     content=instructions,
                     metadata={"is_visually_hidden_from_conversation": True, "is_user_system_message": True,
                               "user_context_message_data": {"about_user_message": "Preferred name: Sam\n"
                                                                                   "I have a dog called Bo.\n",
                                                             "about_model_message": "Keep answers short."}}),
        "u1": _node("u1", "ctx", ["a1"], "user", ["I went hiking in Lyon with Anna."], time=T0),
        "a1": _node("a1", "u1", ["u2-old", "u2"], "assistant", ["That sounds lovely."], time=T0 + 5),
        # The user edited their question: the old branch stays in the tree, not in the conversation.
        "u2-old": _node("u2-old", "a1", ["a2-old"], "user", ["I went swimming in Nice."], time=T0 + 60),
        "a2-old": _node("a2-old", "u2-old", [], "assistant", ["Nice is warm."], time=T0 + 65),
        "u2": _node("u2", "a1", ["tool"], "user", ["Here is Bo at the beach in Nice.", image, lost],
                    time=T0 + 120, content_type="multimodal_text"),
        "tool": _node("tool", "u2", ["a2"], "assistant", ["search('Nice beach')"], time=T0 + 121,
                      content_type="code", recipient="browser"),
        "a2": _node("a2", "tool", [], "assistant", ["What a good dog."], time=T0 + 125),
    }
    current = "a2"
    if extra_turn:
        mapping["a2"]["children"] = ["u3"]
        mapping["u3"] = _node("u3", "a2", [], "user", ["My favourite colour is green."], time=T0 + 3600 * 24)
        current = "u3"
    branched = {"title": "Trip to Lyon", "create_time": T0 - 10, "update_time": T0 + 125, "mapping": mapping,
                "current_node": current, "conversation_id": "conv-1", "id": "conv-1", "is_archived": False}
    plain = {"title": "Dinner plans", "create_time": T0 + 7200, "update_time": T0 + 7300, "current_node": "p2",
             "conversation_id": "conv-2", "id": "conv-2",
             "mapping": {"p0": _node("p0", None, ["p1"], None),
                         "p1": _node("p1", "p0", ["p2"], "user", ["Anna and I had dinner in Paris."], time=T0 + 7200),
                         "p2": _node("p2", "p1", [], "assistant", ["Enjoy Paris!"], time=T0 + 7205)}}
    return [branched, plain]


def photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def chatgpt_folder(root: Path, extra_turn: bool = False) -> Path:
    """An extracted export: conversations.json with the uploaded image beside it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{PHOTO_ASSET}-beach.jpg").write_bytes(photo_bytes())
    (root / "user.json").write_text(json.dumps({"id": "user-1", "email": "sam@example.com"}))
    path = root / "conversations.json"
    path.write_text(json.dumps(chatgpt_conversations(extra_turn)))
    return path


def chatgpt_zip(path: Path, extra_turn: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", json.dumps(chatgpt_conversations(extra_turn)))
        archive.writestr(f"{PHOTO_ASSET}-beach.jpg", photo_bytes())
        archive.writestr("user.json", json.dumps({"id": "user-1"}))
        archive.writestr("chat.html", "<html></html>")
    return path


def claude_conversations() -> list[dict[str, Any]]:
    return [{
        "uuid": "c-1", "name": "Weekend", "created_at": "2024-05-04T09:00:00.000000Z",
        "updated_at": "2024-05-04T09:10:00.000000Z", "account": {"uuid": "acc"},
        "chat_messages": [
            {"uuid": "m1", "text": "I took Bo to the beach in Nice.", "sender": "human",
             "content": [{"type": "text", "text": "I took Bo to the beach in Nice."}],
             "created_at": "2024-05-04T09:00:00.000000Z", "updated_at": "2024-05-04T09:00:00.000000Z",
             "attachments": [], "files": [{"file_name": "bo.jpg"}]},
            {"uuid": "m2", "text": "", "sender": "assistant",
             "content": [{"type": "thinking", "thinking": "..."}, {"type": "text", "text": "Bo must love it."}],
             "created_at": "2024-05-04T09:00:05.000000Z", "updated_at": "2024-05-04T09:00:05.000000Z",
             "attachments": [], "files": []},
            {"uuid": "m3", "text": "I met Anna at the market.", "sender": "human", "content": [],
             "created_at": "2024-05-04T09:05:00.000000Z", "updated_at": "2024-05-04T09:05:00.000000Z",
             "attachments": [], "files": []},
        ]}]


def claude_export(path: Path) -> Path:
    path.write_text(json.dumps(claude_conversations()))
    return path


def truncated(source: Path, target: Path, keep: float = 0.6) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target
