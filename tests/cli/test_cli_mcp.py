"""``companion mcp activity``: the user reads and clears what other apps asked over MCP."""

from __future__ import annotations

import json

import pytest

from companion.app import activity
from companion.app.services import Services
from companion.cli import main


def test_the_activity_list_is_shown_and_cleared(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "activity"]) == 0
    assert "No app has asked" in capsys.readouterr().out
    services = Services.open()
    try:
        activity.record(services, "Claude Desktop", "last_seen", "person=Anna", "ok", 1)
        activity.record(services, "Jan", "who_is_in_photo", "path=/etc/passwd", "refused")
    finally:
        services.close()
    assert main(["mcp", "activity"]) == 0
    out = capsys.readouterr().out
    assert out.index("who_is_in_photo") < out.index("last_seen")        # newest first
    assert "Claude Desktop" in out and "refused" in out and "path=/etc/passwd" in out
    assert main(["mcp", "activity", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["client"], r["tool"], r["outcome"], r["results"]) for r in rows] == [
        ("Jan", "who_is_in_photo", "refused", 0), ("Claude Desktop", "last_seen", "ok", 1)]
    assert main(["mcp", "activity", "--clear"]) == 0
    assert "Cleared 2 calls" in capsys.readouterr().out
    assert main(["mcp", "activity", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
