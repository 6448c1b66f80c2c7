"""What a desktop launcher hands the process it starts so that its window may take the focus.

Wayland launchers set ``XDG_ACTIVATION_TOKEN`` (xdg-activation-v1), X11 ones ``DESKTOP_STARTUP_ID``
(startup-notification spec, with ``_TIME<timestamp>`` of the click or key press). A second ``trayai``
only forwards its command, so it forwards these too: the running app's window is the one that shows,
and without them a compositor or window manager may refuse it the focus (and the launcher's busy
cursor spins until it times out). Qt-free: the parsing and the wire format; ``ui/activation.py`` uses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TOKEN_VAR = "XDG_ACTIVATION_TOKEN"  # noqa: S105 - an environment variable's name
STARTUP_ID_VAR = "DESKTOP_STARTUP_ID"
MAX_VALUE = 512  # real ones are a few dozen characters; the whole instance-socket line is 4096
WIRE_KEYS = {"xdg_activation_token": "activation_token", "desktop_startup_id": "startup_id"}
CHUNK = 20  # bytes of message text per _NET_STARTUP_INFO client message (format 8)
_TIME = re.compile(r"_TIME(\d+)")


def _valid(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_VALUE
        and value.strip() == value
        and value.isprintable()
        and value.isascii()
    )


@dataclass(frozen=True)
class LaunchContext:
    """The launcher's activation token and startup id (None: not given, or not usable)."""

    activation_token: str | None = None
    startup_id: str | None = None

    @property
    def empty(self) -> bool:
        return self.activation_token is None and self.startup_id is None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LaunchContext:
        """This process's own, as its launcher set them; a malformed value is left out."""
        token = env.get(TOKEN_VAR)
        startup = env.get(STARTUP_ID_VAR)
        return cls(token if _valid(token) else None, startup if _valid(startup) else None)

    def to_wire(self) -> dict[str, str]:
        """The ``launch`` object of an instance-socket request (only the values given)."""
        values = {"xdg_activation_token": self.activation_token, "desktop_startup_id": self.startup_id}
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_wire(cls, data: Any) -> LaunchContext | None:
        """The context a request's ``launch`` object carries; None when it is malformed (refused)."""
        if not isinstance(data, dict) or set(data) - set(WIRE_KEYS):
            return None
        if not all(_valid(value) for value in data.values()):
            return None
        return cls(**{WIRE_KEYS[key]: value for key, value in data.items()})

    @property
    def startup_time(self) -> int | None:
        return None if self.startup_id is None else startup_timestamp(self.startup_id)


def startup_timestamp(startup_id: str) -> int | None:
    """The X server time of the launching click or key press: the number after the last ``_TIME``.

    None when there is none (or it is 0 or does not fit X's 32 bits): the window manager then goes
    by its own rules, as for any window.
    """
    found = _TIME.findall(startup_id)
    if not found:
        return None
    value = int(found[-1][:11])
    return value if 0 < value < 2**32 else None


def quote_value(value: str) -> str:
    """A startup-notification value: quoted, with ``"`` and ``\\`` escaped, when it needs it."""
    if value and not any(ch in value for ch in ' "\\'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def remove_message(startup_id: str) -> str:
    """The message that ends the launch sequence ``startup_id`` (the launcher's busy cursor)."""
    return f"remove: ID={quote_value(startup_id)}"


def message_chunks(message: str) -> list[bytes]:
    """``message`` as the 20-byte pieces of consecutive client messages, NUL-terminated, padded."""
    data = message.encode("utf-8") + b"\0"
    return [data[i : i + CHUNK].ljust(CHUNK, b"\0") for i in range(0, len(data), CHUNK)]


__all__ = [
    "STARTUP_ID_VAR",
    "TOKEN_VAR",
    "LaunchContext",
    "message_chunks",
    "remove_message",
    "startup_timestamp",
]
