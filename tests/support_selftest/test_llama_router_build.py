"""The router build's cache rules, without compiling anything.

Why: the router tier trusts this cache. A half-written folder taken for a finished build would run a
truncated binary; two runs compiling into one tree at once would corrupt it; a wrong sdist must never
be built. Each rule is pinned here against a temporary cache root and a stand-in for the compile step.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support import llama_router_build as build
from tests.support.waiting import wait_until
from trayai.core.filelock import exclusive_lock


@pytest.fixture
def where(tmp_path: Path) -> build.Layout:
    layout = build.Layout(tmp_path / "cache", "k1")
    layout.root.mkdir()
    return layout


def finish(where: build.Layout) -> None:
    """What a finished build leaves: the binary, then the stamp."""
    where.install_dir.mkdir(parents=True, exist_ok=True)
    where.binary.write_text("#!/bin/sh\n", encoding="utf-8")
    where.binary.chmod(0o755)
    where.stamp.write_text("{}\n", encoding="utf-8")


def test_a_folder_without_its_stamp_is_not_a_build(where: build.Layout) -> None:
    where.install_dir.mkdir(parents=True)
    where.binary.write_text("half a binary", encoding="utf-8")
    where.binary.chmod(0o755)
    assert build.cached(where) is None  # killed before the stamp
    where.stamp.write_text("{}\n", encoding="utf-8")
    assert build.cached(where) == where.binary


def test_a_cached_binary_is_used_without_building(
    where: build.Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    finish(where)

    def never(*_: object) -> Path:
        raise AssertionError("built although cached")

    monkeypatch.setattr(build, "_build_locked", never)
    assert build.ensure_built(where=where, say=lambda _: None) == where.binary


def test_a_second_run_waits_for_the_first_and_takes_its_binary(
    where: build.Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[str] = []

    def compile_it(*_: object) -> Path:
        builds.append("built")
        return where.binary

    monkeypatch.setattr(build, "_build_locked", compile_it)
    release = threading.Event()
    holding = threading.Event()

    def first_run() -> None:
        with exclusive_lock(where.lock):
            holding.set()
            release.wait(30)
            finish(where)

    holder = threading.Thread(target=first_run)
    holder.start()
    try:
        assert holding.wait(30)
        lines: list[str] = []
        result: list[Path] = []
        waiter = threading.Thread(
            target=lambda: result.append(build.ensure_built(where=where, say=lines.append))
        )
        waiter.start()
        wait_until(
            lambda: any("another run is building" in line for line in lines), 30, "the second run to wait"
        )
        assert not result  # still waiting while the lock is held
        release.set()
        waiter.join(30)
        assert result == [where.binary]
        assert builds == []  # it never compiled: the first run's binary was found under the lock
    finally:
        release.set()
        holder.join(30)


def test_a_lock_held_too_long_fails_with_the_builds_output(where: build.Layout) -> None:
    where.log.write_text("line 1\ncompiling foo.cpp\n", encoding="utf-8")
    with exclusive_lock(where.lock), pytest.raises(build.BuildError, match=r"compiling foo\.cpp"):
        build.ensure_built(where=where, say=lambda _: None, lock_wait=0.0)


def test_an_sdist_with_another_hash_is_refused(where: build.Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    where.sdist.parent.mkdir(parents=True)
    where.sdist.write_bytes(b"not llama.cpp")
    monkeypatch.setattr(build, "_run", lambda *_, **__: None)  # "pip download" keeps the file it finds
    with pytest.raises(build.BuildError, match="sha256"):
        build._download(where, lambda _: None)
    assert not where.sdist.exists()  # never left for the next run to trust


def test_a_failed_step_shows_the_tail_of_its_output(where: build.Layout) -> None:
    cmd = ["sh", "-c", "echo 'error: foo.cpp:1: expected ;' && exit 3"]
    with pytest.raises(build.BuildError) as failed:
        build._run(cmd, where.log, "compile")
    assert "exit 3" in str(failed.value) and "expected ;" in str(failed.value)


def test_the_key_changes_with_the_flags() -> None:
    assert build.cache_key(build.CMAKE_FLAGS) != build.cache_key((*build.CMAKE_FLAGS, "-DGGML_AVX512=ON"))
    assert build.cache_key(build.CMAKE_FLAGS) == build.cache_key(build.CMAKE_FLAGS)
