"""The MCP server: tools and resources over ``companion.app``, served over stdio with the official SDK.

Every call runs on one worker thread (the store's connections are per thread, and one caller's
questions are answered in order), is logged in the activity list with the app's name as it
introduced itself, and returns JSON made by ``serialize.py``. A refusal (a path outside the watched
folders, a write while writes are off) and a failure come back as a tool error in words, which the
client's model reads; nothing else of the machine is reachable through it.

Nothing loads at start but the store: a model loads when a tool first needs it (the face model for a
photo the library has not indexed, MiniLM for memory search, the chat model for ``ask``) through the
same model hosts as the window, which release it ``idle_unload_seconds`` after its last use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from companion import __version__
from companion.app import activity, memories, recall
from companion.app.services import Services
from companion.core.errors import CompanionError, InvalidInputError
from companion.mcp import serialize
from companion.mcp.serialize import Json

INSTRUCTIONS = (
    "Companion is the user's private, local memory of the people, pets and things in their photos and "
    "conversations. Every result cites its records (ids, dates, places, photo paths): quote them rather "
    "than guess. Photo paths must lie inside the folders the user lets Companion watch.")

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

Person = Annotated[str, Field(description="a person's (or pet's, thing's) name as Companion knows it, or its id")]
Category = Literal["person", "pet", "object", "place"]


class Refused(CompanionError):
    """The user has not allowed this (writes are off, or not for this app)."""


def client_name(ctx: Context | None) -> str:
    """The calling app's name as it introduced itself ("" when it did not)."""
    params = ctx.session.client_params if ctx is not None else None
    return params.client_info.name if params is not None else ""


def parse_date(value: str | None, name: str) -> datetime | None:
    """An ISO date or date-time from a caller; one without an offset is the user's local time."""
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a date like 2024-05-01 (got {value!r})") from exc
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def describe(**arguments: object) -> str:
    """A call's arguments in short for the activity list ("person=Anna, after=2024-05-01")."""
    return ", ".join(f"{k}={v}" for k, v in arguments.items() if v not in (None, ""))


