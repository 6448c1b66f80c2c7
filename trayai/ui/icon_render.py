"""The app icon's SVG drawn as a PNG of a given size, for the hicolor theme (``trayai desktop install``).

Menus and docks that do not read SVG (and icon caches) want fixed-size PNGs; Qt's own SVG renderer
draws them, so no other image library is needed. Usable from the CLI: without a running application it
starts an offscreen one, as the bench chart does.
"""

from __future__ import annotations

import os

from trayai.core.desktop_entry import DesktopError


def render_png(svg: bytes, size: int) -> bytes:
    """``svg`` scaled to ``size``×``size`` (aspect kept, transparent around it) as PNG bytes."""
    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt

    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtGui import QImage, QPainter

    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtSvg import QSvgRenderer

    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a CLI run needs no display
        # A QApplication (not a QGuiApplication): it outlives this call, and widgets made later in
        # the same process need this kind.
        QApplication([])
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise DesktopError("trayai's icon is not a valid SVG", "reinstall trayai")
    renderer.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 takes the format as str at run time (its stubs say bytes, which raises ValueError).
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise DesktopError(f"could not draw trayai's icon at {size}×{size}", "reinstall trayai")
    return bytes(buffer.data().data())


__all__ = ["render_png"]
