"""A launcher's focus grant: read from the environment, carried over the instance socket, parsed."""

from __future__ import annotations

import pytest

from trayai.core.launch import (
    LaunchContext,
    message_chunks,
    quote_value,
    remove_message,
    startup_timestamp,
)


def test_from_env_takes_both_and_drops_malformed_values() -> None:
    env = {"XDG_ACTIVATION_TOKEN": "kwin-42", "DESKTOP_STARTUP_ID": "xfce4-panel/trayai/1-2-host_TIME99"}
    assert LaunchContext.from_env(env) == LaunchContext("kwin-42", "xfce4-panel/trayai/1-2-host_TIME99")
    assert LaunchContext.from_env({}).empty
    for bad in ("", " padded ", "new\nline", "x" * 513, "naïve"):
        assert LaunchContext.from_env({"XDG_ACTIVATION_TOKEN": bad}).activation_token is None


def test_wire_round_trip_and_refusals() -> None:
    launch = LaunchContext("token-1", "id_TIME5")
    assert launch.to_wire() == {"xdg_activation_token": "token-1", "desktop_startup_id": "id_TIME5"}
    assert LaunchContext.from_wire(launch.to_wire()) == launch
    assert LaunchContext.from_wire({"xdg_activation_token": "t"}) == LaunchContext("t", None)
    assert LaunchContext.from_wire({}) == LaunchContext()
    for bad in (
        None,
        "token",
        ["token"],
        {"xdg_activation_token": 5},
        {"xdg_activation_token": "a\x1bb"},
        {"desktop_startup_id": "x" * 600},
        {"xdg_activation_token": "t", "evil": "1"},
    ):
        assert LaunchContext.from_wire(bad) is None, bad


@pytest.mark.parametrize(
    ("startup_id", "time"),
    [
        ("xfce4-panel/trayai/1234-0-host_TIME1234567", 1234567),  # libstartup-notification
        ("_TIME98765", 98765),  # GTK's
        ("kde;host;1;2_TIME7_TIME8", 8),  # the last one counts
        ("gnome-shell/trayai/1-2-host", None),  # no time given
        ("_TIME0", None),
        (f"_TIME{2**32}", None),  # not an X timestamp (CARD32)
    ],
)
def test_startup_timestamp(startup_id: str, time: int | None) -> None:
    assert startup_timestamp(startup_id) == time
    assert LaunchContext(None, startup_id).startup_time == time


def test_remove_message_quotes_as_the_spec_says() -> None:
    assert remove_message("plain_TIME1") == "remove: ID=plain_TIME1"
    assert quote_value('a b"c\\d') == '"a b\\"c\\\\d"'
    assert remove_message("with space") == 'remove: ID="with space"'


def test_message_chunks_are_20_bytes_nul_terminated() -> None:
    message = "remove: ID=" + "x" * 30  # 41 characters + NUL = 42 bytes → 3 pieces
    chunks = message_chunks(message)
    assert [len(c) for c in chunks] == [20, 20, 20]
    assert b"".join(chunks).rstrip(b"\0") == message.encode() and b"".join(chunks)[41] == 0
    assert message_chunks("x" * 19) == [b"x" * 19 + b"\0"]  # exactly one piece with its NUL
