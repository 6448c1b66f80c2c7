"""What the sidebar's menu does to a conversation: rename, delete with a few seconds' Undo, export
through the one exporter (``core/chat/history_export.py``) — the store calls are the shared
:class:`SharedConversations`' (which tells the list to refresh); this part owns the window's side of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QPushButton, QStatusBar, QWidget

from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_export import ExportFormat
from trayai.ui.chat.controller import ChatController


class ConversationActions(QObject):
    """Rename, delete (Undo in the status bar) and export for one chat window.

    ``open_conversation`` shows a conversation again (after Undo); ``notice`` says a failure in the
    window's notice box (export errors: the user must see where nothing was written).
    """

    UNDO_SECONDS = 10

    def __init__(
        self,
        controller: ChatController,
        window: QWidget,
        status: QStatusBar,
        *,
        open_conversation: Callable[[int], None],
        notice: Callable[[str], None],
    ) -> None:
        super().__init__(window)
        self._controller = controller
        self._conversations = controller.conversations
        self._window = window  # the export dialog's parent
        self._status = status
        self._open = open_conversation
        self._notice = notice
        self._undo: tuple[int, str] | None = None
        self.undo_button = QPushButton("Undo")
        self.undo_button.hide()
        status.addPermanentWidget(self.undo_button)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self.undo_button.clicked.connect(self.undo_delete)
        self._undo_timer.timeout.connect(self._expire_undo)
        self._export_dialog: QFileDialog | None = None

    def rename(self, conversation_id: int, title: str) -> None:
        try:
            self._conversations.rename(conversation_id, title)
        except (HistoryError, KeyError) as exc:
            self._status.showMessage(str(exc).splitlines()[0], 4000)

    def delete(self, conversation_id: int) -> None:
        try:
            title = self._conversations.delete(conversation_id)
        except (KeyError, HistoryError) as exc:
            self._status.showMessage(f"Could not delete: {exc}", 5000)
            return
        if conversation_id == self._controller.conversation_id:
            self._controller.new_conversation()
        self._undo = (conversation_id, title)
        self._status.showMessage(f"Deleted “{title}”.")
        self.undo_button.show()
        self._undo_timer.start(self.UNDO_SECONDS * 1000)

    def undo_delete(self) -> None:
        if self._undo is None:
            return
        conversation_id, title = self._undo
        self._conversations.restore(conversation_id)
        self._expire_undo()
        self._status.showMessage(f"Restored “{title}”.", 3000)
        self._open(conversation_id)

    def _expire_undo(self) -> None:
        self._undo = None
        self._undo_timer.stop()
        self.undo_button.hide()
        self._status.clearMessage()

    def export(self, conversation_id: int, fmt: str) -> None:
        """Ask where (non-modal dialog) and write Markdown or JSON."""
        conv = self._conversations.conversation(conversation_id)
        safe = re.sub(r"[^\w\- ]+", "", conv.title).strip()[:50] or "conversation"
        dialog = QFileDialog(self._window, "Export conversation")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("md" if fmt == "md" else "json")
        dialog.setNameFilter("Markdown (*.md)" if fmt == "md" else "JSON (*.json)")
        dialog.selectFile(f"{safe}.{'md' if fmt == 'md' else 'json'}")
        dialog.fileSelected.connect(lambda path: self.write_export(conversation_id, fmt, Path(path)))
        dialog.open()
        self._export_dialog = dialog

    def write_export(self, conversation_id: int, fmt: str, path: Path) -> bool:
        try:
            self._conversations.export(conversation_id, ExportFormat(fmt), path)
        except (OSError, HistoryError, KeyError) as exc:
            self._notice(f"Could not export to {path}: {exc}")
            return False
        self._status.showMessage(f"Exported to {path}", 5000)
        return True


__all__ = ["ConversationActions"]
