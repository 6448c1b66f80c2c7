"""One download's controls, the same under a catalog model and a search result's quantisation: Get, the
progress bar with bytes, rate and time left, Cancel, "paused at 43 % — Resume", a failure with the button
that helps, and once downloaded: Downloaded ✓, Use it now, Remove (asked once more before deleting).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStyle, QVBoxLayout, QWidget

from trayai.core.library.download import describe_size
from trayai.core.library.feedback import Help, progress_words, sentence
from trayai.ui.chat.flow import FlowLayout
from trayai.ui.library.downloads import Phase, TargetStatus
from trayai.ui.library.style import standard_icon, text_style

SP = QStyle.StandardPixmap
HELP_ICONS = {
    Help.RETRY: SP.SP_BrowserReload,
    Help.STORE_TOKEN: SP.SP_DialogSaveButton,
    Help.OPEN_FOLDER: SP.SP_DirOpenIcon,
}


class DownloadControls(QWidget):
    """Signals carry what was asked; the owner calls :meth:`show_status` with what happened."""

    get_clicked = Signal()
    cancel_clicked = Signal()
    remove_clicked = Signal()
    use_clicked = Signal()
    help_clicked = Signal(object)  # a Help

    def __init__(self, name: str, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.file_size = size
        self.status = TargetStatus(Phase.IDLE)
        self._help: Help | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.line = QLabel()
        self.line.setWordWrap(True)
        self.line.setObjectName("downloadLine")
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setObjectName("downloadDetail")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setMaximumHeight(self.bar.sizeHint().height())
        layout.addWidget(self.line)
        layout.addWidget(self.detail)
        layout.addWidget(self.bar)
        buttons = QWidget()
        flow = FlowLayout(buttons)
        self.get_button = self._button(
            flow, "Get", SP.SP_ArrowDown, f"Download {name} into the models folder"
        )
        self.resume_button = self._button(
            flow, "Resume", SP.SP_MediaPlay, "Continue the download from the bytes already on disk"
        )
        self.cancel_button = self._button(
            flow, "Cancel", SP.SP_BrowserStop, "Stop the download; what arrived is kept and Resume continues"
        )
        self.help_button = self._button(flow, "Retry", SP.SP_BrowserReload, "")
        self.use_button = self._button(
            flow,
            "Use it now",
            SP.SP_MediaPlay,
            "Make the built-in server serve this model (it restarts with it)",
        )
        self.remove_button = self._button(
            flow, "Remove", SP.SP_TrashIcon, f"Delete {name} from the models folder (asks first)"
        )
        self.confirm_button = self._button(flow, "Delete", SP.SP_DialogYesButton, f"Delete {name} now")
        self.keep_button = self._button(flow, "Keep", SP.SP_DialogNoButton, "Keep the file")
        layout.addWidget(buttons)
        self.get_button.clicked.connect(self.get_clicked)
        self.resume_button.clicked.connect(self.get_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.use_button.clicked.connect(self.use_clicked)
        self.help_button.clicked.connect(self._on_help)
        self.remove_button.clicked.connect(lambda: self._confirming(ask=True))
        self.keep_button.clicked.connect(lambda: self._confirming(ask=False))
        self.confirm_button.clicked.connect(self._on_confirm)
        self._asking = False
        self._use_note = ("", "muted")  # what Use it now said last (kept across redraws)
        self.show_status(self.status)

    def _button(self, flow: FlowLayout, text: str, pixmap: QStyle.StandardPixmap, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setIcon(standard_icon(self, pixmap))
        button.setToolTip(tip)
        button.setAutoDefault(False)
        flow.addWidget(button)
        return button

    def show_status(self, status: TargetStatus) -> None:
        """Show ``status``: which buttons, which words, the bar."""
        self.status = status
        phase = status.phase
        busy = phase in (Phase.PREPARING, Phase.QUEUED, Phase.DOWNLOADING)
        self._asking = self._asking and phase is Phase.DONE
        self.get_button.setVisible(phase is Phase.IDLE)
        self.resume_button.setVisible(phase is Phase.PAUSED)
        self.cancel_button.setVisible(busy)
        self.use_button.setVisible(phase is Phase.DONE and not self._asking)
        self.remove_button.setVisible(phase in (Phase.DONE, Phase.PAUSED) and not self._asking)
        self.confirm_button.setVisible(self._asking)
        self.keep_button.setVisible(self._asking)
        self.bar.setVisible(busy)
        self._help = status.trouble.help if status.trouble is not None else None
        self.help_button.setVisible(status.trouble is not None)
        if status.trouble is not None:
            self.help_button.setText(status.trouble.button)
            self.help_button.setIcon(standard_icon(self, HELP_ICONS[status.trouble.help]))
            self.help_button.setToolTip(status.trouble.headline)
        line, detail, kind = self._words(status)
        self.line.setText(line)
        self.line.setStyleSheet(text_style(kind) if kind else "")
        self.line.setVisible(bool(line))
        detail_kind = "muted"
        if phase is Phase.DONE and not self._asking and self._use_note[0]:
            detail, detail_kind = self._use_note
        self.detail.setText(detail)
        self.detail.setStyleSheet(text_style(detail_kind))
        self.detail.setVisible(bool(detail))
        if phase is Phase.DOWNLOADING and status.progress is not None:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * status.progress.fraction))
            self.bar.setFormat(f"{status.progress.fraction:.0%}")
        elif busy:
            self.bar.setRange(0, 0)  # moving: the wait has no figures yet

    def _words(self, status: TargetStatus) -> tuple[str, str, str]:
        """The status line, the detail under it, and the line's colour (``""``: the window's text)."""
        phase = status.phase
        if phase is Phase.PREPARING:
            return "Asking Hugging Face where the file is…", "", ""
        if phase is Phase.QUEUED:
            return "Queued: starts when the download before it ends", "", "muted"
        if phase is Phase.DOWNLOADING and status.progress is not None:
            return progress_words(status.progress), "", ""
        if phase is Phase.PAUSED and status.paused is not None:
            return sentence(status.paused.words) + " — Resume continues from there", "", "muted"
        if phase is Phase.FAILED and status.trouble is not None:
            return status.trouble.headline, status.trouble.detail, "error"
        if phase is Phase.DONE:
            if self._asking:
                return f"Delete {self.name} ({describe_size(self.file_size)})?", "", "error"
            checked = " (sha256 checked)" if status.verified else ""
            return f"Downloaded ✓{checked}", "", "success"
        return "", "", ""

    def show_use(self, text: str, kind: str = "muted", *, busy: bool = False) -> None:
        """What "Use it now" is doing: starting the server, ready, or why it could not."""
        self._use_note = (text, kind)
        self.detail.setText(text)
        self.detail.setStyleSheet(text_style(kind))
        self.detail.setVisible(bool(text))
        self.use_button.setEnabled(not busy)

    def _on_help(self) -> None:
        if self._help is not None:
            self.help_clicked.emit(self._help)

    def _confirming(self, *, ask: bool) -> None:
        if self.status.phase is Phase.PAUSED and ask:
            self.remove_clicked.emit()  # a part only: nothing usable is lost
            return
        self._asking = ask
        self.show_status(self.status)
        (self.confirm_button if ask else self.remove_button).setFocus()

    def _on_confirm(self) -> None:
        self._asking = False
        self.remove_clicked.emit()


__all__ = ["DownloadControls"]
