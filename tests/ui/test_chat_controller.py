"""The chat controller against the scripted server: stream, stop, regenerate, edit, failures, saving."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.smalldisk import small_disk
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.core.error_catalog import ErrorCode
from trayai.core.redact import Redactor
from trayai.core.settings.config import GenerationParams
from trayai.ui.chat.answer_saves import AnswerSaves
from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome


class Harness:
    """A controller wired to a history file and an endpoint, recording every signal."""

    def __init__(self, history: HistoryStore, base_url: str, key: str = "dummy-key", **target: Any) -> None:
        self.client = client_for(base_url, key)
        self.target = ChatTarget(client=self.client, model="ai/smollm2", profile="default", **target)
        self.history = history
        self.controller = ChatController(history, lambda: self.target)
        self.deltas: list[str] = []
        self.outcomes: list[ReplyOutcome] = []
        self.busy: list[bool] = []
        self.controller.delta.connect(self.deltas.append)
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)
        self.controller.busy_changed.connect(self.busy.append)

    async def reply(self, timeout: float = 10.0) -> ReplyOutcome:
        """Wait for the next outcome."""
        wanted = len(self.outcomes) + 1
        await until(lambda: len(self.outcomes) >= wanted, timeout, "a reply outcome")
        return self.outcomes[-1]

    async def ask(self, text: str) -> ReplyOutcome:
        assert self.controller.send(text)
        return await self.reply()


@pytest.fixture
def harness(history: HistoryStore, server: ScriptedServer) -> Harness:
    return Harness(history, server.base_url)


def test_streams_saves_prompt_and_answer_with_stats(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="Hello there, **friend**. Here is `code`."))
    outcome = run(harness.ask("Say hello"))
    assert outcome.status == "done" and outcome.error is None
    assert "".join(harness.deltas) == "Hello there, **friend**. Here is `code`."
    cid = harness.controller.conversation_id
    assert cid is not None
    saved = harness.history.messages(cid)
    assert [(m.role, m.status) for m in saved] == [("user", "done"), ("assistant", "done")]
    assert saved[1].content == "Hello there, **friend**. Here is `code`."
    assert saved[1].meta["model"] == "ai/smollm2" and saved[1].meta["completion_tokens"] > 0
    assert saved[1].meta["finish_reason"] == "stop" and saved[1].meta["ttft_s"] is not None
    assert harness.history.conversation(cid).title == "Say hello"
    assert harness.busy == [True, False]
    sent = server.chat_requests()[-1].body
    assert sent is not None and sent["messages"] == [{"role": "user", "content": "Say hello"}]


def test_prompt_is_saved_before_the_request_goes_out(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="late", headers_delay=0.5))
    seen: list[list[str]] = []

    async def go() -> ReplyOutcome:
        assert harness.controller.send("remember me")
        cid = harness.controller.conversation_id
        assert cid is not None
        # Another connection (the CLI, or the app after a crash) already sees the prompt.
        other = HistoryStore(harness.history.path)
        seen.append([m.content for m in other.messages(cid)])
        other.close()
        return await harness.reply()

    run(go())
    assert seen[0][0] == "remember me"


def test_stop_closes_the_stream_keeps_the_partial_answer(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(n_tokens=500, rate=50))

    async def go() -> tuple[ReplyOutcome, float]:
        assert harness.controller.send("count slowly")
        await until(lambda: len(harness.deltas) >= 5, what="5 deltas")
        started = time.perf_counter()
        harness.controller.stop()
        outcome = await harness.reply()
        return outcome, time.perf_counter() - started

    outcome, latency = run(go())
    assert outcome.status == "stopped"
    assert outcome.message.content.startswith("tok0 tok1 tok2 tok3 tok4")
    assert outcome.message.meta["finish_reason"] == "stopped"
    assert server.wait_for_disconnect(5), "the server never saw the client hang up"
    assert server.tokens_sent < 500
    saved = harness.history.message(outcome.message.id)
    assert saved.status == "stopped" and saved.content == outcome.message.content
    assert latency < 1.0, f"Stop took {latency:.3f} s"
    assert not harness.controller.busy


def test_regenerate_replaces_the_last_answer(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="first answer"), Reply(text="second answer"))
    run(harness.ask("question"))

    async def go() -> ReplyOutcome:
        assert harness.controller.regenerate()
        return await harness.reply()

    outcome = run(go())
    assert outcome.message.content == "second answer"
    cid = harness.controller.conversation_id
    assert cid is not None
    assert [m.content for m in harness.history.messages(cid)] == ["question", "second answer"]
    second = server.chat_requests()[-1].body
    assert second is not None and second["messages"] == [{"role": "user", "content": "question"}]


def test_edit_resends_from_the_edited_message(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="a1"), Reply(text="a2"), Reply(text="a1 again"))
    run(harness.ask("q1"))
    run(harness.ask("q2"))
    cid = harness.controller.conversation_id
    assert cid is not None
    first = harness.history.messages(cid)[0]

    async def go() -> ReplyOutcome:
        assert harness.controller.edit(first.id, "q1 edited")
        return await harness.reply()

    run(go())
    assert [m.content for m in harness.history.messages(cid)] == ["q1 edited", "a1 again"]
    body = server.chat_requests()[-1].body
    assert body is not None and body["messages"] == [{"role": "user", "content": "q1 edited"}]


def test_history_of_the_conversation_is_sent_with_system_prompt_and_options(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    h = Harness(history, server.base_url, generation=GenerationParams(system_prompt="Be brief."))
    h.controller.set_options(temperature=0.2, max_tokens=64)
    server.script(Reply(text="one"), Reply(text="two"))
    run(h.ask("first"))
    run(h.ask("second"))
    body = server.chat_requests()[-1].body
    assert body is not None
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "second"},
    ]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 64
    cid = h.controller.conversation_id
    assert cid is not None and h.history.conversation(cid).settings["temperature"] == 0.2


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(status=401, error_message="Invalid API key"), ErrorCode.AUTH),
        (Reply(status=404, error_message="The model `x` does not exist"), ErrorCode.MODEL_NOT_FOUND),
        (Reply(status=500), ErrorCode.SERVER_ERROR),
        (Reply(malformed="html"), ErrorCode.HTML_RESPONSE),
        (Reply(malformed="sse", n_tokens=3), ErrorCode.MALFORMED_STREAM),
        (Reply(error_event_after=2, n_tokens=5), ErrorCode.STREAM_ERROR),
    ],
)
def test_failures_are_typed_saved_and_shown(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any], reply: Reply, code: ErrorCode
) -> None:
    server.script(reply)
    outcome = run(harness.ask("hi"))
    assert outcome.error is not None and outcome.error.code is code, outcome.error
    assert outcome.status == "error"
    saved = harness.history.message(outcome.message.id)
    assert saved.status == "error"
    assert saved.meta["error"]["code"] == code.value and saved.meta["error"]["hint"]
    assert harness.busy[-1] is False


def test_a_lone_surrogate_in_the_answer_is_saved_as_u_fffd_and_done(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    """It used to raise UnicodeEncodeError in the history write: the row stayed "streaming" and empty."""
    server.script(Reply(tokens=["Bad ", "\ud800", " char"]))
    outcome = run(harness.ask("hi"))
    assert outcome.status == "done" and outcome.error is None
    saved = harness.history.message(outcome.message.id)
    assert (saved.content, saved.status) == ("Bad \ufffd char", "done")


@pytest.mark.parametrize(
    "reply",
    [Reply(status=500, error_message="boom"), Reply(error_event_after=2, n_tokens=5)],
    ids=["body", "event"],
)
def test_a_key_echoed_by_the_server_is_neither_shown_nor_stored(
    server: ScriptedServer, run: Callable[..., Any], tmp_path: Path, reply: Reply
) -> None:
    key = "sk-echoed-0123456789"
    server.echo_auth = True
    server.script(reply)
    path = tmp_path / "keyed.sqlite3"
    with HistoryStore(path, redactor=Redactor([key])) as history:
        h = Harness(history, server.base_url, key=key)
        outcome = run(h.ask("hi"))
        assert outcome.error is not None and outcome.status == "error"
        assert server.chat_requests()[0].headers["authorization"] == f"Bearer {key}"
        shown = [outcome.error.message, outcome.error.hint, outcome.error.detail or ""]
        assert all(key not in text for text in shown) and "[redacted]" in outcome.error.message
        assert "[redacted]" in history.message(outcome.message.id).meta["error"]["message"]
    files = [p for p in tmp_path.iterdir() if p.name.startswith("keyed.sqlite3")]
    assert files and all(key.encode() not in p.read_bytes() for p in files)


def test_connection_lost_mid_reply_keeps_what_arrived_and_retry_works(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(n_tokens=50, disconnect_after=10), Reply(text="complete answer"))
    outcome = run(harness.ask("tell me"))
    assert outcome.error is not None and outcome.error.code is ErrorCode.DISCONNECTED
    assert outcome.message.content.startswith("tok0 ") and "tok9" in outcome.message.content
    assert harness.history.message(outcome.message.id).content == outcome.message.content

    async def retry() -> ReplyOutcome:
        assert harness.controller.regenerate()
        return await harness.reply()

    again = run(retry())
    assert again.status == "done" and again.message.content == "complete answer"
    cid = harness.controller.conversation_id
    assert cid is not None
    assert [m.status for m in harness.history.messages(cid)] == ["done", "done"]


def test_server_down_is_explained(history: HistoryStore, run: Callable[..., Any]) -> None:
    h = Harness(history, f"http://127.0.0.1:{free_port()}/v1")
    outcome = run(h.ask("anyone there?"))
    assert outcome.error is not None and outcome.error.code is ErrorCode.CONNECTION_REFUSED
    cid = h.controller.conversation_id
    assert cid is not None
    assert next(m.content for m in history.messages(cid)) == "anyone there?"  # the prompt is kept


def test_context_exceeded_retries_with_fewer_turns_and_says_so(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="a1"), Reply(text="a2"), Reply(text="a3"))
    for q in ("q1", "q2", "q3"):
        run(harness.ask(q))
    server.script(
        Reply(status=400, error_message="This model's maximum context length is 2048 tokens (n_ctx)"),
        Reply(text="fits now"),
    )
    outcome = run(harness.ask("q4"))
    assert outcome.status == "done" and outcome.message.content == "fits now"
    assert outcome.dropped > 0 and outcome.message.meta["dropped"] == outcome.dropped
    retried = server.chat_requests()[-1].body
    assert retried is not None and retried["messages"][-1] == {"role": "user", "content": "q4"}
    assert len(retried["messages"]) < 7


def test_context_exceeded_with_a_single_message_is_explained(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(status=400, error_message="context length exceeded", repeat=True))
    outcome = run(harness.ask("x" * 100))
    assert outcome.error is not None and outcome.error.code is ErrorCode.CONTEXT_EXCEEDED
    assert "context" in outcome.error.message.lower()


def test_known_context_window_trims_up_front(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    h = Harness(history, server.base_url, context_tokens=700)
    h.controller.set_options(max_tokens=100)
    server.set_default(Reply(text="y" * 600))
    for i in range(4):
        run(h.ask(f"question {i} " + "x" * 600))
    outcome = h.outcomes[-1]
    assert outcome.dropped > 0
    body = server.chat_requests()[-1].body
    assert body is not None and body["messages"][-1]["content"].startswith("question 3")
    assert body["messages"][0]["role"] == "user"  # never starts with an assistant turn


def test_long_replies_are_checkpointed_while_streaming(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChatController, "CHECKPOINT_INTERVAL", 0.1)
    server.script(Reply(n_tokens=60, rate=100))
    seen: list[str] = []

    async def go() -> None:
        assert harness.controller.send("long one")
        await until(lambda: len(harness.deltas) >= 40, what="40 deltas")
        cid = harness.controller.conversation_id
        assert cid is not None
        other = HistoryStore(harness.history.path)
        seen.append(other.messages(cid)[-1].content)
        seen.append(other.messages(cid)[-1].status)
        other.close()
        await harness.reply()

    run(go())
    assert seen[1] == "streaming"
    assert seen[0].startswith("tok0 ") and len(seen[0].split()) >= 20


def test_non_streaming_profile(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    h = Harness(history, server.base_url, generation=GenerationParams(stream=False))
    server.script(Reply(text="all at once"))
    outcome = run(h.ask("q"))
    assert outcome.status == "done" and outcome.message.content == "all at once"
    body = server.chat_requests()[-1].body
    assert body is not None and not body.get("stream")


def test_busy_controller_refuses_a_second_prompt(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(n_tokens=30, rate=100))

    async def go() -> None:
        assert harness.controller.send("one")
        assert not harness.controller.send("two")
        assert not harness.controller.send("   ")
        await harness.reply()

    run(go())
    cid = harness.controller.conversation_id
    assert cid is not None
    assert [m.content for m in harness.history.messages(cid) if m.role == "user"] == ["one"]


def test_wait_idle_saves_a_stopped_answer_on_shutdown(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(n_tokens=500, rate=100))

    async def go() -> None:
        assert harness.controller.send("long")
        await until(lambda: len(harness.deltas) >= 3, what="3 deltas")
        harness.controller.stop()
        await harness.controller.wait_idle()

    run(go())
    cid = harness.controller.conversation_id
    assert cid is not None
    last = harness.history.messages(cid)[-1]
    assert last.status == "stopped" and last.content.startswith("tok0")


def test_stop_is_never_lost_while_tokens_pour_in(
    harness: Harness, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    """Regression: asyncio.wait_for on 3.11 swallowed a cancel arriving with a chunk (1 in 3 Stops)."""
    harness.target = ChatTarget(
        client=harness.client,
        model="ai/smollm2",
        profile="default",
        generation=GenerationParams(max_tokens=None),
    )

    async def go() -> list[str]:
        statuses = []
        for _ in range(10):
            server.script(Reply(n_tokens=100_000, rate=1000))
            before = len(harness.deltas)
            assert harness.controller.send("pour")
            wanted = before + 30
            await until(lambda: len(harness.deltas) >= wanted, what="30 more deltas", interval=0.005)  # noqa: B023
            harness.controller.stop()
            statuses.append((await harness.reply(timeout=5)).status)
        return statuses

    assert run(go()) == ["stopped"] * 10


@pytest.mark.expect_log("trayai.ui.chat.answer_saves", "The disk holding the chat history")
def test_an_answer_the_full_disk_refuses_is_kept_and_lands_when_space_frees(
    tmp_path: Path, server: ScriptedServer, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChatController, "CHECKPOINT_INTERVAL", 0.05)
    monkeypatch.setattr(AnswerSaves, "RETRY_MS", 50)
    release = threading.Event()
    server.script(Reply(tokens=["x" * 4000] * 100, rate=400, hold=release))  # 400 KB of answer
    with small_disk(tmp_path / "disk") as disk, HistoryStore(disk.path / "history.sqlite3") as history:
        harness = Harness(history, server.base_url)
        notices: list[str] = []
        harness.controller.storage_notice.connect(notices.append)

        async def go() -> ReplyOutcome:
            assert harness.controller.send("a long answer, please")  # prompt + placeholder saved
            disk.fill()
            release.set()
            outcome = await harness.reply()
            assert harness.controller.saves.unsaved == 1  # kept in memory
            stored = history.messages(outcome.message.conversation_id)[-1]
            assert (stored.content, stored.status) == ("", "streaming")  # the disk refused it all
            disk.free()
            # The retry timer writes it, nobody has to act.
            await until(lambda: not harness.controller.saves.unsaved, what="the retry to save the answer")
            return outcome

        outcome = run(go())
        assert outcome.error is None and len(outcome.message.content) == 400_000
        stored = history.messages(outcome.message.conversation_id)[-1]
        assert (len(stored.content), stored.status) == (400_000, "done")
        assert notices == [
            f"The disk holding the chat history ({disk.path}) is full. This answer is kept in memory and "
            "will be saved as soon as the disk allows. Free some space there; unsaved answers are "
            "written once it can.",
            "",
        ]  # told once (not at every checkpoint), then that it is saved


@pytest.mark.expect_log("trayai.ui.chat.controller", "The disk holding the chat history")
def test_a_prompt_the_full_disk_refuses_is_explained(
    tmp_path: Path, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    with small_disk(tmp_path / "disk") as disk, HistoryStore(disk.path / "history.sqlite3") as history:
        harness = Harness(history, server.base_url)
        disk.fill()
        assert not harness.controller.send("y" * 300_000)
        outcome = harness.outcomes[-1]
        assert outcome.error is not None and outcome.error.code is ErrorCode.HISTORY
        assert outcome.error.message == f"The disk holding the chat history ({disk.path}) is full."
        assert not server.chat_requests()  # nothing is sent that could not be saved
        disk.free()
        assert harness.controller.send("y" * 300_000)
        run(harness.reply())


@pytest.mark.integration
def test_chat_and_quick_prompt_answer_at_once_on_the_builtin_engine(
    history: HistoryStore, run: Any, tmp_path: Path
) -> None:
    """The chat's long answer and the quick prompt's question both complete (the old engine cut one)."""
    from trayai.core.embedded import EmbeddedServer
    from trayai.core.settings.config import BuiltinServerSettings

    engine = EmbeddedServer(BuiltinServerSettings(port=free_port(), context_size=2048), tmp_path / "e.log")
    engine.start()
    try:
        engine.wait_ready()
        chat = Harness(history, engine.base_url)  # the chat window's controller
        prompt = Harness(history, engine.base_url)  # the quick prompt's, as the app builds them

        async def go() -> tuple[ReplyOutcome, ReplyOutcome]:
            chat.controller.set_options(max_tokens=120, temperature=0.7)
            assert chat.controller.send("Write a long story about a lighthouse keeper.")
            await until(lambda: chat.deltas, 20, "the chat answer to stream")  # the chat answer is streaming…
            prompt.controller.set_options(max_tokens=16, temperature=0.0)
            asked = prompt.ask("Say hello.")  # …when the quick prompt asks
            return await asyncio.gather(chat.reply(timeout=25), asked)

        long_answer, quick_answer = run(go())
    finally:
        engine.stop()
    for outcome in (long_answer, quick_answer):
        assert outcome.status == "done", outcome.message.meta
        assert outcome.message.content.strip()
        assert outcome.message.meta["finish_reason"] in ("stop", "length")
        assert outcome.message.meta["usage_estimated"] is False  # the engine's own counts
    meta = long_answer.message.meta
    assert meta["finish_reason"] == "stop" or meta["completion_tokens"] == 120


@pytest.mark.parametrize(
    ("reply", "code", "kept"),
    [
        (Reply(hostile="trickle_after_token", hostile_interval=0.05), ErrorCode.STALLED, "Hello"),
        (Reply(hostile="endless"), ErrorCode.LENGTH_IGNORED, "word0 word1 "),
        (Reply(hostile="steady", hostile_interval=0.1), ErrorCode.ANSWER_TIMEOUT, "more more "),
    ],
)
def test_a_hostile_server_ends_the_answer_with_its_error_and_the_text_saved(
    history: HistoryStore, server: ScriptedServer, run: Any, reply: Reply, code: ErrorCode, kept: str
) -> None:
    from dataclasses import replace

    harness = Harness(history, server.base_url, generation=GenerationParams(max_tokens=30))
    harness.client = client_for(server.base_url, "dummy-key", stall_timeout=1.0, answer_timeout=1.5)
    harness.target = replace(harness.target, client=harness.client)
    server.script(reply)
    started = time.monotonic()
    outcome = run(harness.ask("go"))
    assert time.monotonic() - started < 5
    assert outcome.status == "error" and outcome.error is not None and outcome.error.code is code
    assert outcome.message.content.startswith(kept)
    stored = history.messages(outcome.message.conversation_id)[-1]
    assert stored.status == "error" and stored.content == outcome.message.content
    assert stored.meta["error"]["code"] == code.value
