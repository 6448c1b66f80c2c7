"""A small, strict ``.env`` reader: it records which file each value came from (to tell the user)
and never exports anything into ``os.environ`` — what python-dotenv would not give us.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_INLINE_COMMENT = re.compile(r"\s#.*$")


@dataclass(frozen=True)
class EnvValue:
    """One variable read from a ``.env`` file, with where it came from."""

    value: str
    source: str  # e.g. "/home/me/project/.env:3"


def parse_env_text(text: str, source: str = ".env") -> dict[str, EnvValue]:
    """Parse ``KEY=value`` lines; quotes are stripped, ``#`` starts a comment outside quotes."""
    result: dict[str, EnvValue] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            continue  # tolerate junk lines, as shells and python-dotenv do
        key, rest = match.group(1), match.group(2).strip()
        result[key] = EnvValue(_unquote(rest), f"{source}:{number}")
    return result


def read_env_file(path: Path) -> dict[str, EnvValue]:
    """Read ``path``; a missing or unreadable file yields nothing (it is optional by nature)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors may prepend a BOM
    except (OSError, UnicodeDecodeError):
        return {}
    return parse_env_text(text, str(path))


def _unquote(value: str) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        if end != -1:
            inner = value[1:end]
            return inner.replace("\\n", "\n") if quote == '"' else inner
    # Unquoted: strip an inline comment (whitespace then "#...").
    return _INLINE_COMMENT.sub("", value).strip()
