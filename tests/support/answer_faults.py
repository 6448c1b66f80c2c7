"""The faults the one answer pipeline (``core/chat/answer.py``) handles for every front end, as the
scripted server plays them — shared by tests/unit/chat/test_answer_front_ends.py (``ask``, ``batch``)
and tests/ui/test_answer_front_ends.py (the chat) — and :func:`reference_note`, the pipeline's own
words for each, which every front end must show unchanged.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
from typing import Any

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.answer import Answer, AnswerTarget, Failed, FellBack, Trimmed
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.net.wire import ChatMessage

MODEL = "ai/smollm2"
PIXEL = base64.b64encode(b"an image").decode()  # refused before sending: its bytes never matter


@dataclass(frozen=True)
class Fault:
    """One fault: what the first profile's server (``main``) and its fallback's (``backup``) answer,
    what ``/props`` says, and the conversation (oldest first) that meets it."""

    name: str
    turns: tuple[ChatMessage, ...]
    main: tuple[Reply, ...] = ()
    backup: tuple[Reply, ...] = ()
    props: dict[str, Any] | None = None
    answer: str | None = None  # the answer shown in the end; None: refused, no answer
    earlier: tuple[str, ...] = field(default=())  # the chat's earlier answers (to build ``turns``)

    def play(self, main: ScriptedServer, backup: ScriptedServer, *, earlier: bool = False) -> None:
        """Script the servers; ``earlier``: the chat's earlier answers first (it builds the turns)."""
        main.props = self.props
        main.script(*(Reply(text=text) for text in self.earlier if earlier), *self.main)
        backup.script(*self.backup)


FELL_BACK = Fault(
    "fallback",
    turns=({"role": "user", "content": "hi"},),
    main=(Reply(status=503, error_message="Loading model", repeat=True),),
    backup=(Reply(text="from the backup"),),
    answer="from the backup",
)
TRIMMED = Fault(
    "trimmed",
    turns=(
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ),
    earlier=("a1", "a2"),
    main=(
        Reply(status=400, error_message="This model's maximum context length is 2048 tokens (n_ctx)"),
        Reply(text="fits now"),
    ),
    answer="fits now",
)
NO_VISION = Fault(
    "no vision",
    turns=(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
            ],
        },
    ),
    props={"modalities": {"vision": False}, "default_generation_settings": {"n_ctx": 4096}},
)
FAULTS = (FELL_BACK, TRIMMED, NO_VISION)


async def reference_note(fault: Fault, main: ScriptedServer, backup: ScriptedServer) -> str:
    """The pipeline's own words for ``fault`` (``FellBack.note``, ``Trimmed.note``, the refusal's
    message), got by answering ``fault.turns`` straight from :class:`Answer` (the front end under
    test plays the fault again afterwards)."""
    fault.play(main, backup)
    targets = [
        AnswerTarget(ModelClient(Endpoint.create(main.base_url, "dummy-key")), MODEL, "main"),
        AnswerTarget(ModelClient(Endpoint.create(backup.base_url, "dummy-key")), MODEL, "backup"),
    ]
    notes: list[str] = []
    try:
        async with contextlib.aclosing(Answer(targets, fault.turns).events()) as events:
            async for event in events:
                if isinstance(event, (FellBack, Trimmed)):
                    notes.append(event.note)
                elif isinstance(event, Failed):
                    notes.append(event.error.message)
    finally:
        for target in targets:
            await target.client.aclose()
    assert len(notes) == 1, notes
    return notes[0]
