"""A hostile server's text: lone surrogates and terminal control sequences never break or reach anything."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.cli import main
from trayai.core.client import Endpoint, ModelClient
from trayai.core.history import HistoryStore

SURROGATE_TOKENS = ["Bad ", "\ud800", " char ", "\udfff", "end"]
SURROGATE_TEXT = "Bad \ufffd char \ufffdend"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def stream_text(server: ScriptedServer) -> tuple[list[str], str]:
    async def go() -> tuple[list[str], str]:
        async with ModelClient(Endpoint.create(server.base_url, "dummy-key")) as client:
            stream = client.stream_chat([{"role": "user", "content": "hi"}], model="ai/smollm2")
            async with stream:
                deltas = [d async for d in stream]
            assert stream.result is not None and stream.result.finish_reason == "stop"
            return deltas, stream.result.text

    return asyncio.run(go())


# --------------------------------------------------------------------------- lone surrogates


def test_a_lone_surrogate_in_a_delta_becomes_a_replacement_character(server: ScriptedServer) -> None:
    server.script(Reply(tokens=SURROGATE_TOKENS))
    deltas, text = stream_text(server)
    assert "".join(deltas) == SURROGATE_TEXT == text
    text.encode("utf-8")  # strict: what used to raise UnicodeEncodeError in the history write


def test_the_answer_with_a_surrogate_is_saved_done_with_u_fffd(server: ScriptedServer, tmp_path: Path) -> None:
    """What the chat controller does: a streaming placeholder, checkpoints, then done."""
    server.script(Reply(tokens=SURROGATE_TOKENS))
    with HistoryStore(tmp_path / "history.sqlite3") as history:
        conv = history.create_conversation()
        history.add_message(conv.id, "user", "hi")
        placeholder = history.add_message(conv.id, "assistant", "", status="streaming")
        deltas, _ = stream_text(server)
        history.update_message(placeholder.id, content="".join(deltas[:2]))  # a checkpoint mid-stream
        history.update_message(placeholder.id, content="".join(deltas), status="done")
        saved = history.message(placeholder.id)
    assert (saved.content, saved.status) == (SURROGATE_TEXT, "done")


def test_history_writes_never_fail_on_invalid_code_points(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as history:
        conv = history.create_conversation("t\ud800", model="m\udc00", settings={"s": "\ud800"})
        user = history.add_message(conv.id, "user", "prompt \ud800")
        answer = history.add_message(conv.id, "assistant", "", status="streaming", meta={"e": "\udfff"})
        history.update_message(answer.id, content="a\ud800", status="done", meta={"error": {"m": "\ud800"}})
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
