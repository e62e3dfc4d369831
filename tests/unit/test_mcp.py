"""``companion mcp`` in process, driven by the SDK's own client: what another app gets back, what it is refused,
what the user sees of it afterwards (the activity list), and the serialisation at the edge.

The photos here are store rows with sightings (no model); tests/integration/test_mcp_server.py runs the
server as a subprocess on a profile indexed with real dlib faces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.types import Implementation

from companion.app import activity, concepts, recall
from companion.app import settings as app_settings
from companion.app.services import Services
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord
from companion.core.types import Place, Source
from companion.mcp import serialize
from companion.mcp.server import CompanionMCP, parse_date

MAY = datetime(2024, 5, 3, 14, 0, tzinfo=timezone(timedelta(hours=2)))
LISBON = Place("Lisbon", "Lisbon", "Portugal", "PT")
TOOLS = {"search_memories", "who_is_in_photo", "last_seen", "photos_of", "people", "ask", "remember"}


@pytest.fixture()
def services(tmp_path: Path) -> Iterator[Services]:
    opened = Services.open(tmp_path / "home")
    yield opened
    opened.close()


@pytest.fixture()
def pictures(tmp_path: Path, services: Services) -> Path:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    app_settings.update(services, watched_folders=[str(folder)])
    return folder


def add_photo(services: Services, path: Path, when: datetime, place: Place | None, *who: int) -> int:
    path.write_bytes(b"not decoded here")
    photo_id = services.store.photos.upsert(PhotoRecord(str(path), f"hash-{path.name}", 16, 0.0, when, "exif",
                                                        None, None, place, 640, 480, None))
    for concept_id in who:
        services.store.observations.add(concept_id, time=when, place=place.label() if place else "", source="face",
                                        kind="sighting", photo_id=photo_id)
    return photo_id


def call(services: Services, *steps: tuple[str, dict[str, object]], client: str = "unit-test") -> list[dict]:
    """Connect the SDK's client to the server in process and make the calls; each result as JSON (or an error)."""
    adapter = CompanionMCP(services)

    async def run() -> list[dict]:
        out = []
        async with Client(adapter.server, client_info=Implementation(name=client, version="1")) as session:
            for name, arguments in steps:
                if name == "list_tools":
                    out.append({"tools": sorted(t.name for t in (await session.list_tools()).tools)})
                elif name == "read":
                    contents = (await session.read_resource(str(arguments["uri"]))).contents
                    out.append(json.loads(contents[0].text))
                else:
                    result = await session.call_tool(name, arguments)
                    text = result.content[0].text
                    out.append({"error": text} if result.is_error else json.loads(text))
        return out

    try:
        return anyio.run(run)
    finally:
        adapter.close()


def test_the_tools_answer_with_cited_records(services: Services, pictures: Path) -> None:
    anna = concepts.add_concept(services, "Anna", "person", info="my sister")
    older = add_photo(services, pictures / "beach.jpg", MAY - timedelta(days=40), None, anna.id)
    newest = add_photo(services, pictures / "lisbon.jpg", MAY, LISBON, anna.id)
    services.store.memories.add(NewMemory("semantic", "Anna loves the tram in Lisbon", concept_ids=(anna.id,)))
    tools, seen, window, everyone, found, card, record = call(
        services, ("list_tools", {}), ("last_seen", {"person": "anna"}),
        ("photos_of", {"person": "Anna", "after": "2024-05-01", "before": "2024-06-01", "place": "Lisbon"}),
        ("people", {}), ("search_memories", {"query": "tram", "about": "Anna"}),
        ("read", {"uri": "companion://person/Anna"}), ("read", {"uri": f"companion://photo/{newest}"}))
    assert set(tools["tools"]) == TOOLS
    assert seen == {"person": {"id": anna.id, "name": "Anna", "category": "person"}, "seen": True,
                    "date": "2024-05-03T14:00:00+02:00", "place": "Lisbon, Portugal",
                    "source": {"type": "photo", "id": newest, "date": "2024-05-03T14:00:00+02:00",
                               "place": "Lisbon, Portugal", "path": str(pictures / "lisbon.jpg")}}
    assert [p["id"] for p in window["photos"]] == [newest]          # the April photo is outside the window
    assert [(p["name"], p["photos"], p["about"]) for p in everyone["people"]] == [("Anna", 2, "my sister")]
    assert [m["text"] for m in found["memories"]] == ["Anna loves the tram in Lisbon"]
    assert found["memories"][0]["about"] == ["Anna"]
    assert card["last_seen"]["source"]["id"] == newest and {p["id"] for p in card["recent_photos"]} == {older, newest}
    assert record["people"] == ["Anna"] and record["path"] == str(pictures / "lisbon.jpg")
    assert services.loaded_models() == {"chat": None, "face_backend": False, "image_embedder": False,
                                        "text_embedder": False}   # nothing loaded for lookups


