"""What a chat reply sends: the conversation so far as the chat API takes it (a tool exchange re-sent
whole with every call answered, attached files as content parts), the conversation's own options and
system prompt, to the chosen server then its fallbacks — one ``Answer`` (core/chat/answer.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from trayai.core.chat.answer import Answer, AnswerTarget
from trayai.core.chat.attachments import AttachmentStore, message_content
from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.history_wire import wire_messages
from trayai.core.net.client import GenerationOptions
from trayai.ui.chat.records import ChatOptions


def reply_answer(
    chain: Sequence[AnswerTarget],
    options: ChatOptions,
    top_p: float | None,
    history: Sequence[StoredMessage],
    attachments: AttachmentStore,
) -> Answer:
    """The answer to the messages in ``history`` (those before the reply), asked of ``chain`` in
    order; ``top_p`` is the profile's (a conversation has no value of its own); ``attachments``
    holds the copies of the files the questions carry."""
    turns = wire_messages(history, lambda m: message_content(m.content, m.attachments, attachments))
    generation = GenerationOptions(
        temperature=options.temperature, top_p=top_p, max_tokens=options.max_tokens
    )
    return Answer(list(chain), turns, generation, system=str(options.system_prompt or ""))


__all__ = ["reply_answer"]
