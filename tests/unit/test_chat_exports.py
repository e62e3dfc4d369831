"""ChatGPT and Claude exports: recognised by content, the kept branch imported once, bad files refused whole.

The fixtures (``_exports.py``) are small exports in the real shapes; each test checks what a user
would see: the conversations and their titles, the turns and their images, the memories, and that
a second import (or a newer export) adds nothing it already has.
"""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from companion.app import chat, memories
from companion.app.services import Services
from companion.core.errors import InvalidInputError
from companion.core.memory import exports
from tests.unit import _exports as fixtures


def rows(services: Services) -> list[tuple[Any, ...]]:
    """(conversation title, role, text, image names) of every turn, in order."""
    return [(r[0], r[1], r[2], tuple(Path(p).name for p in json.loads(r[3])))
            for r in services.store.db.query("SELECT c.title, t.role, t.text, t.images FROM turns t "
                                             "JOIN conversations c ON c.id = t.conversation_id ORDER BY t.id")]


def stored(services: Services) -> dict[str, Any]:
    q = services.store.db.query
    return {"turns": rows(services),
            "memories": sorted((r[0], r[1], r[2]) for r in q("SELECT kind, content, origin FROM memories")),
            "conversations": q("SELECT count(*) FROM conversations")[0][0]}


KEPT_BRANCH = [
    ("Trip to Lyon", "user", "I went hiking in Lyon with Anna.", ()),
    ("Trip to Lyon", "assistant", "That sounds lovely.", ()),
    ("Trip to Lyon", "user", "Here is Bo at the beach in Nice.", ("IMAGE",)),
    ("Trip to Lyon", "assistant", "What a good dog.", ()),
    ("Dinner plans", "user", "Anna and I had dinner in Paris.", ()),
    ("Dinner plans", "assistant", "Enjoy Paris!", ()),
]


def expected(image_name: str) -> list[tuple[Any, ...]]:
    return [(t, r, x, tuple(image_name for _ in i)) for t, r, x, i in KEPT_BRANCH]


