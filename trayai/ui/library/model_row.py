"""One catalog model in the library window: its name and size, the fit for this machine in words with a
coloured marker, capability chips, licence, a link to its source page, and its download controls.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from trayai.core.library.feedback import sentence
from trayai.core.library.fit import gigabytes
from trayai.core.library.pick import Pick
from trayai.ui.chat.flow import FlowLayout
from trayai.ui.library.controls import DownloadControls
from trayai.ui.library.downloads import Target
from trayai.ui.library.style import MARKERS, card_style, chip_style, marker_style, standard_icon, text_style


def params_words(billions: float) -> str:
    """``0.6B``, ``8.2B``, ``12B`` parameters."""
    return f"{billions:.1f}B" if billions < 10 else f"{billions:.0f}B"


def pick_target(pick: Pick) -> Target:
    """What Get fetches for a catalog model: its file for this machine and its vision projector."""
    extra = (pick.model.projector.file,) if pick.model.projector is not None else ()
    return Target(pick.model.repo, (pick.file.file, *extra))


class ModelRow(QFrame):
    """Signal ``source_clicked(url)``: the source page link was clicked (the window opens the browser);
    ``settings_clicked``: Settings… of a downloaded model (the window opens its editor)."""

    source_clicked = Signal(str)
    settings_clicked = Signal()

    def __init__(self, pick: Pick, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pick = pick
        self.target = pick_target(pick)
        model = pick.model
        self.setObjectName("libraryRow")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        title = QLabel(f"<b>{model.title}</b> · {params_words(model.params_b)} parameters")
        title.setWordWrap(True)
        layout.addWidget(title)
        fit_line = QHBoxLayout()
        fit_line.setSpacing(6)
        self.marker = QLabel(MARKERS[pick.fit.verdict])
        self.marker.setAccessibleName(f"fit: {pick.fit.verdict.value}")
        self.fit = QLabel(sentence(pick.fit.words))
        self.fit.setWordWrap(True)
        self.fit.setToolTip(
            f"Weights, the memory for {pick.fit.context} tokens of context and the engine, against the "
            "memory free now"
        )
        fit_line.addWidget(self.marker)
        fit_line.addWidget(self.fit, 1)
        layout.addLayout(fit_line)
        size = gigabytes(pick.size) if not pick.size_is_guess else f"~{gigabytes(pick.size)}"
        self.facts = QLabel(f"{pick.file.quant.value} · {size} · licence {model.licence.value}")
        self.facts.setWordWrap(True)
        if pick.size_is_guess:
            self.facts.setToolTip(
                "~ the catalog's first guess; the download takes the real size from the Hub"
            )
        layout.addWidget(self.facts)
        self.description = QLabel(model.description)
        self.description.setWordWrap(True)
        layout.addWidget(self.description)
        chips = QWidget()
        flow = FlowLayout(chips)
        self.chips: list[QLabel] = []
        caps = model.capabilities
        for name, has, tip in (
            ("vision", caps.vision, "Reads images (its projector file comes with it)"),
            ("tools", caps.tools, "Can call tools (functions) you give it"),
            ("thinking", caps.thinking, "Thinks before answering (shown apart in the chat)"),
        ):
            if has:
                chip = QLabel(name)
                chip.setToolTip(tip)
                flow.addWidget(chip)
                self.chips.append(chip)
        self.source = QPushButton("Source page")
        self.source.setFlat(True)
        self.source.setIcon(standard_icon(self, QStyle.StandardPixmap.SP_DirLinkIcon))
        self.source.setToolTip(f"Open {model.source} in the browser")
        self.source.setAutoDefault(False)
        self.source.clicked.connect(lambda: self.source_clicked.emit(model.source))
        flow.addWidget(self.source)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setIcon(standard_icon(self, QStyle.StandardPixmap.SP_FileDialogDetailedView))
        self.settings_button.setToolTip(
            f"{model.title}'s own context, threads, chat template and default sampling (on-demand server)"
        )
        self.settings_button.setAutoDefault(False)
        self.settings_button.clicked.connect(self.settings_clicked.emit)
        self.settings_button.hide()  # shown once the model is downloaded (the window says when)
        flow.addWidget(self.settings_button)
        layout.addWidget(chips)
        self.controls = DownloadControls(model.title, pick.size, self)
        layout.addWidget(self.controls)
        self.restyle()

    def restyle(self) -> None:
        """Colours from the theme showing now (again after an appearance change)."""
        self.setStyleSheet(card_style("QFrame#libraryRow"))
        self.marker.setStyleSheet(marker_style(self.pick.fit.verdict))
        self.facts.setStyleSheet(text_style("muted"))
        self.description.setStyleSheet(text_style("muted"))
        for chip in self.chips:
            chip.setStyleSheet(chip_style())
        self.controls.show_status(self.controls.status)


__all__ = ["ModelRow", "params_words", "pick_target"]
