"""A real Wayland desktop for end-to-end tests and the benchmark: headless sway, a private D-Bus, waybar.

sway refuses to run as root, so when the tests run as root (CI) the compositor and the bar run as the
unprivileged user that ``resources/bootstrap.sh --test`` creates (``trayai-test``), in a 0700 runtime
directory of its own. trayai, grim, wtype and swaymsg stay root and reach the compositor by the
socket's absolute path (WAYLAND_DISPLAY may be a path); the session bus admits exactly those two users.
What is mapped and focused is read from sway itself (its IPC socket), the tray from the
StatusNotifierWatcher that waybar's tray module owns, and the menu from the item's exported dbusmenu.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, Properties, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from tests.support.apphost import HostProcesses
from tests.support.sway import GET_INPUTS, GET_OUTPUTS, GET_TREE, SwayIpc, View, views_in
from tests.support.waiting import tail, wait_for_program

TEST_USER = "trayai-test"  # created by `resources/bootstrap.sh --test` when it runs as root
TOOLS = ("sway", "swaymsg", "grim", "wtype", "waybar", "dbus-daemon")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTH, HEIGHT = 1024, 600
WATCHER = DBusAddress(
    "/StatusNotifierWatcher",
    bus_name="org.kde.StatusNotifierWatcher",
    interface="org.kde.StatusNotifierWatcher",
)
SWAY_CONFIG = f"""\
output HEADLESS-1 resolution {WIDTH}x{HEIGHT} position 0 0
xwayland disable
focus_follows_mouse no
"""
# waybar with nothing but its tray (an SNI host and the StatusNotifierWatcher) on a light bar.
WAYBAR_CONFIG = {"layer": "top", "position": "top", "height": 28, "modules-right": ["tray"]}
WAYBAR_STYLE = "* { font-family: sans-serif; font-size: 13px; } window#waybar { background: #dddddd; }\n"
BAR_RGB = 0xDDDDDD


class WaylandUnavailable(RuntimeError):
    """A tool or the test user is missing: the message says how to install them."""


@dataclass(frozen=True)
class MenuEntry:
    """One entry of a tray item's exported menu (com.canonical.dbusmenu), mnemonics removed."""

    id: int
    label: str
    enabled: bool
    children: tuple[MenuEntry, ...] = ()

    def find(self, label: str) -> MenuEntry | None:
        """This entry or the first one below it whose label is ``label``."""
        if self.label == label:
            return self
        return next((hit for child in self.children if (hit := child.find(label))), None)


def _menu_entry(node: tuple[int, dict[str, tuple[str, Any]], list[tuple[str, Any]]]) -> MenuEntry:
    entry_id, props, children = node
    label = str(props.get("label", ("s", ""))[1]).replace("__", "\0").replace("_", "").replace("\0", "_")
    return MenuEntry(
        id=int(entry_id),
        label=label,
        enabled=bool(props.get("enabled", ("b", True))[1]),
        children=tuple(_menu_entry(child[1]) for child in children),
    )


