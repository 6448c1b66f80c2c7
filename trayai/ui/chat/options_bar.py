"""The conversation's options above the transcript: the model picker always in sight, and the rest
(temperature, max tokens, system prompt) in an Options popover instead of a dense toolbar.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)


class OptionsBar(QWidget):
    """Widgets only: the window reads and writes their values (see ``ChatWindow._fill_options``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setMinimumContentsLength(18)
        self.model_combo.setToolTip("Model for this conversation (the server's list; you can type a name)")
        self.model_combo.setAccessibleName("Model")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setSpecialValueText("default")
        self.temperature.setToolTip("Temperature: 0 = deterministic, higher = more varied")
        self.temperature.setAccessibleName("Temperature")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 1_000_000)
        self.max_tokens.setSpecialValueText("no limit")
        self.max_tokens.setToolTip("Maximum tokens in an answer (no limit = the server's)")
        self.max_tokens.setAccessibleName("Maximum tokens")
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText("Instructions sent before this conversation")
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setMinimumSize(380, 110)

        form_widget = QWidget()
        form = QFormLayout(form_widget)
        form.addRow("Temperature", self.temperature)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("System prompt", self.system_prompt)
        self.popover = QMenu(self)
        holder = QWidgetAction(self.popover)
        holder.setDefaultWidget(form_widget)
        self.popover.addAction(holder)

        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("A preset sets this conversation's system prompt and parameters")
        self.preset_combo.setAccessibleName("Preset")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        self.options_button = QToolButton()
        self.options_button.setText("Options")
        self.options_button.setToolTip("Temperature, max tokens and system prompt of this conversation")
        self.options_button.setAccessibleName("Conversation options")
        self.options_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.options_button.setMenu(self.popover)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setStyleSheet("color: palette(mid);")

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        model_label = QLabel("&Model")
        model_label.setBuddy(self.model_combo)
        row.addWidget(model_label)
        row.addWidget(self.model_combo, 1)
        row.addWidget(self.preset_combo)
        row.addWidget(self.summary)
        row.addWidget(self.options_button)

    def show_presets(self, names: list[str], chosen: str | None) -> None:
        """The picker's entries ("No preset" first) with the one the options match selected."""
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItem("No preset")
        self.preset_combo.addItems(names)
        self.preset_combo.setCurrentIndex(names.index(chosen) + 1 if chosen in names else 0)
        self.preset_combo.setVisible(bool(names))
        self.preset_combo.blockSignals(False)

    def show_summary(self) -> None:
        """What differs from the defaults, next to the button: "0.3 · 512 tokens · system prompt"."""
        parts = []
        if self.temperature.value() >= 0:
            parts.append(f"{self.temperature.value():g}")
        if self.max_tokens.value():
            parts.append(f"{self.max_tokens.value()} tokens")
        if self.system_prompt.toPlainText().strip():
            parts.append("system prompt")
        self.summary.setText(" · ".join(parts))
