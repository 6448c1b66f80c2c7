"""The chat window: conversations on the left, the transcript and the prompt on the right.

No request logic (that is the :class:`ChatController`); long chats open lazily (``core/chat/paging.py``).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from trayai.core.chat.attachments import Attachment
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_export import ExportFormat, export_text
from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.paging import (
    PagingPolicy,
    earlier_page,
    first_screen_start,
    last_by_role,
    lookback_start,
    opening_range,
)
from trayai.core.settings.config import Preset
from trayai.core.settings.prompt_presets import matching_preset, preset_values
from trayai.ui.chat.attach import AttachmentTray
from trayai.ui.chat.controller import ChatController, ReplyOutcome
from trayai.ui.chat.options_bar import OptionsBar
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.chat.sidebar import ConversationSidebar
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_links import TranscriptAction

log = logging.getLogger(__name__)


class ChatWindow(QMainWindow):
    """The streaming chat window.

    Signals:
        closed()  the window was closed (hidden; the app keeps running)
    """

    closed = Signal()

    PAGING = PagingPolicy()  # how much of a long conversation is rendered at once
    UNDO_SECONDS = 10
    MIN_WIDTH = 480  # a tiled third of a 1440 px screen: every control still whole
    MIN_HEIGHT = 400  # the bars, a few lines of transcript and the prompt box
    NARROW_BELOW = 720  # below this, the conversations and the chat take turns (one pane at a time)

    def __init__(
        self,
        controller: ChatController,
        history: HistoryStore,
        *,
        state_file: Path | None = None,
        presets: Callable[[], list[Preset]] = list,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.history = history
        self._presets = presets  # the settings' presets, read when the options are shown
        self._state_file = state_file
        self._loaded_start = 0  # index of the first rendered message
        self._loaded_end = 0  # one past the last rendered message
        self._editing: int | None = None
        self._stashed: list[Attachment] = []  # pending files set aside while a message is edited
        self._undo: tuple[int, str] | None = None
        self.setWindowTitle("Chat")  # shown as "Chat — trayai"
        self.resize(1000, 720)
        self._narrow = False
        self._sidebar_open = True
        self._build()
        self._connect()
        self._restore_state()
        self.refresh_sidebar()
        self._load_conversation(None)
        if history.recovered_from is not None:
            self.show_notice(
                f"The history database was damaged and has been moved to {history.recovered_from}; "
                "a new history was started."
            )

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.sidebar = ConversationSidebar(self.history, lambda: self.controller.conversation_id)
        self.search = self.sidebar.search
        self.new_button = self.sidebar.new_button
        self.conversations = self.sidebar.conversations

        self.options_bar = OptionsBar()
        self.model_combo = self.options_bar.model_combo
        self.temperature = self.options_bar.temperature
        self.max_tokens = self.options_bar.max_tokens
        self.system_prompt = self.options_bar.system_prompt

        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.setStyleSheet("QLabel { padding: 6px; border: 1px solid palette(mid); }")
        self.notice.hide()
        self.transcript = TranscriptView()
        self.transcript.setAccessibleName("Conversation")
        self.edit_banner = QLabel()
        self.edit_banner.setWordWrap(True)  # a long sentence must not widen a narrow window
        self.edit_banner.hide()
        self.prompt = PromptInput()
        self.prompt.setAccessibleName("Prompt")
        self.attach_tray = AttachmentTray(self.controller.attachments)
        self.prompt.paste_handler = self.attach_tray.add_mime  # pasted images and files attach
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.hide()
        buttons = QVBoxLayout()
        buttons.addStretch(1)  # the buttons sit at the bottom, beside the box's last line
        buttons.addWidget(self.attach_tray.button, 0, Qt.AlignmentFlag.AlignRight)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.prompt, 1)
        bottom.addLayout(buttons)

        self.main_pane = main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 6, 6, 6)  # the splitter handle is the gap to the list
        self._main_layout = main_layout
        main_layout.addWidget(self.options_bar)
        main_layout.addWidget(self.notice)
        main_layout.addWidget(self.transcript, 1)
        main_layout.addWidget(self.edit_banner)
        main_layout.addWidget(self.attach_tray)
        main_layout.addLayout(bottom)

        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(main)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)  # hidden only through Chats / Ctrl+B, never lost
        self.splitter.setSizes([240, 760])
        self.setCentralWidget(self.splitter)
        # Explicit: the wide layout's larger minimum must not hold the window wide.
        self.setMinimumSize(self.MIN_WIDTH, self.MIN_HEIGHT)
        self.options_bar.sidebar_button.setChecked(True)

        self.undo_button = QPushButton("Undo")
        self.undo_button.hide()
        self.statusBar().addPermanentWidget(self.undo_button)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)

    def _connect(self) -> None:
        self.setAcceptDrops(True)  # files and images dropped anywhere on the window attach
        self.attach_tray.refused.connect(lambda why: self.statusBar().showMessage(why, 8000))
        c = self.controller
        c.conversation_changed.connect(self._on_conversation_changed)
        c.message_saved.connect(self._on_message_saved)
        c.reply_started.connect(self.transcript.begin_stream)
        c.delta.connect(self.transcript.add_delta)
        c.thinking_delta.connect(self.transcript.add_thinking)
        c.finished.connect(self._on_reply_ended)
        c.failed.connect(self._on_reply_ended)
        c.busy_changed.connect(lambda busy: self._on_busy(busy=busy))
        c.history_changed.connect(self._on_history_changed)
        c.storage_notice.connect(self._on_storage_notice)

        self.prompt.submitted.connect(self.send)
        self.prompt.escape.connect(self._on_escape)
        self.send_button.clicked.connect(lambda: self.send(self.prompt.toPlainText()))
        self.stop_button.clicked.connect(self.controller.stop)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.back_requested.connect(lambda: self.set_sidebar_open(wanted=False))
        self.options_bar.sidebar_button.clicked.connect(lambda _checked: self.toggle_sidebar())
        self.sidebar.conversation_chosen.connect(self._on_conversation_chosen)
        self.sidebar.hit_chosen.connect(
            lambda cid, index, words: self.open_conversation(cid, at_message=index, words=words)
        )
        self.sidebar.renamed.connect(self._rename_conversation)
        self.sidebar.export_requested.connect(self.export_conversation)
        self.sidebar.delete_requested.connect(self.delete_conversation)
        self.sidebar.failed.connect(self.show_notice)
        self._actions = self._action_table()
        self.transcript.action.connect(self._on_action)
        self.transcript.load_earlier.connect(self.load_earlier)
        self.transcript.palette_changed.connect(
            lambda: self._load_conversation(self.controller.conversation_id)
        )
        self.undo_button.clicked.connect(self.undo_delete)
        self._undo_timer.timeout.connect(self._expire_undo)
        self.model_combo.activated.connect(lambda _i: self._save_options())
        self.options_bar.preset_combo.activated.connect(self._choose_preset)
        line_edit = self.model_combo.lineEdit()
        assert line_edit is not None  # the combo is editable
        line_edit.editingFinished.connect(self._save_options)
        self.temperature.editingFinished.connect(self._save_options)
        self.max_tokens.editingFinished.connect(self._save_options)
        self.system_prompt.textChanged.connect(self._save_options)

        shortcuts: list[tuple[str, Callable[[], object]]] = [
            ("Esc", self._on_escape),
            ("Ctrl+Shift+R", self.regenerate),
            ("Ctrl+Shift+C", self.copy_last_answer),
            ("Ctrl+Alt+C", self.copy_last_code),
            ("Ctrl+E", self.edit_last_prompt),
            ("Ctrl+N", self.new_conversation),
            ("Ctrl+F", self.focus_search),
            ("Ctrl+B", self.toggle_sidebar),
            ("Ctrl+W", self.close),
            ("Ctrl+Shift+A", self.attach_tray.choose_files),
            ("Ctrl+Shift+O", self.options_bar.options_button.showMenu),
            ("Ctrl+Shift+T", self.toggle_last_thinking),
            ("Ctrl+Alt+Left", lambda: self.switch_last_alternative(-1)),
            ("Ctrl+Alt+Right", lambda: self.switch_last_alternative(+1)),
        ]
        for keys, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

    # ------------------------------------------------------------------ sending

    def send(self, text: str) -> bool:
        """Send the prompt box (or resend an edited message); clears the box when it went out."""
        if not (text.strip() or self.attach_tray.pending) or self.controller.busy:
            return False
        self._ensure_at_end()
        if self._editing is not None:
            message_id = self._editing
            ok = self.controller.edit(message_id, text, self.attach_tray.pending)
            if ok:
                self._editing = None
                self.edit_banner.hide()
                self.attach_tray.restore(self._stashed)  # files meant for a later question come back
                self._stashed = []
        else:
            ok = self.controller.send(text, self.attach_tray.pending)
            if ok:
                self.attach_tray.take()  # they went with this question
        if ok:
            self.prompt.remember(text)
            self.prompt.clear()
        return ok

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.attach_tray.add_mime(event.mimeData()):
            event.acceptProposedAction()
            self.prompt.setFocus()

    def regenerate(self) -> None:
        self._ensure_at_end()
        if not self.controller.regenerate():
            self.statusBar().showMessage("Nothing to regenerate yet.", 3000)
        self.prompt.setFocus()

    def new_conversation(self) -> None:
        self._cancel_edit()
        self.controller.new_conversation()
        if self._narrow:
            self.set_sidebar_open(wanted=False)
        self.prompt.setFocus()

    def _on_escape(self) -> None:
        if self._narrow and self._sidebar_open:
            self.set_sidebar_open(wanted=False)  # the list stood in for the conversation: back to it
        elif self.controller.busy:
            self.controller.stop()
        elif self._editing is not None:
            self._cancel_edit()

    def _on_busy(self, *, busy: bool) -> None:
        # The button pressed hides: Qt would hand its focus to the next widget (the sidebar's
        # search), and the next keys typed would filter the chat list. The prompt box gets it.
        pressed = self.send_button.hasFocus() or self.stop_button.hasFocus()
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)
        if pressed or (not busy and self.isActiveWindow() and self.focusWidget() is None):
            self.prompt.setFocus()

    def _on_message_saved(self, message: StoredMessage) -> None:
        if message.conversation_id == self.controller.conversation_id:
            self.transcript.append_message(message)
            self._loaded_end += 1

    def _on_reply_ended(self, outcome: ReplyOutcome) -> None:
        if outcome.message.id < 0:  # nothing could be saved: say so where the user looks
            error = outcome.error
            self.show_notice(f"{error.message}\n{error.hint}" if error else "The history could not be saved.")
            return
        log.info(
            "chat: answer %d ended: %s, %d characters%s",
            outcome.message.id,
            outcome.status,
            len(outcome.message.content),
            f" ({outcome.error.code.value})" if outcome.error else "",
        )
        if outcome.message.conversation_id == self.controller.conversation_id and self.transcript.streaming:
            self.transcript.finish_stream(outcome.message)
            self._loaded_end += 1

    # ------------------------------------------------------------------ message actions

    def _on_action(self, kind: str, message_id: int, index: int) -> None:
        """A link under a message, handled from the table (a kind with no handler does nothing)."""
        handler = self._actions.get(TranscriptAction(kind))
        if handler is not None:
            handler(message_id, index)

    def _action_table(self) -> dict[TranscriptAction, Callable[[int, int], None]]:
        return {
            TranscriptAction.COPY: lambda mid, _i: self._copy(self.transcript.message_text(mid), "Message"),
            TranscriptAction.COPY_CODE: lambda mid, i: self._copy(self.transcript.code_block(mid, i), "Code"),
            TranscriptAction.COPY_THINKING: lambda mid, _i: self._copy(
                self.transcript.thinking_text(mid), "Thinking"
            ),
            TranscriptAction.EDIT: lambda mid, _i: self.start_edit(mid),
            TranscriptAction.RETRY: lambda _mid, _i: self.regenerate(),
            TranscriptAction.REGENERATE: self._regenerate_from_link,
            TranscriptAction.LATEST: lambda _mid, _i: self._load_conversation(
                self.controller.conversation_id
            ),
            TranscriptAction.ALTERNATIVE: self._choose_alternative,
        }

    def _copy(self, text: str | None, what: str) -> None:
        if text is not None:
            QGuiApplication.clipboard().setText(text)
            self.statusBar().showMessage(f"{what} copied.", 2000)

    def _choose_alternative(self, message_id: int, index: int) -> None:
        if not self.controller.choose_alternative(message_id, index):
            self.statusBar().showMessage("Stop the answer first (Esc).", 3000)

    def _regenerate_from_link(self, message_id: int, _index: int) -> None:
        ids = self.transcript.message_ids
        if ids and ids[-1] == message_id:
            self.regenerate()
        else:
            self.statusBar().showMessage("Only the last answer can be regenerated.", 3000)

    def start_edit(self, message_id: int) -> None:
        """Put a user message in the prompt box; sending replaces it and everything after it."""
        if self.controller.busy:
            self.statusBar().showMessage("Stop the answer first (Esc).", 3000)
            return
        try:
            message = self.history.message(message_id)
        except KeyError:
            return
        if message.role != "user":
            return
        if self._editing is None:  # files waiting for the next question wait until the edit is done
            self._stashed = self.attach_tray.take()
        self._editing = message_id
        self.attach_tray.restore(message.attachments)  # removing one is the user's act, not ours
        self.edit_banner.setText(
            "Editing a message: Enter resends from there (later messages are replaced); Esc cancels."
        )
        self.edit_banner.show()
        self.prompt.setPlainText(message.content)
        self.prompt.setFocus()

    def _cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.edit_banner.hide()
            self.prompt.clear()
            self.attach_tray.restore(self._stashed)
            self._stashed = []
            self.prompt.setFocus()

    def edit_last_prompt(self) -> None:
        cid = self.controller.conversation_id
        if cid is None:
            return
        count = self.history.message_count(cid)
        message = last_by_role(self.history.messages(cid, lookback_start(count)), "user")
        if message is not None:
            self.start_edit(message.id)

    def _last_answer(self) -> StoredMessage | None:
        cid = self.controller.conversation_id
        if cid is None:
            return None
        count = self.history.message_count(cid)
        return last_by_role(
            self.history.messages(cid, lookback_start(count)), "assistant", with_content=False
        )

    def toggle_last_thinking(self) -> None:
        """Ctrl+Shift+T: show or hide the last answer's thinking."""
        answer = self._last_answer()
        if answer is None or not answer.thinking:
            self.statusBar().showMessage("The last answer has no thinking to show.", 3000)
            return
        self.transcript.toggle_thinking(answer.id)

    def switch_last_alternative(self, step: int) -> None:
        """Ctrl+Alt+Left/Right: the last answer's previous or next alternative (after Regenerate)."""
        answer = self._last_answer()
        if answer is None or answer.versions < 2:
            self.statusBar().showMessage("Regenerate the answer to get alternatives.", 3000)
            return
        wanted = answer.version + step
        if 1 <= wanted <= answer.versions:
            self.controller.choose_alternative(answer.id, wanted)

    def copy_last_answer(self) -> None:
        cid = self.controller.conversation_id
        if cid is None:
            return
        count = self.history.message_count(cid)
        answer = last_by_role(
            self.history.messages(cid, lookback_start(count)), "assistant", with_content=True
        )
        if answer is not None:
            QGuiApplication.clipboard().setText(answer.content)
            self.statusBar().showMessage("Answer copied.", 2000)

    def copy_last_code(self) -> None:
        code = self.transcript.last_code_block()
        if code is not None:
            QGuiApplication.clipboard().setText(code)
            self.statusBar().showMessage("Code copied.", 2000)

    # ------------------------------------------------------------------ conversations

    def _on_conversation_changed(self, conversation_id: int) -> None:
        self._load_conversation(None if conversation_id < 0 else conversation_id)
        self.sidebar.select(conversation_id)

    def open_conversation(
        self, conversation_id: int, *, at_message: int | None = None, words: list[str] | None = None
    ) -> None:
        if self.controller.busy and conversation_id != self.controller.conversation_id:
            self.controller.stop()
        self._cancel_edit()
        try:
            self.controller.conversation_id = conversation_id
            self.history.conversation(conversation_id)
        except KeyError:
            self.statusBar().showMessage("That conversation no longer exists.", 3000)
            self.refresh_sidebar()
            return
        self._load_conversation(conversation_id, at_index=at_message)
        if self._narrow:
            self.set_sidebar_open(wanted=False)
        log.info(
            "chat: opened conversation %d%s",
            conversation_id,
            "" if at_message is None else f" at {at_message}",
        )
        if at_message is not None:
            try:
                message_id = self.history.messages(conversation_id, at_message, at_message + 1)[0].id
            except IndexError:
                return
            QTimer.singleShot(0, lambda: self.transcript.scroll_to_message(message_id, words))

    def _load_conversation(self, conversation_id: int | None, *, at_index: int | None = None) -> None:
        """Render the newest part of a conversation (or around ``at_index``); earlier parts on demand."""
        self._fill_options()
        if conversation_id is None:
            self.transcript.clear_messages()
            self._loaded_start = self._loaded_end = 0
            self.prompt.set_recall([])
            return
        count = self.history.message_count(conversation_id)
        first = first_screen_start(count, self._fetcher(conversation_id), self.PAGING)
        start, end = opening_range(count, first, at_index, self.PAGING)
        messages = self.history.messages(conversation_id, start, end)
        live = self.controller.streaming_message
        streaming_here = live is not None and bool(messages) and messages[-1].id == live.id
        if streaming_here:
            messages = messages[:-1]  # re-attached below as a live stream, not a stale checkpoint
        self.transcript.set_messages(messages, has_earlier=start > 0)
        if streaming_here and live is not None:
            self.transcript.begin_stream(live)
            self.transcript.add_delta(self.controller.streaming_text)
            self.transcript.flush()
        if end < count:
            self.transcript.append_latest_link()
        self._loaded_start, self._loaded_end = start, end
        self.prompt.set_recall([m.content for m in messages if m.role == "user"])

    def _fetcher(self, conversation_id: int) -> Callable[[int, int], list[StoredMessage]]:
        """``messages[start:stop]`` of one conversation, read from the store as paging asks."""
        return lambda start, stop: self.history.messages(conversation_id, start, stop)

    def load_earlier(self) -> None:
        cid = self.controller.conversation_id
        if cid is None or self._loaded_start == 0:
            return
        page, start = earlier_page(self._loaded_start, self._fetcher(cid), self.PAGING)
        self.transcript.prepend_messages(page, has_earlier=start > 0)
        self._loaded_start = start

    def _ensure_at_end(self) -> None:
        cid = self.controller.conversation_id
        if cid is not None and self._loaded_end < self.history.message_count(cid):
            self._load_conversation(cid)

    def delete_conversation(self, conversation_id: int) -> None:
        try:
            title = self.history.conversation(conversation_id).title
            self.history.delete(conversation_id)
        except (KeyError, HistoryError) as exc:
            self.statusBar().showMessage(f"Could not delete: {exc}", 5000)
            return
        if conversation_id == self.controller.conversation_id:
            self.controller.new_conversation()
        self._undo = (conversation_id, title)
        self.statusBar().showMessage(f"Deleted “{title}”.")
        self.undo_button.show()
        self._undo_timer.start(self.UNDO_SECONDS * 1000)
        self.refresh_sidebar()

    def undo_delete(self) -> None:
        if self._undo is None:
            return
        conversation_id, title = self._undo
        self.history.restore(conversation_id)
        self._expire_undo()
        self.statusBar().showMessage(f"Restored “{title}”.", 3000)
        self.refresh_sidebar()
        self.open_conversation(conversation_id)

    def _expire_undo(self) -> None:
        self._undo = None
        self._undo_timer.stop()
        self.undo_button.hide()
        self.statusBar().clearMessage()

    def export_conversation(self, conversation_id: int, fmt: str) -> None:
        """Ask where (non-modal dialog) and write Markdown or JSON."""
        conv = self.history.conversation(conversation_id)
        safe = re.sub(r"[^\w\- ]+", "", conv.title).strip()[:50] or "conversation"
        dialog = QFileDialog(self, "Export conversation")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("md" if fmt == "md" else "json")
        dialog.setNameFilter("Markdown (*.md)" if fmt == "md" else "JSON (*.json)")
        dialog.selectFile(f"{safe}.{'md' if fmt == 'md' else 'json'}")
        dialog.fileSelected.connect(lambda path: self.write_export(conversation_id, fmt, Path(path)))
        dialog.open()
        self._export_dialog = dialog

    def write_export(self, conversation_id: int, fmt: str, path: Path) -> bool:
        try:
            text = export_text(self.history, conversation_id, ExportFormat(fmt))
            path.write_text(text, encoding="utf-8")
        except (OSError, HistoryError, KeyError) as exc:
            self.show_notice(f"Could not export to {path}: {exc}")
            return False
        self.statusBar().showMessage(f"Exported to {path}", 5000)
        return True

    # ------------------------------------------------------------------ sidebar

    @property
    def narrow(self) -> bool:
        """Narrower than ``NARROW_BELOW``: the conversations list and the chat take turns."""
        return self._narrow

    @property
    def sidebar_open(self) -> bool:
        return self._sidebar_open

    def toggle_sidebar(self) -> None:
        """Chats button / Ctrl+B: show or hide the conversations list."""
        self.set_sidebar_open(wanted=not self._sidebar_open)

    def set_sidebar_open(self, *, wanted: bool) -> None:
        self._sidebar_open = wanted
        self._show_panes()
        if wanted and self._narrow:
            self.sidebar.conversations.setFocus()
        elif not wanted and self.sidebar.isAncestorOf(self.focusWidget()):
            self.prompt.setFocus()

    def focus_search(self) -> None:
        """Ctrl+F: the search box, opening the list first if it is hidden."""
        if not self._sidebar_open:
            self.set_sidebar_open(wanted=True)
        self.sidebar.focus_search()

    def _show_panes(self) -> None:
        """Wide: the list beside the chat (or hidden). Narrow: the list *instead of* the chat, with Back."""
        alone = self._narrow and self._sidebar_open
        self.sidebar.setVisible(self._sidebar_open)
        self.main_pane.setVisible(not alone)
        # A pane without its neighbour keeps a margin on that side too (not flush with the frame).
        self._main_layout.setContentsMargins(0 if self._sidebar_open else 6, 6, 6, 6)
        self.sidebar.setContentsMargins(0, 0, 6 if alone else 0, 0)
        self.sidebar.back_button.setVisible(self._narrow and self._sidebar_open)
        self.options_bar.sidebar_button.setChecked(self._sidebar_open)

    def _fit_width(self) -> None:
        """Crossing ``NARROW_BELOW`` switches layouts: narrow starts on the chat, wide shows both."""
        narrow = self.width() < self.NARROW_BELOW
        if narrow != self._narrow:
            self._narrow = narrow
            self._sidebar_open = not narrow
            self._show_panes()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_width()

    def _on_history_changed(self) -> None:
        if not self.sidebar.searching:
            self.refresh_sidebar()

    def refresh_sidebar(self) -> None:
        self.sidebar.refresh()

    def _on_conversation_chosen(self, conversation_id: int) -> None:
        if conversation_id != self.controller.conversation_id:
            self.open_conversation(conversation_id)

    def _rename_conversation(self, conversation_id: int, title: str) -> None:
        try:
            self.history.rename(conversation_id, title)
        except (HistoryError, KeyError) as exc:
            self.statusBar().showMessage(str(exc).splitlines()[0], 4000)

    # ------------------------------------------------------------------ options

    def set_models(self, models: list[str]) -> None:
        """The server's current model list (from the status monitor)."""
        current = self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItems(models)
        self.model_combo.setEditText(current)
        self.model_combo.blockSignals(False)

    def _fill_options(self) -> None:
        options = self.controller.conversation_options()
        for widget in (self.model_combo, self.temperature, self.max_tokens, self.system_prompt):
            widget.blockSignals(True)
        self.model_combo.setEditText(str(options.model or ""))
        temperature = options.temperature
        self.temperature.setValue(-0.1 if temperature is None else float(temperature))
        max_tokens = options.max_tokens
        self.max_tokens.setValue(0 if not max_tokens else int(max_tokens))
        system = str(options.system_prompt or "")
        if self.system_prompt.toPlainText() != system:
            self.system_prompt.setPlainText(system)
        for widget in (self.model_combo, self.temperature, self.max_tokens, self.system_prompt):
            widget.blockSignals(False)
        self.options_bar.show_summary()
        presets = self._presets()
        chosen = matching_preset(presets, self.controller.conversation_options(), self.controller.defaults())
        self.options_bar.show_presets([p.name for p in presets], chosen.name if chosen else None)

    def _choose_preset(self, index: int) -> None:
        """A preset sets this conversation's system prompt and parameters ("No preset": the profile's)."""
        presets = self._presets()
        preset = presets[index - 1] if 0 < index <= len(presets) else None
        try:
            self.controller.set_options(**preset_values(preset, self.controller.defaults()).options())
        except (HistoryError, KeyError) as exc:
            self.statusBar().showMessage(str(exc).splitlines()[0], 4000)
        self._fill_options()

    def _save_options(self) -> None:
        temperature = self.temperature.value()
        system = self.system_prompt.toPlainText()
        try:
            self.controller.set_options(
                model=self.model_combo.currentText().strip() or None,
                temperature=None if temperature < 0 else round(temperature, 2),
                max_tokens=self.max_tokens.value() or None,
                system_prompt=system,
            )
        except (HistoryError, KeyError) as exc:
            self.statusBar().showMessage(str(exc).splitlines()[0], 4000)
        self.options_bar.show_summary()

    # ------------------------------------------------------------------ window

    def _on_storage_notice(self, text: str) -> None:
        if text:
            self.show_notice(text)
        elif self.notice.isVisible():
            self.show_notice("The history can be written again: the unsaved answers have been saved.")

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def bring_forward(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
        self.prompt.setFocus()

    def _restore_state(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is not None:  # never larger than the screen (small laptops, 1024x600 test screens)
            available = screen.availableGeometry()
            self.resize(min(1000, int(available.width() * 0.9)), min(720, int(available.height() * 0.9)))
        if self._state_file is None:
            return
        settings = QSettings(str(self._state_file), QSettings.Format.IniFormat)
        geometry = settings.value("chat/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value("chat/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_state(self) -> None:
        if self._state_file is None:
            return
        settings = QSettings(str(self._state_file), QSettings.Format.IniFormat)
        settings.setValue("chat/geometry", self.saveGeometry())
        if self.sidebar.isVisible() and self.main_pane.isVisible():  # a hidden pane would save as 0 wide
            settings.setValue("chat/splitter", self.splitter.saveState())
        settings.sync()
        with contextlib.suppress(OSError):
            self._state_file.chmod(0o600)  # user-only, like every file trayai writes

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing hides the window; a running answer is stopped (and saved as stopped)."""
        self.controller.stop()
        self.save_state()
        self._cancel_edit()
        event.accept()
        self.closed.emit()


__all__ = ["ChatWindow"]
