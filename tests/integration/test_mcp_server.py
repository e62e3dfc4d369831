"""``companion mcp`` as a desktop AI app runs it: a subprocess on stdio, driven by the SDK's own client.

The profile is indexed with the real face models (dlib's landmarks and descriptor, the random CLIP):
skimage's astronaut (Eileen Collins) and matplotlib's Grace Hopper, each named from a reference photo.
The thresholds are test_library.py's (0.06: copies of one face are within 0.012, the two women 0.11 apart).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest
from conftest_perception import REPO, astronaut_pixels, grace_hopper_pixels
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import Implementation
from test_library import PARIS, SAME_PERSON, TOKYO, run_index, save_photo, variants

from companion.app import activity, concepts
from companion.app import settings as app_settings
from companion.app.services import Services

pytestmark = pytest.mark.models
MAY = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))


def profile(models_env: Path, tmp_path: Path) -> Path:
    """A watched folder with three photos of Eileen (Paris, May) and three of Grace (Tokyo, June), both named."""
    pictures = tmp_path / "Pictures"
    for i, pixels in enumerate(variants(astronaut_pixels())[:3]):
        save_photo(pictures / f"eileen-{i}.jpg", pixels, MAY + timedelta(days=i), PARIS)
    for i, pixels in enumerate(variants(grace_hopper_pixels())[:3]):
        save_photo(pictures / f"grace-{i}.jpg", pixels, MAY + timedelta(days=40 + i), TOKYO)
    services = Services.open()
    try:
        app_settings.update(services, watched_folders=[str(pictures)], face_match_distance=SAME_PERSON,
                            face_cluster_distance=SAME_PERSON)
        run_index(services, pictures)
        refs = tmp_path / "refs"
        concepts.add_concept(services, "Eileen", "person",
                             images=[save_photo(refs / "eileen.jpg", astronaut_pixels()[10:, 10:])])
        concepts.add_concept(services, "Grace", "person",
                             images=[save_photo(refs / "grace.jpg", grace_hopper_pixels()[20:, 10:])])
    finally:
        services.close()
    return pictures


async def session_calls(steps: list[tuple[str, dict[str, object]]], client: str = "integration-test") -> list[dict]:
    """Start ``python -m companion mcp`` and make the calls through the SDK's stdio client."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = StdioServerParameters(command=sys.executable, args=["-m", "companion", "mcp"], env=env, cwd=str(REPO))
    out: list[dict] = []
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write, client_info=Implementation(name=client, version="1")) as session:
            await session.initialize()
            for name, arguments in steps:
                if name == "list_tools":
                    out.append({"tools": sorted(t.name for t in (await session.list_tools()).tools)})
                    continue
                result = await session.call_tool(name, arguments)
                text = result.content[0].text
                out.append({"error": text} if result.is_error else json.loads(text))
    return out


