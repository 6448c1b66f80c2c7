"""At most one settings dialog: opened on demand (never ``exec()``), raised when asked for again;
what OK saved arrives as ``applied(Settings)``. The dialog module is imported on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.ui.icons import app_icon

if TYPE_CHECKING:
    from trayai.core.settings.resolve import ResolvedEndpoint
    from trayai.ui.settings.dialog import SettingsDialog
    from trayai.ui.tools_keeper import ToolsKeeper

log = logging.getLogger(__name__)


class SettingsOpener(QObject):
    applied = Signal(object)  # the saved Settings

    def __init__(
        self,
        secrets: SecretStore,
        store: ConfigStore,
        notify: Callable[[str, str], None],
        parent: QObject | None = None,
        *,
        tools: ToolsKeeper | None = None,
    ) -> None:
        super().__init__(parent)
        self._tools = tools  # the app's tool servers, for Settings ▸ Tools
        self._secrets = secrets
        self._store = store
        self._notify = notify
        self.dialog: SettingsDialog | None = None

    def open(
        self, loaded: LoadedConfig, hotkey_note: str | None, running: ResolvedEndpoint | None = None
    ) -> None:
        """Show the dialog (non-modal) on ``loaded``; a second request raises the open one."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return
        # lazy: loaded when first used: the tray stays light
        from trayai.ui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(
            loaded, self._secrets, self._store, hotkey_note=hotkey_note, running=running, tools=self._tools
        )
        dialog.setWindowIcon(app_icon())
        dialog.applied.connect(self.applied.emit)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialog = dialog
        dialog.open()
        log.info("settings dialog shown")

    def _forget(self, dialog: SettingsDialog) -> None:
        for warning in dialog.warnings:
            self._notify("API key not stored", warning)
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()


__all__ = ["SettingsOpener"]
