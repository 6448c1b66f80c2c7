"""The few X requests a global key grab needs, on our own XCB connection through ctypes.

libxcb is already in the process (Qt's xcb plugin links it), so this costs the tray ~0.5 MB where
python-xlib cost ~2.5 MB for the same grab: its whole protocol is built in Python at import. The
connection is our own, not Qt's, so a grab works whatever platform plugin Qt runs on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import cache
from typing import Any

KEY_PRESS = 2
BAD_ACCESS = 10  # X's error code when another client holds the grab
GRAB_MODE_ASYNC = 1

SHIFT_MASK, LOCK_MASK, CONTROL_MASK, MOD1_MASK, MOD2_MASK, MOD4_MASK = 1, 2, 4, 8, 16, 64


class XcbError(OSError):
    """No X server at that display, or the connection broke."""


class _Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class _ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


@dataclass(frozen=True)
class KeyPress:
    """What the hotkey needs of an X KeyPress event."""

    keycode: int
    state: int  # the modifier mask at the press
    time: int  # the X server's timestamp (for focus requests)


@cache
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("xcb") or "libxcb.so.1"
    lib = ctypes.CDLL(name)
    p, u8, u16, u32 = ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
    signatures: dict[str, tuple[list[object], object]] = {
        "xcb_connect": ([ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)], p),
        "xcb_connection_has_error": ([p], ctypes.c_int),
        "xcb_disconnect": ([p], None),
        "xcb_get_file_descriptor": ([p], ctypes.c_int),
        "xcb_get_setup": ([p], p),
        "xcb_setup_roots_iterator": ([p], _ScreenIterator),
        "xcb_get_keyboard_mapping": ([p, u8, u8], _Cookie),
        "xcb_get_keyboard_mapping_reply": ([p, _Cookie, p], p),
        "xcb_grab_key_checked": ([p, u8, u32, u16, u8, u8, u8], _Cookie),
        "xcb_ungrab_key_checked": ([p, u8, u32, u16], _Cookie),
        "xcb_request_check": ([p, _Cookie], p),
        "xcb_poll_for_event": ([p], p),
        "xcb_flush": ([p], ctypes.c_int),
    }
    for function, (argtypes, restype) in signatures.items():
        fn = getattr(lib, function)
        fn.argtypes = argtypes
        fn.restype = restype
    return lib


@cache
def _free() -> Any:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    return libc.free


class XcbConnection:
    """One connection to the X server named by ``display`` (``None``: $DISPLAY)."""

    def __init__(self, display: str | None) -> None:
        self._lib = _lib()
        screen = ctypes.c_int(0)
        self._conn = self._lib.xcb_connect(display.encode() if display else None, ctypes.byref(screen))
        if not self._conn or self._lib.xcb_connection_has_error(self._conn):
            conn, self._conn = self._conn, None
            if conn:
                self._lib.xcb_disconnect(conn)
            raise XcbError(f"cannot open the X display {display or '$DISPLAY'}")
        setup = self._lib.xcb_get_setup(self._conn)
        self.min_keycode, self.max_keycode = ctypes.string_at(setup + 34, 2)
        roots = self._lib.xcb_setup_roots_iterator(setup)
        for _ in range(screen.value):  # the screen the display name asked for (":0.1")
            roots.data += _screen_size(roots.data)
        self.root = ctypes.c_uint32.from_address(roots.data).value

    def fileno(self) -> int:
        return int(self._lib.xcb_get_file_descriptor(self._conn))

    def broken(self) -> bool:
        return self._conn is None or bool(self._lib.xcb_connection_has_error(self._conn))

    def keycodes(self, keysym: int) -> list[int]:
        """Every key of this keyboard that produces ``keysym`` (in any of its shift levels)."""
        first, count = self.min_keycode, self.max_keycode - self.min_keycode + 1
        cookie = self._lib.xcb_get_keyboard_mapping(self._conn, first, count)
        reply = self._lib.xcb_get_keyboard_mapping_reply(self._conn, cookie, None)
        if not reply:
            raise XcbError("the X server did not send its keyboard mapping")
        try:
            per_key = ctypes.c_uint8.from_address(reply + 1).value
            total = ctypes.c_uint32.from_address(reply + 4).value  # 4-byte units after the header
            syms = (ctypes.c_uint32 * total).from_address(reply + 32)
            return [first + i // per_key for i in range(total) if per_key and syms[i] == keysym]
        finally:
            _free()(reply)

    def grab(self, keycode: int, modifiers: int) -> bool:
        """A passive grab of the key on the root window; False when another client holds it."""
        cookie = self._lib.xcb_grab_key_checked(
            self._conn, 1, self.root, modifiers, keycode, GRAB_MODE_ASYNC, GRAB_MODE_ASYNC
        )
        return self._checked(cookie)

    def ungrab(self, keycode: int, modifiers: int) -> None:
        self._checked(self._lib.xcb_ungrab_key_checked(self._conn, keycode, self.root, modifiers))

    def _checked(self, cookie: _Cookie) -> bool:
        """Wait for the request's outcome: True when it succeeded, False on BadAccess."""
        error = self._lib.xcb_request_check(self._conn, cookie)
        if not error:
            if self.broken():
                raise XcbError("the X connection broke")
            return True
        try:
            code = ctypes.c_uint8.from_address(error + 1).value
        finally:
            _free()(error)
        if code == BAD_ACCESS:
            return False
        raise XcbError(f"the X server refused a key grab (error {code})")

    def key_presses(self) -> list[KeyPress]:
        """The key presses queued on the connection (other events are dropped)."""
        presses = []
        while event := self._lib.xcb_poll_for_event(self._conn):
            try:
                if ctypes.c_uint8.from_address(event).value & 0x7F == KEY_PRESS:
                    presses.append(
                        KeyPress(
                            keycode=ctypes.c_uint8.from_address(event + 1).value,
                            time=ctypes.c_uint32.from_address(event + 4).value,
                            state=ctypes.c_uint16.from_address(event + 28).value,
                        )
                    )
            finally:
                _free()(event)
        return presses

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn:
            self._lib.xcb_disconnect(conn)


def _screen_size(screen: int) -> int:
    """Bytes of one ``xcb_screen_t`` and its depths/visuals, to step to the next screen."""
    size = 40
    depths = ctypes.c_uint8.from_address(screen + 39).value
    for _ in range(depths):
        visuals = ctypes.c_uint16.from_address(screen + size + 2).value
        size += 8 + 24 * visuals
    return size
