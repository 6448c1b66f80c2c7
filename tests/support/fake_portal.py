"""A fake XDG GlobalShortcuts portal on a (private) session bus, for testing the Wayland path.

Run: ``python -m tests.support.fake_portal`` with DBUS_SESSION_BUS_ADDRESS pointing at a private
dbus-daemon. It owns org.freedesktop.portal.Desktop and implements CreateSession and BindShortcuts the
way xdg-desktop-portal does (a Request path returned at once, the answer as a ``Response`` signal on
it), and a test-only ``org.trayai.FakePortal.Trigger(s id)`` method that emits ``Activated``. It prints
one line per call on stdout ("ready", "CreateSession …", "BindShortcuts …", "Activated …").
"""

from __future__ import annotations

import sys

from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"


def main() -> None:
    conn = open_dbus_connection(bus="SESSION")
    reply = conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.portal.Desktop"))
    if reply.body[0] != 1:
        raise SystemExit("could not own org.freedesktop.portal.Desktop")
    refuse = "--refuse" in sys.argv
    sessions: dict[str, list[str]] = {}
    print("ready", flush=True)

    def respond(path: str, results: dict[str, object], code: int = 0) -> None:
        signal = new_signal(
            DBusAddress(path, interface="org.freedesktop.portal.Request"),
            "Response",
            "ua{sv}",
            (code, results),
        )
        conn.send(signal)

    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(3)  # HeaderFields.member
        sender = str(msg.header.fields.get(7, "")).lstrip(":").replace(".", "_")  # HeaderFields.sender
        if member == "CreateSession":
            options = msg.body[0]
            token = options["handle_token"][1]
            request = f"{PORTAL_PATH}/request/{sender}/{token}"
            session = f"{PORTAL_PATH}/session/{sender}/{options['session_handle_token'][1]}"
            conn.send(new_method_return(msg, "o", (request,)))
            print(f"CreateSession {session}", flush=True)
            if refuse:
                respond(request, {}, 2)
                continue
            sessions[session] = []
            respond(request, {"session_handle": ("s", session)})
        elif member == "BindShortcuts":
            session, shortcuts, _parent, options = msg.body
            token = options["handle_token"][1]
            request = f"{PORTAL_PATH}/request/{sender}/{token}"
            conn.send(new_method_return(msg, "o", (request,)))
            bound = []
            for shortcut_id, props in shortcuts:
                trigger = props.get("preferred_trigger", ("s", ""))[1]
                sessions.setdefault(session, []).append(shortcut_id)
                bound.append(
                    (
                        shortcut_id,
                        {
                            "description": props["description"],
                            "trigger_description": ("s", f"Press {trigger}"),
                        },
                    )
                )
                print(f"BindShortcuts {shortcut_id} {trigger}", flush=True)
            respond(request, {"shortcuts": ("a(sa{sv})", bound)})
        elif member == "Trigger":
            shortcut_id = msg.body[0]
            conn.send(new_method_return(msg))
            for session, ids in sessions.items():
                if shortcut_id in ids:
                    activated = new_signal(
                        DBusAddress(PORTAL_PATH, interface=SHORTCUTS),
                        "Activated",
                        "osta{sv}",
                        (session, shortcut_id, 0, {}),
                    )
                    conn.send(activated)
                    print(f"Activated {shortcut_id}", flush=True)
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no {member}",)))


if __name__ == "__main__":
    main()
