"""At most one "Get models" window, built on first use (the tray stays light: the window, the catalog
and the download machinery are imported only then), raised when asked for again, and kept while hidden.
The downloads it drives are kept here, not in the window, with the ``DownloadStatus`` the tray reads:
they go on, and show in the tray, while the window is closed; they stop when the app quits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore

if TYPE_CHECKING:
    from trayai.core.embedded import LocalModel
    from trayai.ui.library.download_status import DownloadStatus
    from trayai.ui.library.downloads import LibraryDownloads
    from trayai.ui.library.window import LibraryWindow

log = logging.getLogger(__name__)


class LibraryOpener(QObject):
    """Signals: ``downloads_changed`` — the tray's download lines changed; ``notice(title, text)`` — a
    download finished or failed."""

    downloads_changed = Signal()
    notice = Signal(str, str)

    def __init__(
        self,
        secrets: SecretStore,
        models_dir: Callable[[], Path | None],
        serve: Callable[[str], Awaitable[None]],
        parent: QObject | None = None,
        *,
        store: ConfigStore | None = None,
        local_models: Callable[[], list[LocalModel]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._local_models = local_models
        self._secrets = secrets
        self._models_dir = models_dir
        self._serve = serve
        self.window: LibraryWindow | None = None
        self.downloads: LibraryDownloads | None = None  # made with the window, kept after it closes
        self.status: DownloadStatus | None = None

    def open(self) -> None:
        """Show the window (made now the first time), raised and focused."""
        if self.window is None:
            # lazy: loaded when first used: the tray stays light
            from trayai.ui.library.window import LibrarySources, LibraryWindow

            sources = LibrarySources(
                self._secrets,
                self._models_dir,
                self._serve,
                store=self._store,
                local_models=self._local_models,
            )
            self.window = LibraryWindow(sources, downloads=self._downloads())
            log.info("model library window made")
        window = self.window
        window.show()
        window.raise_()
        window.activateWindow()

    def _downloads(self) -> LibraryDownloads:
        if self.downloads is None:
            # lazy: the download code is loaded with the window, never with the tray alone
            from trayai.ui.library.download_status import DownloadStatus
            from trayai.ui.library.downloads import LibraryDownloads

            self.downloads = LibraryDownloads(self._models_dir, self._secrets, parent=self)
            self.status = DownloadStatus(self.downloads, self)
            self.status.changed.connect(self.downloads_changed)
            self.status.notice.connect(self.notice)
        return self.downloads

    def download_lines(self) -> list[str]:
        """What the tray's tooltip and menu say about downloads (nothing before the first)."""
        return self.status.lines() if self.status is not None else []

    async def close(self) -> None:
        """The app quits: downloads stop (their parts resume next time) and the window goes."""
        window, self.window = self.window, None
        if window is not None:
            window.hide()
            await window.shutdown()
            window.deleteLater()
        if self.downloads is not None:
            await self.downloads.tasks.cancel_all()


__all__ = ["LibraryOpener"]
