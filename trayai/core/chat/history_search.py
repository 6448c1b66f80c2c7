"""Full-text search of the history (SQLite FTS5): the user's words made a safe query, hits on
messages best first and on titles, snippets with the matched words marked.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_records import HistoryPart

# Markers around matches in search snippets; callers turn them into bold/colour.
MATCH_START = "\x02"
MATCH_END = "\x03"
SNIPPET_REACH = 30  # characters kept either side of the first match in a list's one line


@dataclass(frozen=True)
class SearchHit:
    """One search result: where it is (to open the conversation at that message) and a snippet."""

    conversation_id: int
    title: str
    message_id: int | None  # None when only the title matched
    index: int  # position of the message in its conversation (0 for a title match)
    role: str
    snippet: str  # with MATCH_START/MATCH_END around matched words
    updated: float


def fts_query(text: str) -> str:
    """The user's words as a safe FTS5 query: each quoted (punctuation can't make a syntax error), all
    required, the last one a prefix (results follow typing)."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    if not words:
        return ""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class HistorySearch(HistoryPart):
    """Searching every conversation that is not deleted."""

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages (and titles) matching every word of ``text``, best match first."""
        hits: list[SearchHit] = []
        query = fts_query(text)
        if not query:
            return hits
        try:
            rows = self._db.conn.execute(
                "SELECT m.id, m.conversation_id, m.role, c.title, c.updated, "
                "  (SELECT COUNT(*) FROM messages p WHERE p.conversation_id = m.conversation_id "
                "   AND p.seq < m.seq) AS idx, "
                "  snippet(messages_fts, 0, ?, ?, '…', 16) AS snip "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL "
                "ORDER BY bm25(messages_fts), c.updated DESC LIMIT ?",
                (MATCH_START, MATCH_END, query, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:  # pragma: no cover - fts_query quotes everything
            raise HistoryError(f"Search failed: {exc}", "Try other words.") from exc
        message_hits = [
            SearchHit(
                conversation_id=int(row["conversation_id"]),
                title=str(row["title"]),
                message_id=int(row["id"]),
                index=int(row["idx"]),
                role=str(row["role"]),
                snippet=" ".join(str(row["snip"]).split()),
                updated=float(row["updated"]),
            )
            for row in rows
        ]
        # Titles the user chose, or of conversations whose text did not match, are hits too.
        matched = {h.conversation_id for h in message_hits}
        words = re.findall(r"\w+", text, flags=re.UNICODE)
        for row in self._run(
            "SELECT id, title, title_set, updated FROM conversations WHERE deleted_at IS NULL "
            "ORDER BY updated DESC"
        ).fetchall():
            title = str(row["title"])
            if (row["title_set"] or int(row["id"]) not in matched) and all(
                w.casefold() in title.casefold() for w in words
            ):
                hits.append(
                    SearchHit(
                        int(row["id"]), title, None, 0, "title", _mark(title, words), float(row["updated"])
                    )
                )
        hits = hits[:limit] + message_hits
        return hits[: limit * 2]


def centred(snippet: str, reach: int = SNIPPET_REACH) -> str:
    """``snippet`` cut to about ``reach`` characters either side of its first match, at word
    boundaries, "…" where cut: a narrow list elides the end, so the match must sit near the start."""
    start = snippet.find(MATCH_START)
    if start < 0:
        return snippet
    end = snippet.find(MATCH_END, start)
    end = start if end < 0 else end
    left = max(0, start - reach)
    if left > 0:
        space = snippet.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    right = min(len(snippet), end + 1 + reach)
    if right < len(snippet):
        space = snippet.rfind(" ", end + 1, right)
        right = space if space >= 0 else right
    part = snippet[left:right].strip()
    if part.count(MATCH_START) > part.count(MATCH_END):
        part += MATCH_END  # a later match cut in half stays closed
    head = "…" if left > 0 and not part.startswith("…") else ""
    tail = "…" if right < len(snippet) and not part.endswith("…") else ""
    return head + part + tail


def _mark(text: str, words: list[str]) -> str:
    for word in sorted(set(words), key=len, reverse=True):
        text = re.sub(f"({re.escape(word)})", MATCH_START + r"\1" + MATCH_END, text, flags=re.I)
    return text
