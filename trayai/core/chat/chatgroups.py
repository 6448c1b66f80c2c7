"""Which heading a conversation goes under in the sidebar: Pinned, Today, Yesterday, Previous 7
days, Earlier (local calendar days, so "Yesterday" means what a person means by it), and the quick
prompt's one-off exchanges under a heading of their own, last, instead of flooding Today."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from trayai.core.strenum import StrEnum


class ChatGroup(StrEnum):
    PINNED = "Pinned"
    TODAY = "Today"
    YESTERDAY = "Yesterday"
    WEEK = "Previous 7 days"
    EARLIER = "Earlier"
    QUICK_PROMPT = "Quick prompt"


GROUP_ORDER = tuple(ChatGroup)  # the sidebar's order of headings
ORIGIN_KEY = "origin"  # in a conversation's settings: which surface started it
QUICK_PROMPT_ORIGIN = "quick_prompt"


def from_quick_prompt(settings: Mapping[str, object]) -> bool:
    """The quick prompt started this conversation (its settings say so)."""
    return settings.get(ORIGIN_KEY) == QUICK_PROMPT_ORIGIN


def group_of(updated: float, *, pinned: bool, now: float, quick: bool = False) -> ChatGroup:
    """``quick``: started by the quick prompt (its own heading unless pinned)."""
    if pinned:
        return ChatGroup.PINNED
    if quick:
        return ChatGroup.QUICK_PROMPT
    today: date = datetime.fromtimestamp(now).date()
    day = datetime.fromtimestamp(updated).date()
    if day >= today:
        return ChatGroup.TODAY
    if day == today - timedelta(days=1):
        return ChatGroup.YESTERDAY
    if day > today - timedelta(days=7):
        return ChatGroup.WEEK
    return ChatGroup.EARLIER
