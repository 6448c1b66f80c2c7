"""The question asked when OK finds that another writer (the CLI, the tray) changed a setting this
dialog changed too, differently: "Keep mine", "Keep the other change", or Cancel back to the dialog.
Everything that did not clash is kept from both sides either way (core/settings/merge.py).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from trayai.core.settings.merge import Conflict, Side, describe

Answered = Callable[[Side | None, tuple[Conflict, ...]], None]  # None: Cancel or Esc


class ConflictQuestion:
    """One question at a time, shown with ``open()`` (never ``exec()``); ``box`` while it is shown."""

    def __init__(self, parent: QWidget, answered: Answered) -> None:
        self._parent = parent
        self._answered = answered
        self.box: QMessageBox | None = None

    def ask(self, conflicts: tuple[Conflict, ...]) -> None:
        """Which change to keep where this dialog and another writer changed the same setting."""
        box = QMessageBox(self._parent)
        box.setObjectName("conflicts")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Settings changed elsewhere")
        box.setTextFormat(Qt.TextFormat.PlainText)  # values are the user's own text
        box.setText(
            "While this dialog was open, these settings were also changed elsewhere (the trayai command "
            "or the tray menu), differently:\n\n" + describe(conflicts) + "\n\nEverything else from both "
            "sides is kept."
        )
        mine = box.addButton("Keep mine", QMessageBox.ButtonRole.AcceptRole)
        theirs = box.addButton("Keep the other change", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        answers = ((mine, Side.MINE), (theirs, Side.THEIRS))  # anything else (Cancel, Esc): back

        def answer() -> Side | None:
            clicked = box.clickedButton()
            return next((side for button, side in answers if button is clicked), None)

        # One signal for every way it closes: a custom button's result code is Qt's own business.
        box.finished.connect(lambda _code: self._closed(answer(), conflicts))
        self.box = box
        box.open()

    def _closed(self, side: Side | None, conflicts: tuple[Conflict, ...]) -> None:
        box, self.box = self.box, None
        if box is not None:
            box.deleteLater()
        self._answered(side, conflicts)


__all__ = ["ConflictQuestion"]
