"""The conversations as the chat side sees them: one object shared by the chat window, its sidebar
and the quick prompt's controller, so every change to a conversation goes through one place and
everyone refreshes from one signal (``history_changed``) instead of each calling the store itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_export import ExportFormat, export_text
from trayai.core.chat.history_records import Conversation, StoredMessage
from trayai.core.chat.history_search import SearchHit
from trayai.core.chat.paging import last_by_role, lookback_start


class SharedConversations(QObject):
    """Conversation-level reads and writes over one :class:`HistoryStore`, shared by the surfaces
    (the store's own SQL part for conversations is ``core/chat/history_conversations.py``).

    Writes (rename, pin, delete, restore) emit ``history_changed`` once they are stored (delete and
    restore ``hits_changed`` too); a controller that saved a message which retitles or reorders the
    list calls :meth:`announce`.
    Message-level writes of a streaming answer stay with the controller (``store``).
    """

    history_changed = Signal()  # titles, pins or the list of conversations changed
    hits_changed = Signal()  # a conversation was deleted or restored: search hits differ too

    def __init__(self, store: HistoryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store

    @property
    def recovered_from(self) -> Path | None:
        """Where a damaged history file was moved at open (a new one was started), if it was."""
        return self.store.recovered_from

    # ------------------------------------------------------------------ reads

    def conversation(self, conversation_id: int) -> Conversation:
        """Its header; ``ConversationNotFound`` (a ``KeyError``) when there is no such conversation."""
        return self.store.conversation(conversation_id)

    def listing(self) -> list[Conversation]:
        return self.store.list_conversations()

    def search(self, query: str) -> list[SearchHit]:
        return self.store.search(query)

    def message(self, message_id: int) -> StoredMessage:
        return self.store.message(message_id)

    def message_count(self, conversation_id: int) -> int:
        return self.store.message_count(conversation_id)

    def messages(self, conversation_id: int, start: int = 0, stop: int | None = None) -> list[StoredMessage]:
        return self.store.messages(conversation_id, start, stop)

    def fetcher(self, conversation_id: int) -> Callable[[int, int], list[StoredMessage]]:
        """``messages[start:stop]`` of one conversation, read from the store as paging asks."""
        return lambda start, stop: self.store.messages(conversation_id, start, stop)

    def last_by_role(
        self, conversation_id: int, role: str, *, with_content: bool = False
    ) -> StoredMessage | None:
        """The conversation's last message of ``role`` (looked for among its last few only)."""
        count = self.store.message_count(conversation_id)
        recent = self.store.messages(conversation_id, lookback_start(count))
        return last_by_role(recent, role, with_content=with_content)

    # ------------------------------------------------------------------ writes

    def create(self, *, model: str | None, profile: str | None, settings: Mapping[str, Any]) -> Conversation:
        """A new, empty conversation (announced with its first message, which titles it)."""
        return self.store.create_conversation(model=model, profile=profile, settings=settings)

    def set_options(self, conversation_id: int, *, model: str | None, settings: Mapping[str, Any]) -> None:
        """Its own model and parameters (not shown in the list: nothing to announce)."""
        self.store.update_settings(conversation_id, model=model, settings=settings)

    def rename(self, conversation_id: int, title: str) -> None:
        self.store.rename(conversation_id, title)
        self.history_changed.emit()

    def set_pinned(self, conversation_id: int, *, pinned: bool) -> None:
        self.store.set_pinned(conversation_id, pinned=pinned)
        self.history_changed.emit()

    def delete(self, conversation_id: int) -> str:
        """Mark it deleted (undoable with :meth:`restore`); returns its title for the undo line."""
        title = self.store.conversation(conversation_id).title
        self.store.delete(conversation_id)
        self.history_changed.emit()
        self.hits_changed.emit()
        return title

    def restore(self, conversation_id: int) -> None:
        self.store.restore(conversation_id)
        self.history_changed.emit()
        self.hits_changed.emit()

    def export(self, conversation_id: int, fmt: ExportFormat, path: Path) -> None:
        """Write it to ``path`` with the one exporter the CLI uses (``OSError``/``HistoryError`` raised)."""
        path.write_text(export_text(self.store, conversation_id, fmt), encoding="utf-8")

    def announce(self) -> None:
        """A saved message changed a title or the order of the list: everyone showing it refreshes."""
        self.history_changed.emit()


__all__ = ["SharedConversations"]
