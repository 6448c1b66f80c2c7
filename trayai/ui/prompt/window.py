"""The quick prompt: a small frameless window summoned by the hotkey (or ``trayai prompt``)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QClipboard,
    QCloseEvent,
    QCursor,
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trayai.core.errors import AppError
from trayai.core.net.urls import host_port
from trayai.core.settings.config import DEFAULT_ACTIONS, Action
from trayai.ui.chat.controller import ChatController, ReplyOutcome
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.prompt.actions_row import CONTEXT_LIMIT, PromptActions
from trayai.ui.prompt.parts import PromptHeader
from trayai.ui.prompt.rewrite_offer import RewriteOffer
from trayai.ui.theme import current_theme

TOOLS_NOTE = "Tools (MCP) are used in the chat window: questions here go without them (Open in chat)."

log = logging.getLogger(__name__)


def floats_by_fixed_size() -> bool:
    """On Wayland a window cannot ask to float, but tiling compositors (sway, Hyprland) float a toplevel
    whose minimum size equals its maximum size; X11 window managers place the ``Qt.Tool`` window as is.
    """
    return QGuiApplication.platformName().startswith("wayland")


class QuickPromptWindow(QWidget):
    """Each point below has a test:

    * a ``Qt.Tool`` window on top, centred on the screen that holds the cursor, input focused at once;
      size and position remembered per screen;
    * on Wayland its size is fixed (minimum = maximum, changed only as the answer grows), so that
      tiling compositors float it instead of tiling it; the compositor places it, nothing is remembered;
    * hidden means hidden (``hide()``: no transparent window left to eat clicks); Esc hides it and
      stops a running answer; the app can quit while it is open;
    * never shown over a modal dialog of the app: the dialog keeps the focus;
    * every exchange is a conversation in history (its own ``ChatController``); "Open in chat"
      continues it there; "Use clipboard" / "Use selection" put the clipboard or X11 PRIMARY
      selection before the question;
    * actions (``set_actions``): 1–9 in the empty box, or Alt+1–9 anytime, or a click on the row that
      lists them, runs one on the selection (the clipboard when nothing is selected) as a new
      exchange; what is missing (nothing selected or copied) is said in the status line.
    """

    open_in_chat = Signal(int)  # the conversation to continue in the chat window

    WIDTH = 680
    MAX_HEIGHT_FRACTION = 0.6

    def __init__(
        self,
        controller: ChatController,
        *,
        state_file: Path | None = None,
        actions: Sequence[Action] = DEFAULT_ACTIONS,
        has_tools: Callable[[], bool] = lambda: False,
    ) -> None:
        """``has_tools``: an MCP server has tools now (they are the chat window's: said here)."""
        super().__init__(
            None, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setWindowTitle("Quick prompt")  # shown as "Quick prompt — trayai"
        self.setObjectName("quick-prompt")
        self.controller = controller
        self._has_tools = has_tools
        self._state_file = state_file
        self._screen_name: str | None = None
        self._fixed_size = floats_by_fixed_size()
        self.summoned_at: float | None = None
        self._build()
        self._connect()
        self._restore_toggles()
        self.set_actions(actions)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.input = PromptInput()
        self.input.setPlaceholderText("Ask anything — Enter sends, Esc hides, ↑ recalls")
        self.input.setMaximumHeight(70)
        self.use_clipboard = QCheckBox("Use clipboard")
        self.use_clipboard.setToolTip("Put the clipboard's text before your question")
        self.use_selection = QCheckBox("Use selection")
        self.use_selection.setToolTip(
            "Put the text selected anywhere on the desktop (X11) before your question"
        )
        if not QGuiApplication.clipboard().supportsSelection():
            self.use_selection.hide()
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # may quote an action's name
        self.action_part = PromptActions(self, self)
        self.action_row, self.chip = self.action_part.row, self.action_part.chip
        self.asked = QLabel()  # the last question, above its answer: the box itself starts empty
        self.asked.setObjectName("asked")
        self.asked.setTextFormat(Qt.TextFormat.PlainText)
        self.asked.hide()
        self.header = PromptHeader()
        self.tools_note = QLabel(TOOLS_NOTE)  # never a silent drop: the model gets no tools here
        self.tools_note.setWordWrap(True)
        self.tools_note.hide()
        self.answer = TranscriptView()
        self.answer.hide()
        self.copy_button = QPushButton("&Copy answer")
        self.chat_button = QPushButton("Open in c&hat")
        self.new_button = QPushButton("&New")
        for button in (self.copy_button, self.chat_button, self.new_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        for widget, name in (
            (self.input, "Question"),
            (self.use_clipboard, "Use clipboard"),
            (self.use_selection, "Use selection"),
            (self.status, "Status"),
            (self.asked, "Last question"),
            (self.answer, "Answer"),
            (self.copy_button, "Copy answer"),
            (self.chat_button, "Open in chat"),
            (self.new_button, "New exchange"),
        ):
            widget.setAccessibleName(name)
        toggles = QHBoxLayout()
        toggles.addWidget(self.use_clipboard)
        toggles.addWidget(self.use_selection)
        toggles.addStretch(1)
        toggles.addWidget(self.status)
        self.rewrite = RewriteOffer(
            self, self.last_answer, self.status.setText, parent=self, twin=self.copy_button
        )
        actions = QHBoxLayout()
        actions.addStretch(1)
        for button in (
            self.rewrite.replace_button,  # a rewrite action's answer only: ui/prompt/rewrite_offer.py
            self.rewrite.paste_button,
            self.copy_button,
            self.chat_button,
            self.new_button,
        ):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.header)
        layout.addWidget(self.tools_note)
        layout.addWidget(self.input)
        layout.addLayout(toggles)
        layout.addWidget(self.action_row)
        layout.addWidget(self.chip)
        layout.addWidget(self.asked)
        layout.addWidget(self.answer, 1)
        layout.addLayout(actions)
        # A frameless window has no border of its own: draw one (style sheets paint a plain QWidget's
        # background and border only with WA_StyledBackground — without it the frame never showed).
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.restyle()
        self._set_actions_enabled(enabled=False)
        self.resize(self.WIDTH, self.sizeHint().height())

    def restyle(self) -> None:
        """Colours from the theme showing now (called again when Settings ▸ Appearance changes)."""
        theme = self._styled_for = current_theme()
        self.setStyleSheet(
            f"QuickPromptWindow {{ background: {theme.window}; border: 1px solid {theme.card_border}; }}"
        )
        muted = f"QLabel {{ color: {theme.muted}; }}"  # links in the action row keep their colour
        for label in (self.action_row, self.asked, self.status, self.tools_note):
            label.setStyleSheet(muted)
        self.header.restyle()
        self.chip.restyle()

    def changeEvent(self, event: QEvent) -> None:
        """Settings ▸ Appearance (or the desktop's theme) changed: the hand-set colours follow."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and current_theme() != self._styled_for:
            self.restyle()  # a style sheet's own palette change lands here too: only a new theme counts

    def _connect(self) -> None:
        c = self.controller
        c.reply_started.connect(self._on_reply_started)
        c.delta.connect(self._on_delta)
        c.thinking_delta.connect(self.answer.add_thinking)
        c.prompt_progress.connect(self.answer.show_prompt_progress)
        c.finished.connect(self._on_reply_ended)
        c.failed.connect(self._on_reply_ended)
        c.busy_changed.connect(lambda busy: self.status.setText("answering… (Esc stops)" if busy else ""))
        self.action_part.ran.connect(self.rewrite.action_started)
        self.input.submitted.connect(self.send)
        self.input.escape.connect(self.dismiss)
        self.copy_button.clicked.connect(self.copy_answer)
        self.chat_button.clicked.connect(self._open_in_chat)
        self.new_button.clicked.connect(self.new_exchange)
        self.use_clipboard.toggled.connect(lambda _on: self._save_toggles())
        self.use_selection.toggled.connect(lambda _on: self._save_toggles())
        self._links = self._link_table()
        self.answer.action.connect(self._on_answer_link)
        escape = QShortcut(QKeySequence("Esc"), self)
        escape.activated.connect(self.dismiss)
        for key in range(1, 10):  # Alt+1–9 anywhere in the window, whatever the box holds
            shortcut = QShortcut(QKeySequence(f"Alt+{key}"), self)
            shortcut.activated.connect(lambda key=key: self.run_action_on_key(key))
        self._grow_timer = QTimer(self)
        self._grow_timer.setSingleShot(True)
        self._grow_timer.setInterval(30)
        self._grow_timer.timeout.connect(self._grow)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def _on_focus_changed(self, _old: object, new: object) -> None:
        """Log when the input really has the keyboard after a summon (the hotkey benchmark reads it)."""
        if new is self.input and self.summoned_at is not None:
            log.info(
                "quick prompt focused at %.6f (%.1f ms after summon)",
                time.time(),
                (time.perf_counter() - self.summoned_at) * 1000,
            )
            self.summoned_at = None

    # ------------------------------------------------------------------ showing

    def summon(self) -> bool:
        """Show, on top, on the cursor's screen, input focused. False when a modal dialog has the focus."""
        modal = QApplication.activeModalWidget()
        if modal is not None:
            modal.raise_()
            modal.activateWindow()
            log.info("quick prompt not shown: a trayai dialog is open")
            return False
        self.summoned_at = time.perf_counter()
        own = [int(w.winId()) for w in QGuiApplication.topLevelWindows() if w.isVisible()]
        self.rewrite.replacer.capture(own)  # the window with the selection, before this one takes over
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        if not self.isVisible():
            self._place(screen.name() if screen else "", screen)
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus()
        self.input.moveCursor(QTextCursor.MoveOperation.End)  # a draft stays, never selected: 1–9 act
        self.tools_note.setVisible(self._has_tools())
        self._show_target()
        QTimer.singleShot(0, self.action_part.preview)  # a slow clipboard owner must not delay the window
        log.info("quick prompt shown")
        return True

    def toggle(self) -> None:
        if self.isVisible() and self.isActiveWindow():
            self.dismiss()
        else:
            self.summon()

    def _place(self, screen_name: str, screen: object) -> None:
        self._screen_name = screen_name
        if self._fixed_size:
            self._place_for_compositor(screen)
            return
        saved = self._settings().value(f"prompt/geometry/{screen_name}") if self._state_file else None
        if saved is not None and self.restoreGeometry(saved):
            return
        if screen is None:
            return
        area = screen.availableGeometry()  # type: ignore[attr-defined]
        width = min(self.WIDTH, int(area.width() * 0.9))
        self.resize(width, self.height())
        self.move(QPoint(area.x() + (area.width() - width) // 2, area.y() + int(area.height() * 0.22)))

    def _place_for_compositor(self, screen: object) -> None:
        """Wayland: the compositor places the window (a move is ignored) and nobody resizes a fixed
        window, so nothing is remembered; the size is fixed before the window maps, when it is read."""
        area = screen.availableGeometry() if screen is not None else None  # type: ignore[attr-defined]
        width = min(self.WIDTH, int(area.width() * 0.9)) if area is not None else self.WIDTH
        self.setFixedSize(width, self.height())

    def dismiss(self) -> None:
        """Esc: stop a running answer and hide (nothing is left on screen to catch clicks)."""
        self.controller.stop()
        self._save_geometry()
        self.hide()
        log.info("quick prompt hidden")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.stop()
        self._save_geometry()
        event.accept()

    # ------------------------------------------------------------------ asking

    def context_text(self) -> str:
        clipboard = QGuiApplication.clipboard()
        parts = []
        if self.use_selection.isChecked() and clipboard.supportsSelection():
            parts.append(clipboard.text(QClipboard.Mode.Selection))
        if self.use_clipboard.isChecked():
            parts.append(clipboard.text(QClipboard.Mode.Clipboard))
        text = "\n\n".join(p for p in parts if p.strip())
        return text[:CONTEXT_LIMIT]

    def send(self, question: str) -> bool:
        if not question.strip():
            return False
        if self.controller.busy:
            self.status.setText("still answering — Esc stops it")
            return False
        context = self.context_text()
        prompt = f"{context}\n\n---\n\n{question}" if context else question
        if self.controller.send(prompt):
            self.rewrite.withdraw()  # a typed question's answer is no rewrite of the selection
            self.input.remember(question)  # ↑ brings it back
            self.input.clear()  # the next key is a new question or an action's number, never an edit
            self.show_asked(question)
            return True
        return False

    def show_asked(self, question: str) -> None:
        line = " ".join(question.split())
        metrics = self.asked.fontMetrics()
        width = max(120, self.width() - 30)
        self.asked.setText(metrics.elidedText(f"You: {line}", Qt.TextElideMode.ElideRight, width))
        self.asked.setToolTip(question[:2000])
        self.asked.show()

    def new_exchange(self) -> None:
        self.rewrite.withdraw()
        self.controller.new_conversation()
        self.answer.clear_messages()
        self.answer.hide()
        self.asked.hide()
        self._set_actions_enabled(enabled=False)
        self.input.clear()
        self.input.setFocus()
        self._grow()

    def copy_answer(self) -> None:
        text = self.last_answer()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.status.setText("answer copied")

    def last_answer(self) -> str:
        ids = self.answer.message_ids
        return (self.answer.message_text(ids[-1]) or "") if ids else ""

    def _open_in_chat(self) -> None:
        conversation = self.controller.conversation_id
        if conversation is None:
            return
        self.controller.stop()
        self.rewrite.withdraw()
        self.open_in_chat.emit(conversation)
        self.hide()
        self.controller.new_conversation()  # the exchange now lives in the chat window
        self.answer.clear_messages()
        self.answer.hide()
        self._set_actions_enabled(enabled=False)

    def _on_answer_link(self, kind: str, message_id: int, index: int) -> None:
        """A link under the answer, from the table (Edit and the chat's paging have no place here)."""
        handler = self._links.get(TranscriptAction(kind))
        if handler is not None:
            handler(message_id, index)

    def _link_table(self) -> dict[TranscriptAction, Callable[[int, int], None]]:
        return {
            TranscriptAction.COPY_CODE: lambda mid, i: self._copy(self.answer.code_block(mid, i), "code"),
            TranscriptAction.COPY: lambda _mid, _i: self.copy_answer(),
            TranscriptAction.RETRY: lambda _mid, _i: self._regenerate(),
            TranscriptAction.REGENERATE: lambda _mid, _i: self._regenerate(),
            TranscriptAction.COPY_THINKING: lambda mid, _i: self._copy(
                self.answer.thinking_text(mid), "thinking"
            ),
            TranscriptAction.ALTERNATIVE: self._choose_alternative,
        }

    def _copy(self, text: str | None, what: str) -> None:
        if text is not None:
            QGuiApplication.clipboard().setText(text)
            self.status.setText(f"{what} copied")

    def _regenerate(self) -> None:
        self.controller.regenerate()

    def _choose_alternative(self, message_id: int, index: int) -> None:
        if self.controller.choose_alternative(message_id, index):
            self.answer.clear_messages()  # the window shows the one answer: now the chosen one
            self.answer.append_message(self.controller.conversations.message(message_id))

    # ------------------------------------------------------------------ actions (ui/prompt/actions_row.py)

    @property
    def prompt_actions(self) -> list[Action]:
        return self.action_part.actions

    def set_actions(self, actions: Sequence[Action]) -> None:
        self.action_part.set_actions(actions)

    def run_action_on_key(self, key: int) -> bool:
        return self.action_part.run_on_key(key)

    def run_action(self, action: Action) -> bool:
        return self.action_part.run(action)

    def _show_target(self) -> None:
        """The header: the model and server the next question goes to."""
        try:
            target, model = self.controller.target(), self.controller.conversation_options().model
        except AppError as exc:
            self.header.show_target(exc.message)
            return
        self.header.show_target(f"{model or target.model} · {host_port(target.client.base_url)}")

    # ------------------------------------------------------------------ streaming

    def _on_reply_started(self, message: object) -> None:
        self.rewrite.answer_started()
        self.answer.clear_messages()
        self.answer.show()
        self.answer.begin_stream(message)  # type: ignore[arg-type]
        self._grow()

    def _on_delta(self, text: str) -> None:
        self.answer.add_delta(text)
        if not self._grow_timer.isActive():
            self._grow_timer.start()

    def _on_reply_ended(self, outcome: ReplyOutcome) -> None:
        log.info(
            "quick prompt: answer ended: %s, %d characters", outcome.status, len(outcome.message.content)
        )
        if outcome.message.id >= 0:
            self.answer.finish_stream(outcome.message)
        elif outcome.error is not None:
            self.status.setText(outcome.error.message)
        self._set_actions_enabled(enabled=bool(outcome.message.content))
        self.rewrite.answer_ended(whole=outcome.error is None and outcome.status == "done")
        self._grow()

    def _grow(self) -> None:
        """Grow with the answer up to a share of the screen, then let the answer scroll."""
        screen = self.screen()
        limit = int(screen.availableGeometry().height() * self.MAX_HEIGHT_FRACTION) if screen else 600
        if self.answer.isVisible():
            doc_height = int(self.answer.document().size().height()) + 12
            chrome = self.sizeHint().height() - self.answer.sizeHint().height()
            wanted = min(limit, chrome + max(80, doc_height))
        else:
            wanted = self.minimumSizeHint().height()
        if wanted == self.height():
            return
        if self._fixed_size:
            self.setFixedHeight(wanted)
        else:
            self.resize(self.width(), wanted)

    def _set_actions_enabled(self, *, enabled: bool) -> None:
        for button in (self.copy_button, self.chat_button):
            button.setEnabled(enabled)

    # ------------------------------------------------------------------ remembered state

    def _settings(self) -> QSettings:
        return QSettings(str(self._state_file), QSettings.Format.IniFormat)

    def _save_geometry(self) -> None:
        if self._state_file is None or not self.isVisible() or self._fixed_size:
            return
        settings = self._settings()
        settings.setValue(f"prompt/geometry/{self._screen_name or ''}", self.saveGeometry())
        settings.sync()
        with contextlib.suppress(OSError):
            self._state_file.chmod(0o600)

    def _save_toggles(self) -> None:
        if self._state_file is None:
            return
        settings = self._settings()
        settings.setValue("prompt/use_clipboard", self.use_clipboard.isChecked())
        settings.setValue("prompt/use_selection", self.use_selection.isChecked())
        settings.sync()

    def _restore_toggles(self) -> None:
        if self._state_file is None:
            return
        settings = self._settings()
        self.use_clipboard.setChecked(str(settings.value("prompt/use_clipboard", "false")).lower() == "true")
        self.use_selection.setChecked(str(settings.value("prompt/use_selection", "false")).lower() == "true")


__all__ = ["QuickPromptWindow"]
