"""The Endpoints page's live look at a server, on what is typed now (not what is saved): its models
listed into the model box (Refresh) and the doctor's checks in place (Test connection). Each runs as a
task of the dialog, one per profile and kind; closing the dialog cancels them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton

from trayai.core.doctor import DoctorReport, diagnose
from trayai.core.errors import TrayaiError
from trayai.core.net.urls import InvalidURLError
from trayai.core.redact import Redactor
from trayai.core.remedies import plain
from trayai.core.settings.config import Profile
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.settings.secrets import PLACEHOLDER_KEY
from trayai.core.tasks import TaskOwner
from trayai.ui.settings.connection_panel import CheckRow, ConnectionTestPanel
from trayai.ui.settings.page import ClientFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """The server as typed now: the profile (by its dialog id), its normalised URL, the key to send
    (``PLACEHOLDER_KEY`` when none) and the model named."""

    uid: int
    profile: Profile
    url: str
    key: str
    model: str


TypedTarget = Callable[[], Target | None]  # raises InvalidURLError when the URL is unusable


class ServerChecks:
    """Owns the model box with its Refresh button and note, and the Test button with its result; the
    page places them in its form and says how to read the target (``typed``)."""

    def __init__(self, tasks: TaskOwner, client_factory: ClientFactory, typed: TypedTarget) -> None:
        self._tasks = tasks
        self._client_factory = client_factory
        self._typed = typed
        self.last_report: DoctorReport | None = None
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)  # long model names scroll in the box
        self.model_combo.setObjectName("model")
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setToolTip("List the server's models (GET /v1/models)")
        self.models_note = QLabel()
        self.models_note.setTextFormat(Qt.TextFormat.PlainText)  # may quote the server
        self.models_note.setWordWrap(True)
        self.model_row = QHBoxLayout()
        self.model_row.addWidget(self.model_combo, 1)
        self.model_row.addWidget(self.refresh_button)
        self.test_button = QPushButton("&Test connection")
        self.test_button.setToolTip(
            "Check this profile's server now: reachable, key, model (nothing is saved)"
        )
        self.test_result = ConnectionTestPanel()
        self.refresh_button.clicked.connect(lambda: self._start("models", self.refresh_models))
        self.test_button.clicked.connect(lambda: self._start("test", self.test_connection))

    def clear(self) -> None:
        """Another profile is shown: nothing said about the last one stays."""
        self.models_note.setText("")
        self.test_result.setText("")

    def _target(self) -> Target | None:
        """What is typed now; None (the reason shown) when its URL cannot be used."""
        try:
            return self._typed()
        except InvalidURLError as exc:
            self.test_result.setText(f"✗ {exc}")
            return None

    def _start(self, kind: str, work: Callable[[Target], Coroutine[Any, Any, Any]]) -> None:
        """A button's work as the dialog's task: one per profile and kind (pressed again: restarted)."""
        target = self._target()
        if target is not None:
            self._tasks.exclusive(f"{kind}:{target.uid}", work(target))

    async def refresh_models(self, target: Target | None = None) -> list[str]:
        """Fill the model box from the server's live list (free text stays possible)."""
        target = target or self._target()
        if target is None:
            return []
        self.refresh_button.setEnabled(False)
        self.models_note.setText("listing models…")
        client = self._client_factory(target.url, target.key)
        try:
            listing = await client.list_models()
        except TrayaiError as exc:
            self.models_note.setText(f"Could not list models: {exc.message}")
            return []
        finally:
            self.refresh_button.setEnabled(True)
            await client.aclose()
        ids = listing.ids
        self.model_combo.clear()
        self.model_combo.addItems(ids)
        self.model_combo.setEditText(target.model or (ids[0] if ids else ""))
        self.models_note.setText(
            f"{len(ids)} model{'s' if len(ids) != 1 else ''} listed"
            if ids
            else "The server lists no models: type the name to use."
        )
        log.info("settings: %d model(s) listed by %s", len(ids), target.url)
        return ids

    async def test_connection(self, target: Target | None = None) -> DoctorReport | None:
        """Run the doctor on what is typed now and show each check in place."""
        target = target or self._target()
        if target is None:
            return None
        self.test_button.setEnabled(False)
        self.test_result.setText("testing…")
        client = self._client_factory(target.url, target.key)
        resolved = ResolvedEndpoint(
            profile=target.profile,
            endpoint=client.endpoint,
            model=target.model,
            sources={"base_url": "this dialog", "model": "this dialog"},
            key_source="typed here" if target.key != PLACEHOLDER_KEY else "none (placeholder sent)",
        )
        try:
            report = await diagnose(client, resolved, generate=False)
        finally:
            self.test_button.setEnabled(True)
            await client.aclose()
        redact = Redactor([target.key]).redact  # a server may echo the key it was sent
        self.test_result.show_rows(
            [CheckRow(c.ok, c.name, redact(c.detail), plain(redact(c.hint or ""))) for c in report.checks]
        )
        self.last_report = report
        if report.status.models and not self.model_combo.count():
            self.model_combo.addItems(report.status.models)
            self.model_combo.setEditText(target.model)
        return report


__all__ = ["ServerChecks", "Target"]