def test_another_app_gets_cited_answers_and_is_refused_what_the_user_did_not_allow(
        models_env: Path, tmp_path: Path) -> None:
    pictures = profile(models_env, tmp_path)
    # A photo the library has not indexed yet (copied in while nothing watched): recognised on the call.
    new_photo = save_photo(pictures / "new.jpg", variants(astronaut_pixels())[3], MAY + timedelta(days=90), PARIS)
    outside = save_photo(tmp_path / "Private" / "eileen.jpg", astronaut_pixels())
    tools, seen, indexed, recognised, refused, write_off = anyio.run(session_calls, [
        ("list_tools", {}), ("last_seen", {"person": "Eileen"}),
        ("who_is_in_photo", {"path": str(pictures / "grace-1.jpg")}),
        ("who_is_in_photo", {"path": str(new_photo)}),
        ("who_is_in_photo", {"path": str(outside)}),
        ("remember", {"text": "Eileen flew the shuttle", "about": "Eileen"})])
    assert tools["tools"] == ["ask", "last_seen", "people", "photos_of", "remember", "search_memories",
                              "who_is_in_photo"]
    # The newest indexed photo of Eileen, cited by id and path, with its date and place.
    assert seen["seen"] is True and seen["person"]["name"] == "Eileen"
    assert seen["source"]["type"] == "photo" and seen["source"]["path"] == str(pictures / "eileen-2.jpg")
    assert seen["date"] == "2024-05-03T10:00:00+02:00" and seen["place"].startswith("Paris")
    assert indexed["from"] == "library records" and [p["name"] for p in indexed["people"]] == ["Grace"]
    assert indexed["photo_id"] > 0 and indexed["place"].endswith("Japan")
    assert recognised["from"] == "recognised now" and "photo_id" not in recognised
    assert [(p["name"], p["how"]) for p in recognised["people"]] == [("Eileen", "face")]
    assert recognised["people"][0]["confidence"] > 0.9
    assert "outside the watched folders" in refused["error"]
    assert "writing is off" in write_off["error"]

    services = Services.open()
    try:
        log = [(e.client, e.tool, e.outcome) for e in reversed(activity.recent(services))]
        assert {client for client, _tool, _outcome in log} == {"integration-test"}
        assert [(tool, outcome) for _client, tool, outcome in log] == [
            ("last_seen", "ok"), ("who_is_in_photo", "ok"), ("who_is_in_photo", "ok"), ("who_is_in_photo", "refused"),
            ("remember", "refused")]
        assert services.store.memories.count() == 0
        app_settings.update(services, mcp_allow_writes=True)
        concepts.forget_concept(services, "Grace")
    finally:
        services.close()

    written, found, everyone, grace, grace_photo = anyio.run(session_calls, [
        ("remember", {"text": "Eileen flew the shuttle", "about": "Eileen"}),
        ("search_memories", {"query": "shuttle"}), ("people", {}), ("last_seen", {"person": "Grace"}),
        ("who_is_in_photo", {"path": str(pictures / "grace-1.jpg")})])
    assert written["remembered"]["text"] == "Eileen flew the shuttle"
    assert [(m["id"], m["about"]) for m in found["memories"]] == [(written["remembered"]["id"], ["Eileen"])]
    assert [p["name"] for p in everyone["people"]] == ["Eileen"]          # Grace was forgotten
    assert "nobody called 'Grace'" in grace["error"]
    assert "people" not in grace_photo and "Grace" not in json.dumps(grace_photo)


def test_the_face_model_loads_for_a_photo_the_library_lacks_and_goes_on_the_idle_timer(
        models_env: Path, tmp_path: Path) -> None:
    from mcp import Client

    from companion.mcp.server import CompanionMCP

    pictures = profile(models_env, tmp_path)
    new_photo = save_photo(pictures / "new.jpg", variants(astronaut_pixels())[3], MAY + timedelta(days=90), PARIS)
    services = Services.open()
    adapter = CompanionMCP(services)
    try:
        async def calls() -> list[dict]:
            async with Client(adapter.server, client_info=Implementation(name="in-process", version="1")) as client:
                out = [json.loads((await client.call_tool(name, args)).content[0].text) for name, args in (
                    ("last_seen", {"person": "Eileen"}), ("people", {}))]
                assert not any(services.loaded_models().values())         # lookups load no model
                out.append(json.loads((await client.call_tool("who_is_in_photo", {"path": str(new_photo)}))
                                      .content[0].text))
                assert services.loaded_models()["face_backend"] is True    # a photo to recognise: the face model
                return out

        *_lookups, recognised = anyio.run(calls)
        assert [p["name"] for p in recognised["people"]] == ["Eileen"]
        app_settings.update(services, idle_unload_seconds=1)      # as the window's Settings would
        deadline = time.monotonic() + 60
        while services.loaded_models()["face_backend"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert services.loaded_models()["face_backend"] is False       # released like the window's models
    finally:
        adapter.close()
        services.close()
