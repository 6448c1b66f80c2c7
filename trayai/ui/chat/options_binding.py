"""The Options bar kept in step with the open conversation: its model and parameters shown when a
conversation opens, each edit saved to it at once, a preset applied as a whole (the bar itself is
``options_bar.py``; the values are the controller's, stored with the conversation).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar

from trayai.core.chat.history_db import HistoryError
from trayai.core.settings.config import Preset
from trayai.core.settings.prompt_presets import matching_preset, preset_values
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.options_bar import OptionsBar


class OptionsBinding(QObject):
    """Between one window's :class:`OptionsBar` and its controller's per-conversation options; the
    window connects the bar's edits to :meth:`save` and :meth:`choose_preset` (its own slots)."""

    def __init__(
        self,
        bar: OptionsBar,
        controller: ChatController,
        presets: Callable[[], list[Preset]],
        status: QStatusBar,
    ) -> None:
        """``presets``: the settings' presets, read each time the options are shown."""
        super().__init__(bar)
        self._bar = bar
        self._controller = controller
        self._presets = presets
        self._status = status

    def set_models(self, models: list[str]) -> None:
        """The server's current model list (from the status monitor); the text typed stays."""
        combo = self._bar.model_combo
        current = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(models)
        combo.setEditText(current)
        combo.blockSignals(False)

    def fill(self) -> None:
        """Show the conversation's options (and which preset they match) without saving them back."""
        bar = self._bar
        options = self._controller.conversation_options()
        widgets = (bar.model_combo, bar.temperature, bar.max_tokens, bar.system_prompt)
        for widget in widgets:
            widget.blockSignals(True)
        bar.model_combo.setEditText(str(options.model or ""))
        temperature = options.temperature
        bar.temperature.setValue(-0.1 if temperature is None else float(temperature))
        max_tokens = options.max_tokens
        bar.max_tokens.setValue(0 if not max_tokens else int(max_tokens))
        system = str(options.system_prompt or "")
        if bar.system_prompt.toPlainText() != system:
            bar.system_prompt.setPlainText(system)
        for widget in widgets:
            widget.blockSignals(False)
        bar.show_summary()
        presets = self._presets()
        chosen = matching_preset(presets, options, self._controller.defaults())
        bar.show_presets([p.name for p in presets], chosen.name if chosen else None)

    def choose_preset(self, index: int) -> None:
        """A preset sets this conversation's system prompt and parameters ("No preset": the profile's)."""
        presets = self._presets()
        preset = presets[index - 1] if 0 < index <= len(presets) else None
        try:
            self._controller.set_options(**preset_values(preset, self._controller.defaults()).options())
        except (HistoryError, KeyError) as exc:
            self._status.showMessage(str(exc).splitlines()[0], 4000)
        self.fill()

    def save(self) -> None:
        bar = self._bar
        temperature = bar.temperature.value()
        system = bar.system_prompt.toPlainText()
        try:
            self._controller.set_options(
                model=bar.model_combo.currentText().strip() or None,
                temperature=None if temperature < 0 else round(temperature, 2),
                max_tokens=bar.max_tokens.value() or None,
                system_prompt=system,
            )
        except (HistoryError, KeyError) as exc:
            self._status.showMessage(str(exc).splitlines()[0], 4000)
        bar.show_summary()


__all__ = ["OptionsBinding"]
