"""Hotkey strings: parsed forgivingly, refused with a reason, spelled right for every backend."""

from __future__ import annotations

import pytest

from trayai.core.hotkeys import HotkeyError, normalize_hotkey, parse_hotkey


@pytest.mark.parametrize(
    ("text", "display", "x11", "pynput", "portal"),
    [
        ("Ctrl+Alt+Space", "Ctrl+Alt+Space", "space", "<ctrl>+<alt>+<space>", "CTRL+ALT+space"),
        (" control + ALT + space ", "Ctrl+Alt+Space", "space", "<ctrl>+<alt>+<space>", "CTRL+ALT+space"),
        ("Super+Shift+k", "Shift+Super+K", "k", "<shift>+<cmd>+k", "SHIFT+LOGO+k"),
        ("Cmd+/", "Super+/", "slash", "<cmd>+/", "LOGO+slash"),
        ("Win+Enter", "Super+Return", "Return", "<cmd>+<enter>", "LOGO+Return"),
        ("Ctrl+F12", "Ctrl+F12", "F12", "<ctrl>+<f12>", "CTRL+F12"),
        ("F9", "F9", "F9", "<f9>", "F9"),
        ("Alt+PgDn", "Alt+PgDown", "Next", "<alt>+<page_down>", "ALT+Next"),
        ("Ctrl+Shift+1", "Ctrl+Shift+1", "1", "<ctrl>+<shift>+1", "CTRL+SHIFT+1"),
        ("Meta+Esc", "Super+Esc", "Escape", "<cmd>+<esc>", "LOGO+Escape"),
    ],
)
def test_spellings(text: str, display: str, x11: str, pynput: str, portal: str) -> None:
    hotkey = parse_hotkey(text)
    assert (hotkey.display, hotkey.x11_keysym, hotkey.pynput, hotkey.portal_trigger) == (
        display,
        x11,
        pynput,
        portal,
    )
    assert parse_hotkey(hotkey.display) == hotkey  # the display spelling parses back to the same


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "No combination"),
        ("Ctrl+Alt", "no key"),
        ("a", "no modifier"),
        ("Ctrl+a+b", "exactly one"),
        ("Ctrl+Foo", "not a key"),
        ("Ctrl++Space", "empty part"),
        ("Ctrl+F25", "not a key"),
        ("Shift+A", "besides Shift"),
    ],
)
def test_refusals_say_why(text: str, reason: str) -> None:
    with pytest.raises(HotkeyError, match=reason):
        parse_hotkey(text)


def test_normalize_keeps_empty_as_no_hotkey() -> None:
    assert normalize_hotkey("") == "" and normalize_hotkey("ctrl+alt+space") == "Ctrl+Alt+Space"
    assert parse_hotkey("Ctrl++").x11_keysym == "equal"
