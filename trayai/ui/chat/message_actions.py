"""What can be done to the messages of the open conversation: send (or resend an edited question as a
new branch), copy, edit, regenerate, ‹ n/m › alternatives and branches, thinking shown or hidden — from
the buttons over each card and the links in it (a :class:`TranscriptAction` handler table) and from
the keyboard: shortcuts for the last message, Alt+↑/↓ to put a message's buttons under the keys.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from trayai.core.chat.attachments import Attachment
from trayai.core.chat.history_records import StoredMessage
from trayai.ui.chat.attach import AttachmentTray
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.message_html import MessageHtml
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.chat.transcript_pages import TranscriptPages


class MessageActions(QObject):
    """The message actions of one chat window, and the edit in progress (a sent question being
    rewritten in the prompt box: the files waiting for the next question are set aside meanwhile)."""

    def __init__(
        self,
        controller: ChatController,
        transcript: TranscriptView,
        pages: TranscriptPages,
        *,
        prompt: PromptInput,
        attach_tray: AttachmentTray,
        edit_banner: QLabel,
        status: QStatusBar,
        show_latest: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        """``show_latest`` renders the conversation's newest messages again (the ↓ link)."""
        super().__init__(parent)
        self._controller = controller
        self._conversations = controller.conversations
        self._transcript = transcript
        self._pages = pages
        self._prompt = prompt
        self._attach_tray = attach_tray
        self._edit_banner = edit_banner
        self._status = status
        self._show_latest = show_latest
        self._editing: int | None = None
        self._stashed: list[Attachment] = []  # pending files set aside while a message is edited
        self._handlers: dict[TranscriptAction, Callable[[int, int], None]] = {
            TranscriptAction.COPY: lambda mid, _i: self._copy_from_button(
                transcript.message_text(mid), TranscriptAction.COPY, mid
            ),
            TranscriptAction.COPY_CODE: lambda mid, i: self._copy_from_button(
                transcript.code_block(mid, i), TranscriptAction.COPY_CODE, mid, i
            ),
            TranscriptAction.COPY_THINKING: lambda mid, _i: self._copy_from_button(
                transcript.thinking_text(mid), TranscriptAction.COPY_THINKING, mid
            ),
            TranscriptAction.EDIT: lambda mid, _i: self.start_edit(mid),
            TranscriptAction.RETRY: lambda _mid, _i: self.regenerate(),
            TranscriptAction.REGENERATE: self._regenerate_from_link,
            TranscriptAction.LATEST: lambda _mid, _i: show_latest(),
            TranscriptAction.ALTERNATIVE: self._choose_alternative,
            TranscriptAction.BRANCH: self._choose_branch,
        }
        if isinstance(parent, QWidget):  # ‹ n/m › from the keyboard, on keys desktops leave alone
            for keys, step in zip(MessageHtml.SWITCH_KEYS, (-1, +1), strict=True):
                shortcut = QShortcut(QKeySequence(keys), parent)
                shortcut.activated.connect(lambda step=step: self.switch_alternative(step))
            for keys, step in zip(self.MESSAGE_KEYS, (-1, +1), strict=True):
                shortcut = QShortcut(QKeySequence(keys), parent)
                shortcut.activated.connect(lambda step=step: self.focus_message(step))

    # A message's buttons under the keys: the previous / next message (from the prompt box: the last).
    # Free on GNOME, KDE and openbox (they take Super+↑ and Ctrl+Alt+↑); ↑ alone recalls a prompt.
    MESSAGE_KEYS = ("Alt+Up", "Alt+Down")

    @property
    def editing(self) -> bool:
        return self._editing is not None

    def handle(self, kind: str, message_id: int, index: int) -> None:
        """A link under a message, handled from the table (a kind with no handler does nothing)."""
        handler = self._handlers.get(TranscriptAction(kind))
        if handler is not None:
            handler(message_id, index)

    # ------------------------------------------------------------------ sending

    def send(self, text: str) -> bool:
        """Send the prompt box (or resend an edited message); clears the box when it went out."""
        if not (text.strip() or self._attach_tray.pending) or self._controller.busy:
            return False
        self._ensure_at_end()
        if self._editing is not None:
            ok = self._controller.edit(self._editing, text, self._attach_tray.pending)
            if ok:
                self._editing = None
                self._edit_banner.hide()
                self._attach_tray.restore(self._stashed)  # files meant for a later question come back
                self._stashed = []
        else:
            ok = self._controller.send(text, self._attach_tray.pending)
            if ok:
                self._attach_tray.take()  # they went with this question
        if ok:
            self._prompt.remember(text)
            self._prompt.clear()
        return ok

    def regenerate(self) -> None:
        self._ensure_at_end()
        if not self._controller.regenerate():
            self._status.showMessage("Nothing to regenerate yet.", 3000)
        self._prompt.setFocus()

    def _ensure_at_end(self) -> None:
        if not self._pages.at_end():
            self._show_latest()

    # ------------------------------------------------------------------ editing

    def start_edit(self, message_id: int) -> None:
        """Put a user message in the prompt box; sending starts a new branch there (the old one stays)."""
        if self._controller.busy:
            self._status.showMessage("Stop the answer first (Esc).", 3000)
            return
        try:
            message = self._conversations.message(message_id)
        except KeyError:
            return
        if message.role != "user":
            return
        if self._editing is None:  # files waiting for the next question wait until the edit is done
            self._stashed = self._attach_tray.take()
        self._editing = message_id
        self._attach_tray.restore(message.attachments)  # removing one is the user's act, not ours
        self._edit_banner.setText(
            "Editing a message: Enter sends it as a new branch (what followed stays: ‹ › on the question "
            "brings it back); Esc cancels."
        )
        self._edit_banner.show()
        self._prompt.setPlainText(message.content)
        self._prompt.setFocus()

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self._edit_banner.hide()
            self._prompt.clear()
            self._attach_tray.restore(self._stashed)
            self._stashed = []
            self._prompt.setFocus()

    def edit_last_prompt(self) -> None:
        cid = self._controller.conversation_id
        if cid is None:
            return
        message = self._conversations.last_by_role(cid, "user")
        if message is not None:
            self.start_edit(message.id)

    # ------------------------------------------------------------------ the last answer

    def _last_answer(self, *, with_content: bool = False) -> StoredMessage | None:
        cid = self._controller.conversation_id
        if cid is None:
            return None
        return self._conversations.last_by_role(cid, "assistant", with_content=with_content)

    def toggle_last_thinking(self) -> None:
        """Ctrl+Shift+T: show or hide the last answer's thinking."""
        answer = self._last_answer()
        if answer is None or not answer.thinking:
            self._status.showMessage("The last answer has no thinking to show.", 3000)
            return
        self._transcript.toggle_thinking(answer.id)

    def focus_message(self, step: int) -> None:
        """Alt+↑ / Alt+↓: the buttons of the previous / next message, the first one focused."""
        if not self._transcript.toolbar.focus_step(step):
            self._status.showMessage("No message to act on yet.", 3000)

    def switch_alternative(self, step: int) -> None:
        """Alt+[ / Alt+]: ‹ › of the message chosen with Alt+↑ (a question's branches, an answer's
        alternatives); else of the last answer."""
        toolbar = self._transcript.toolbar
        chosen = toolbar.message_id if toolbar.keyboard_on() else None
        if chosen is not None:
            try:
                message = self._conversations.message(chosen)
            except KeyError:
                message = None
            if message is not None and message.branches > 1:
                if 1 <= message.branch + step <= message.branches:
                    self._choose_branch(message.id, message.branch + step)
                return
            if message is not None and message.versions > 1:
                if 1 <= message.version + step <= message.versions:
                    self._choose_alternative(message.id, message.version + step)
                return
        self.switch_last_alternative(step)

    def switch_last_alternative(self, step: int) -> None:
        """The last answer's previous or next alternative (after Regenerate)."""
        answer = self._last_answer()
        if answer is None or answer.versions < 2:
            self._status.showMessage("Regenerate the answer to get alternatives.", 3000)
            return
        wanted = answer.version + step
        if 1 <= wanted <= answer.versions:
            self._controller.choose_alternative(answer.id, wanted)

    def copy_last_answer(self) -> None:
        answer = self._last_answer(with_content=True)
        if answer is not None:
            QGuiApplication.clipboard().setText(answer.content)
            self._status.showMessage("Answer copied.", 2000)

    def copy_last_code(self) -> None:
        self._copy(self._transcript.last_code_block(), "Code")

    # ------------------------------------------------------------------ links

    def _copy_from_button(
        self, text: str | None, kind: TranscriptAction, message_id: int, index: int | None = None
    ) -> None:
        """A Copy button: the text to the clipboard, and "✓ Copied" where the button was."""
        if text is not None:
            QGuiApplication.clipboard().setText(text)
            self._transcript.copied.show(kind, message_id, index)

    def _copy(self, text: str | None, what: str) -> None:
        if text is not None:
            QGuiApplication.clipboard().setText(text)
            self._status.showMessage(f"{what} copied.", 2000)

    def _choose_alternative(self, message_id: int, index: int) -> None:
        if not self._controller.choose_alternative(message_id, index):
            self._status.showMessage("Stop the answer first (Esc).", 3000)

    def _choose_branch(self, message_id: int, index: int) -> None:
        """‹ › on an edited question: that branch shown, its whole continuation with it."""
        if not self._controller.choose_branch(message_id, index):
            self._status.showMessage("Stop the answer first (Esc).", 3000)

    def _regenerate_from_link(self, message_id: int, _index: int) -> None:
        ids = self._transcript.message_ids
        if ids and ids[-1] == message_id:
            self.regenerate()
        else:
            self._status.showMessage("Only the last answer can be regenerated.", 3000)


__all__ = ["MessageActions"]
