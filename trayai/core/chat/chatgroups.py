"""Which heading a conversation goes under in the sidebar: Pinned, Today, Yesterday, Previous 7
days, Earlier (local calendar days, so "Yesterday" means what a person means by it)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from trayai.core.strenum import StrEnum


class ChatGroup(StrEnum):
    PINNED = "Pinned"
    TODAY = "Today"
    YESTERDAY = "Yesterday"
    WEEK = "Previous 7 days"
    EARLIER = "Earlier"


def group_of(updated: float, *, pinned: bool, now: float) -> ChatGroup:
    if pinned:
        return ChatGroup.PINNED
    today: date = datetime.fromtimestamp(now).date()
    day = datetime.fromtimestamp(updated).date()
    if day >= today:
        return ChatGroup.TODAY
    if day == today - timedelta(days=1):
        return ChatGroup.YESTERDAY
    if day > today - timedelta(days=7):
        return ChatGroup.WEEK
    return ChatGroup.EARLIER
