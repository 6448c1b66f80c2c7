"""Sidebar headings by local calendar day."""

from __future__ import annotations

from datetime import datetime

from trayai.core.chat.chatgroups import ChatGroup, group_of


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_conversations_are_grouped_by_local_day() -> None:
    now = at("2026-11-29 00:30")
    assert group_of(at("2026-11-29 00:01"), pinned=False, now=now) is ChatGroup.TODAY
    assert group_of(at("2026-11-28 23:59"), pinned=False, now=now) is ChatGroup.YESTERDAY  # 31 min ago
    assert group_of(at("2026-11-23 12:00"), pinned=False, now=now) is ChatGroup.WEEK
    assert group_of(at("2026-11-22 12:00"), pinned=False, now=now) is ChatGroup.EARLIER
    assert group_of(at("2020-01-01 12:00"), pinned=True, now=now) is ChatGroup.PINNED