def test_every_call_is_in_the_activity_list_with_the_app_that_made_it(services: Services, pictures: Path) -> None:
    concepts.add_concept(services, "Anna", "person")
    call(services, ("last_seen", {"person": "Anna"}), ("last_seen", {"person": "Nobody"}),
         ("who_is_in_photo", {"path": "/etc/passwd"}), client="Claude Desktop")
    entries = activity.recent(services)
    assert [(e.client, e.tool, e.detail, e.outcome) for e in reversed(entries)] == [
        ("Claude Desktop", "last_seen", "person=Anna", "ok"),
        ("Claude Desktop", "last_seen", "person=Nobody", "failed"),
        ("Claude Desktop", "who_is_in_photo", "path=/etc/passwd", "refused")]
    assert activity.clear(services) == 3 and activity.recent(services) == []


def test_paths_outside_the_watched_folders_are_refused_unopened(services: Services, pictures: Path,
                                                                tmp_path: Path) -> None:
    outside = tmp_path / "private" / "letter.jpg"
    outside.parent.mkdir()
    outside.write_bytes(b"secret")
    (pictures / "link.jpg").symlink_to(outside)
    refused = call(services, ("who_is_in_photo", {"path": str(outside)}),
                   ("who_is_in_photo", {"path": str(pictures / "link.jpg")}),
                   ("who_is_in_photo", {"path": str(pictures / ".." / "private" / "letter.jpg")}),
                   ("who_is_in_photo", {"path": "letter.jpg"}))
    assert all("outside the watched folders" in r["error"] or "full path" in r["error"] for r in refused), refused
    assert [e.outcome for e in activity.recent(services)] == ["refused"] * 4
    assert recall.allowed_photo(services, str(pictures / "beach.jpg")) == (pictures / "beach.jpg").resolve()


def test_a_photo_of_the_library_outside_the_folders_is_answered_from_its_records(services: Services,
                                                                                tmp_path: Path) -> None:
    anna = concepts.add_concept(services, "Anna", "person")
    old = tmp_path / "old-folder"
    old.mkdir()
    photo_id = add_photo(services, old / "party.jpg", MAY, LISBON, anna.id)
    (answer,) = call(services, ("who_is_in_photo", {"path": str(old / "party.jpg")}))
    assert answer["photo_id"] == photo_id and answer["from"] == "library records"
    assert [(p["name"], p["how"]) for p in answer["people"]] == [("Anna", "record")]


def test_remember_is_refused_until_the_user_allows_writes(services: Services, pictures: Path) -> None:
    anna = concepts.add_concept(services, "Anna", "person")
    note = ("remember", {"text": "Anna's birthday is on 3 May", "about": "Anna"})
    (refused,) = call(services, note)
    assert "writing is off" in refused["error"] and services.store.memories.count() == 0
    app_settings.update(services, mcp_allow_writes=True, mcp_write_clients=["LM Studio"])
    (other_app,) = call(services, note, client="Jan")
    assert "writing is off" in other_app["error"] and services.store.memories.count() == 0
    (added,) = call(services, note, client="lm studio")
    memory = services.store.memories.require(added["remembered"]["id"])
    assert memory.content == "Anna's birthday is on 3 May" and memory.concept_ids == [anna.id]
    assert memory.keywords == ["added by lm studio"]
    assert [(e.tool, e.outcome) for e in reversed(activity.recent(services))] == [
        ("remember", "refused"), ("remember", "refused"), ("remember", "ok")]
    assert all("birthday" not in e.detail for e in activity.recent(services))   # the text itself is not logged


