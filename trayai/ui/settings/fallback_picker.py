"""A profile's fallbacks picked from the other profiles, in order — not typed as comma-separated names
(a typo there only showed up when OK refused it). The file keeps the same comma-separated value.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton

from trayai.core.settings.fields import FieldSpec
from trayai.ui.settings.fields import FieldEditor

NONE_TEXT = "none"


class FallbackEditor(FieldEditor):
    """A button showing the chain ("ollama → lab") with a menu of the other profiles to tick, in the
    order ticked; a name that is no profile any more stays in the chain, marked, until unticked."""

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self.optional = False
        self.kind = "str"
        self.button = QToolButton()
        self.button.setObjectName(spec.name)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setToolTip(f"{spec.description} Tick the profiles to try, in order.")
        self.button.setAccessibleName("Fallback profiles")
        self.menu = QMenu(self.button)
        self.button.setMenu(self.menu)
        self.menu.triggered.connect(self._on_triggered)
        self.widget = self.button
        self._chain: list[str] = []
        self._others: list[str] = []

    def set_choices(self, others: list[str]) -> None:
        """The profiles this one may fall back to (every other one, in the list's order)."""
        self._others = list(others)
        self._redraw()

    def load(self, value: object) -> None:
        names = [n.strip() for n in str(value or "").split(",")]
        self._chain = list(dict.fromkeys(n for n in names if n))
        self._redraw()

    def value(self) -> str:
        return ", ".join(self._chain)

    def lock(self, reason: str | None) -> None:
        self.button.setEnabled(reason is None)

    def _redraw(self) -> None:
        self.button.setText(" → ".join(self._label(n) for n in self._chain) if self._chain else NONE_TEXT)
        self.menu.clear()
        none = self.menu.addAction("No fallback")
        none.setData("")
        none.setCheckable(True)
        none.setChecked(not self._chain)
        self.menu.addSeparator()
        for name in [*self._others, *(n for n in self._chain if n not in self._others)]:
            place = f"{self._chain.index(name) + 1}. " if name in self._chain else ""
            action = self.menu.addAction(f"{place}{self._label(name)}")
            action.setData(name)
            action.setCheckable(True)
            action.setChecked(name in self._chain)
        if not self._others:
            self.menu.addAction("(add another profile first)").setEnabled(False)

    def _label(self, name: str) -> str:
        return name if name in self._others else f"{name} (no such profile)"

    def _on_triggered(self, action: QAction) -> None:
        name = str(action.data() or "")
        if not name:
            self._chain = []
        elif name in self._chain:
            self._chain.remove(name)
        else:
            self._chain.append(name)
        self._redraw()


__all__ = ["FallbackEditor"]
