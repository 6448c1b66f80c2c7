"""A progress bar inside the transcript's rich text: the style's own progress bar (what a QProgressBar
looks like on this desktop) drawn into an image the document holds, so the wait line can say how far
the server has read the prompt with the bar a person knows, not a row of characters.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QUrl
from PySide6.QtGui import QImage, QPainter, QTextDocument
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionProgressBar

BAR_WIDTH = 240  # logical pixels: wide enough to read a change of 1 %, narrow enough for 480 px windows
BAR_HEIGHT = 10
STEPS = 1000  # the bar's resolution (a tenth of a per cent)
SCHEME = "trayai-bar"  # the image's name in the document (never a file or a URL that is fetched)


def bar_image(fraction: float, dpr: float) -> QImage:
    """The style's progress bar at ``fraction`` (0–1), drawn at ``dpr`` for a crisp 2× screen."""
    scale = max(1.0, dpr)
    image = QImage(
        round(BAR_WIDTH * scale), round(BAR_HEIGHT * scale), QImage.Format.Format_ARGB32_Premultiplied
    )
    image.setDevicePixelRatio(scale)
    image.fill(0)
    option = QStyleOptionProgressBar()
    option.rect = QRect(0, 0, BAR_WIDTH, BAR_HEIGHT)
    option.minimum, option.maximum = 0, STEPS
    option.progress = round(STEPS * min(1.0, max(0.0, fraction)))
    option.textVisible = False
    option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
    option.palette = QApplication.palette()
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, option, painter)
    finally:
        painter.end()
    return image


def bar_html(document: QTextDocument, key: str, fraction: float, dpr: float) -> str:
    """An ``<img>`` of the bar at ``fraction``, its image put in ``document`` under ``key`` and the
    tenth of a per cent (a new name per step: a redrawn section never shows a stale image)."""
    name = f"{SCHEME}:{key}/{round(STEPS * min(1.0, max(0.0, fraction)))}"
    url = QUrl(name)
    if document.resource(QTextDocument.ResourceType.ImageResource, url) is None:
        document.addResource(QTextDocument.ResourceType.ImageResource, url, bar_image(fraction, dpr))
    return f'<img src="{name}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}">'


__all__ = ["BAR_HEIGHT", "BAR_WIDTH", "bar_html", "bar_image"]
