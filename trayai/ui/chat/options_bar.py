"""The conversation's options above the transcript: the model picker always in sight (the server ·
model picker when the app's servers are known, else a model box), and the rest
(temperature, max tokens, system prompt) in an Options popover instead of a dense toolbar.

When one row does not fit (a tiled window a third of the screen wide) the preset picker and the
summary move to a second row instead of being clipped.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from trayai.ui.chat.server_model_picker import ServerModelPicker


class WindowBoundPopover(QMenu):
    """A popover that opens inside its window: Qt keeps a menu on the screen, not in the window, so
    one opened from a button at the right edge ran ~350 px past it (UX review, slip 5)."""

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        owner = self.parentWidget()
        if owner is None:
            return
        window = owner.window()
        left = window.mapToGlobal(QPoint(0, 0)).x()
        right = left + window.width()
        place = self.geometry()
        if place.right() >= right:
            place.moveRight(right - 1)
        if place.left() < left:  # a window narrower than the popover: its start stays in sight
            place.moveLeft(left)
        if place.topLeft() != self.pos():
            self.move(place.topLeft())


class OptionsBar(QWidget):
    """Widgets only: the window reads and writes their values (see ``ChatWindow._fill_options``)."""

    SPACING = 6  # between controls, set (not the style's) so the one-row width can be worked out
    PICKER_MAX_WIDTH = 280  # "model · server" beyond this is elided by the style; the tooltip says all

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setMinimumContentsLength(18)
        # Long model names scroll in the box: they must not widen the window.
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
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
        self.system_prompt.setMinimumSize(300, 110)

        form_widget = QWidget()
        form = QFormLayout(form_widget)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # labels above on narrow screens
        form.addRow("Temperature", self.temperature)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("System prompt", self.system_prompt)
        self.popover = WindowBoundPopover(self)
        holder = QWidgetAction(self.popover)
        holder.setDefaultWidget(form_widget)
        self.popover.addAction(holder)

        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("A preset sets this conversation's system prompt and parameters")
        self.preset_combo.setAccessibleName("Preset")
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.preset_combo.setMinimumContentsLength(10)

        self.options_button = QToolButton()
        self.options_button.setText("Options")
        self.options_button.setToolTip("Temperature, max tokens and system prompt of this conversation")
        self.options_button.setAccessibleName("Conversation options")
        self.options_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.options_button.setMenu(self.popover)
        self.tools_button = QToolButton()  # kept true by ui/chat/tool_binding.py
        self.tools_button.setText("Tools")
        self.tools_button.setCheckable(True)
        self.tools_button.setAccessibleName("Use tools in this conversation")
        self.tools_button.hide()  # shown when an MCP server has tools
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setStyleSheet("color: palette(mid);")
        self.summary.hide()  # shown when something differs from the defaults
        self.sidebar_button = QToolButton()
        self.sidebar_button.setText("Chats")
        self.sidebar_button.setCheckable(True)
        self.sidebar_button.setToolTip("Show or hide the conversations (Ctrl+B)")
        self.sidebar_button.setAccessibleName("Conversations list")

        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        self._first = QHBoxLayout()
        self._second = QHBoxLayout()
        for row in (self._first, self._second):
            row.setSpacing(self.SPACING)
        rows.addLayout(self._first)
        rows.addLayout(self._second)
        self.model_label = QLabel("&Model")
        self.model_label.setBuddy(self.model_combo)
        self._first.addWidget(self.sidebar_button)
        self._first.addWidget(self.model_label)
        self._first.addWidget(self.model_combo, 2)
        self._first.addWidget(self.tools_button)
        self._first.addWidget(self.options_button)
        self.picker = ServerModelPicker()
        self.picker.hide()  # shown in the model box's place by use_picker()
        self._two_rows = True
        self._set_two_rows(two=False)

    def use_picker(self) -> None:
        """The server · model picker takes the model box's place (the app's servers are known)."""
        at = self._first.indexOf(self.model_label)
        for widget in (self.model_label, self.model_combo):
            self._first.removeWidget(widget)
            widget.hide()
        self._first.insertWidget(at, self.picker, 2)
        self.picker.setMaximumWidth(self.PICKER_MAX_WIDTH)  # a long name must not widen the window
        self.picker.show()
        self._fit()

    @property
    def two_rows(self) -> bool:
        """The preset picker and summary are on a row of their own (one row would not fit)."""
        return self._two_rows

    def _one_row_width(self) -> int:
        """What every visible control needs side by side (the preset picker with its whole text)."""
        parts = [
            self.sidebar_button,
            self.model_label,
            self.model_combo,
            self.picker,
            self.tools_button,
            self.options_button,
            self.summary,
        ]
        widths = [max(w.sizeHint().width(), w.minimumSizeHint().width()) for w in parts if not w.isHidden()]
        if not self.preset_combo.isHidden():
            widths.append(combo_text_width(self.preset_combo))
        return sum(widths) + self.SPACING * (len(widths) - 1)

    def _set_two_rows(self, *, two: bool) -> None:
        if two == self._two_rows:
            return
        self._two_rows = two
        for widget in (self.preset_combo, self.summary):
            self._first.removeWidget(widget)
            self._second.removeWidget(widget)
        if two:
            self._second.addWidget(self.preset_combo, 1)
            self._second.addWidget(self.summary)
        else:
            at = self._first.indexOf(self.tools_button)
            self._first.insertWidget(at, self.preset_combo, 1)
            self._first.insertWidget(at + 1, self.summary)

    def _fit(self) -> None:
        self._set_two_rows(two=self._one_row_width() > self.width())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def show_presets(self, names: list[str], chosen: str | None) -> None:
        """The picker's entries ("No preset" first) with the one the options match selected."""
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItem("No preset")
        self.preset_combo.addItems(names)
        self.preset_combo.setCurrentIndex(names.index(chosen) + 1 if chosen in names else 0)
        self.preset_combo.setVisible(bool(names))
        self.preset_combo.blockSignals(False)
        self._fit()

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
        self.summary.setVisible(bool(parts))
        self._fit()


def combo_text_width(combo: QComboBox) -> int:
    """The width ``combo`` needs to show its current text whole (its size hint may be shorter)."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    text = QSize(combo.fontMetrics().horizontalAdvance(combo.currentText()), combo.fontMetrics().height())
    style = combo.style()
    return style.sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, text, combo).width()
