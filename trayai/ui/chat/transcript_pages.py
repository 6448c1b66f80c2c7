"""Which slice of the open conversation the transcript shows: long chats open on their last screen
(or around a search hit) and grow upwards as the reader scrolls, so a 400-message chat paints at once.
The slicing rules are Qt-free (``core/chat/paging.py``); this keeps the slice and the view in step.
"""

from __future__ import annotations

from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.paging import PagingPolicy, earlier_page, first_screen_start, opening_range
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.transcript import TranscriptView


class TranscriptPages:
    """The rendered range ``[start, end)`` of the controller's conversation in the transcript."""

    POLICY = PagingPolicy()  # how much of a long conversation is rendered at once

    def __init__(self, controller: ChatController, transcript: TranscriptView) -> None:
        self._controller = controller
        self._conversations = controller.conversations
        self._transcript = transcript
        self.start = 0  # index of the first rendered message
        self.end = 0  # one past the last rendered message

    def load(self, conversation_id: int | None, *, at_index: int | None = None) -> list[StoredMessage]:
        """Render the newest part of a conversation (or around ``at_index``); earlier parts on demand.

        Returns the messages rendered (the prompt box recalls their questions)."""
        view = self._transcript
        if conversation_id is None:
            view.clear_messages()
            self.start = self.end = 0
            return []
        count = self._conversations.message_count(conversation_id)
        fetch = self._conversations.fetcher(conversation_id)
        first = first_screen_start(count, fetch, self.POLICY)
        start, end = opening_range(count, first, at_index, self.POLICY)
        messages = self._conversations.messages(conversation_id, start, end)
        live = self._controller.streaming_message
        streaming_here = live is not None and bool(messages) and messages[-1].id == live.id
        if streaming_here:
            messages = messages[:-1]  # re-attached below as a live stream, not a stale checkpoint
        view.set_messages(messages, has_earlier=start > 0)
        if streaming_here and live is not None:
            view.begin_stream(live)
            view.add_delta(self._controller.streaming_text)
            view.flush()
        if end < count:
            view.edges.append_latest()
        self.start, self.end = start, end
        return messages

    def load_earlier(self) -> None:
        """The reader reached the top: the page before the rendered range goes above it."""
        cid = self._controller.conversation_id
        if cid is None or self.start == 0:
            return
        page, start = earlier_page(self.start, self._conversations.fetcher(cid), self.POLICY)
        self._transcript.prepend_messages(page, has_earlier=start > 0)
        self.start = start

    def appended(self) -> None:
        """A message (a prompt, a finished answer) was added below the rendered range."""
        self.end += 1

    def at_end(self) -> bool:
        """The rendered range reaches the conversation's last message (a new one can go below it)."""
        cid = self._controller.conversation_id
        return cid is None or self.end >= self._conversations.message_count(cid)


__all__ = ["TranscriptPages"]
