"""At most one "Get models" window, built on first use (the tray stays light: the window, the catalog
and the download machinery are imported only then), raised when asked for again, and kept while hidden
so its downloads go on; stopped when the app quits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore

if TYPE_CHECKING:
    from trayai.ui.library.window import LibraryWindow

log = logging.getLogger(__name__)


class LibraryOpener(QObject):
    def __init__(
        self,
        secrets: SecretStore,
        models_dir: Callable[[], Path | None],
        serve: Callable[[str], Awaitable[None]],
        parent: QObject | None = None,
        *,
        store: ConfigStore | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._secrets = secrets
        self._models_dir = models_dir
        self._serve = serve
        self.window: LibraryWindow | None = None

    def open(self) -> None:
        """Show the window (made now the first time), raised and focused."""
        if self.window is None:
            # lazy: loaded when first used: the tray stays light
            from trayai.ui.library.window import LibrarySources, LibraryWindow

            sources = LibrarySources(self._secrets, self._models_dir, self._serve, store=self._store)
            self.window = LibraryWindow(sources)
            log.info("model library window made")
        window = self.window
        window.show()
        window.raise_()
        window.activateWindow()

    async def close(self) -> None:
        """The app quits: downloads stop (their parts resume next time) and the window goes."""
        window, self.window = self.window, None
        if window is not None:
            window.hide()
            await window.shutdown()
            window.deleteLater()


__all__ = ["LibraryOpener"]
