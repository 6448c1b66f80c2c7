"""Load, unload and pull from the tray: one operation at a time per kind, progress for the tooltip
and the menu, a notification when it ends (the work itself is ``core/net/backends/manager.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from trayai.core.errors import TrayaiError
from trayai.core.net.backends.describe import progress_text
from trayai.core.net.backends.manager import ModelManager
from trayai.core.tasks import TaskOwner
from trayai.ui.icons import app_icon

if TYPE_CHECKING:
    from PySide6.QtWidgets import QInputDialog

log = logging.getLogger(__name__)


class ModelActions(QObject):
    """Runs the tray's model operations as tasks and says how they are going."""

    changed = Signal()  # an operation started, progressed or ended: redraw the tooltip and the menu
    notify = Signal(str, str)
    finished = Signal()  # an operation ended: the model list should be read again

    def __init__(
        self,
        manager: Callable[[], ModelManager],
        redact: Callable[[str], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._manager = manager
        self._redact = redact
        self.operation: str | None = None  # "Loading llama3.2…"
        self.pull_status: str | None = None  # "Pulling qwen3: 45% (…)"
        self._tasks = TaskOwner()  # "pull" and "work" (load/unload): one of each at a time
        self._dialog: QInputDialog | None = None
        self._closing = False

    @property
    def pulling(self) -> bool:
        return self._tasks.get("pull") is not None

    @property
    def busy(self) -> bool:
        return self.pulling or self._tasks.get("work") is not None

    def lines(self) -> list[str]:
        """The tooltip's lines for what is under way."""
        return [line for line in (self.operation, self.pull_status) if line]

    # ------------------------------------------------------------------ load / unload

    def load(self, name: str) -> None:
        self._run(f"Loading {name}…", self._load(name))

    def unload(self, name: str) -> None:
        self._run(f"Unloading {name}…", self._unload(name))

    def unload_all(self) -> None:
        self._run("Unloading every model…", self._unload_all())

    def _run(self, label: str, work: Coroutine[Any, Any, None]) -> None:
        if self._tasks.get("work") is not None:
            work.close()
            self.notify.emit("Please wait", f"{self.operation or 'Another operation'} is still under way.")
            return
        self.operation = label
        self.changed.emit()
        self._tasks.exclusive("work", self._guard(work))

    async def _guard(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except TrayaiError as exc:
            error = exc.redacted(self._redact)
            self.notify.emit("Model operation failed", f"{error.message}\n{error.hint}")
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not leave "Loading…" on screen forever
            log.exception("model operation failed")
            self.notify.emit("Model operation failed", "An internal error; see the log.")
        finally:
            self.operation = None
            self.changed.emit()
            self.finished.emit()

    async def _load(self, name: str) -> None:
        record = await self._manager().load(name)
        self.notify.emit("Model loaded", f"{record.id} is loaded.")

    async def _unload(self, name: str) -> None:
        record = await self._manager().unload(name)
        if record is None:
            self.notify.emit("Nothing to unload", f"{name} was not loaded.")

    async def _unload_all(self) -> None:
        names = await self._manager().unload_all()
        self.notify.emit("Models unloaded", ", ".join(names) if names else "Nothing was loaded.")

    # ------------------------------------------------------------------ pull

    def ask_pull(self) -> None:
        """A small non-modal box for the model's name (never exec(): the asyncio loop runs on)."""
        if self._dialog is not None:
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
        from PySide6.QtWidgets import QInputDialog, QLineEdit  # made on first use, off start-up

        dialog = QInputDialog()
        dialog.setWindowTitle("Pull a model")
        dialog.setWindowIcon(app_icon())
        dialog.setLabelText("Model to download, as the server's registry spells it (e.g. llama3.2:1b):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setOkButtonText("Pull")
        dialog.textValueSelected.connect(self._on_pull_name)
        dialog.finished.connect(self._on_dialog_closed)
        self._dialog = dialog
        dialog.open()

    @property
    def dialog(self) -> QInputDialog | None:
        return self._dialog

    def _on_dialog_closed(self, _result: int) -> None:
        if self._dialog is not None:
            self._dialog.deleteLater()
            self._dialog = None

    def _on_pull_name(self, text: str) -> None:
        name = text.strip()
        if name:
            self.pull(name)

    def pull(self, name: str) -> None:
        if self.pulling:
            self.notify.emit("A download is running", self.pull_status or "Cancel it first from the menu.")
            return
        self.pull_status = f"Pulling {name}: starting…"
        self.changed.emit()
        self._tasks.exclusive("pull", self._pulling(name))

    def cancel_pull(self) -> None:
        self._tasks.cancel("pull")

    async def _pulling(self, name: str) -> None:
        last = ""
        try:
            async for step in self._manager().pull(name):
                text = f"Pulling {name}: {self._redact(progress_text(step))}"
                if text != last:  # the menu and tooltip redraw only when the words change
                    last = self.pull_status = text
                    self.changed.emit()
            self.notify.emit("Model downloaded", f"{name} is ready to load.")
        except TrayaiError as exc:
            error = exc.redacted(self._redact)
            self.notify.emit("Download failed", f"{error.message}\n{error.hint}")
        except asyncio.CancelledError:
            if not self._closing:
                self.notify.emit("Download cancelled", f"The download of {name} was cancelled.")
        finally:
            self.pull_status = None
            self.changed.emit()
            self.finished.emit()

    async def close(self) -> None:
        """Quit: cancel what runs (a pull tells its server) and wait for it to settle."""
        self._closing = True
        for key in ("pull", "work"):
            task = self._tasks.cancel(key)
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._dialog is not None:
            self._dialog.close()