@dataclass
class WaylandDesktop(HostProcesses):
    """A running headless sway session. ``env`` is for clients run by the test process (trayai, grim…)."""

    runtime_dir: Path  # the compositor user's XDG_RUNTIME_DIR: sockets, configs, logs
    env: dict[str, str]
    user_env: dict[str, str]  # for processes run as the compositor's user (the bar)
    as_user: dict[str, Any]  # Popen arguments that drop to that user (empty when not root)
    compositor_pid: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _ipc: SwayIpc | None = None
    _bus: DBusConnection | None = None

    # ------------------------------------------------------------------ processes

    def start_tray_host(self) -> None:
        """waybar with its tray module: it owns the StatusNotifierWatcher and hosts the items."""
        config, style = self.runtime_dir / "waybar.json", self.runtime_dir / "waybar.css"
        config.write_text(json.dumps(WAYBAR_CONFIG))
        style.write_text(WAYBAR_STYLE)
        with (self.runtime_dir / "waybar.log").open("wb") as log:
            proc = subprocess.Popen(
                ["waybar", "-c", str(config), "-s", str(style)],
                env=self.user_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **self.as_user,
            )
        self.processes.append(proc)
        wait_for_program(
            proc,
            lambda: self.name_has_owner(WATCHER.bus_name or ""),
            "waybar's tray to own org.kde.StatusNotifierWatcher",
            lambda: self.log("waybar"),
        )

    def log(self, name: str) -> str:
        path = self.runtime_dir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # ------------------------------------------------------------------ the compositor

    @property
    def ipc(self) -> SwayIpc:
        if self._ipc is None:
            self._ipc = SwayIpc(self.env["SWAYSOCK"])
        return self._ipc

    def views(self) -> list[View]:
        return views_in(self.ipc.call(GET_TREE))

    def view(self, title_prefix: str) -> View | None:
        return next((v for v in self.views() if v.name.startswith(title_prefix)), None)

    def focused(self, title_prefix: str) -> View | None:
        """The view whose title starts with ``title_prefix`` when it is mapped and has the keyboard."""
        found = self.view(title_prefix)
        return found if found is not None and found.focused else None

    def type_text(self, text: str) -> None:
        """Type with a virtual keyboard (wtype); it returns when the compositor has every key."""
        self.run("wtype", text)

    def key(self, *names: str) -> None:
        argv = ["wtype"]
        for name in names:
            argv += ["-k", name]
        self.run(*argv)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.run("grim", str(path))
        return path

    # ------------------------------------------------------------------ D-Bus: the tray

    @property
    def bus(self) -> DBusConnection:
        if self._bus is None:
            self._bus = open_dbus_connection(bus=self.env["DBUS_SESSION_BUS_ADDRESS"])
        return self._bus

    def name_has_owner(self, name: str) -> bool:
        return bool(self.bus.send_and_get_reply(message_bus.NameHasOwner(name)).body[0])

    def registered_items(self) -> list[str]:
        """The watcher's RegisteredStatusNotifierItems ("<bus name>/<path>")."""
        reply = self.bus.send_and_get_reply(Properties(WATCHER).get("RegisteredStatusNotifierItems"))
        return [str(item) for item in reply.body[0][1]]

    def item_property(self, item: str, name: str) -> Any:
        reply = self.bus.send_and_get_reply(Properties(self._item(item)).get(name))
        return reply.body[0][1]

    def tray_menu(self, item: str) -> MenuEntry:
        """The item's whole menu as its host would show it (AboutToShow first, then the layout)."""
        menu = self._menu(item)
        self.bus.send_and_get_reply(new_method_call(menu, "AboutToShow", "i", (0,)))
        reply = self.bus.send_and_get_reply(new_method_call(menu, "GetLayout", "iias", (0, -1, [])))
        return _menu_entry(reply.body[1])

    def click_menu_entry(self, item: str, entry: MenuEntry) -> None:
        """What a host sends when the user clicks ``entry``."""
        event = new_method_call(self._menu(item), "Event", "isvu", (entry.id, "clicked", ("i", 0), 0))
        self.bus.send_and_get_reply(event)

    def _item(self, item: str) -> DBusAddress:
        bus_name, _, path = item.partition("/")
        return DBusAddress(f"/{path}", bus_name=bus_name, interface="org.kde.StatusNotifierItem")

    def _menu(self, item: str) -> DBusAddress:
        bus_name = item.partition("/")[0]
        path = str(self.item_property(item, "Menu"))
        return DBusAddress(path, bus_name=bus_name, interface="com.canonical.dbusmenu")

    def close(self) -> None:
        for conn in (self._ipc, self._bus):
            if conn is not None:
                conn.close()
        self._ipc = self._bus = None


def _compositor_user() -> tuple[dict[str, Any], int, int]:
    """Popen arguments to run as the test user (root only: sway refuses root), and its uid/gid."""
    if os.geteuid() != 0:
        return {}, os.getuid(), os.getgid()
    try:
        user = pwd.getpwnam(TEST_USER)
    except KeyError:
        raise WaylandUnavailable(
            f"sway refuses to run as root and the user {TEST_USER} does not exist: "
            "run `bash resources/bootstrap.sh --test` as root"
        ) from None
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}, user.pw_uid, user.pw_gid


