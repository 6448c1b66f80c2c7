"""Lazy loading of long chats: what is rendered at open, around a hit and on scroll-up (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

from trayai.core.chat.paging import (
    LAST_LOOKBACK,
    PagingPolicy,
    earlier_page,
    first_screen_start,
    last_by_role,
    lookback_start,
    opening_range,
)

POLICY = PagingPolicy()


@dataclass(frozen=True)
class Msg:
    role: str
    content: str


class Store:
    """A conversation that records which slices were read (the window reads SQLite the same way)."""

    def __init__(self, sizes: list[int]) -> None:
        self.messages = [Msg("user" if i % 2 == 0 else "assistant", "x" * n) for i, n in enumerate(sizes)]
        self.reads: list[tuple[int, int]] = []

    def fetch(self, start: int, stop: int) -> list[Msg]:
        self.reads.append((start, stop))
        return self.messages[start:stop]


def test_first_screen_of_short_messages_is_eight_thousand_characters() -> None:
    store = Store([10] * 2_000)
    assert first_screen_start(2_000, store.fetch, POLICY) == 1_200  # 800 × 10 characters
    assert store.reads[:2] == [(1_996, 2_000), (1_992, 1_996)] and len(store.reads) == 200


def test_first_screen_stops_once_it_has_the_characters() -> None:
    store = Store([100] * 10 + [5_000] * 6)
    # 4 messages of 5,000 characters pass 8,000 characters and 4 messages: the rest waits
    assert first_screen_start(16, store.fetch, POLICY) == 12


def test_first_screen_takes_more_messages_until_the_characters_are_there() -> None:
    store = Store([1_000] * 30)
    assert first_screen_start(30, store.fetch, POLICY) == 22  # 8 × 1,000 characters
    assert store.reads == [(26, 30), (22, 26)]


def test_first_screen_of_a_short_chat_is_all_of_it() -> None:
    assert first_screen_start(3, Store([10, 10, 10]).fetch, POLICY) == 0
    assert first_screen_start(0, Store([]).fetch, POLICY) == 0


def test_one_huge_answer_still_brings_the_prompts_before_it() -> None:
    store = Store([10, 10, 10, 10, 10, 1_000_000])
    assert first_screen_start(6, store.fetch, POLICY) == 2


def test_opening_at_the_end_renders_from_the_first_screen_to_the_end() -> None:
    assert opening_range(100, 90, None, POLICY) == (90, 100)


def test_opening_at_a_recent_hit_includes_the_message_before_it() -> None:
    assert opening_range(100, 90, 50, POLICY) == (49, 100)
    assert opening_range(100, 90, 95, POLICY) == (90, 100)  # already on the first screen
    assert opening_range(100, 90, 0, POLICY) == (0, 40)


def test_opening_at_a_hit_far_back_shows_its_neighbourhood_only() -> None:
    assert opening_range(400, 396, 10, POLICY) == (9, 49)
    assert opening_range(70, 66, 10, POLICY) == (9, 49)
    assert opening_range(69, 65, 10, POLICY) == (9, 69)  # 60 messages after it: all shown


def test_earlier_page_prepends_about_twenty_thousand_characters() -> None:
    store = Store([3_000] * 50)
    page, start = earlier_page(40, store.fetch, POLICY)
    assert start == 33 and len(page) == 7  # 7 × 3,000 ≥ 20,000
    assert page == store.messages[33:40]
    assert store.reads == [(30, 40)]


def test_earlier_page_reads_on_until_the_top() -> None:
    store = Store([100] * 25)
    page, start = earlier_page(25, store.fetch, POLICY)
    assert (start, page) == (0, store.messages)
    assert store.reads == [(15, 25), (5, 15), (0, 5)]


def test_earlier_page_at_the_top_is_empty() -> None:
    assert earlier_page(0, Store([10]).fetch, POLICY) == ([], 0)


def test_a_smaller_policy_pages_smaller() -> None:
    policy = PagingPolicy(first_screen_chars=10, first_screen_messages=1, earlier_page_chars=10)
    store = Store([6] * 10)
    assert first_screen_start(10, store.fetch, policy) == 8
    assert earlier_page(8, store.fetch, policy)[1] == 6


def test_last_by_role_finds_the_newest() -> None:
    messages = [Msg("user", "a"), Msg("assistant", "b"), Msg("user", "c"), Msg("assistant", "")]
    assert last_by_role(messages, "user") == Msg("user", "c")
    assert last_by_role(messages, "assistant") == Msg("assistant", "")
    assert last_by_role(messages, "assistant", with_content=True) == Msg("assistant", "b")
    assert last_by_role(messages, "system") is None
    assert last_by_role([], "user") is None


def test_lookback_reads_only_the_newest_messages() -> None:
    assert lookback_start(100) == 100 - LAST_LOOKBACK
    assert lookback_start(3) == 0
    assert lookback_start(100, 1) == 99
