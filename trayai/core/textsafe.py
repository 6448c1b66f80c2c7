"""Server text made safe to store and print: U+FFFD for invalid code points, no terminal controls
(docs/architecture.md, "Security: untrusted server text and the API key").
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_C1_OR_DEL = re.compile("[\x7f-\x9f]")
_NOT_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NOT_PLAIN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # all but text, \t, \n
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}
# Strings that end at BEL or ST: OSC, DCS, SOS, PM, APC (after ESC, or as 8-bit C1 controls).
_STRING_AFTER_ESC = frozenset("]PX^_")
_STRING_C1 = frozenset("\x9d\x90\x98\x9e\x9f")
_MAX_SEQUENCE = 4096  # an unterminated sequence stops hiding text after this many characters


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate (valid JSON, invalid Unicode) replaced by U+FFFD."""
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def valid_data(value: Any) -> Any:
    """:func:`valid_text` applied to every string inside JSON-like data (dict keys included)."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_data(k): valid_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [valid_data(v) for v in value]
    return value


def escape_line(text: str) -> str:
    """One line for a table or a message: controls shown visibly (``\\n``, ``\\e``, ``\\x9b``).

    For model ids, server names and error messages: a newline in a model id must not print a fake line.
    """
    if text.isascii() and text.isprintable():
        return text
    return _NOT_SINGLE_LINE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def json_safe(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with DEL/C1 controls and lone surrogates as ``\\u`` escapes.

    Outside strings JSON is ASCII, so the result is still valid JSON with the same value.
    """
    text = _C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def not_markup(text: str) -> str:
    """Text Qt can never take for rich text: tooltips, labels and notifications guess from a '<'."""
    return text.replace("<", "\u2039")  # ‹ reads the same and opens no tag


def strip_controls(text: str) -> str:
    """A whole text for a terminal: see :class:`TerminalSanitizer`."""
    return TerminalSanitizer().feed(text)


class TerminalSanitizer:
    """Streamed answer text for a terminal: keeps newline and tab, drops every other control.

    Every ESC and C1 control is dropped, so no sequence can reach the terminal whatever the chunking;
    the state only hides the payload of a sequence (``]52;c;…``) even when it is split across deltas.
    Carriage returns are dropped too (they let a line overwrite itself). Lone surrogates become U+FFFD.
    """

    def __init__(self) -> None:
        self._state = _TEXT
        self._length = 0  # characters swallowed by the current sequence

    def feed(self, text: str) -> str:
        if self._state == _TEXT and not _NOT_PLAIN.search(text):
            return text  # the common case: one plain delta
        out: list[str] = []
        for char in text:
            self._step(char, out)
        return valid_text("".join(out))

    def _step(self, char: str, out: list[str]) -> None:
        state = self._state
        if state != _TEXT:
            self._length += 1
            if self._length > _MAX_SEQUENCE or char == "\n":
                self._state = state = _TEXT  # unterminated: stop hiding (the ESC is gone anyway)
        if state == _TEXT:
            self._text(char, out)
        elif state == _ESC:
            self._after_esc(char, out)
        elif state == _ESC_INTER:
            if not "\x20" <= char <= "\x2f":
                self._state = _TEXT
                if not "\x30" <= char <= "\x7e":
                    self._text(char, out)
        elif state == _CSI:
            if "\x40" <= char <= "\x7e":
                self._state = _TEXT
            elif not "\x20" <= char <= "\x3f":
                self._state = _TEXT
                self._text(char, out)
        elif state == _STRING:
            if char in "\x07\x9c":
                self._state = _TEXT
            elif char == "\x1b":
                self._state = _STRING_ESC
        else:  # _STRING_ESC: ESC \ is ST; any other ESC starts a new sequence
            self._state = _TEXT if char == "\\" else _ESC
            if char != "\\":
                self._after_esc(char, out)

    def _text(self, char: str, out: list[str]) -> None:
        self._length = 0
        if char == "\x1b":
            self._state = _ESC
        elif char == "\x9b":
            self._state = _CSI
        elif char in _STRING_C1:
            self._state = _STRING
        elif char in "\n\t" or not _is_control(char):
            out.append(char)

    def _after_esc(self, char: str, out: list[str]) -> None:
        if char == "[":
            self._state = _CSI
        elif char in _STRING_AFTER_ESC:
            self._state = _STRING
        elif char == "\x1b":
            self._state = _ESC
        elif "\x20" <= char <= "\x2f":
            self._state = _ESC_INTER
        elif "\x30" <= char <= "\x7e":
            self._state = _TEXT  # a two-character sequence (ESC 7, ESC c): dropped
        else:
            self._state = _TEXT
            self._text(char, out)


def _is_control(char: str) -> bool:
    return char < "\x20" or "\x7f" <= char <= "\x9f"


_TEXT, _ESC, _ESC_INTER, _CSI, _STRING, _STRING_ESC = range(6)
