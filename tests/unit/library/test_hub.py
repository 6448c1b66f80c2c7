"""hub.py against the real huggingface_hub and a hub-shaped server: listings, search, gated, missing."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support.blackhole import black_hole
from tests.support.fake_hub import GOOD_TOKEN, FakeHub
from tests.unit.library.conftest import GATED, SMOL, SMOL_FILE, TINY
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.library.hub import LISTING_DEADLINE, GgufFile, Hub


def test_a_listing_groups_gguf_files_by_quantisation_with_sizes_and_sha256(hub: FakeHub) -> None:
    listing = Hub(endpoint=hub.url).listing(TINY)
    assert listing.commit == hub.repo(TINY).sha  # type: ignore[union-attr]
    assert list(listing.quants()) == ["Q4_K_M", "Q8_0"]  # smallest first, the projector apart
    assert [f.name for f in listing.projectors] == ["mmproj-tiny-F16.gguf"]
    (q8,) = listing.pick("q8_0")
    assert (q8.size, q8.sha256) == (3_000_000, hub.file(TINY, "tiny-Q8_0.gguf").sha256)
    assert listing.pick(None)[0].quant == "Q4_K_M"  # the usual choice when several
    with pytest.raises(TrayaiError) as missing:
        listing.pick("Q2_K")
    assert missing.value.code is ErrorCode.HUB_NOT_FOUND
    assert "Q4_K_M, Q8_0" in missing.value.message


@pytest.mark.parametrize(
    ("name", "quant", "split"),
    [
        ("Qwen3-4B-Q4_K_M.gguf", "Q4_K_M", None),
        ("smollm2-135m-instruct-q8_0.gguf", "Q8_0", None),
        ("UD/Qwen3-UD-Q4_K_XL.gguf", "UD-Q4_K_XL", None),
        ("Q4_K_M/m-Q4_K_M-00001-of-00002.gguf", "Q4_K_M", (1, 2)),
        ("gemma-3-4b-it-IQ4_XS.gguf", "IQ4_XS", None),
        ("gemma-3-4b-it-BF16.gguf", "BF16", None),
        ("plain.gguf", None, None),
    ],
)
def test_quantisation_names_are_read_from_the_file_name(name: str, quant: str | None, split: object) -> None:
    gguf = GgufFile(name, 1, None)
    assert (gguf.quant, gguf.split) == (quant, split)


def test_search_finds_gguf_repositories_most_downloaded_first(hub: FakeHub) -> None:
    hits = Hub(endpoint=hub.url).search("trayai-test")
    assert [h.repo for h in hits] == [SMOL, TINY, GATED]
    assert [h.gated for h in hits] == [False, False, True]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("hf_not_granted", 403)])
def test_a_gated_repository_says_it_needs_a_token_with_access(
    hub: FakeHub, token: str | None, status: int
) -> None:
    api = Hub(token, endpoint=hub.url)
    listing = api.listing(GATED)
    assert listing.gated
    with pytest.raises(TrayaiError) as caught:
        api.source(listing, listing.pick(None)[0])
    assert caught.value.code is ErrorCode.HUB_GATED
    assert caught.value.status == status
    assert f"{GATED} needs a Hugging Face token with access" in caught.value.message
    assert "trayai get --set-token" in caught.value.hint
    assert token is None or token not in caught.value.describe()


def test_a_token_with_access_gets_the_url_and_only_the_hub_sees_it(hub: FakeHub) -> None:
    api = Hub(GOOD_TOKEN, endpoint=hub.url)
    listing = api.listing(GATED)
    source = api.source(listing, listing.pick(None)[0])
    assert source.headers == {"authorization": f"Bearer {GOOD_TOKEN}"}
    assert GOOD_TOKEN not in repr(source)
    assert source.etag == source.sha256 == hub.file(GATED, "gated-Q4_K_M.gguf").sha256


def test_missing_repositories_and_files_are_not_found(hub: FakeHub) -> None:
    api = Hub(endpoint=hub.url)
    with pytest.raises(TrayaiError) as repo:
        api.listing("trayai-test/no-such-GGUF")
    assert (repo.value.code, repo.value.message) == (
        ErrorCode.HUB_NOT_FOUND,
        "Hugging Face has no repository trayai-test/no-such-GGUF",
    )
    listing = api.listing(SMOL)
    gone = GgufFile("SmolLM2-135M-Instruct-Q2_K.gguf", 1, None)
    with pytest.raises(TrayaiError) as entry:
        api.source(listing, gone)
    assert entry.value.code is ErrorCode.HUB_NOT_FOUND
    assert api.source(listing, listing.find(SMOL_FILE)).size == hub.file(SMOL, SMOL_FILE).size


def test_an_unreachable_hub_is_said_plainly() -> None:
    with pytest.raises(TrayaiError) as caught:
        Hub(endpoint="http://127.0.0.1:9").listing(TINY)
    assert caught.value.code is ErrorCode.HUB_UNREACHABLE
    assert "could not be reached" in caught.value.message


def test_the_library_loads_no_huggingface_hub_nor_httpx2_until_used() -> None:
    code = (
        "import sys\n"
        "import trayai.core.library.hub, trayai.core.library.download, trayai.cli.get\n"
        "print(sorted(m for m in ('huggingface_hub', 'httpx2') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_listing_someone_waits_for_ends_within_its_deadline_and_the_same_listing_still_works(
    hub: FakeHub,
) -> None:
    """Show files in the window: a Hub that takes connections and never answers is said to be
    unreachable within the deadline (the library's own retries wait far longer); a Hub that answers
    gives the same listing as without a deadline."""
    with black_hole() as silent:
        began = time.monotonic()
        with pytest.raises(TrayaiError) as caught:
            Hub(endpoint=silent).listing(TINY, deadline=0.5)
        took = time.monotonic() - began
    assert caught.value.code is ErrorCode.HUB_UNREACHABLE
    assert "within 0.5 s" in caught.value.message
    assert took < 2.0, f"{took:.1f} s"
    assert Hub(endpoint=hub.url).listing(TINY, deadline=LISTING_DEADLINE) == Hub(endpoint=hub.url).listing(
        TINY
    )
