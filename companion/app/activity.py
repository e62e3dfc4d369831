"""What the user's other AI apps may do and what they did: the write permission for ``companion mcp``
and the activity list (every call, kept in the store) that the user reads and clears in Settings ▸ Privacy
and with ``companion mcp activity``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion import config
from companion.core.store.activity import ActivityEntry, Outcome

if TYPE_CHECKING:
    from companion.app.services import Services

__all__ = ["ActivityEntry", "Outcome", "clear", "record", "recent", "writes_allowed"]   # the front ends' types


def writes_allowed(services: Services, client: str) -> bool:
    """Whether the app that introduced itself as ``client`` may write (``remember``): only when the user
    turned writes on, and, when they named apps, only for those (the name compared without case).

    Read from the settings file on every call: the window may change it while a server runs for hours,
    and turning writes off must hold at once. A file that cannot be read allows nothing."""
    try:
        settings = config.load(services.paths.settings_path)
    except config.SettingsError:
        return False
    if not settings.mcp_allow_writes:
        return False
    named = {name.strip().casefold() for name in settings.mcp_write_clients if name.strip()}
    return not named or client.strip().casefold() in named


def record(services: Services, client: str, tool: str, detail: str, outcome: Outcome, results: int = 0) -> None:
    """Add one call to the activity list."""
    services.store.activity.add(client, tool, detail, outcome, results)


def recent(services: Services, limit: int = 200) -> list[ActivityEntry]:
    """The activity list, newest first."""
    return services.store.activity.list(limit)


def clear(services: Services) -> int:
    """Empty the activity list; returns how many calls it held."""
    return services.store.activity.clear()