def test_a_chatgpt_zip_imports_the_kept_branch_its_image_and_custom_instructions_once(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    export = fixtures.chatgpt_zip(tmp_path / "chatgpt-export.zip")
    result = chat.import_chat(services, export)
    assert (result.format, result.state, result.conversations, result.turns) == ("chatgpt", "imported", 2, 6)
    assert (result.imported_memories, result.missing_images) == (3, 1)
    (image,) = [i for row in rows(services) for i in row[3]]
    assert rows(services) == expected(image)        # the edited question's old branch and the tool call are not
    copy = services.paths.chat_images_dir / image
    assert copy.read_bytes() == fixtures.photo_bytes()                    # the uploaded photo, kept in the profile
    imported = [(m.content, m.origin, m.kind) for m in memories.find_memories(services) if m.origin]
    assert sorted(imported) == [("How I want answers: Keep answers short.", "chatgpt", "semantic"),
                                ("I have a dog called Bo.", "chatgpt", "semantic"),
                                ("Preferred name: Sam", "chatgpt", "semantic")]
    marked = {memories.imported_from(m) for m in memories.find_memories(services)}
    assert marked == {"imported from ChatGPT", ""}                     # shown on the card and by memories show
    assert "not in the export" in chat.describe_import(result)
    before = stored(services)
    again = chat.import_chat(services, export)
    assert (again.state, again.turns, again.imported_memories) == ("already imported", 0, 0)
    assert stored(services) == before
    assert chat.describe_import(again) == "chatgpt-export.zip (ChatGPT export) was imported before: nothing added."


def test_the_extracted_export_reads_the_same_and_is_the_same_messages(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    path = fixtures.chatgpt_folder(tmp_path / "extracted")
    renamed = path.rename(path.with_name("my-chats.txt"))       # by content, not by name
    assert exports.detect(renamed) == "chatgpt"
    result = chat.import_chat(services, renamed)
    assert (result.turns, result.missing_images) == (6, 1)
    image = str(tmp_path / "extracted" / f"{fixtures.PHOTO_ASSET}-beach.jpg")
    turn_images = [json.loads(r[0]) for r in services.store.db.query("SELECT images FROM turns")]
    assert [image] in turn_images                   # an extracted export's image is used where it is
    # The zip of the same export is the same conversations: nothing is stored twice.
    again = chat.import_chat(services, fixtures.chatgpt_zip(tmp_path / "export.zip"))
    assert (again.state, again.turns) == ("already imported", 0)


def test_a_newer_export_adds_only_its_new_message_to_the_same_conversation(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    chat.import_chat(services, fixtures.chatgpt_zip(tmp_path / "old.zip"))
    memory = next(m for m in memories.find_memories(services) if m.content == "Preferred name: Sam")
    memories.edit_memory(services, memory.id, "Preferred name: Samuel")     # the user corrects it
    newer = chat.import_chat(services, fixtures.chatgpt_zip(tmp_path / "new.zip", extra_turn=True))
    assert (newer.turns, newer.known, newer.new_conversations, newer.imported_memories) == (1, 4, 1, 0)
    turns = rows(services)
    assert len(turns) == 7 and turns[-1][:3] == ("Trip to Lyon", "user", "My favourite colour is green.")
    assert services.store.db.query("SELECT count(*) FROM conversations")[0][0] == 2
    contents = [m.content for m in memories.find_memories(services)]
    assert "Preferred name: Samuel" in contents and "Preferred name: Sam" not in contents   # not brought back


def test_a_claude_export_imports_its_messages_once(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    export = fixtures.claude_export(tmp_path / "conversations.json")
    assert exports.detect(export) == "claude"
    result = chat.import_chat(services, export)
    assert (result.format, result.turns, result.missing_images) == ("claude", 3, 1)    # bo.jpg: not in the export
    assert rows(services) == [("Weekend", "user", "I took Bo to the beach in Nice.", ()),
                              ("Weekend", "assistant", "Bo must love it.", ()),       # thinking left out
                              ("Weekend", "user", "I met Anna at the market.", ())]   # text, when no blocks
    assert any("Nice" in m.content for m in memories.find_memories(services))    # the user's side remembered
    assert not any("love it" in m.content for m in memories.find_memories(services) if m.kind == "semantic")
    before = stored(services)
    assert chat.import_chat(services, export).state == "already imported"
    assert stored(services) == before


def test_companions_own_jsonl_still_imports(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps({"time": "2024-05-01T10:00:00Z", "role": "user", "text": "I went to Lyon."}) + "\n")
    result = chat.import_chat(services, path)
    assert (result.format, result.turns) == ("jsonl", 1)


def test_an_interrupted_export_import_resumes_to_one_clean_import(tmp_path: Path) -> None:
    clean = Services.open(tmp_path / "clean")
    export = fixtures.chatgpt_zip(tmp_path / "export.zip")
    chat.import_chat(clean, export)
    services = Services.open(tmp_path / "home")
    cancel = threading.Event()
    for step in chat.import_steps(services, export, cancel):
        if isinstance(step, chat.Progress) and step.stage == "import" and step.done >= 4:
            cancel.set()            # Cancel between the two conversations
        if isinstance(step, chat.ImportResult):
            assert step.state == "cancelled" and step.saved == 4
    resumed = chat.import_chat(services, export)
    assert (resumed.state, resumed.turns) == ("imported", 2)
    assert stored(services) == stored(clean)


def nothing_stored(services: Services) -> bool:
    q = services.store.db.query
    return q("SELECT count(*) FROM turns")[0][0] == 0 and q("SELECT count(*) FROM memories")[0][0] == 0


@pytest.mark.parametrize("make, message", [
    (lambda d: fixtures.truncated(fixtures.chatgpt_zip(d / "full.zip"), d / "export.zip"),
     r"^export\.zip is not a complete zip file \(it may be truncated"),
    (lambda d: fixtures.truncated(fixtures.chatgpt_folder(d / "x"), d / "conversations.json", 0.9),
     r"^conversations\.json is not complete JSON .*truncated"),
    (lambda d: _write(d / "conversations.json", [{"title": "A chat", "create_time": 1.0, "messages": []}]),
     r"conversation 1 of the ChatGPT export lacks mapping, conversation_id or id, current_node: an export of "
     r"another version"),
    (lambda d: _write(d / "conversations.json", [{"uuid": "x", "name": "A chat", "created_at": "2024-01-01"}]),
     r"conversation 1 of the Claude export lacks chat_messages"),
    (lambda d: _write(d / "conversations.json", []), r"holds no conversations: the export is empty"),
    (lambda d: _zip(d / "export.zip", {"user.json": "{}"}), r"a zip without a conversations\.json"),
])
def test_a_bad_export_is_refused_with_one_line_and_nothing_stored(tmp_path: Path, make: Any, message: str) -> None:
    services = Services.open(tmp_path / "home")
    path = make(tmp_path)
    with pytest.raises(InvalidInputError, match=message) as error:
        chat.import_chat(services, path)
    assert "\n" not in str(error.value)
    assert nothing_stored(services)


def test_a_conversation_of_another_shape_late_in_the_export_stores_nothing(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    good = fixtures.chatgpt_conversations()
    broken = json.loads(json.dumps(good[1]))
    del broken["mapping"]["p1"]["message"]["author"]
    path = _write(tmp_path / "conversations.json", [*good, broken])
    with pytest.raises(InvalidInputError, match=r"conversation 3 \('Dinner plans'\): message p1 lacks author"):
        chat.import_chat(services, path)
    assert nothing_stored(services)


def test_a_zip_whose_conversations_file_is_damaged_stores_nothing(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    path = fixtures.chatgpt_zip(tmp_path / "export.zip")
    data = bytearray(path.read_bytes())
    start = data.index(b"conversations.json") + len("conversations.json") + 40   # inside the compressed bytes
    data[start:start + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidInputError, match=r"damaged|not complete"):
        chat.import_chat(services, path)
    assert nothing_stored(services)


def test_a_folder_is_pointed_at_its_conversations_file(tmp_path: Path) -> None:
    folder = fixtures.chatgpt_folder(tmp_path / "export").parent
    with pytest.raises(InvalidInputError, match=r"is a folder, not a file \(the export's conversations are in"):
        chat.import_chat(Services.open(tmp_path / "home"), folder)


def _write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path



def test_an_export_saved_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(fixtures.claude_conversations()), encoding="utf-8-sig")
    assert chat.import_chat(Services.open(tmp_path / "home"), path).turns == 3
