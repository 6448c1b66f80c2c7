"""The chat and the settings at 480 px as a real Wayland compositor (sway) sizes them, checked with
``fitting.py`` and shot with grim. A program, because the checks need the windows' own Qt and that Qt
must be on the ``wayland`` platform: tests/e2e/test_narrow_wayland.py runs it in the ``wayland``
fixture's session.

``python -m tests.support.narrow_session OUT_DIR floating``: the chat and every settings page floated
and sized by sway (``resize set``) to 480 px, then to their minimum and default sizes; Ctrl+B, Esc and
Alt+A typed with wtype. ``… tiled``: the chat tiled at half the output beside the settings (the layout
issue 18 showed with "Tempe", "Max to" cut). Prints JSON: problems, the PNGs, and each window's size
as sway's tree gives it and as Qt has it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QComboBox, QStyleFactory, QWidget

from tests.support.fitting import TEXT_CONTROLS, clipped, settle, unreachable_inputs
from tests.support.screens import NARROW, NARROW_PRESETS, demo_history, platform_tag, pumped
from tests.support.sway import GET_TREE, SwayIpc, View, views_in
from tests.support.waiting import wait_until
from trayai.core.chat.history import HistoryStore
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.window import ChatWindow
from trayai.ui.settings.dialog import SECTIONS, SettingsDialog

APP_ID = "trayai"
T = TypeVar("T")
HEIGHT = 560  # the 1024x600 test output holds it whole, so grim sees every pixel


@dataclass(frozen=True)
class Sized:
    """One window size as both sides see it: sway's tree (floating, content rect) and Qt."""

    where: str
    floating: bool
    content: tuple[int, int, int, int]
    qt: tuple[int, int]


