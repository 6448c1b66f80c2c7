"""Guards against a Qt binding that corrupts reference counts on the calls qasync makes per socket event.

PySide6-Essentials 6.12.0 over-releases ``None`` in ``QSocketNotifier.setEnabled`` and ``True`` in
``disconnect()``; qasync makes both calls for every socket readiness, so after a few thousand HTTP
requests the interpreter aborts ("bool_dealloc"/"none_dealloc"). pyproject excludes that release; this
test fails if such a build is installed again.
"""

from __future__ import annotations

import socket
import sys

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication


def test_socket_notifier_calls_keep_reference_counts(qapp: QApplication) -> None:
    a, b = socket.socketpair()
    try:
        none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
        for _ in range(200):
            notifier = QSocketNotifier(a.fileno(), QSocketNotifier.Type.Read)
            notifier.setEnabled(True)
            notifier.setEnabled(False)
            notifier.activated.connect(_noop)
            notifier.activated.disconnect()
            del notifier
        assert sys.getrefcount(True) - true_before >= -5
        assert sys.getrefcount(None) - none_before >= -5
    finally:
        a.close()
        b.close()


def _noop() -> None:
    return None