class CompanionMCP:
    """One profile's tools and resources; ``server`` is the SDK's server to run."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="mcp-app")
        self.server: MCPServer[object] = MCPServer("companion", version=__version__, instructions=INSTRUCTIONS,
                                                   log_level="WARNING")
        self._declare()

    def close(self) -> None:
        self._worker.shutdown(wait=True)

    async def _call(self, ctx: Context | None, tool: str, detail: str, work: Callable[[], tuple[Json, int]]) -> Json:
        """Run ``work`` on the worker thread and log the call (its outcome, how many records it returned)."""
        client = client_name(ctx)

        def logged() -> Json:
            try:
                result, count = work()
            except (Refused, recall.OutsideLibraryError):
                activity.record(self.services, client, tool, detail, "refused")
                raise
            except BaseException:
                activity.record(self.services, client, tool, detail, "failed")
                raise
            activity.record(self.services, client, tool, detail, "ok", count)
            return result

        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, logged)
        except CompanionError as exc:
            raise ToolError(str(exc)) from exc

    def _declare(self) -> None:
        server, services = self.server, self.services

        @server.tool(annotations=READ, description=(
            "Search what the user told Companion (memories), best first; optionally only those about one person. "
            "Returns each memory's id, kind, text, date, place and whom it is about."))
        async def search_memories(query: Annotated[str, Field(description="words to look for")],
                                  ctx: Context,
                                  about: Annotated[str | None, Field(description="only memories about this person")]
                                  = None,
                                  limit: Annotated[int, Field(ge=1, le=recall.MAX_PHOTOS)] = 10) -> Json:
            def work() -> tuple[Json, int]:
                found = recall.search_memories(services, query, about=about, limit=limit)
                return serialize.memories(query, found), len(found)
            return await self._call(ctx, "search_memories", describe(query=query, about=about), work)

        @server.tool(annotations=READ, description=(
            "Who is in the photo at this path (a full path inside the folders Companion watches; others are "
            "refused). An indexed photo is answered from the library's records, another one is recognised now. "
            "Returns the people with how they were recognised, faces nobody has named, the date and the place."))
        async def who_is_in_photo(path: Annotated[str, Field(description="the photo's full path")],
                                  ctx: Context) -> Json:
            def work() -> tuple[Json, int]:
                found = recall.who_is_in_photo(services, path)
                return serialize.photo_people(found), len(found.people)
            return await self._call(ctx, "who_is_in_photo", describe(path=path), work)

        @server.tool(annotations=READ, description=(
            "When and where the user last saw someone: the newest photo of them, or the newest conversation in "
            "which the user said they were with them. Returns the date, the place and the record (photo path or "
            "the turn's first words)."))
        async def last_seen(person: Person, ctx: Context) -> Json:
            def work() -> tuple[Json, int]:
                concept = recall.person(services, person)
                found = recall.last_seen(services, concept)
                return serialize.last_seen(concept, found), int(found is not None)
            return await self._call(ctx, "last_seen", describe(person=person), work)

        @server.tool(annotations=READ, description=(
            "Photos of someone, newest first, optionally taken in a time window and at a place (a city, region "
            "or country). Returns each photo's id, path, date and place."))
        async def photos_of(person: Person, ctx: Context,
                            after: Annotated[str | None, Field(description="from this date on (2024-05-01)")] = None,
                            before: Annotated[str | None, Field(description="before this date (2024-06-01)")] = None,
                            place: Annotated[str | None, Field(description="a city, region or country")] = None,
                            limit: Annotated[int, Field(ge=1, le=recall.MAX_PHOTOS)] = 20) -> Json:
            def work() -> tuple[Json, int]:
                concept, found = recall.photos_of(services, person, since=parse_date(after, "after"),
                                                  until=parse_date(before, "before"), place=place or "", limit=limit)
                return serialize.photos_of(concept, found), len(found)
            return await self._call(ctx, "photos_of", describe(person=person, after=after, before=before,
                                                               place=place), work)

        @server.tool(annotations=READ, description=(
            "Everyone (and every pet, thing, place) Companion knows, by name: id, category, the user's note, "
            "how many photos, and when and where last seen."))
        async def people(ctx: Context, category: Category | None = None) -> Json:
            def work() -> tuple[Json, int]:
                found = recall.people(services, category)
                return serialize.people(found), len(found)
            return await self._call(ctx, "people", describe(category=category), work)

        @server.tool(annotations=READ, description=(
            "Ask Companion a personal question (\"when did I last see Anna?\", \"who did I meet in Lisbon?\"). "
            "Returns the full answer with the records it rests on; without a local chat model the answer comes "
            "straight from the records. The question is not remembered."))
        async def ask(question: Annotated[str, Field(description="the question, in the user's words")],
                      ctx: Context) -> Json:
            def work() -> tuple[Json, int]:
                from companion.app import chat  # the answering pipeline loads with the first question

                if not question.strip():
                    raise InvalidInputError("ask a question")
                done = [e.answer for e in chat.ask(services, question, temporary=True) if isinstance(e, chat.Done)]
                if not done:
                    raise CompanionError("the answer was cut short")
                return serialize.answer(done[0]), len(done[0].sources)
            return await self._call(ctx, "ask", describe(question=question), work)

        @server.tool(annotations=WRITE, description=(
            "Add a memory to Companion, marked as added by this app. Works only when the user has turned on "
            "writes for other apps (Companion: Settings > Privacy); refused otherwise."))
        async def remember(text: Annotated[str, Field(description="what to remember, as one statement")],
                           ctx: Context,
                           about: Annotated[str | None, Field(description="the person it is about")] = None) -> Json:
            client = client_name(ctx)

            def work() -> tuple[Json, int]:
                if not activity.writes_allowed(services, client):
                    raise Refused("writing is off: the user has not allowed other apps to add memories "
                                  "(Companion: Settings > Privacy)")
                added = memories.remember_for(services, text, client=client, about=about)
                names = [about] if about else []
                return {"remembered": serialize.memory(recall.FoundMemory(added, names))}, 1
            # The text itself is not logged: the activity list says that something was added, and by whom.
            return await self._call(ctx, "remember", describe(about=about, characters=len(text)), work)

        @server.resource("companion://person/{ref}", name="person", mime_type="application/json", description=(
            "A person's card: note, photo count, last sighting, newest photos and memories about them."))
        async def person_card(ref: str, ctx: Context) -> str:
            def work() -> tuple[Json, int]:
                return serialize.person_record(recall.person_record(services, ref)), 1
            return serialize.dump(await self._call(ctx, "resource person", describe(ref=ref), work))

        @server.resource("companion://photo/{photo_id}", name="photo", mime_type="application/json", description=(
            "A photo's record: path, date (and how sure it is), place, the people in it and their face boxes."))
        async def photo_record(photo_id: str, ctx: Context) -> str:
            def work() -> tuple[Json, int]:
                from companion.app import library

                found = library.photo_detail(services, int(photo_id)) if photo_id.isdigit() else None
                if found is None:
                    raise InvalidInputError(f"no photo with id {photo_id}")
                return serialize.photo_record(found), 1
            return serialize.dump(await self._call(ctx, "resource photo", describe(id=photo_id), work))


def serve(services: Services) -> None:
    """Serve MCP over this process's stdin and stdout until the client closes them."""
    import anyio

    # The SDK logs each failed call at INFO; the client sees the error itself, and stderr is the user's log.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    adapter = CompanionMCP(services)
    try:
        anyio.run(adapter.server.run_stdio_async)
    finally:
        adapter.close()
