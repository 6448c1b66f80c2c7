"""Thinking split from the answer, whatever the delta boundaries."""

from __future__ import annotations

import pytest

from trayai.core.chat.thinking import PartKind, ThinkSplitter, split_thinking


def run(deltas: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    parts = [p for d in deltas for p in splitter.feed(d)] + splitter.flush()
    return (
        "".join(p.text for p in parts if p.kind is PartKind.THINKING),
        "".join(p.text for p in parts if p.kind is PartKind.ANSWER),
    )


REPLY = "<think>\nThe user greets me.\n</think>\n\nHello! How can I help?"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 64])
def test_a_think_block_is_split_at_any_delta_size(size: int) -> None:
    deltas = [REPLY[i : i + size] for i in range(0, len(REPLY), size)]
    assert run(deltas) == ("\nThe user greets me.\n", "Hello! How can I help?")


def test_a_think_tag_later_in_the_answer_is_answer_text() -> None:
    text = "Use <think> in HTML? There is no such tag; </think> neither."
    assert run([text]) == ("", text)
    assert run(["  Hi", " <think>"]) == ("", "  Hi <think>")


def test_an_answer_that_starts_like_the_tag_is_not_held_back() -> None:
    assert run(["<", "b>bold</b>"]) == ("", "<b>bold</b>")
    assert run(["<thi"]) == ("", "<thi")  # the stream ended: the held text was the answer


def test_thinking_cut_off_before_its_end_is_still_thinking() -> None:
    assert run(["<think>step one", " and two </thi"]) == ("step one and two </thi", "")


def test_whole_reply_helper() -> None:
    assert split_thinking(REPLY) == ("\nThe user greets me.\n", "Hello! How can I help?")
    assert split_thinking("plain") == ("", "plain")
