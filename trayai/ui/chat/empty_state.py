"""What a new chat shows before the first question, instead of a blank pane: what it talks to
(server, model, state), three example prompts a click puts in the box, and the keys (Enter,
Shift+Enter, Esc, the global hotkey) — as ChatGPT, LM Studio and Jan greet a first chat (issue 25).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from trayai.ui.chat.flow import FlowLayout

EXAMPLE_PROMPTS = (
    "Explain how a hash map works, with a short example",
    "Write a Python function that checks whether a string is a palindrome",
    "Give me three ideas for a weekend project",
)


def keys_line(hotkey: str) -> str:
    """The keys worth knowing, the global hotkey only when one is set."""
    keys = ["Enter sends", "Shift+Enter starts a new line", "Esc stops an answer or cancels an edit"]
    if hotkey:
        keys.append(f"{hotkey} opens the quick prompt from anywhere")
    return " · ".join(keys)


class EmptyState(QWidget):
    """Signal ``prompt_chosen(str)``: an example was clicked (the window puts it in the box)."""

    prompt_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("empty-chat")
        self.target = QLabel()
        self.target.setObjectName("empty-chat-target")
        self.target.setTextFormat(Qt.TextFormat.PlainText)
        self.target.setWordWrap(True)  # never widen a narrow window
        self.target.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.target.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.target.setFont(font)
        examples = QWidget()
        flow = FlowLayout(examples)
        self.examples: list[QPushButton] = []
        for text in EXAMPLE_PROMPTS:
            button = QPushButton(text)
            button.setAutoDefault(False)
            button.setToolTip("Put this in the prompt box")
            button.clicked.connect(lambda _checked=False, text=text: self.prompt_chosen.emit(text))
            flow.addWidget(button)
            self.examples.append(button)
        self.keys = QLabel()
        self.keys.setObjectName("empty-chat-keys")
        self.keys.setTextFormat(Qt.TextFormat.PlainText)
        self.keys.setWordWrap(True)
        self.keys.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addWidget(self.target)
        column.addSpacing(12)
        column.addWidget(examples)
        column.addSpacing(12)
        column.addWidget(self.keys)
        column.addStretch(2)

    def show_target(self, model: str | None, server: str | None, state: str | None, hotkey: str) -> None:
        """ "ai/smollm2 on default — ready", and the keys with the hotkey from the settings."""
        said = model or "the profile's model"
        if server:
            said += f" on {server}"
        if state:
            said += f" — {state}"
        self.target.setText(f"Ask {said}")
        self.keys.setText(keys_line(hotkey))


__all__ = ["EXAMPLE_PROMPTS", "EmptyState", "keys_line"]
