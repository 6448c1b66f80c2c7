"""Reasoning and alternatives in the chat controller: thinking apart and never sent back; a
regenerate keeps every answer, ‹ n/m › switches, and later turns send the one shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_chat_controller import Harness, harness  # noqa: F401 - a fixture, used by name


def test_thinking_is_shown_apart_saved_apart_and_never_sent_back(
    harness: Harness,  # noqa: F811 - the fixture imported above
    server: ScriptedServer,
    run: Callable[..., Any],
) -> None:
    thoughts: list[str] = []
    harness.controller.thinking_delta.connect(thoughts.append)
    server.script(Reply(text="Paris.", reasoning="France's capital is Paris."), Reply(text="Yes."))
    outcome = run(harness.ask("Capital of France?"))
    assert "".join(thoughts) == "France's capital is Paris."
    assert "".join(harness.deltas) == "Paris."
    assert (outcome.message.content, outcome.message.thinking) == ("Paris.", "France's capital is Paris.")
    cid = harness.controller.conversation_id
    assert cid is not None
    saved = harness.history.messages(cid)[1]
    assert (saved.content, saved.thinking) == ("Paris.", "France's capital is Paris.")
    assert saved.meta["thinking_s"] is not None
    run(harness.ask("Sure?"))
    sent = server.chat_requests()[-1].json["messages"]
    assert sent[1] == {"role": "assistant", "content": "Paris."}  # the answer only
    assert "France's capital" not in str(sent)


def test_regenerate_keeps_every_answer_and_the_chosen_one_is_sent(
    harness: Harness,  # noqa: F811 - the fixture imported above
    server: ScriptedServer,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="Tom"), Reply(text="Felix"), Reply(text="Luna"), Reply(text="Noted."))
    run(harness.ask("A name for a cat?"))
    assert harness.controller.regenerate()
    second = run(harness.reply())
    assert (second.message.content, second.message.version, second.message.versions) == ("Felix", 2, 2)
    assert harness.controller.regenerate()
    third = run(harness.reply())
    assert (third.message.version, third.message.versions) == (3, 3)
    cid = harness.controller.conversation_id
    assert cid is not None
    answer = harness.history.messages(cid)[1]
    assert harness.controller.choose_alternative(answer.id, 1)
    assert harness.history.messages(cid)[1].content == "Tom"
    run(harness.ask("Why?"))
    sent = server.chat_requests()[-1].json["messages"]
    assert [m["content"] for m in sent] == ["A name for a cat?", "Tom", "Why?"]
    versions = harness.history.answer_versions(cid, answer.seq)
    assert [v.content for v in versions] == ["Tom", "Felix", "Luna"]
