"""Global hotkey on Wayland through the XDG GlobalShortcuts portal (D-Bus, via jeepney on asyncio).

The flow, and why each answer is awaited on a filter set up first: docs/architecture.md, "Quick prompt…".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from PySide6.QtCore import QObject

from trayai.core.hotkeys import Hotkey
from trayai.ui.hotkeys.base import PROMPT_COMMAND, HotkeyBackend, Registration

log = logging.getLogger(__name__)

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SHORTCUT_ID = "quick-prompt"
RESPONSE_TIMEOUT = 120.0  # the desktop may show the user a dialog first


class PortalUnavailable(Exception):
    """No GlobalShortcuts portal answers on this session bus, or it refused."""


class PortalHotkeys(HotkeyBackend):
    name = "GlobalShortcuts portal"

    def __init__(self, parent: QObject | None = None, *, bus: str = "SESSION") -> None:
        super().__init__(parent)
        self._bus = bus
        self._task: asyncio.Task[None] | None = None
        self.session_handle: str | None = None
        self.bound: list[tuple[str, dict[str, Any]]] = []

    def register(self, hotkey: Hotkey) -> Registration:
        self.unregister()
        self._task = asyncio.ensure_future(self._run(hotkey))
        return Registration(False, self.name, f"Asking the desktop portal to bind {hotkey.display}…")

    def unregister(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        self.session_handle = None

    async def _run(self, hotkey: Hotkey) -> None:
        from jeepney import DBusAddress, MatchRule, new_method_call
        from jeepney.bus_messages import message_bus
        from jeepney.io.asyncio import open_dbus_router

        try:
            async with open_dbus_router(bus=self._bus) as router:
                portal = DBusAddress(PORTAL_PATH, bus_name=PORTAL_BUS, interface=SHORTCUTS)
                sender = router.unique_name.lstrip(":").replace(".", "_")

                async def request(method: str, signature: str, body: tuple[Any, ...], token: str) -> Any:
                    path = f"{PORTAL_PATH}/request/{sender}/{token}"
                    rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
                    await router.send_and_get_reply(message_bus.AddMatch(rule))
                    with router.filter(rule) as queue:
                        reply = await router.send_and_get_reply(
                            new_method_call(portal, method, signature, body)
                        )
                        if reply.header.message_type.name == "error":
                            raise PortalUnavailable(str(reply.body[0] if reply.body else reply.header))
                        response = await asyncio.wait_for(queue.get(), RESPONSE_TIMEOUT)
                    code, results = response.body
                    if code != 0:
                        raise PortalUnavailable(
                            "the desktop declined the shortcut" if code == 1 else f"portal answer {code}"
                        )
                    return results

                token = f"trayai{secrets.token_hex(4)}"
                results = await request(
                    "CreateSession",
                    "a{sv}",
                    ({"handle_token": ("s", token), "session_handle_token": ("s", f"{token}s")},),
                    token,
                )
                self.session_handle = str(results["session_handle"][1])
                activated = MatchRule(
                    type="signal", interface=SHORTCUTS, member="Activated", path=PORTAL_PATH
                )
                await router.send_and_get_reply(message_bus.AddMatch(activated))
                bind_token = f"{token}b"
                shortcut = (
                    SHORTCUT_ID,
                    {
                        "description": ("s", "Open the trayai quick prompt"),
                        "preferred_trigger": ("s", hotkey.portal_trigger),
                    },
                )
                with router.filter(activated, bufsize=64) as events:
                    results = await request(
                        "BindShortcuts",
                        "oa(sa{sv})sa{sv}",
                        (self.session_handle, [shortcut], "", {"handle_token": ("s", bind_token)}),
                        bind_token,
                    )
                    self.bound = [
                        (sid, {k: v[1] for k, v in props.items()})
                        for sid, props in results.get("shortcuts", ("a(sa{sv})", []))[1]
                    ]
                    trigger = next(
                        (p.get("trigger_description") for sid, p in self.bound if sid == SHORTCUT_ID), None
                    )
                    shown = trigger or hotkey.display
                    log.info("hotkey %s bound through the GlobalShortcuts portal", shown)
                    self.status_changed.emit(
                        Registration(True, self.name, f"{shown} opens the quick prompt (desktop portal).")
                    )
                    while True:
                        signal = await events.get()
                        session, shortcut_id = signal.body[0], signal.body[1]
                        if session == self.session_handle and shortcut_id == SHORTCUT_ID:
                            self.activated.emit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - D-Bus/portal failures of any kind: no hotkey, reported
            reason = str(exc) or type(exc).__name__
            log.warning("GlobalShortcuts portal unavailable: %s", reason)
            self.status_changed.emit(
                Registration(
                    False,
                    self.name,
                    f"The desktop's GlobalShortcuts portal is not available ({reason}). Bind the command "
                    f"`{PROMPT_COMMAND}` to {hotkey.display} in your desktop's keyboard settings instead.",
                    PROMPT_COMMAND,
                )
            )

    async def aclose(self) -> None:
        task = self._task
        self.unregister()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


__all__ = ["PortalHotkeys", "PortalUnavailable"]
