"""``StrEnum``: a closed set of string states (a typo is a type error) that still store, serialise
and format as the plain string.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` are its value (like 3.11's ``enum.StrEnum``,
    which trayai cannot use while it runs on 3.10)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return str(self.value).__format__(spec)
