"""The Hugging Face token a gated model needs, typed into the library window and stored in the OS keychain
(``SecretStore``, the same entry as ``trayai get --set-token``) — never in a file.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QStyle, QVBoxLayout

from trayai.core.library.hub import HF_TOKEN_ENTRY, HUB_SITE
from trayai.core.settings.secrets import SecretStore
from trayai.core.tasks import TaskOwner
from trayai.ui.library.style import card_style, standard_icon, text_style

TOKENS_PAGE = f"{HUB_SITE}/settings/tokens"


class TokenPanel(QFrame):
    """Signal ``stored``: a token is in the keychain (or this session's memory): gated downloads may retry."""

    stored = Signal()

    def __init__(self, secrets: SecretStore, tasks: TaskOwner) -> None:
        super().__init__()
        self._secrets = secrets
        self._tasks = tasks
        self.setObjectName("tokenPanel")
        layout = QVBoxLayout(self)
        self.why = QLabel(
            "Gated models need a Hugging Face read token from an account that accepted the model's terms "
            "(on its source page). It is kept in the system keychain, never in a file."
        )
        self.why.setWordWrap(True)
        layout.addWidget(self.why)
        line = QHBoxLayout()
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText("hf_…")
        self.field.setToolTip("Your Hugging Face token (not shown)")
        self.field.setAccessibleName("Hugging Face token")
        self.field.returnPressed.connect(self.store)
        self.store_button = QPushButton("Store in the keychain")
        self.store_button.setIcon(standard_icon(self, QStyle.StandardPixmap.SP_DialogSaveButton))
        self.store_button.setToolTip("Keep the token in the system keychain for downloads from Hugging Face")
        self.store_button.setAutoDefault(False)
        self.store_button.clicked.connect(self.store)
        line.addWidget(self.field, 1)
        line.addWidget(self.store_button)
        layout.addLayout(line)
        self.page_button = QPushButton("Create a token…")
        self.page_button.setFlat(True)
        self.page_button.setIcon(standard_icon(self, QStyle.StandardPixmap.SP_DirLinkIcon))
        self.page_button.setToolTip(f"Open {TOKENS_PAGE} in the browser")
        self.page_button.setAutoDefault(False)
        self.page_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(TOKENS_PAGE)))
        layout.addWidget(self.page_button)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self.restyle()

    def restyle(self) -> None:
        self.setStyleSheet(card_style("QFrame#tokenPanel"))

    def ask(self) -> None:
        """Show the panel with the field focused."""
        self.show()
        self.field.setFocus()

    def store(self) -> None:
        token = self.field.text().strip()
        if not token:
            self._say("Paste the token into the field first.", "muted")
            return
        self.store_button.setEnabled(False)
        self._say("Storing the token…", "muted")
        self._tasks.exclusive("token", self._store(token))

    async def _store(self, token: str) -> None:
        try:
            outcome = await asyncio.to_thread(self._secrets.set, HF_TOKEN_ENTRY, token)
        finally:
            self.store_button.setEnabled(True)
        self.field.clear()
        if outcome.persistent:
            self._say(f"Stored in {outcome.backend}.", "success")
        else:
            self._say(outcome.warning or "Kept for this session only.", "error")
        self.stored.emit()

    def _say(self, text: str, kind: str) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(text_style(kind))
        self.note.setVisible(bool(text))


__all__ = ["TOKENS_PAGE", "TokenPanel"]
