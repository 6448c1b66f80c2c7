"""The chat window: conversations on the left, the transcript and the prompt on the right.

Layout, shortcuts and wiring only. The parts: the sidebar (``sidebar.py``), what the transcript shows
of a long chat (``transcript_pages.py``), the message actions (``message_actions.py``), the sidebar
menu's rename/delete/export (``conversation_actions.py``), the Options bar kept in step with the open
conversation (``options_binding.py``), the error buttons, server picker and empty state
(``guidance.py``), the two panes by width (``panes.py``); no request logic (the controller's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import StoredMessage
from trayai.core.settings.config import Preset
from trayai.ui.chat.attach import AttachmentTray
from trayai.ui.chat.controller import ChatController, ReplyOutcome
from trayai.ui.chat.conversation_actions import ConversationActions
from trayai.ui.chat.guidance import ChatGuidance, WindowActs
from trayai.ui.chat.message_actions import MessageActions
from trayai.ui.chat.options_bar import OptionsBar
from trayai.ui.chat.options_binding import OptionsBinding
from trayai.ui.chat.panes import ChatPanes
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.chat.server_link import ServerLink
from trayai.ui.chat.sidebar import ConversationSidebar
from trayai.ui.chat.tool_approval import ToolApprovalBar
from trayai.ui.chat.tool_binding import ToolCardsBinding
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_pages import TranscriptPages
from trayai.ui.chat.window_state import restore_window, save_window

log = logging.getLogger(__name__)


class ChatWindow(QMainWindow):
    """The streaming chat window.

    Signals:
        closed()  the window was closed (hidden; the app keeps running)
    """

    closed = Signal()

    MIN_WIDTH = 480  # a tiled third of a 1440 px screen: every control still whole
    MIN_HEIGHT = 400  # the bars, a few lines of transcript and the prompt box

    def __init__(
        self,
        controller: ChatController,
        history: HistoryStore,
        *,
        state_file: Path | None = None,
        presets: Callable[[], list[Preset]] = list,
        server: ServerLink | None = None,
        hotkey: Callable[[], str] = str,
        parent: QWidget | None = None,
    ) -> None:
        """``history`` is the store under ``controller.conversations`` (the window reads and changes
        conversations only through those, shared with the quick prompt); ``server``: the app's
        servers (error buttons, the banner, the picker), None for a window on its own; ``hotkey``:
        the quick prompt's global hotkey from the settings (a new chat names it)."""
        super().__init__(parent)
        if controller.conversations.store is not history:
            raise ValueError("the window and its controller must use the same history")
        self.controller = controller
        self.history = history  # never written through here: changes go through self.chats
        self.chats = controller.conversations
        self._presets = presets  # the settings' presets, read when the options are shown
        self._state_file = state_file
        self.server = server
        self.setWindowTitle("Chat")  # shown as "Chat — trayai"
        self.resize(1000, 720)
        self._build(hotkey)
        self._connect()
        self._restore_state()
        self.refresh_sidebar()
        self._load_conversation(None)
        if self.chats.recovered_from is not None:
            self.show_notice(
                f"The history database was damaged and has been moved to {self.chats.recovered_from}; "
                "a new history was started."
            )

    # ------------------------------------------------------------------ layout

    def _build(self, hotkey: Callable[[], str]) -> None:
        self.sidebar = ConversationSidebar(self.chats, lambda: self.controller.conversation_id)
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
        self.tool_approval = ToolApprovalBar()  # a tool call waiting for the person's answer
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
        main_layout.addWidget(self.options_bar)
        main_layout.addWidget(self.notice)
        main_layout.addWidget(self.transcript, 1)
        main_layout.addWidget(self.tool_approval)
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
        self.panes = ChatPanes(
            self, self.sidebar, main, main_layout, self.options_bar.sidebar_button, self.prompt
        )

        self.pages = TranscriptPages(self.controller, self.transcript)
        self.message_actions = MessageActions(
            self.controller,
            self.transcript,
            self.pages,
            prompt=self.prompt,
            attach_tray=self.attach_tray,
            edit_banner=self.edit_banner,
            status=self.statusBar(),
            show_latest=lambda: self._load_conversation(self.controller.conversation_id),
            parent=self,
        )
        self.conversation_actions = ConversationActions(
            self.controller,
            self,
            self.statusBar(),
            open_conversation=self.open_conversation,
            notice=self.show_notice,
        )
        self.undo_button = self.conversation_actions.undo_button
        acts = WindowActs(self.message_actions.regenerate, self.new_conversation, self._fill_options, hotkey)
        self.guidance = ChatGuidance(
            self.controller, self.server, self.options_bar, self.prompt, self.send_button, acts, self
        )
        self.error_bar, self.server_banner = self.guidance.errors.bar, self.guidance.errors.banner
        self.empty_state, self.picker_binding = self.guidance.empty, self.guidance.picker
        main_layout.insertWidget(main_layout.indexOf(self.transcript), self.server_banner)
        main_layout.insertWidget(main_layout.indexOf(self.transcript) + 1, self.empty_state, 1)
        main_layout.insertWidget(main_layout.indexOf(self.empty_state) + 1, self.error_bar)
        if self.picker_binding is not None:
            main_layout.insertWidget(main_layout.indexOf(self.attach_tray), self.picker_binding.reason)

    def _connect(self) -> None:
        self.setAcceptDrops(True)  # files and images dropped anywhere on the window attach
        self.attach_tray.refused.connect(lambda why: self.statusBar().showMessage(why, 8000))
        c = self.controller
        c.conversation_changed.connect(self._on_conversation_changed)
        c.message_saved.connect(self._on_message_saved)
        c.reply_started.connect(self.transcript.begin_stream)
        c.delta.connect(self.transcript.add_delta)
        c.thinking_delta.connect(self.transcript.add_thinking)
        c.prompt_progress.connect(self.transcript.wait_line.show_progress)
        c.finished.connect(self._on_reply_ended)
        c.failed.connect(self._on_reply_ended)
        c.busy_changed.connect(lambda busy: self._on_busy(busy=busy))
        c.storage_notice.connect(self._on_storage_notice)

        self.prompt.submitted.connect(self.send)
        self.prompt.escape.connect(self._on_escape)
        self.send_button.clicked.connect(lambda: self.send(self.prompt.toPlainText()))
        self.stop_button.clicked.connect(self.controller.stop)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.back_requested.connect(lambda: self.panes.set_sidebar_open(wanted=False))
        self.options_bar.sidebar_button.clicked.connect(lambda _checked: self.panes.toggle_sidebar())
        self.sidebar.conversation_chosen.connect(self._on_conversation_chosen)
        self.sidebar.hit_chosen.connect(
            lambda cid, index, words: self.open_conversation(cid, at_message=index, words=words)
        )
        self.sidebar.renamed.connect(self.conversation_actions.rename)
        self.sidebar.export_requested.connect(self.conversation_actions.export)
        self.sidebar.delete_requested.connect(self.delete_conversation)
        self.sidebar.failed.connect(self.show_notice)
        self.transcript.action.connect(self.message_actions.handle)
        self.transcript.load_earlier.connect(self.pages.load_earlier)
        self.transcript.palette_changed.connect(
            lambda: self._load_conversation(self.controller.conversation_id)
        )
        status = self.statusBar()
        self.options_binding = OptionsBinding(self.options_bar, self.controller, self._presets, status)
        self.tool_cards = ToolCardsBinding(
            c, self.transcript, self.tool_approval, self.prompt, self.options_bar.tools_button, self
        )
        # Slots of the window itself: a widget torn down with it (the system prompt box) may still
        # signal an edit, and Qt drops signals to a window being destroyed, not to a helper object.
        self.model_combo.activated.connect(lambda _i: self._save_options())
        self.options_bar.preset_combo.activated.connect(self._choose_preset)
        line_edit = self.model_combo.lineEdit()
        assert line_edit is not None  # the combo is editable
        line_edit.editingFinished.connect(self._save_options)
        self.temperature.editingFinished.connect(self._save_options)
        self.max_tokens.editingFinished.connect(self._save_options)
        self.system_prompt.textChanged.connect(self._save_options)

        actions = self.message_actions
        shortcuts: list[tuple[str, Callable[[], object]]] = [
            ("Esc", self._on_escape),
            ("Ctrl+Shift+R", actions.regenerate),
            ("Ctrl+Shift+C", actions.copy_last_answer),
            ("Ctrl+Alt+C", actions.copy_last_code),
            ("Ctrl+E", actions.edit_last_prompt),
            ("Ctrl+N", self.new_conversation),
            ("Ctrl+F", self.panes.focus_search),
            ("Ctrl+B", self.panes.toggle_sidebar),
            ("Ctrl+W", self.close),
            ("Ctrl+Shift+A", self.attach_tray.choose_files),
            ("Ctrl+Shift+O", self.options_bar.options_button.showMenu),
            ("Ctrl+Shift+T", actions.toggle_last_thinking),
        ]
        for keys, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

    # ------------------------------------------------------------------ sending

    def send(self, text: str) -> bool:
        """Send the prompt box (or resend an edited message); clears the box when it went out.
        Refused, with the reason in sight, when the chosen server or model cannot take it."""
        why = self.guidance.blocked()
        if why is not None and text.strip():
            self.statusBar().showMessage(why, 6000)
            return False
        return self.message_actions.send(text)

    def start_edit(self, message_id: int) -> None:
        """Put a user message in the prompt box; sending starts a new branch there (the old one stays)."""
        self.message_actions.start_edit(message_id)

    def _cancel_edit(self) -> None:
        self.message_actions.cancel_edit()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.attach_tray.add_mime(event.mimeData()):
            event.acceptProposedAction()
            self.prompt.setFocus()

    def new_conversation(self) -> None:
        self._cancel_edit()
        self.controller.new_conversation()
        self.panes.show_chat()
        self.prompt.setFocus()

    def _on_escape(self) -> None:
        if self.panes.narrow and self.panes.sidebar_open:
            self.panes.set_sidebar_open(wanted=False)  # the list stood in for the conversation: back to it
        elif self.controller.busy:
            self.controller.stop()
        elif self.message_actions.editing:
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
            self.pages.appended()

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
            self.pages.appended()

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
            self.chats.conversation(conversation_id)
        except KeyError:
            self.statusBar().showMessage("That conversation no longer exists.", 3000)
            self.refresh_sidebar()
            return
        self._load_conversation(conversation_id, at_index=at_message)
        self.panes.show_chat()
        log.info(
            "chat: opened conversation %d%s",
            conversation_id,
            "" if at_message is None else f" at {at_message}",
        )
        if at_message is not None:
            try:
                message_id = self.chats.messages(conversation_id, at_message, at_message + 1)[0].id
            except IndexError:
                return
            QTimer.singleShot(0, lambda: self.transcript.scroll_to_message(message_id, words))

    def _load_conversation(self, conversation_id: int | None, *, at_index: int | None = None) -> None:
        """Render the newest part of a conversation (or around ``at_index``); earlier parts on demand."""
        self._fill_options()
        # A new chat greets instead; shown before the pages load, which measure the transcript.
        self.transcript.setVisible(not self.guidance.show_empty_state())
        rendered = self.pages.load(conversation_id, at_index=at_index)
        self.prompt.set_recall([m.content for m in rendered if m.role == "user"])

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete it, with Undo in the status bar for a few seconds."""
        self.conversation_actions.delete(conversation_id)

    def write_export(self, conversation_id: int, fmt: str, path: Path) -> bool:
        return self.conversation_actions.write_export(conversation_id, fmt, path)

    # ------------------------------------------------------------------ sidebar

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.panes.fit(self.width())

    def refresh_sidebar(self) -> None:
        self.sidebar.refresh()

    def _on_conversation_chosen(self, conversation_id: int) -> None:
        if conversation_id != self.controller.conversation_id:
            self.open_conversation(conversation_id)

    # ------------------------------------------------------------------ options

    def set_models(self, models: list[str]) -> None:
        """The server's current model list (from the status monitor)."""
        self.options_binding.set_models(models)

    def _fill_options(self) -> None:
        self.options_binding.fill()
        self.guidance.options_shown()

    def _save_options(self) -> None:
        self.options_binding.save()

    def _choose_preset(self, index: int) -> None:
        self.options_binding.choose_preset(index)

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
        restore_window(self, self.splitter, self._state_file)

    def save_state(self) -> None:
        both = self.sidebar.isVisible() and self.main_pane.isVisible()
        save_window(self, self.splitter, self._state_file, both_panes=both)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing hides the window; a running answer is stopped (and saved as stopped)."""
        self.controller.stop()
        self.save_state()
        self._cancel_edit()
        event.accept()
        self.closed.emit()


__all__ = ["ChatWindow"]
