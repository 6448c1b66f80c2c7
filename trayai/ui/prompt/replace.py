"""Putting a rewrite (a translation, a correction) in place of the text selected in another window:
the answer on the clipboard, the keyboard given back to the window that had it when the quick prompt
opened, Ctrl+V pressed there, and the clipboard as it was put back. Only ever on a click.

Where the desktop lets no program press a key in another window (see core/paste_route.py) the answer
is only copied, and the button says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QObject, QProcess, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

from trayai.core.paste_route import PasteRoute, PasteWay, paste_command, paste_way
from trayai.ui.prompt.x11_paste import X11Keyboard, X11Unavailable

log = logging.getLogger(__name__)

MAX_SAVED_BYTES = 32_000_000  # a clipboard larger than this (a huge image) is not kept for restoring


@dataclass(frozen=True)
class ReplaceResult:
    """How a Replace or a Paste went, in words for the status line."""

    ok: bool
    words: str


def clipboard_snapshot(clipboard: QClipboard) -> QMimeData | None:
    """A copy of what the clipboard holds (each MIME type), or None when it is empty or too large."""
    source = clipboard.mimeData(QClipboard.Mode.Clipboard)
    copy = QMimeData()
    size = 0
    for kind in source.formats():
        if "/" not in kind:
            continue  # X11 bookkeeping targets (TARGETS, TIMESTAMP…), not content
        data = source.data(kind)
        size += data.size()
        if size > MAX_SAVED_BYTES:
            return None
        copy.setData(kind, data)
    return copy if copy.formats() else None


class SelectionReplacer(QObject):
    """Remembers the window at :meth:`capture`; :meth:`replace` and :meth:`paste` act on a click."""

    finished = Signal(object)  # a ReplaceResult

    POLL_MS = 20
    FOCUS_WAIT_MS = 2000  # the window manager gives the window the keyboard within this, or it failed
    SETTLE_MS = 150  # routes without a window to wait for: the desktop's own hand-back of the keyboard
    RESTORE_AFTER_MS = 800  # the other program has read the pasted clipboard by then

    def __init__(
        self, way: PasteWay | None = None, keyboard: X11Keyboard | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.way = way if way is not None else paste_way(QGuiApplication.platformName())
        self._keyboard = keyboard if keyboard is not None else X11Keyboard()
        self.target: int | None = None  # X11: the window that had the keyboard when the prompt opened
        self._waited = 0
        self._pending: tuple[str, QMimeData | None] | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(self.POLL_MS)
        self._poll.timeout.connect(self._check_focus)

    # ------------------------------------------------------------------ before showing

    def capture(self, own: Collection[int]) -> None:
        """X11: note the window with the keyboard now (not one of ``own``: a re-summon keeps the last)."""
        if self.way.route is not PasteRoute.XTEST:
            return
        try:
            window = self._keyboard.focused()
        except X11Unavailable as exc:
            log.info("replace: %s", exc)
            self.way = PasteWay(PasteRoute.NONE, f"{exc}: the answer is copied instead.")
            return
        if window is not None and window not in own:
            self.target = window

    @property
    def can_replace(self) -> bool:
        return self.way.can_replace and (self.way.route is not PasteRoute.XTEST or self.target is not None)

    @property
    def why_not(self) -> str:
        if self.way.can_replace and not self.can_replace:
            return "trayai did not see which window had the selection: the answer is copied instead."
        return self.way.why_not

    # ------------------------------------------------------------------ on a click

    def replace(self, text: str, hide: Callable[[], None]) -> None:
        """The answer in place of the selection: clipboard, the keyboard back, Ctrl+V, clipboard back."""
        clipboard = QGuiApplication.clipboard()
        saved = clipboard_snapshot(clipboard)
        clipboard.setText(text)
        hide()
        self._pending = (text, saved)
        if self.way.route is PasteRoute.XTEST and self.target is not None:
            try:
                self._keyboard.give_keyboard(self.target)
            except X11Unavailable as exc:
                self._fail(f"Could not return to the window ({exc})")
                return
            self._waited = 0
            self._poll.start()
        else:
            QTimer.singleShot(self.SETTLE_MS, self._press_with_program)

    def copy(self, text: str) -> None:
        """Where no keystroke can reach the other window: the answer on the clipboard, nothing else."""
        QGuiApplication.clipboard().setText(text)

    def paste(self, text: str, hide: Callable[[], None]) -> None:
        """The answer on the clipboard (kept there) and the keyboard back to the window: Ctrl+V is yours."""
        QGuiApplication.clipboard().setText(text)
        hide()
        if self.way.route is PasteRoute.XTEST and self.target is not None:
            try:
                self._keyboard.give_keyboard(self.target)
            except X11Unavailable as exc:
                log.info("paste: %s", exc)
        self.finished.emit(ReplaceResult(True, "The answer is on the clipboard: press Ctrl+V where it goes."))

    # ------------------------------------------------------------------ the steps

    def _check_focus(self) -> None:
        self._waited += self.POLL_MS
        try:
            back = self._keyboard.focused() == self.target
        except X11Unavailable as exc:
            self._poll.stop()
            self._fail(f"Could not return to the window ({exc})")
            return
        if back:
            self._poll.stop()
            try:
                self._keyboard.press_paste()
            except X11Unavailable as exc:
                self._fail(f"Could not press Ctrl+V ({exc})")
                return
            self._pasted()
        elif self._waited >= self.FOCUS_WAIT_MS:
            self._poll.stop()
            self._fail("The window that had the selection did not take the keyboard back")

    def _press_with_program(self) -> None:
        command = paste_command(self.way.route)
        if not command or not QProcess.startDetached(command[0], command[1:]):
            self._fail(f"Could not run {command[0] if command else 'a paste tool'}")
            return
        self._pasted()

    def _pasted(self) -> None:
        log.info("replace: the paste key was sent (%s)", self.way.route)
        QTimer.singleShot(self.RESTORE_AFTER_MS, self._restore)
        self.finished.emit(ReplaceResult(True, "Replaced the selection."))

    def _restore(self) -> None:
        """The clipboard as it was, unless something else was copied meanwhile (that stays)."""
        if self._pending is None:
            return
        text, saved = self._pending
        self._pending = None
        clipboard = QGuiApplication.clipboard()
        if clipboard.text(QClipboard.Mode.Clipboard) != text:
            return
        if saved is None:
            clipboard.clear(QClipboard.Mode.Clipboard)
        else:
            clipboard.setMimeData(saved, QClipboard.Mode.Clipboard)
        log.info("replace: the clipboard was put back")

    def _fail(self, why: str) -> None:
        self._pending = None  # the answer stays on the clipboard: it can still be pasted by hand
        log.warning("replace: %s", why)
        self.finished.emit(
            ReplaceResult(False, f"{why}: the answer is on the clipboard — paste it with Ctrl+V.")
        )

    def close(self) -> None:
        self._poll.stop()
        self._keyboard.close()


__all__ = ["ReplaceResult", "SelectionReplacer", "clipboard_snapshot"]
