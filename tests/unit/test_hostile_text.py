"""A hostile server's text: lone surrogates and terminal control sequences never break or reach anything."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.net.client import Endpoint, ModelClient

SURROGATE_TOKENS = ["Bad ", "\ud800", " char ", "\udfff", "end"]
SURROGATE_TEXT = "Bad \ufffd char \ufffdend"


async def stream_text(server: ScriptedServer) -> tuple[list[str], str]:
    async with ModelClient(Endpoint.create(server.base_url, "dummy-key")) as client:
        stream = client.stream_chat([{"role": "user", "content": "hi"}], model="ai/smollm2")
        async with stream:
            deltas = [d async for d in stream]
        assert stream.result is not None and stream.result.finish_reason == "stop"
        return deltas, stream.result.text


# --------------------------------------------------------------------------- lone surrogates


@pytest.mark.anyio
async def test_a_lone_surrogate_in_a_delta_becomes_a_replacement_character(server: ScriptedServer) -> None:
    server.script(Reply(tokens=SURROGATE_TOKENS))
    deltas, text = await stream_text(server)
    assert "".join(deltas) == SURROGATE_TEXT == text
    text.encode("utf-8")  # strict: what used to raise UnicodeEncodeError in the history write


@pytest.mark.anyio
async def test_the_answer_with_a_surrogate_is_saved_done_with_u_fffd(
    server: ScriptedServer, tmp_path: Path
) -> None:
    """What the chat controller does: a streaming placeholder, checkpoints, then done."""
    server.script(Reply(tokens=SURROGATE_TOKENS))
    with HistoryStore(tmp_path / "history.sqlite3") as history:
        conv = history.create_conversation()
        history.add_message(conv.id, "user", "hi")
        placeholder = history.add_message(conv.id, "assistant", "", status=MessageStatus.STREAMING)
        deltas, _ = await stream_text(server)
        history.update_message(placeholder.id, content="".join(deltas[:2]))  # a checkpoint mid-stream
        history.update_message(placeholder.id, content="".join(deltas), status=MessageStatus.DONE)
        saved = history.message(placeholder.id)
    assert (saved.content, saved.status) == (SURROGATE_TEXT, "done")


def test_history_writes_never_fail_on_invalid_code_points(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as history:
        conv = history.create_conversation("t\ud800", model="m\udc00", settings={"s": "\ud800"})
        user = history.add_message(conv.id, "user", "prompt \ud800")
        answer = history.add_message(
            conv.id, "assistant", "", status=MessageStatus.STREAMING, meta={"e": "\udfff"}
        )
        history.update_message(
            answer.id, content="a\ud800", status=MessageStatus.DONE, meta={"error": {"m": "\ud800"}}
        )
        history.rename(conv.id, "renamed \udbff")
        history.update_settings(conv.id, model="x\ud800", settings={"k\ud800": 1})
        assert history.message(user.id).content == "prompt \ufffd"
        assert history.message(answer.id).meta == {"error": {"m": "\ufffd"}}
        assert history.conversation(conv.id).title == "renamed \ufffd"
        assert history.conversation(conv.id).settings == {"s": "\ufffd", "k\ufffd": 1}
    with sqlite3.connect(path) as raw:  # nothing on disk decodes to a surrogate either
        rows = raw.execute("SELECT content, meta FROM messages").fetchall()
        rows += raw.execute("SELECT title, model || settings, '' FROM conversations").fetchall()
    assert all("\\ud" not in str(v).lower() for row in rows for v in row)


def test_ask_prints_a_surrogate_answer_instead_of_dying(server: ScriptedServer) -> None:
    server.script(Reply(tokens=SURROGATE_TOKENS))
    code, out, err = cli("ask", "--endpoint", server.base_url, "hi")
    assert code == 0, err
    assert out == SURROGATE_TEXT + "\n"


# --------------------------------------------------------------------------- terminal injection

# Clipboard write (OSC 52) split across deltas, title change, clear screen, hyperlink, 8-bit CSI.
INJECTING_TOKENS = [
    "Hello ",
    "\x1b]5",
    "2;c;cHduZWQ=",
    "\x07world",
    " \x1b]0;owned\x1b\\",
    "\x1b[2J\x1b[H",
    "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",
    "\x9b2J",
    "!\r\n",
]
INJECTING_TEXT = "Hello world link!\n"


def assert_inert(output: str | bytes) -> None:
    data = output.encode("utf-8") if isinstance(output, str) else output
    text = data.decode("utf-8")
    assert b"\x1b" not in data and b"\x07" not in data
    assert not any("\x80" <= ch <= "\x9f" for ch in text)


def test_ask_strips_control_sequences_from_the_answer(server: ScriptedServer) -> None:
    server.script(Reply(tokens=INJECTING_TOKENS))
    code, out, err = cli("ask", "--endpoint", server.base_url, "hi")
    assert code == 0, err
    assert out == INJECTING_TEXT
    assert_inert(out)


def test_ask_raw_to_a_pipe_keeps_the_servers_text(server: ScriptedServer) -> None:
    server.script(Reply(tokens=INJECTING_TOKENS))
    code, out, _ = cli("ask", "--raw", "--endpoint", server.base_url, "hi")
    assert code == 0 and out == "".join(INJECTING_TOKENS)


def test_ask_to_a_terminal_is_always_cleaned_even_with_raw() -> None:
    """The real entry point on a pseudo-terminal: what a user's terminal would receive."""
    import os
    import pty
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    with ScriptedServer() as server:
        server.script(Reply(tokens=INJECTING_TOKENS))
        leader, follower = pty.openpty()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "trayai.cli", "ask", "--raw", "--endpoint", server.base_url, "hi"],
                stdin=subprocess.DEVNULL,
                stdout=follower,
                stderr=subprocess.PIPE,
                timeout=60,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
            os.close(follower)
            follower = -1
            data = b""
            while True:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # EIO: the terminal's other side is closed and everything was read
                    break
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(leader)
            if follower != -1:
                os.close(follower)
    assert proc.returncode == 0, proc.stderr
    assert data.replace(b"\r\n", b"\n") == INJECTING_TEXT.encode()
    assert_inert(data)