def _bus_config(runtime_dir: Path, uid: int) -> str:
    """A session bus both users may use (a stock one admits only its owner), with no activation."""
    users = {pwd.getpwuid(os.geteuid()).pw_name, pwd.getpwuid(uid).pw_name}
    allow = "".join(f'<allow user="{name}"/>' for name in sorted(users))
    return (
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
        f"<busconfig><type>session</type><listen>unix:path={runtime_dir}/bus</listen>"
        '<auth>EXTERNAL</auth><policy context="default">'
        f'{allow}<allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>'
        '<allow own="*"/></policy></busconfig>\n'
    )


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def wayland_desktop(base_env: dict[str, str]) -> Iterator[WaylandDesktop]:
    """Headless sway (pixman renderer, no input devices) on a private bus; everything removed after."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise WaylandUnavailable(
            f"the Wayland tests need {', '.join(missing)}: run `bash resources/bootstrap.sh --test`"
        )
    as_user, uid, gid = _compositor_user()
    runtime_dir = Path(tempfile.mkdtemp(prefix="trayai-wayland-"))  # 0700
    client_runtime = Path(tempfile.mkdtemp(prefix="trayai-wayland-client-"))
    procs: list[subprocess.Popen[Any]] = []
    session: WaylandDesktop | None = None
    try:
        for sub in ("home", "cache", "config"):
            (runtime_dir / sub).mkdir()
            os.chown(runtime_dir / sub, uid, gid)
        os.chown(runtime_dir, uid, gid)
        (runtime_dir / "bus.conf").write_text(_bus_config(runtime_dir, uid))
        with (runtime_dir / "bus.log").open("wb") as bus_log:
            bus = subprocess.Popen(
                ["dbus-daemon", f"--config-file={runtime_dir / 'bus.conf'}", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=bus_log,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        procs.append(bus)
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        bus.stdout.close()  # it prints nothing else
        if not address:
            raise WaylandUnavailable("dbus-daemon did not start")
        (runtime_dir / "sway.conf").write_text(SWAY_CONFIG)
        user_env = {
            "PATH": base_env.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(runtime_dir / "home"),
            "XDG_CACHE_HOME": str(runtime_dir / "cache"),
            "XDG_CONFIG_HOME": str(runtime_dir / "config"),
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "DBUS_SESSION_BUS_ADDRESS": address,
            "NO_AT_BRIDGE": "1",  # GTK would look for an accessibility bus
        }
        sway_env = dict(user_env, WLR_BACKENDS="headless", WLR_RENDERER="pixman", WLR_LIBINPUT_NO_DEVICES="1")
        with (runtime_dir / "sway.log").open("wb") as log:
            sway = subprocess.Popen(
                ["sway", "-c", str(runtime_dir / "sway.conf")],
                env=sway_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **as_user,
            )
        procs.append(sway)

        def sockets() -> tuple[Path, Path] | None:
            display = [p for p in runtime_dir.glob("wayland-*") if not p.name.endswith(".lock")]
            ipc = list(runtime_dir.glob("sway-ipc.*.sock"))
            return (display[0], ipc[0]) if display and ipc else None

        def sway_said() -> str:
            return tail(runtime_dir / "sway.log")

        found = wait_for_program(sway, sockets, "sway to listen", sway_said)
        assert found is not None
        display, ipc_path = found
        env = dict(base_env)
        env.pop("DISPLAY", None)
        env.update(
            WAYLAND_DISPLAY=str(display),  # an absolute path: another user's socket
            XDG_RUNTIME_DIR=str(client_runtime),  # ours, 0700, as Qt wants it
            SWAYSOCK=str(ipc_path),
            DBUS_SESSION_BUS_ADDRESS=address,
            QT_QPA_PLATFORM="wayland",
            XDG_SESSION_TYPE="wayland",
        )
        user_env["WAYLAND_DISPLAY"] = display.name
        session = WaylandDesktop(runtime_dir, env, user_env, as_user, sway.pid, procs)
        wait_for_program(sway, lambda: session.ipc.call(GET_OUTPUTS), "sway's output", sway_said)
        # The seat has no keyboard of its own (no input devices): a virtual one held for the whole
        # session, as a real desk has. Without it each wtype run brings the seat's keyboard into
        # being, and its first keys reach no client: they come before the client binds wl_keyboard.
        wtype_log = client_runtime / "wtype.log"
        with wtype_log.open("wb") as log:
            keyboard = subprocess.Popen(
                ["wtype", "-s", "86400000"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        procs.append(keyboard)
        wait_for_program(
            keyboard,
            lambda: any(d.get("type") == "keyboard" for d in session.ipc.call(GET_INPUTS)),
            "the seat's keyboard (wtype's virtual one)",
            lambda: f"wtype: {tail(wtype_log)}\nsway: {sway_said()}",
        )
        yield session
    finally:
        if session is not None:
            session.close()
        for proc in reversed(procs):
            _stop(proc)
        shutil.rmtree(runtime_dir, ignore_errors=True)
        shutil.rmtree(client_runtime, ignore_errors=True)


__all__ = ["MenuEntry", "WaylandDesktop", "WaylandUnavailable", "wayland_desktop"]
