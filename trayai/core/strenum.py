"""``StrEnum``: a closed set of string values that still compare, format and serialise as the string.

Why: state that used to be a bare string ("done", "running", "stream") is now an enum, so a typo is
a type error, yet the values stored in SQLite, written to JSON and shown in text are unchanged:
members are ``str`` instances (equal to their value, stored and dumped as it) and ``str()``/f-strings
give the value, never ``Class.MEMBER``. ``enum.StrEnum`` does this from Python 3.11; trayai still
runs on 3.10.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` are its value (like 3.11's ``enum.StrEnum``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return str(self.value).__format__(spec)
