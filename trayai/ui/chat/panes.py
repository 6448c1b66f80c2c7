"""The chat window's two panes by width: wide, the conversations list beside the chat (hidden and
shown by Chats / Ctrl+B); narrower than ``NARROW_BELOW`` (a tiled window), they take turns — the list
stands in for the chat, with Back — and crossing the line starts on the chat.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QLayout, QWidget

from trayai.ui.chat.sidebar import ConversationSidebar


class ChatPanes:
    """Which of one window's panes show, and where the focus goes when that changes."""

    NARROW_BELOW = 720  # below this, the conversations and the chat take turns (one pane at a time)

    def __init__(
        self,
        window: QWidget,
        sidebar: ConversationSidebar,
        chat: QWidget,
        chat_layout: QLayout,
        toggle: QAbstractButton,
        prompt: QWidget,
    ) -> None:
        """``chat``: the pane beside the list (``chat_layout`` its layout, whose margins follow);
        ``toggle``: the Chats button, kept checked while the list shows; ``prompt``: where the focus
        goes when the list hides."""
        self._window = window
        self._sidebar = sidebar
        self._chat = chat
        self._chat_layout = chat_layout
        self._toggle = toggle
        self._prompt = prompt
        self._narrow = False
        self._sidebar_open = True
        toggle.setChecked(True)

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
        self._show()
        if wanted and self._narrow:
            self._sidebar.conversations.setFocus()
        elif not wanted and self._sidebar.isAncestorOf(self._window.focusWidget()):
            self._prompt.setFocus()

    def focus_search(self) -> None:
        """Ctrl+F: the search box, opening the list first if it is hidden."""
        if not self._sidebar_open:
            self.set_sidebar_open(wanted=True)
        self._sidebar.focus_search()

    def show_chat(self) -> None:
        """A conversation was chosen or started: narrow, the chat takes the list's place."""
        if self._narrow:
            self.set_sidebar_open(wanted=False)

    def fit(self, width: int) -> None:
        """The window is ``width`` wide now: crossing ``NARROW_BELOW`` switches layouts (narrow starts
        on the chat, wide shows both)."""
        narrow = width < self.NARROW_BELOW
        if narrow != self._narrow:
            self._narrow = narrow
            self._sidebar_open = not narrow
            self._show()

    def _show(self) -> None:
        """Wide: the list beside the chat (or hidden). Narrow: the list *instead of* the chat, with Back."""
        alone = self._narrow and self._sidebar_open
        self._sidebar.setVisible(self._sidebar_open)
        self._chat.setVisible(not alone)
        # A pane without its neighbour keeps a margin on that side too (not flush with the frame).
        self._chat_layout.setContentsMargins(0 if self._sidebar_open else 6, 6, 6, 6)
        self._sidebar.setContentsMargins(0, 0, 6 if alone else 0, 0)
        self._sidebar.back_button.setVisible(self._narrow and self._sidebar_open)
        self._toggle.setChecked(self._sidebar_open)


__all__ = ["ChatPanes"]
