"""``TaskOwner``: the tray's parts hold their tasks through it, so the rules they rely on are pinned
here — a keyed task replaced by the next, a cancelled one still owned (and awaitable) while it
unwinds, a released one no longer replaced, and nothing new starting after shutdown.
"""

from __future__ import annotations

import asyncio

import pytest

from trayai.core.tasks import TaskOwner


async def _forever(unwound: list[str] | None = None, name: str = "") -> None:
    try:
        await asyncio.Event().wait()
    finally:
        if unwound is not None:
            unwound.append(name)


@pytest.mark.anyio
async def test_exclusive_replaces_the_task_of_the_same_key_only() -> None:
    owner = TaskOwner()
    first = owner.exclusive("poll", _forever())
    other = owner.exclusive("pull", _forever())
    second = owner.exclusive("poll", _forever())
    await asyncio.sleep(0)
    assert first.cancelled()
    assert owner.get("poll") is second
    assert owner.get("pull") is other
    await owner.cancel_all()
    assert owner.live() == []


@pytest.mark.anyio
async def test_a_cancelled_task_stays_keyed_until_it_has_unwound() -> None:
    owner = TaskOwner()
    unwound: list[str] = []
    task = owner.exclusive("pull", _forever(unwound, "pull"))
    await asyncio.sleep(0)  # running, inside its wait
    assert owner.cancel("pull") is task
    assert owner.get("pull") is task  # "a download is running" until it has told its server
    with pytest.raises(asyncio.CancelledError):
        await task
    assert unwound == ["pull"]
    assert owner.get("pull") is None
    assert owner.cancel("pull") is None


@pytest.mark.anyio
async def test_a_released_task_runs_on_owned_but_is_no_longer_replaced() -> None:
    owner = TaskOwner()
    old = owner.exclusive("poll", _forever())
    assert owner.release("poll", asyncio.ensure_future(asyncio.sleep(0))) is None  # not that one
    assert owner.release("poll") is old
    new = owner.exclusive("poll", _forever())
    await asyncio.sleep(0)
    assert not old.cancelled()
    assert set(owner.live()) == {old, new}
    await owner.cancel_all()
    assert old.cancelled() and new.cancelled()


@pytest.mark.anyio
async def test_nothing_new_runs_after_cancel_all() -> None:
    owner = TaskOwner()
    await owner.cancel_all()
    late = owner.spawn(_forever())
    with pytest.raises(asyncio.CancelledError):
        await late


@pytest.mark.anyio
async def test_close_cancels_at_once_and_refuses_new_work() -> None:
    owner = TaskOwner()
    running = owner.spawn(_forever())
    owner.close()  # a window closing: no await there
    with pytest.raises(asyncio.CancelledError):
        await running
    late = owner.spawn(_forever())
    with pytest.raises(asyncio.CancelledError):
        await late
    assert owner.live() == []