def test_writes_turned_off_in_the_file_hold_for_a_running_server(services: Services, tmp_path: Path) -> None:
    app_settings.update(services, mcp_allow_writes=True)
    assert activity.writes_allowed(services, "any app")
    other = Services.open(tmp_path / "home")      # the window, in another process
    try:
        app_settings.update(other, mcp_allow_writes=False)
    finally:
        other.close()
    assert services.settings.mcp_allow_writes is True     # this process still holds the old value ...
    assert not activity.writes_allowed(services, "any app")   # ... but the file decides


def test_a_forgotten_person_is_never_returned(services: Services, pictures: Path) -> None:
    anna = concepts.add_concept(services, "Anna", "person")
    bob = concepts.add_concept(services, "Bob", "person")
    photo_id = add_photo(services, pictures / "both.jpg", MAY, LISBON, anna.id, bob.id)
    services.store.memories.add(NewMemory("semantic", "Bob fixed the bike", concept_ids=(bob.id,)))
    call(services, ("last_seen", {"person": "Bob"}))
    concepts.forget_concept(services, "Bob")
    (asked,) = activity.recent(services)
    assert "Bob" not in asked.detail and asked.tool == "last_seen"    # what was asked about him is redacted too
    everyone, seen, found, who, card = call(
        services, ("people", {}), ("last_seen", {"person": "Bob"}), ("search_memories", {"query": "bike"}),
        ("who_is_in_photo", {"path": str(pictures / "both.jpg")}), ("read", {"uri": f"companion://photo/{photo_id}"}))
    assert [p["name"] for p in everyone["people"]] == ["Anna"]
    assert "nobody called 'Bob'" in seen["error"]
    assert found["memories"] == []
    assert [p["name"] for p in who["people"]] == ["Anna"] and card["people"] == ["Anna"]


def test_ask_answers_from_the_records_and_remembers_nothing(services: Services, pictures: Path) -> None:
    anna = concepts.add_concept(services, "Anna", "person")
    photo_id = add_photo(services, pictures / "lisbon.jpg", MAY, LISBON, anna.id)
    (answer,) = call(services, ("ask", {"question": "Where did I last see Anna?"}))
    assert "Lisbon" in answer["answer"]
    assert {"type": "photo", "id": photo_id} in [{"type": s["type"], "id": s["id"]} for s in answer["sources"]]
    assert "model" not in answer and "No chat model" in answer["notice"]
    assert services.store.memories.count() == 0 and services.store.conversations.count_turns() == 0


def test_serialisation_is_small_and_cites_its_records() -> None:
    turn = Source("turn", 7, None, "", "I had lunch with Anna")
    assert serialize.source(turn) == {"type": "turn", "id": 7, "text": "I had lunch with Anna"}
    photo = Source("photo", 3, MAY, "Lisbon, Portugal", "/p/lisbon.jpg")
    assert serialize.source(photo) == {"type": "photo", "id": 3, "date": "2024-05-03T14:00:00+02:00",
                                       "place": "Lisbon, Portugal", "path": "/p/lisbon.jpg"}
    assert parse_date("2024-05-01", "after") == datetime(2024, 5, 1).astimezone()
    assert parse_date("2024-05-01T10:00:00+00:00", "after") == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert parse_date(" ", "after") is None
    with pytest.raises(Exception, match="after must be a date like 2024-05-01"):
        parse_date("last week", "after")
