"""The chat meets the shared faults (tests/support/answer_faults.py) and shows the answer pipeline's own
words for each — the fallback note, the trimmed note, the refusal — as ``ask`` and ``batch`` do
(tests/unit/chat/test_answer_front_ends.py).

Why: the chat once worded a fallback its own way ("failed" where ``ask`` said "cannot answer"); the
words now come from one place (``FellBack.note``, ``Trimmed.note``, the vision refusal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.answer_faults import FELL_BACK, MODEL, NO_VISION, TRIMMED, Fault, reference_note
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome

CONTROLLER = "trayai.ui.chat.controller"


@pytest.fixture
def backup() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


class Chat:
    """A controller whose profile "main" falls back to "backup", recording its outcomes."""

    def __init__(self, history: HistoryStore, main: ScriptedServer, backup: ScriptedServer) -> None:
        fallback = ChatTarget(client=client_for(backup.base_url), model=MODEL, profile="backup")
        target = ChatTarget(
            client=client_for(main.base_url), model=MODEL, profile="main", fallbacks=(fallback,)
        )
        self.controller = ChatController(history, lambda: target)
        self.outcomes: list[ReplyOutcome] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)

    async def ask(self, text: str, **kwargs: Any) -> ReplyOutcome:
        wanted = len(self.outcomes) + 1
        assert self.controller.send(text, **kwargs)
        await until(lambda: len(self.outcomes) >= wanted, 10.0, "a reply outcome")
        return self.outcomes[-1]


def notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == CONTROLLER and r.getMessage().startswith("chat: ")
    ]


def play(fault: Fault, server: ScriptedServer, backup: ScriptedServer, run: Callable[..., Any]) -> str:
    note: str = run(reference_note(fault, server, backup))
    fault.play(server, backup, earlier=True)
    return note


@pytest.mark.expect_log(CONTROLLER, "trying fallback 'backup'")
def test_the_chat_shows_the_pipelines_fallback_note(
    history: HistoryStore,
    server: ScriptedServer,
    backup: ScriptedServer,
    run: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    note = play(FELL_BACK, server, backup, run)
    outcome = run(Chat(history, server, backup).ask("hi"))
    assert outcome.error is None and outcome.message.content == FELL_BACK.answer
    assert outcome.message.meta["fallback_profile"] == "backup"
    assert notes(caplog) == [f"chat: {note}"]


def test_the_chat_shows_the_pipelines_trimmed_note(
    history: HistoryStore,
    server: ScriptedServer,
    backup: ScriptedServer,
    run: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=CONTROLLER)
    note = play(TRIMMED, server, backup, run)
    chat = Chat(history, server, backup)
    for question in ("q1", "q2"):
        run(chat.ask(question))
    outcome = run(chat.ask("q3"))
    assert outcome.error is None and outcome.message.content == TRIMMED.answer
    assert outcome.dropped > 0 and outcome.message.meta["dropped"] == outcome.dropped
    assert notes(caplog) == [f"chat: {note}"]


def test_the_chat_shows_the_pipelines_refusal(
    history: HistoryStore, server: ScriptedServer, backup: ScriptedServer, run: Callable[..., Any]
) -> None:
    note = play(NO_VISION, server, backup, run)
    chat = Chat(history, server, backup)
    image = chat.controller.attachments.add_bytes("cat.png", b"an image", "image/png")
    outcome = run(chat.ask("What is this?", attachments=[image]))
    assert outcome.error is not None and outcome.error.message == note
    assert server.chat_requests() == []  # refused before sending
