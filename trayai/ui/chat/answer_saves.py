"""Answer writes the history's disk refused (full, locked, read-only): kept in memory, merged per
message and retried until they land, so a full disk never loses an answer. The person is told once
per episode where and why, and once more when the writes got through.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import HistoryError, MessageNotFound
from trayai.ui.chat.records import MessageFields

log = logging.getLogger(__name__)


class AnswerSaves(QObject):
    """The controller's message writes: done now, or kept (oldest first) and retried by a timer."""

    notice = Signal(str)  # answers cannot be saved (where and why, said once), or "" once they are

    RETRY_MS = 5000

    def __init__(self, history: HistoryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self._unsaved: dict[int, MessageFields] = {}  # message id → fields the disk refused
        self._told = False
        self._retry = QTimer(self)
        self._retry.setInterval(self.RETRY_MS)
        self._retry.timeout.connect(self.retry)

    @property
    def unsaved(self) -> int:
        """How many messages have writes the disk refused (kept in memory, retried)."""
        return len(self._unsaved)

    def save(self, message_id: int, fields: MessageFields) -> None:
        """Write ``fields`` now, or keep them (merged with earlier refused ones) for a retry."""
        self._unsaved.setdefault(message_id, {}).update(fields)
        self.retry()

    def retry(self) -> bool:
        """Write what the disk refused earlier, oldest first; True when nothing is left unsaved."""
        while self._unsaved:
            message_id, fields = next(iter(self._unsaved.items()))
            try:
                self._history.update_message(message_id, **fields)
            except MessageNotFound:  # deleted meanwhile: nothing to keep
                pass
            except HistoryError as exc:
                self.failed(exc)
                return False
            del self._unsaved[message_id]
        self._retry.stop()
        if self._told:
            self._told = False
            log.info("history: unsaved answers written")
            self.notice.emit("")
        return True

    def failed(self, exc: HistoryError) -> None:
        """A write was refused: retry on the timer, and say so unless already said this episode."""
        if not self._retry.isActive():
            self._retry.start()
        if self._told:
            return
        self._told = True  # said once per episode, not at every checkpoint
        log.error("history: answers kept in memory: %s", exc)
        self.notice.emit(
            f"{exc.message} This answer is kept in memory and will be saved as soon as the disk "
            f"allows. {exc.hint}"
        )


__all__ = ["AnswerSaves"]
