"""Search Hugging Face from the library window: GGUF repositories matching the words, then a chosen
repository's quantisations with their sizes, each with the same download controls as a catalog model.

Every Hub call runs in a worker thread (huggingface_hub is synchronous and imported on the first search).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from trayai.core.errors import AppError
from trayai.core.library.download import describe_size
from trayai.core.library.feedback import search_failure
from trayai.core.library.hub import LISTING_DEADLINE, Hub, RepoHit, RepoListing
from trayai.core.tasks import TaskOwner
from trayai.ui.library.controls import DownloadControls
from trayai.ui.library.downloads import Target
from trayai.ui.library.style import card_style, standard_icon, text_style

SP = QStyle.StandardPixmap
Wire = Callable[[DownloadControls, Target], None]


class HitRow(QFrame):
    """One repository found; "Show files" lists its quantisations (a Hub call) under it."""

    def __init__(self, hit: RepoHit, hub: Callable[[], Hub], wire: Wire, tasks: TaskOwner) -> None:
        super().__init__()
        self.hit = hit
        self._hub = hub
        self._wire = wire
        self._tasks = tasks
        self.setObjectName("hitRow")
        self.setStyleSheet(card_style("QFrame#hitRow"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        gated = " · gated: needs a token" if hit.gated else ""
        self.title = QLabel(f"<b>{hit.repo}</b>")
        self.title.setWordWrap(True)
        self.facts = QLabel(f"{hit.downloads:,} downloads · {hit.likes:,} likes{gated}")
        self.facts.setWordWrap(True)
        self.facts.setStyleSheet(text_style("muted"))
        self.files_button = QPushButton("Show files")
        self.files_button.setIcon(standard_icon(self, SP.SP_FileDialogContentsView))
        self.files_button.setToolTip(f"List {hit.repo}'s quantisations and their sizes")
        self.files_button.setAutoDefault(False)
        self.files_button.clicked.connect(self.show_files)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.files_button)
        layout.addWidget(self.note)
        self.quants = QVBoxLayout()
        layout.addLayout(self.quants)
        self.controls: dict[str, DownloadControls] = {}

    def show_files(self) -> None:
        self.files_button.setEnabled(False)
        self._say("Listing the repository's files…", "muted")
        self._tasks.exclusive(f"files:{self.hit.repo}", self._list())

    async def _list(self) -> None:
        hub = self._hub
        try:
            listing = await asyncio.to_thread(lambda: hub().listing(self.hit.repo, deadline=LISTING_DEADLINE))
        except AppError as exc:
            self._say(exc.message, "error")
            self.files_button.setEnabled(True)
            return
        self.files_button.hide()
        self._show_listing(listing)

    def _show_listing(self, listing: RepoListing) -> None:
        groups = listing.quants()
        if not groups:
            self._say("This repository has no .gguf model files.", "muted")
            return
        self._say(f"{len(groups)} quantisations, smallest first:", "muted")
        for quant, files in groups.items():
            size = sum(f.size for f in files)
            box = QWidget()
            row = QVBoxLayout(box)
            row.setContentsMargins(12, 4, 0, 4)
            label = QLabel(
                f"<b>{quant}</b> · {describe_size(size)}"
                + (f" · {len(files)} parts" if len(files) > 1 else "")
            )
            label.setWordWrap(True)
            row.addWidget(label)
            target = Target(listing.repo, tuple(f.path for f in files))
            controls = DownloadControls(f"{quant} of {listing.repo}", size, box)
            row.addWidget(controls)
            self.controls[quant] = controls
            self.quants.addWidget(box)
            self._wire(controls, target)

    def _say(self, text: str, kind: str) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(text_style(kind))
        self.note.setVisible(bool(text))


class HubSearch(QWidget):
    """The search box and what it found."""

    def __init__(self, hub: Callable[[], Hub], wire: Wire, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._wire = wire
        self.tasks = TaskOwner()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        line = QHBoxLayout()
        self.box = QLineEdit()
        self.box.setPlaceholderText("Search Hugging Face, e.g. qwen3 4b")
        self.box.setToolTip("Words of a GGUF repository's name on Hugging Face; Enter searches")
        self.box.setClearButtonEnabled(True)
        self.box.returnPressed.connect(self.search)
        self.button = QPushButton("Search")
        self.button.setIcon(standard_icon(self, SP.SP_FileDialogContentsView))
        self.button.setToolTip("Search Hugging Face for GGUF repositories")
        self.button.setAutoDefault(False)
        self.button.clicked.connect(self.search)
        line.addWidget(self.box, 1)
        line.addWidget(self.button)
        layout.addLayout(line)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self.results = QVBoxLayout()
        layout.addLayout(self.results)
        self.hits: list[HitRow] = []

    def search(self) -> None:
        text = self.box.text().strip()
        if not text:
            self._say("Type some words of the model's name first.", "muted")
            return
        self._say(f"Searching Hugging Face for “{text}”…", "muted")
        self.button.setEnabled(False)
        self.tasks.exclusive("search", self._search(text))

    async def _search(self, text: str) -> None:
        hub = self._hub
        try:
            hits = await asyncio.to_thread(lambda: hub().search(text))
        except AppError as exc:
            self._say(search_failure(exc), "error")
            return
        finally:
            self.button.setEnabled(True)
        self._clear()
        if not hits:
            self._say(f"No GGUF repository on Hugging Face matches “{text}”.", "muted")
            return
        self._say(f"{len(hits)} found, most downloaded first:", "muted")
        for hit in hits:
            row = HitRow(hit, self._hub, self._wire, self.tasks)
            self.hits.append(row)
            self.results.addWidget(row)

    def _clear(self) -> None:
        for row in self.hits:
            row.setParent(None)
            row.deleteLater()
        self.hits = []

    def _say(self, text: str, kind: str) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(text_style(kind))
        self.note.setVisible(bool(text))


__all__ = ["HitRow", "HubSearch"]