def found(lookup: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """``pumped`` (Qt's events processed between polls) for a lookup: what it found."""

    def check() -> T | None:
        QApplication.processEvents()
        return lookup()

    value = wait_until(check, timeout, what)
    assert value is not None
    return value


class Compositor:
    """The windows as sway places them: its commands, its tree read back, grim for the pixels."""

    def __init__(self, out: Path) -> None:
        self.ipc = SwayIpc(os.environ["SWAYSOCK"])
        self.out = out
        self.shots: list[str] = []
        self.sizes: list[Sized] = []
        self.problems: dict[str, list[str]] = {}
        self.seen: dict[str, list[str]] = {}  # what a check looked at, for the test to confirm
        self.tag = platform_tag()

    def view(self, window: QWidget) -> View | None:
        """``window``'s view: trayai's app id, a title that is the window's (sway adds " — trayai")."""
        return next(
            (
                view
                for view in views_in(self.ipc.call(GET_TREE))
                if view.app_id == APP_ID and view.name.startswith(window.windowTitle())
            ),
            None,
        )

    def shown(self, window: QWidget) -> View:
        """``window`` shown, mapped by sway and holding its keyboard (Qt has seen the focus too)."""
        window.show()
        window.activateWindow()

        def focused() -> View | None:
            view = self.view(window)
            return view if view is not None and view.focused and window.isActiveWindow() else None

        return found(focused, f"{window.windowTitle()!r} mapped and focused by sway")

    def gone(self, window: QWidget) -> None:
        window.close()
        pumped(lambda: self.view(window) is None, f"{window.windowTitle()!r} unmapped")

    def agreed(self, window: QWidget, *, floating: bool) -> View | None:
        """``window``'s view when sway's tree and Qt give it the same size (and it floats or not)."""
        view = self.view(window)
        if view is None or view.floating != floating or QSize(*view.content[2:]) != window.size():
            return None
        return view

    def matched(self, window: QWidget, where: str, *, floating: bool) -> View:
        """Wait until sway's tree and Qt agree on ``window``'s size, then let its layouts settle."""
        found(lambda: self.agreed(window, floating=floating), f"sway's size applied by Qt ({where})")
        settle(window)
        view = self.agreed(window, floating=floating)
        assert view is not None, f"{where}: the size changed while the layout settled"
        self.sizes.append(Sized(where, view.floating, view.content, (window.width(), window.height())))
        return view

    def sized(self, window: QWidget, width: int, height: int, where: str) -> View:
        """``window`` floated without borders and sized ``width``x``height`` by sway, as a user's
        ``floating enable, resize set`` would: the client is told its size, it does not choose it.

        A floating window's size is the client's: a buffer Qt commits at its old size after the
        command (it was still drawing it) makes sway take the old size back. Both then agree on it,
        which is observable, and the command is sent again.
        """
        command = f"floating enable, border none, resize set {width} {height}, move position center"
        for _ in range(3):
            view = self.view(window)
            assert view is not None, window.windowTitle()
            self.ipc.command(f"[con_id={view.con_id}] {command}")
            try:
                agreed = found(lambda: self.agreed(window, floating=True), f"sway and Qt to agree ({where})")
            except AssertionError as exc:
                raise AssertionError(f"{exc}: {self.view(window)}, Qt {window.size()}") from None
            if agreed.content[2:] == (width, height):
                return self.matched(window, where, floating=True)
        raise AssertionError(f"{window.windowTitle()!r} never kept {width}x{height} ({where})")

    def shoot(self, name: str, view: View | None = None) -> Path:
        """grim's pixels of ``view`` (the whole output when None): what the compositor shows."""
        path = self.out / f"{name}-{self.tag}.png"
        self.out.mkdir(parents=True, exist_ok=True)
        region = [] if view is None else ["-g", "{},{} {}x{}".format(*view.content)]
        subprocess.run(["grim", *region, str(path)], check=True, timeout=20)
        self.shots.append(str(path))
        return path

    def check(self, where: str, window: QWidget, page: QWidget | None = None) -> None:
        hits = clipped(window) + (unreachable_inputs(page, window) if page is not None else [])
        if hits:
            self.problems[where] = hits

    def key(self, window: QWidget, *wtype_args: str) -> None:
        """Keys typed with a virtual keyboard into ``window``, which sway must have focused."""
        pumped(lambda: (view := self.view(window)) is not None and view.focused, "the window focused")
        subprocess.run(["wtype", *wtype_args], check=True, timeout=20)

    def report(self) -> dict[str, object]:
        return {
            "platform": self.tag,
            "problems": self.problems,
            "shots": self.shots,
            "sizes": [asdict(s) for s in self.sizes],
            "seen": self.seen,
        }


def shown_texts(bar: QWidget) -> list[str]:
    """The texts of ``bar``'s visible labels, buttons and pickers (mnemonic marks removed)."""
    texts = []
    for widget in bar.findChildren(QWidget):
        if isinstance(widget, TEXT_CONTROLS) and widget.isVisible():
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            texts.append(text.replace("&", ""))
    return texts


def demo_chat(store: HistoryStore) -> ChatWindow:
    """A chat on the demo history (screens.py's, the X11 shots' own)."""
    client = ModelClient(Endpoint.create("http://127.0.0.1:9/v1", "dummy-key"))
    controller = ChatController(store, lambda: ChatTarget(client=client, model="qwen3:4b", profile="demo"))
    return ChatWindow(controller, store, presets=lambda: NARROW_PRESETS)


def with_options(chat: ChatWindow, conversation: int) -> None:
    """``conversation`` open with options set: the summary beside Options has something to show."""
    chat.open_conversation(conversation)
    chat.controller.set_options(temperature=0.3, max_tokens=512, system_prompt="Be brief.")
    chat.open_conversation(conversation)  # shows the options just set


# What the hotkey page says on sway, which has no GlobalShortcuts portal (a long unbroken name in it).
HOTKEY_NOTE = (
    "✗ The desktop's GlobalShortcuts portal is not available (org.freedesktop.DBus.Error.ServiceUnknown). "
    "Bind the command `trayai prompt` to Ctrl+Alt+Space in your desktop's keyboard settings instead."
)


def demo_settings() -> SettingsDialog:
    """Default settings, and the hotkey note the app passes on sway."""
    return SettingsDialog(
        LoadedConfig(Settings()),
        SecretStore(MemoryKeyring()),
        ConfigStore(AppPaths.from_env()),
        hotkey_note=HOTKEY_NOTE,
    )


def section_slug(index: int, section: str) -> str:
    """``""`` for the first page, ``-quick-actions`` and so on: the X11 test's file names."""
    return "" if index == 0 else "-" + re.sub(r"[^a-z]+", "-", section.lower()).strip("-")


def floating(sway: Compositor, folder: Path) -> None:
    """Each window floated at 480 px, its minimum and its default size; the keys that switch panes."""
    store, conversation = demo_history(folder)
    chat = demo_chat(store)
    default = chat.size()  # what it asks for on this screen; sway tiles it full-screen at first
    sway.shown(chat)
    with_options(chat, conversation)
    view = sway.sized(chat, NARROW, HEIGHT, "chat at 480")
    sway.shoot("narrow-chat", view)
    sway.check("chat at 480", chat)
    sway.key(chat, "-M", "ctrl", "b", "-m", "ctrl")  # the list instead of the chat
    pumped(lambda: chat.sidebar.isVisible() and not chat.main_pane.isVisible(), "Ctrl+B to show the list")
    settle(chat)
    sway.shoot("narrow-chat-list", view)
    sway.check("chat list at 480", chat)
    sway.key(chat, "-k", "Escape")  # back to the chat
    pumped(lambda: chat.main_pane.isVisible() and not chat.sidebar.isVisible(), "Esc to show the chat")
    settle(chat)
    button, popover = chat.options_bar.options_button, chat.options_bar.popover
    popover.popup(button.mapToGlobal(button.rect().bottomLeft()))
    pumped(popover.isVisible, "the Options popover")
    settle(popover)
    sway.shoot("narrow-chat-options")  # the output: a popup is placed by sway, not in its tree
    sway.check("chat options popover", popover)
    popover.close()
    pumped(lambda: not popover.isVisible(), "the popover closed")
    sway.sized(chat, chat.minimumWidth(), chat.minimumHeight(), "chat at its minimum size")
    sway.check("chat at its minimum size", chat)
    sway.sized(chat, default.width(), default.height(), "chat at its default size")
    sway.check("chat at its default size", chat)
    sway.gone(chat)

    dialog = demo_settings()
    default = dialog.size()
    sway.shown(dialog)
    for index, section in enumerate(SECTIONS):
        dialog.show_section(section)
        view = sway.sized(dialog, NARROW, HEIGHT, f"settings {section} at 480")
        sway.shoot(f"narrow-settings{section_slug(index, section)}", view)
        sway.check(f"settings {section} at 480", dialog, dialog.pages.currentWidget())
        for width, height in (
            (dialog.minimumWidth(), dialog.minimumHeight()),
            (default.width(), default.height()),
        ):
            where = f"settings {section} at {width}x{height}"
            sway.sized(dialog, width, height, where)
            sway.check(where, dialog, dialog.pages.currentWidget())
    sway.sized(dialog, NARROW, HEIGHT, "settings at 480 for Alt+A")
    dialog.show_section(SECTIONS[0])
    settle(dialog)
    before = dialog.profiles_page.profiles.count()
    sway.key(dialog, "-M", "alt", "a", "-m", "alt")  # &Add, the list above the form
    pumped(lambda: dialog.profiles_page.profiles.count() == before + 1, "Alt+A (Add) to add a profile")
    sway.gone(dialog)
    store.close()


def tiled(sway: Compositor, folder: Path) -> None:
    """The chat and the settings tiled side by side, as sway places two windows: half the output each."""
    store, conversation = demo_history(folder)
    chat = demo_chat(store)
    sway.shown(chat)
    with_options(chat, conversation)
    dialog = demo_settings()
    sway.shown(dialog)
    sway.matched(chat, "chat tiled beside the settings", floating=False)
    sway.matched(dialog, "settings tiled beside the chat", floating=False)
    sway.shoot("narrow-tiled")
    sway.check("chat tiled beside the settings", chat)
    sway.seen["chat toolbar"] = shown_texts(chat.options_bar)
    for section in SECTIONS:
        dialog.show_section(section)
        settle(dialog)
        sway.check(f"settings {section} tiled beside the chat", dialog, dialog.pages.currentWidget())
    dialog.show_section(SECTIONS[0])
    sway.gone(dialog)
    sway.gone(chat)
    store.close()


def main() -> None:
    out, layout = Path(sys.argv[1]), sys.argv[2]
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName("trayai")  # titles "Chat — trayai", as the app's
    app.setDesktopFileName(APP_ID)  # the Wayland app id
    app.setStyle(QStyleFactory.create("Fusion"))
    sway = Compositor(out)
    with tempfile.TemporaryDirectory() as tmp:
        {"floating": floating, "tiled": tiled}[layout](sway, Path(tmp))
    print(json.dumps(sway.report()))


if __name__ == "__main__":
    main()