def test_models_shows_hostile_ids_on_one_line_each(server: ScriptedServer) -> None:
    server.models = [
        "ai/smollm2",
        "evil\n* ai/fake-model",
        "title\x1b]0;owned\x07",
        "clip\x1b]52;c;AAAA\x1b\\",
    ]
    server.owned_by = "me\x1b[2J"
    code, out, err = cli("models", "--endpoint", server.base_url)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and "  unknown     evil\\n* ai/fake-model  (me\\e[2J)" in lines
    assert "  unknown     title\\e]0;owned\\x07  (me\\e[2J)" in lines
    assert_inert(out)
    code, out, _ = cli("models", "--json", "--endpoint", server.base_url)
    assert code == 0 and [m["id"] for m in json.loads(out)["models"]] == server.models  # exact, escaped JSON
    assert_inert(out)


def test_status_and_errors_show_server_strings_escaped(server: ScriptedServer) -> None:
    server.models = ["ai/smollm2", "x\x1b]52;c;AAAA\x07\nfake ✓ line"]
    code, out, err = cli("status", "--endpoint", server.base_url)
    assert code == 0, out + err
    assert_inert(out + err)
    assert not any(line.startswith("fake") for line in out.splitlines())
    server.script(Reply(status=500, error_message="boom\x1b]52;c;AAAA\x07\nerror: fake"))
    code, out, err = cli("ask", "--endpoint", server.base_url, "--no-resolve", "hi")
    assert code == 1 and "boom\\e]52;c;AAAA\\x07\\nerror: fake" in err
    assert_inert(out + err)
    assert [line for line in err.splitlines() if line.startswith("error:")] == [err.splitlines()[0]]
    server.script(Reply(error_event_after=1, n_tokens=3, error_message="mid\x1b[2J\ud800"))
    code, out, err = cli("ask", "--endpoint", server.base_url, "--no-resolve", "hi")
    assert code == 1 and "mid\\e[2J\\ud800" in err
    assert_inert(out + err)
