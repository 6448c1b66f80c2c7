"""A small PNG chart of ``trayai bench``'s concurrency sweep, drawn with Qt (no plotting library).

Grouped bars: aggregate tokens/s per number of concurrent streams, one colour per endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from trayai.core.bench import BenchReport

COLOURS = ("#2f6fdb", "#2e9d4a", "#d9822b", "#8a8a8a")


def save_bench_chart(reports: Sequence[BenchReport], path: str, width: int = 720, height: int = 400) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a CLI run needs no display
    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtCore import QRectF, Qt

    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtWidgets import QApplication

    # A full QApplication, not a QGuiApplication: an app object outlives this call, and any widget
    # created later in the same process (the tray, tests) needs the QApplication kind.
    _app = QApplication.instance() or QApplication([])
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    left, right, top, bottom = 70, 20, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    levels = [c.streams for c in reports[0].concurrency]
    peak = max((c.aggregate_tokens_per_s for r in reports for c in r.concurrency), default=1.0) or 1.0
    painter.setFont(QFont("DejaVu Sans", 10))
    painter.setPen(QColor("#222222"))
    painter.drawText(
        QRectF(0, 8, width, 24),
        Qt.AlignmentFlag.AlignCenter,
        "trayai bench — aggregate tokens/s by concurrent streams",
    )
    painter.drawLine(left, top + plot_h, left + plot_w, top + plot_h)
    painter.drawLine(left, top, left, top + plot_h)
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        painter.drawText(
            QRectF(0, y - 8, left - 8, 16),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"{value:.0f}",
        )
    group_w = plot_w / max(1, len(levels))
    bar_w = group_w * 0.7 / max(1, len(reports))
    for g, level in enumerate(levels):
        x0 = left + g * group_w + group_w * 0.15
        for i, report in enumerate(reports):
            figures = next((c for c in report.concurrency if c.streams == level), None)
            if figures is None:
                continue
            h = plot_h * figures.aggregate_tokens_per_s / peak
            painter.fillRect(QRectF(x0 + i * bar_w, top + plot_h - h, bar_w - 2, h), QColor(COLOURS[i % 4]))
        painter.setPen(QColor("#222222"))
        painter.drawText(
            QRectF(left + g * group_w, top + plot_h + 4, group_w, 18),
            Qt.AlignmentFlag.AlignCenter,
            str(level),
        )
    slot = (width - left) / max(1, len(reports))
    metrics = painter.fontMetrics()
    for i, report in enumerate(reports):
        x = left + i * slot
        painter.fillRect(QRectF(x, height - 26, 12, 12), QColor(COLOURS[i % 4]))
        label = metrics.elidedText(
            f"{report.endpoint} ({report.model})", Qt.TextElideMode.ElideMiddle, int(slot - 30)
        )
        painter.drawText(QRectF(x + 18, height - 30, slot - 24, 20), Qt.AlignmentFlag.AlignVCenter, label)
    painter.end()
    if not image.save(path):
        raise OSError(f"could not write the chart to {path}")
