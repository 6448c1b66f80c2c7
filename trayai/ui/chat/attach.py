"""Adding files to the next question: the Attach… button (a non-modal file dialog), drag-and-drop onto
the window and pasting an image or files into the prompt; the pending files shown as removable
chips above the box. What may be attached, and the limits, are ``core/chat/attachments.py``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QLabel, QToolButton, QWidget

from trayai.core.chat.attachments import MAX_PER_MESSAGE, Attachment, AttachmentError, AttachmentStore
from trayai.ui.chat.flow import FlowLayout
from trayai.ui.theme_icons import ButtonIcon, button_icon


class AttachmentTray(QWidget):
    """The files waiting to go with the next question, each a chip that removes it when clicked.

    The chips wrap onto more rows (a flow layout): eight files never make a narrow window wider.
    """

    changed = Signal()
    refused = Signal(str)  # why a file could not be attached (a sentence for the status bar)

    def __init__(self, store: AttachmentStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.pending: list[Attachment] = []
        self._row = FlowLayout(self)
        self.button = QToolButton()
        self.button.setText("Attach…")  # words, not an emoji: many desktops have no emoji font
        self.button.setToolTip("Attach text, code or image files (or drop them here, or paste)")
        self.button.setAccessibleName("Attach files")
        self.button.clicked.connect(self.choose_files)
        self._dialog: QFileDialog | None = None
        self.hide()

    # ------------------------------------------------------------------ adding

    def choose_files(self) -> None:
        if self._dialog is not None:
            self._dialog.raise_()
            return
        dialog = QFileDialog(self.window(), "Attach files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda files: self.add_paths([Path(f) for f in files]))
        dialog.finished.connect(self._dialog_closed)
        self._dialog = dialog
        dialog.open()  # never exec(): the asyncio loop keeps running

    def _dialog_closed(self, _result: int) -> None:
        if self._dialog is not None:
            self._dialog.deleteLater()
            self._dialog = None

    def add_paths(self, paths: list[Path]) -> None:
        for path in paths:
            self._add(functools.partial(self.store.add_file, path))

    def add_image(self, image: QImage, name: str = "pasted image.png") -> None:
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; Qt wants str
        buffer.close()
        self._add(functools.partial(self.store.add_bytes, name, bytes(data.data()), "image/png"))

    def add_mime(self, mime: QMimeData) -> bool:
        """Files (dropped or pasted) or an image on the clipboard; False when it carries neither."""
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if files:
            self.add_paths(files)
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.add_image(image)
                return True
        return False

    def _add(self, make: Callable[[], Attachment]) -> None:
        if len(self.pending) >= MAX_PER_MESSAGE:
            self.refused.emit(f"At most {MAX_PER_MESSAGE} files go with one question.")
            return
        try:
            attachment = make()
        except AttachmentError as exc:
            self.refused.emit(f"{exc.message} {exc.hint}")
            return
        self.pending.append(attachment)
        self._redraw()

    # ------------------------------------------------------------------ the chips

    def take(self) -> list[Attachment]:
        """The pending files, handed to the question being sent (the tray empties)."""
        taken, self.pending = self.pending, []
        self._redraw()
        return taken

    def restore(self, attachments: Sequence[Attachment]) -> None:
        """Put stored files back as chips (Edit: the message's own files, removable one by one)."""
        self.pending = list(attachments)
        self._redraw()

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.pending):
            del self.pending[index]
            self._redraw()

    def _on_chip(self) -> None:
        chip = self.sender()
        if chip is not None:
            self.remove(int(chip.property("index")))

    def _redraw(self) -> None:
        while self._row.count():
            item = self._row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone at once, not when the deferred delete runs
                widget.deleteLater()
        for index, attachment in enumerate(self.pending):
            chip = QToolButton()
            chip.setText(attachment.label)
            chip.setIcon(button_icon(ButtonIcon.CLOSE))  # the theme's, else trayai's own
            chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            chip.setToolTip("Remove this file from the question")
            chip.setAccessibleName(f"Remove attachment {attachment.name}")
            chip.setProperty("index", index)
            chip.clicked.connect(self._on_chip)
            self._row.addWidget(chip)
        if self.pending:
            label = QLabel(f"{len(self.pending)} file(s) go with the next question")
            label.setStyleSheet("color: palette(mid);")
            label.setAlignment(Qt.AlignmentFlag.AlignVCenter)
            self._row.addWidget(label)
        self.setVisible(bool(self.pending))
        self.changed.emit()
