"""The header's search everywhere (people, photos, memories) and the light/dark theme."""

from __future__ import annotations

from pathlib import Path

import sample_data

from companion import config
from companion.app.services import Services
from companion.ui import appearance, icons, theme
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtCore, QtGui, QtWidgets


def test_search_finds_a_person_a_photo_and_a_memory(qtbot, window: MainWindow, services: Services,
                                                    tmp_path: Path) -> None:
    ids = sample_data.seed_photos(services, tmp_path, count=3)
    sample_data.seed_concepts(services)
    anna = services.store.concepts.by_name("Anna")
    seen = services.store.photos.get(ids[1])
    services.store.observations.add(anna.id, time=seen.taken_at, place=seen.place.label(), source="face",
                                    kind="sighting", confidence=0.9, photo_id=seen.id)
    sample_data.seed_memories(services)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_K, QtCore.Qt.KeyboardModifier.ControlModifier)
    box = window.header.search
    assert box.hasFocus()
    with qtbot.waitSignal(window.search.searched, timeout=20_000) as blocker:
        qtbot.keyClicks(box, "Anna")
    found = blocker.args[0]
    assert [c.concept.name for c in found.people] == ["Anna", "Rex"]   # Rex: "Anna's golden retriever"
    assert seen.id in [p.id for p in found.photos]            # a photo of her
    assert any("Anna" in m.content for m in found.memories)   # and what was said about her
    panel = window.search
    assert panel.isVisible()
    shown = [w.text() for w in panel.findChildren(QtWidgets.QLabel) if w.isVisibleTo(panel)]
    assert {"People", "Photos", "Memories"} <= set(shown)
    # Enter opens the first result: Anna's page.
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Return)
    assert not panel.isVisible()
    qtbot.waitUntil(lambda: window.people.pages.currentWidget() is window.people.person_page, timeout=10_000)
    assert window.stack.currentWidget() is window.people and window.people.person_page.name.text() == "Anna"


def test_search_with_no_match_says_what_to_try(qtbot, window: MainWindow) -> None:
    window.header.search.setText("zebra crossing")
    with qtbot.waitSignal(window.search.searched, timeout=20_000) as blocker:
        window.search.search_now()
    assert blocker.args[0].empty
    texts = [w.text() for w in window.search.findChildren(QtWidgets.QLabel) if w.isVisibleTo(window.search)]
    assert any("Nothing found" in t for t in texts)
    window.escape()                 # Esc closes the results
    assert not window.search.isVisible()


def test_theme_switch_restyles_everything_and_is_saved(qtbot, window: MainWindow, services: Services) -> None:
    app = QtWidgets.QApplication.instance()
    manager = appearance.manager()
    assert manager is not None and manager.mode == "system"
    light_bg = app.palette().color(QtGui.QPalette.ColorRole.Window)
    icon_before = icons.icon("search", "text").pixmap(32).toImage()
    dialog = window.open_settings()
    dialog.show_page("Appearance")
    dark = next(b for b in dialog.appearance.buttons() if b.property("mode") == "dark")
    with qtbot.waitSignal(manager.changed, timeout=2000):
        dark.click()                                       # previewed at once
    assert theme.current() is theme.DARK
    window_bg = app.palette().color(QtGui.QPalette.ColorRole.Window)
    assert window_bg.lightness() < 40 < light_bg.lightness()
    assert theme.DARK.surface in app.styleSheet() and theme.LIGHT.surface not in app.styleSheet()
    assert icons.icon("search", "text").pixmap(32).toImage() != icon_before          # icons re-tinted
    assert window.sidebar.settings.icon_label.pixmap().toImage() is not None
    with qtbot.waitSignal(dialog.applied, timeout=10_000):
        dialog.apply()
    assert config.load(services.paths.settings_path).appearance == "dark"

    # Cancel after a preview puts the saved look back.
    dialog = window.open_settings()
    light = next(b for b in dialog.appearance.buttons() if b.property("mode") == "light")
    light.click()
    assert theme.current() is theme.LIGHT
    dialog.reject()
    assert theme.current() is theme.DARK
    manager.set_mode("system")


def test_system_theme_is_followed_live(qtbot, window: MainWindow) -> None:
    manager = appearance.manager()
    hints = QtGui.QGuiApplication.styleHints()
    manager.set_mode("system")
    if not hasattr(hints, "setColorScheme"):
        return
    hints.setColorScheme(QtCore.Qt.ColorScheme.Dark)
    try:
        if hints.colorScheme() != QtCore.Qt.ColorScheme.Dark:   # this platform plugin cannot pretend
            return
        qtbot.waitUntil(lambda: theme.current() is theme.DARK, timeout=2000)
    finally:
        hints.unsetColorScheme()
    qtbot.waitUntil(lambda: theme.current() is theme.LIGHT, timeout=2000)


def test_every_icon_is_a_real_glyph_and_sharp_at_2x(qtbot) -> None:
    """Each semantic icon maps to a Phosphor glyph; a 2x pixmap has real ink at full resolution."""
    for name in icons.GLYPHS:
        assert icons.glyph(name), name
        pixmap = icons.pixmap(name, 20, "text", 2.0)
        assert pixmap.size() == QtCore.QSize(40, 40) and pixmap.devicePixelRatio() == 2.0
        image = pixmap.toImage()
        inked = sum(1 for x in range(40) for y in range(40) if image.pixelColor(x, y).alpha() > 128)
        assert inked > 12, name
