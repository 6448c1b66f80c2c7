"""The library window's few own colours — the fit marker, capability chips, failure and success text —
taken from the theme showing now (``ui/theme.py``; contrast-checked in ``core/theme.py``), never typed in.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QStyle, QWidget

from trayai.core.library.fit import Verdict
from trayai.ui.theme import current_theme

# A marker differs by shape as well as colour: it reads without colour vision too.
MARKERS = {Verdict.FITS: "●", Verdict.SMALLER_CONTEXT: "◐", Verdict.TOO_LARGE: "○"}


def marker_style(verdict: Verdict) -> str:
    theme = current_theme()
    colour = {
        Verdict.FITS: theme.success,
        Verdict.SMALLER_CONTEXT: theme.link,
        Verdict.TOO_LARGE: theme.error,
    }
    return f"QLabel {{ color: {colour[verdict]}; }}"


def chip_style() -> str:
    theme = current_theme()
    return (
        f"QLabel {{ color: {theme.text}; background: {theme.alternate_base}; border: 1px solid "
        f"{theme.card_border}; border-radius: 8px; padding: 0px 6px; }}"
    )


def text_style(kind: str) -> str:
    """``error``, ``success`` or ``muted`` text."""
    return f"QLabel {{ color: {current_theme().colour(kind)}; }}"


def card_style(selector: str) -> str:
    theme = current_theme()
    frame = f"border: 1px solid {theme.card_border}; border-radius: 6px;"
    return f"{selector} {{ background: {theme.card}; {frame} }}"


def standard_icon(widget: QWidget, pixmap: QStyle.StandardPixmap) -> QIcon:
    """The style's own icon for a button (no icon files of our own to ship)."""
    return widget.style().standardIcon(pixmap)


__all__ = ["MARKERS", "card_style", "chip_style", "marker_style", "standard_icon", "text_style"]
