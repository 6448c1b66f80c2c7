"""download.py through the fake hub: verified, resumed after a reset / a cancel / a changed file, refused
when the disk is full, a flipped byte quarantined, and the queue's one-at-a-time order."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.fake_hub import GOOD_TOKEN, FakeHub, Faults, synthetic_gguf
from tests.support.waiting import until
from tests.unit.library.conftest import GATED, SMOL, SMOL_FILE, TINY
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.library.download import (
    Backoff,
    Downloader,
    DownloadQueue,
    DownloadRequest,
    JobState,
    Progress,
    part_path,
    quarantine_path,
    sidecar_path,
)
from trayai.core.library.hub import Hub

FAST_RETRIES = Backoff(first=0.01, cap=0.05, attempts=3)


def request_for(
    hub: FakeHub, repo: str, path: str, folder: Path, token: str | None = None
) -> DownloadRequest:
    api = Hub(token, endpoint=hub.url)
    listing = api.listing(repo)
    source = api.source(listing, listing.find(path))
    return DownloadRequest(
        source.url, folder / path, source.size, source.sha256, source.etag, source.identity, source.headers
    )


@pytest.mark.anyio
async def test_a_file_arrives_verified_user_only_and_the_token_stays_on_the_hub(
    hub: FakeHub, tmp_path: Path
) -> None:
    request = request_for(hub, GATED, "gated-Q4_K_M.gguf", tmp_path / "models", GOOD_TOKEN)
    steps: list[Progress] = []
    result = await Downloader().fetch(request, steps.append)
    assert (result.verified, result.size, result.resumed_from) == (True, 400_000, 0)
    assert request.dest.read_bytes() == synthetic_gguf(400_000, 4)
    assert stat.S_IMODE(request.dest.stat().st_mode) == 0o600
    assert not part_path(request.dest).exists() and not sidecar_path(request.dest).exists()
    assert steps[-1].done == steps[-1].total == 400_000 and steps[-1].eta == 0.0
    cdn = [seen for seen in hub.seen if seen.path.startswith("/cdn/")]
    assert cdn and not any(seen.authorized for seen in cdn)  # the redirect to the CDN drops the token
    assert any(seen.authorized for seen in hub.seen if "/resolve/" in seen.path)


@pytest.mark.anyio
async def test_a_connection_reset_mid_file_resumes_by_itself(hub: FakeHub, tmp_path: Path) -> None:
    request = request_for(hub, SMOL, SMOL_FILE, tmp_path)
    size = request.size
    hub.fault(SMOL, SMOL_FILE, Faults(drop_after=size // 2, drops=1))
    result = await Downloader(backoff=FAST_RETRIES).fetch(request)
    assert (result.verified, result.retries) == (True, 1)
    refetched = hub.served(SMOL, SMOL_FILE) - size
    assert 0 <= refetched < 0.05 * size
    ranges = [seen.range for seen in hub.seen if seen.path.startswith("/cdn/") and seen.method == "GET"]
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")


@pytest.mark.anyio
async def test_a_connection_that_keeps_breaking_gives_up_and_keeps_the_part(
    hub: FakeHub, tmp_path: Path
) -> None:
    request = request_for(hub, TINY, "tiny-Q8_0.gguf", tmp_path)
    hub.fault(TINY, "tiny-Q8_0.gguf", Faults(drop_after=0, drops=100))
    with pytest.raises(TrayaiError) as caught:
        await Downloader(backoff=FAST_RETRIES).fetch(request)
    assert caught.value.code is ErrorCode.DOWNLOAD_INTERRUPTED
    assert sidecar_path(request.dest).is_file() and part_path(request.dest).is_file()


@pytest.mark.anyio
async def test_a_flipped_byte_is_caught_quarantined_and_never_offered(hub: FakeHub, tmp_path: Path) -> None:
    request = request_for(hub, TINY, "tiny-Q4_K_M.gguf", tmp_path)
    hub.fault(TINY, "tiny-Q4_K_M.gguf", Faults(flip_at=1_234_567))
    with pytest.raises(TrayaiError) as caught:
        await Downloader().fetch(request)
    assert caught.value.code is ErrorCode.CHECKSUM_MISMATCH
    assert "moved aside to tiny-Q4_K_M.gguf.quarantined" in caught.value.message
    assert quarantine_path(request.dest).stat().st_size == request.size
    assert list(tmp_path.rglob("*.gguf")) == []  # nothing the built-in server would list
    assert not sidecar_path(request.dest).exists()


@pytest.mark.anyio
async def test_not_enough_disk_space_stops_before_a_byte_is_fetched(hub: FakeHub, tmp_path: Path) -> None:
    request = request_for(hub, TINY, "tiny-Q8_0.gguf", tmp_path)
    with pytest.raises(TrayaiError) as caught:
        await Downloader(free_space=lambda _folder: 100_000_000).fetch(request)
    assert caught.value.code is ErrorCode.DISK_FULL
    assert "needs 271.4 MB free" in caught.value.message
    assert hub.served(TINY, "tiny-Q8_0.gguf") == 0


@pytest.mark.anyio
async def test_a_cancelled_download_leaves_a_part_the_next_run_resumes(hub: FakeHub, tmp_path: Path) -> None:
    request = request_for(hub, SMOL, SMOL_FILE, tmp_path)
    hub.fault(SMOL, SMOL_FILE, Faults(rate=40_000_000))
    part = part_path(request.dest)
    task = asyncio.create_task(Downloader().fetch(request))
    await until(lambda: part.is_file() and part.stat().st_size > 8_000_000, what="8 MB in the part")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    kept = part.stat().st_size
    assert 0 < kept < request.size and sidecar_path(request.dest).is_file()
    hub.fault(SMOL, SMOL_FILE, None)
    result = await Downloader().fetch(request)
    assert (result.verified, result.resumed_from) == (True, kept)
    assert hub.served(SMOL, SMOL_FILE) - request.size < 0.05 * request.size


@pytest.mark.anyio
async def test_a_file_changed_on_the_hub_restarts_cleanly(hub: FakeHub, tmp_path: Path) -> None:
    old = request_for(hub, TINY, "tiny-Q8_0.gguf", tmp_path)
    hub.fault(TINY, "tiny-Q8_0.gguf", Faults(drop_after=1_500_000, drops=1))
    with pytest.raises(TrayaiError):
        await Downloader(backoff=Backoff(attempts=0)).fetch(old)
    assert 0 < part_path(old.dest).stat().st_size <= 1_500_000  # a reset loses what was in flight
    hub.replace_file(TINY, "tiny-Q8_0.gguf", synthetic_gguf(2_500_000, 9))
    new = request_for(hub, TINY, "tiny-Q8_0.gguf", tmp_path)
    assert new.etag != old.etag
    result = await Downloader().fetch(new)
    assert (result.resumed_from, result.verified) == (0, True)
    assert new.dest.read_bytes() == synthetic_gguf(2_500_000, 9)


@pytest.mark.anyio
async def test_the_queue_runs_one_download_at_a_time_in_order(hub: FakeHub, tmp_path: Path) -> None:
    names = ["tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf", "mmproj-tiny-F16.gguf"]
    queue = DownloadQueue(Downloader())
    running: list[int] = []
    order: list[str] = []

    def seen(name: str) -> Callable[[Progress], None]:
        def step(_progress: Progress) -> None:
            running.append(sum(job.state is JobState.RUNNING for job in queue.jobs))
            if name not in order:
                order.append(name)

        return step

    for name in names:
        queue.submit(request_for(hub, TINY, name, tmp_path), seen(name))
    assert queue.active == 3
    jobs = await queue.wait()
    assert [job.state for job in jobs] == [JobState.DONE] * 3 and queue.active == 0
    assert order == names and set(running) == {1}


@pytest.mark.anyio
async def test_a_second_process_on_the_same_file_is_refused(hub: FakeHub, tmp_path: Path) -> None:
    from trayai.core.filelock import FileLockedError, exclusive_lock

    request = request_for(hub, TINY, "tiny-Q8_0.gguf", tmp_path)
    with exclusive_lock(part_path(request.dest)), pytest.raises(FileLockedError):
        await Downloader().fetch(request)
