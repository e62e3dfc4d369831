"""Settings ▸ Privacy: the user allows (or not) other AI apps to add memories, and sees and clears what they asked."""

from __future__ import annotations

from companion import config
from companion.app import activity
from companion.app.services import Services
from companion.ui.main_window import MainWindow
from companion.ui.privacy_page import PrivacyPage


def test_writes_for_other_apps_are_off_until_allowed_and_the_activity_list_can_be_cleared(
        qtbot, window: MainWindow, services: Services) -> None:
    activity.record(services, "Claude Desktop", "last_seen", "person=Anna", "ok", 1)
    activity.record(services, "Jan", "remember", "about=Anna, characters=20", "refused")
    dialog = window.open_settings()
    dialog.show_page("Privacy")
    page = dialog.privacy
    qtbot.waitUntil(lambda: page.activity.topLevelItemCount() == 2, timeout=10_000)
    rows = [[page.activity.topLevelItem(i).text(c) for c in range(1, 4)] for i in range(2)]
    assert rows == [["Jan", "remember about=Anna, characters=20", "refused"],
                    ["Claude Desktop", "last_seen person=Anna", "1 result"]]
    assert not page.allow_writes.isChecked() and not page.write_clients.isEnabled()

    page.allow_writes.setChecked(True)
    page.write_clients.setText("LM Studio,  Jan ,")
    with qtbot.waitSignal(dialog.applied, timeout=10_000):
        dialog.apply()
    on_disk = config.load(services.paths.settings_path)
    assert on_disk.mcp_allow_writes and on_disk.mcp_write_clients == ["LM Studio", "Jan"]
    assert activity.writes_allowed(services, "jan") and not activity.writes_allowed(services, "Claude Desktop")

    # Opened again (the page alone: a second settings dialog would load the models panel's backends again).
    page = PrivacyPage(services, window.workers)
    qtbot.addWidget(page)
    assert page.allow_writes.isChecked() and page.write_clients.text() == "LM Studio, Jan"
    qtbot.waitUntil(lambda: page.clear_button.isEnabled(), timeout=10_000)
    page.clear_button.click()
    qtbot.waitUntil(lambda: page.empty.isVisibleTo(page), timeout=10_000)
    assert activity.recent(services) == [] and page.activity.topLevelItemCount() == 0
