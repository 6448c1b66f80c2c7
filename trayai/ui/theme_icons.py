"""The icons of the chat's buttons: the desktop theme's own where it has one and its palette is in use,
else a bundled monochrome 24×24 SVG (``trayai/resources/icons/``) drawn in the theme's icon colour, so
it reaches 3:1 on light and dark alike (core/theme.py checks the colour).

One table says, per button, which freedesktop icon name to ask the theme for and which file stands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from trayai.core.strenum import StrEnum
from trayai.core.theme import DARK, LIGHT, Theme
from trayai.ui.icons import icons_dir
from trayai.ui.theme import current_theme


class ButtonIcon(StrEnum):
    """What a chat button does, as its icon shows it (the value names the bundled file)."""

    COPY = "copy"
    COPY_THINKING = "copy-thinking"
    EDIT = "edit"
    REGENERATE = "regenerate"
    PREVIOUS = "previous"
    NEXT = "next"
    CLOSE = "close"
    ALLOW = "allow"
    ALWAYS = "always"
    DENY = "deny"
    TOOL = "tool"


@dataclass(frozen=True)
class IconSource:
    """Where a button's icon comes from: the theme's name for it (None: the theme has none that
    says the same), and the bundled file drawn when the theme cannot."""

    theme_name: str | None
    fallback: str


ICONS: dict[ButtonIcon, IconSource] = {
    ButtonIcon.COPY: IconSource("edit-copy", "copy.svg"),
    ButtonIcon.COPY_THINKING: IconSource(None, "copy-thinking.svg"),  # no theme icon says "the thinking"
    ButtonIcon.EDIT: IconSource("document-edit", "edit.svg"),
    ButtonIcon.REGENERATE: IconSource("view-refresh", "regenerate.svg"),
    ButtonIcon.PREVIOUS: IconSource("go-previous", "previous.svg"),
    ButtonIcon.NEXT: IconSource("go-next", "next.svg"),
    ButtonIcon.CLOSE: IconSource("window-close", "close.svg"),
    ButtonIcon.ALLOW: IconSource("dialog-ok", "allow.svg"),
    ButtonIcon.ALWAYS: IconSource(None, "always.svg"),  # no theme icon says "and from now on"
    ButtonIcon.DENY: IconSource("dialog-cancel", "deny.svg"),
    ButtonIcon.TOOL: IconSource(None, "tool.svg"),  # no standard name for "a tool (MCP) call"
}

# Drawn at these sizes (×2 for HiDPI): Qt picks the nearest for each button and scale.
_SIZES = (16, 18, 20, 24, 32, 36, 40, 48)


def button_icon(name: ButtonIcon, theme: Theme | None = None) -> QIcon:
    """The icon for ``name`` in the theme showing now (or ``theme``): the desktop theme's when the
    desktop's palette is in use and its theme has it, else the bundled SVG in ``theme.icon``."""
    shown = theme if theme is not None else current_theme()
    source = ICONS[name]
    own_palette = shown in (LIGHT, DARK)  # trayai's own light/dark: a theme icon may not suit it
    if source.theme_name and not own_palette and QIcon.hasThemeIcon(source.theme_name):
        return QIcon.fromTheme(source.theme_name)
    return bundled_icon(name, shown.icon)


@cache
def bundled_icon(name: ButtonIcon, colour: str) -> QIcon:
    """The bundled SVG of ``name`` drawn in ``colour`` at every size a button asks for."""
    icon = QIcon()
    for size in _SIZES:
        icon.addPixmap(QPixmap.fromImage(render_bundled(name, colour, size)))
    return icon


def render_bundled(name: ButtonIcon, colour: str, size: int) -> QImage:
    """The bundled SVG of ``name`` in ``colour`` as a ``size``×``size`` image (transparent around it);
    a file that is missing or that Qt cannot read raises ``OSError`` naming it."""
    path = icons_dir() / ICONS[name].fallback
    svg = path.read_text(encoding="utf-8").replace("currentColor", colour)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise OSError(f"icon cannot be drawn (not a valid SVG?): {path}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


__all__ = ["ICONS", "ButtonIcon", "IconSource", "bundled_icon", "button_icon", "render_bundled"]
