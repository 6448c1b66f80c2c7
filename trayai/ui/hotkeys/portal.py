"""Global hotkey on Wayland through the XDG GlobalShortcuts portal (D-Bus, via jeepney on asyncio).

The flow, and why each answer is awaited on a filter set up first: docs/architecture.md, "Quick prompt…".
What a real portal (xdg-desktop-portal 1.16 + KDE Plasma 5.27, tests/e2e/test_portal_real.py) needs
beyond the spec is said where it is done: the shortcut also in CreateSession, a fixed session token,
and one session at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject

from trayai.core.hotkeys import Hotkey
from trayai.core.net.client import within
from trayai.core.tasks import TaskOwner
from trayai.ui.hotkeys.base import PROMPT_COMMAND, HotkeyBackend, Registration

log = logging.getLogger(__name__)

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
SHORTCUT_ID = "quick-prompt"
# KDE names the shortcuts' kglobalaccel component after the app id + this token ("trayai" for an
# unsandboxed app, whose app id is empty): a random token made a new component each run, and the key
# saved under the last run's component refused this run's (bound in the answer, never fired).
SESSION_NAME = "trayai"
RESPONSE_TIMEOUT = 120.0  # the desktop may show the user a dialog first
CLOSE_TIMEOUT = 5.0


class PortalUnavailable(Exception):
    """No GlobalShortcuts portal answers on this session bus, or it refused."""


DBusOptions = Mapping[str, tuple[str, Any]]
"""A D-Bus ``a{sv}`` as jeepney gives it: each value with its variant signature."""


def triggers_in(results: DBusOptions) -> dict[str, str]:
    """Shortcut id → the key the desktop shows for it ("" when it has none), from a portal answer."""
    listed = results.get("shortcuts", ("a(sa{sv})", []))[1]
    return {str(sid): str(props.get("trigger_description", ("s", ""))[1]) for sid, props in listed}


@dataclass
class _Portal:
    """Calls to the portal on one connection, each answer awaited as the spec says."""

    router: Any  # jeepney.io.asyncio.DBusRouter
    sender: str  # our unique name as the portal spells it in request paths

    async def request(self, method: str, signature: str, body: tuple[Any, ...], token: str) -> Any:
        """Call ``method`` and return the results of its ``Response`` (subscribed before the call)."""
        # lazy: platform-specific: only this OS has it
        from jeepney import DBusAddress, MatchRule, new_method_call

        # lazy: platform-specific: only this OS has it
        from jeepney.bus_messages import message_bus

        portal = DBusAddress(PORTAL_PATH, bus_name=PORTAL_BUS, interface=SHORTCUTS)
        path = f"{PORTAL_PATH}/request/{self.sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
        await self.router.send_and_get_reply(message_bus.AddMatch(rule))
        with self.router.filter(rule) as queue:
            reply = await self.router.send_and_get_reply(new_method_call(portal, method, signature, body))
            if reply.header.message_type.name == "error":
                raise PortalUnavailable(str(reply.body[0] if reply.body else reply.header))
            response = await within(queue.get(), RESPONSE_TIMEOUT)
        code, results = response.body
        if code != 0:
            raise PortalUnavailable(
                "the desktop declined the shortcut" if code == 1 else f"portal answer {code}"
            )
        return results

    async def close(self, session_handle: str) -> None:
        """Close the session and wait until the portal has: the next one may use the same component."""
        # lazy: platform-specific: only this OS has it
        from jeepney import DBusAddress, new_method_call

        session = DBusAddress(session_handle, bus_name=PORTAL_BUS, interface=SESSION)
        await within(self.router.send_and_get_reply(new_method_call(session, "Close")), CLOSE_TIMEOUT)


class PortalHotkeys(HotkeyBackend):
    name = "GlobalShortcuts portal"

    def __init__(self, parent: QObject | None = None, *, bus: str = "SESSION") -> None:
        super().__init__(parent)
        self._bus = bus
        # "session": the live run; cancelled runs stay owned (unkeyed) while their sessions close
        self._tasks = TaskOwner()
        self.session_handle: str | None = None
        self.bound: dict[str, str] = {}  # shortcut id → trigger, as the desktop last described them

    def register(self, hotkey: Hotkey) -> Registration:
        self.unregister()
        self._tasks.exclusive("session", self._run(hotkey, self._tasks.live()))
        return Registration(False, self.name, f"Asking the desktop portal to bind {hotkey.display}…")

    def unregister(self) -> None:
        self._tasks.cancel("session")
        self._tasks.release("session")
        self.session_handle = None

    async def _run(self, hotkey: Hotkey, earlier: list[asyncio.Task[Any]]) -> None:
        # lazy: platform-specific: only this OS has it
        from jeepney.io.asyncio import open_dbus_router

        if earlier:
            # Two live sessions share KDE's component: the old one's teardown unbinds the new one's key.
            await asyncio.wait(earlier)
        try:
            async with open_dbus_router(bus=self._bus) as router:
                portal = _Portal(router, router.unique_name.lstrip(":").replace(".", "_"))
                await self._session(portal, hotkey)
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

    async def _session(self, portal: _Portal, hotkey: Hotkey) -> None:
        """Create the session, bind, then deliver presses until cancelled; the session is closed after."""
        # lazy: platform-specific: only this OS has it
        from jeepney import MatchRule

        # lazy: platform-specific: only this OS has it
        from jeepney.bus_messages import message_bus

        shortcut = (
            SHORTCUT_ID,
            {
                "description": ("s", "Open the trayai quick prompt"),
                "preferred_trigger": ("s", hotkey.portal_trigger),
            },
        )
        token = f"trayai{secrets.token_hex(4)}"
        options = {
            "handle_token": ("s", token),
            "session_handle_token": ("s", SESSION_NAME),
            # xdg-desktop-portal <= 1.16 passes CreateSession's options through, and KDE Plasma <= 5.27
            # binds only the shortcuts found there (its BindShortcuts ignores them). Newer portals drop
            # the unknown option and bind in BindShortcuts.
            "shortcuts": ("a(sa{sv})", [shortcut]),
        }
        handle = f"{PORTAL_PATH}/session/{portal.sender}/{SESSION_NAME}"  # known before the answer
        try:
            created = await portal.request("CreateSession", "a{sv}", (options,), token)
            handle = str(created["session_handle"][1])
            self.session_handle = handle
            events = MatchRule(type="signal", interface=SHORTCUTS, path=PORTAL_PATH)
            await portal.router.send_and_get_reply(message_bus.AddMatch(events))
            with portal.router.filter(events, bufsize=64) as queue:
                bind_token = f"{token}b"
                results = await portal.request(
                    "BindShortcuts",
                    "oa(sa{sv})sa{sv}",
                    (handle, [shortcut], "", {"handle_token": ("s", bind_token)}),
                    bind_token,
                )
                self.bound = triggers_in(results if "shortcuts" in results else created)
                if SHORTCUT_ID not in self.bound:
                    raise PortalUnavailable("the portal answered without the shortcut")
                self._report(hotkey)
                while True:
                    signal = await queue.get()
                    if signal.body[0] != handle:
                        continue
                    member = signal.header.fields.get(3)  # HeaderFields.member
                    if member == "Activated" and signal.body[1] == SHORTCUT_ID:
                        self.activated.emit()
                    elif member == "ShortcutsChanged":  # the user changed the key in the desktop's settings
                        self.bound = triggers_in({"shortcuts": ("a(sa{sv})", signal.body[1])})
                        self._report(hotkey)
        finally:
            with contextlib.suppress(Exception):  # the bus or portal may be gone: nothing left to close
                await portal.close(handle)

    def _report(self, hotkey: Hotkey) -> None:
        trigger = self.bound.get(SHORTCUT_ID, "")
        if trigger:
            log.info("hotkey %s bound through the GlobalShortcuts portal", trigger)
            self.status_changed.emit(
                Registration(True, self.name, f"{trigger} opens the quick prompt (desktop portal).")
            )
            return
        log.warning("GlobalShortcuts portal: the quick prompt shortcut has no key")
        self.status_changed.emit(
            Registration(
                False,
                self.name,
                f"The desktop registered the quick prompt shortcut without a key ({hotkey.display} may be "
                f"taken): assign one in its keyboard settings, or bind the command `{PROMPT_COMMAND}`.",
                PROMPT_COMMAND,
            )
        )

    async def aclose(self) -> None:
        """Unregister and wait until every session this backend opened is closed."""
        self.unregister()
        earlier = self._tasks.live()
        if earlier:
            await asyncio.wait(earlier)


__all__ = ["PortalHotkeys", "PortalUnavailable", "triggers_in"]
