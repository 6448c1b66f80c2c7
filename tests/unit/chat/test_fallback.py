"""Fallback profiles in ``trayai ask`` and ``trayai batch``: when the profile's server is down or fails
before its first token, the next usable fallback answers — said on stderr, never after a first token,
never for ``--endpoint``/``--model``, never to a profile whose key is not stored.

Why: a fallback that answers silently misattributes the answer; one that takes over mid-answer
mixes two models' words; one that sends a request without its key leaks a 401 at the user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.support.cli import cli
from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.fallback import fallback_chain, worth_falling_back
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.resolve import resolve_endpoint
from trayai.core.settings.secrets import SERVICE, MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig


@pytest.fixture(autouse=True)
def keychain(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """The CLI's keychain, in memory: a test never reaches (or waits on) the desktop's keyring."""
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture
def backup() -> Iterator[FakeBackend]:
    """The fallback every test falls back to: it answers "Hello from generic."."""
    with FakeBackend(Kind.GENERIC, [FakeModel("local-model")]) as fake:
        yield fake


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def configure(paths: AppPaths, *profiles: Profile) -> None:
    """Save ``profiles``, the first one active, with no built-in server starting on its own."""
    settings = Settings()
    settings.profiles = list(profiles)
    settings.active_profile = profiles[0].name
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)


def backup_profile(fake: FakeBackend, name: str = "backup") -> Profile:
    return Profile(name=name, base_url=fake.base_url, model="local-model")


def chats(fake: FakeBackend) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/chat/completions"))


# ---------------------------------------------------------------------------------------------- ask


def test_ask_falls_back_from_a_dead_server_and_says_so(paths: AppPaths, backup: FakeBackend) -> None:
    main = dead_url()
    configure(paths, Profile(name="main", base_url=main, fallback="backup"), backup_profile(backup))
    code, out, err = cli("ask", "--no-autostart", "hi")
    assert code == 0, err
    assert out == "Hello from generic.\n"
    where = main.removeprefix("http://").removesuffix("/v1")
    assert err.splitlines() == [
        f"note: 'main' cannot answer (Nothing is listening on {where}) — trying fallback 'backup'",
        f"(answered by fallback 'backup': 'main' failed (Nothing is listening on {where}))",
    ]
    assert chats(backup) == 1


def test_ask_goes_down_the_list_in_order(paths: AppPaths, backup: FakeBackend) -> None:
    configure(
        paths,
        Profile(name="main", base_url=dead_url(), fallback="second, backup"),
        Profile(name="second", base_url=dead_url()),
        backup_profile(backup),
    )
    code, out, err = cli("ask", "--no-autostart", "hi")
    assert code == 0, err
    assert out == "Hello from generic.\n"
    notes = err.splitlines()
    assert notes[0].startswith("note: 'main' cannot answer") and notes[0].endswith("trying fallback 'second'")
    assert notes[1].startswith("note: 'second' cannot answer") and notes[1].endswith(
        "trying fallback 'backup'"
    )
    assert notes[2].startswith("(answered by fallback 'backup': 'main' failed")


def test_ask_falls_back_on_a_server_error_before_the_first_token(
    paths: AppPaths, backup: FakeBackend
) -> None:
    with ScriptedServer() as primary:
        primary.script(Reply(status=500, error_message="model crashed"))
        configure(
            paths, Profile(name="main", base_url=primary.base_url, fallback="backup"), backup_profile(backup)
        )
        code, out, err = cli("ask", "--no-autostart", "hi")
        assert len(primary.chat_requests()) == 1
    assert code == 0, err
    assert out == "Hello from generic.\n"
    assert "note: 'main' cannot answer (" in err and "HTTP 500: model crashed" in err
    assert "(answered by fallback 'backup'" in err


def test_ask_without_streaming_falls_back_too(paths: AppPaths, backup: FakeBackend) -> None:
    main = Profile(name="main", base_url=dead_url(), fallback="backup")
    main.generation.stream = False
    configure(paths, main, backup_profile(backup))
    code, out, err = cli("ask", "--no-autostart", "hi")
    assert code == 0, err
    assert out == "Hello from generic.\n"
    assert "(answered by fallback 'backup'" in err


def test_ask_never_falls_back_after_the_first_token(paths: AppPaths, backup: FakeBackend) -> None:
    with ScriptedServer() as primary:
        primary.script(Reply(text="one two three four", disconnect_after=2))
        configure(
            paths, Profile(name="main", base_url=primary.base_url, fallback="backup"), backup_profile(backup)
        )
        code, out, err = cli("ask", "--no-autostart", "count")
    assert code == 1
    assert out == "one two \n"  # the partial answer is kept, and it stays the only answer
    assert "(the partial answer above was kept)" in err
    assert "fallback" not in err
    assert chats(backup) == 0


@pytest.mark.parametrize("explicit", ["--endpoint", "--model"])
def test_ask_never_falls_back_from_an_explicit_choice(
    paths: AppPaths, backup: FakeBackend, explicit: str
) -> None:
    main = dead_url()
    configure(paths, Profile(name="main", base_url=main, fallback="backup"), backup_profile(backup))
    value = main if explicit == "--endpoint" else "ai/smollm2"
    code, out, err = cli("ask", "--no-autostart", explicit, value, "hi")
    assert (code, out) == (1, "")
    assert err.startswith("error: Nothing is listening on")
    assert "fallback" not in err
    assert backup.requests == []


def test_a_fallback_without_its_stored_key_is_skipped_with_a_note(
    paths: AppPaths, backup: FakeBackend
) -> None:
    with FakeBackend(Kind.VLLM, [FakeModel("cloud-model")], api_key="sk-cloud") as cloud:
        configure(
            paths,
            Profile(name="main", base_url=dead_url(), fallback="cloud, backup"),
            Profile(name="cloud", base_url=cloud.base_url, model="cloud-model", key_in_keychain=True),
            backup_profile(backup),
        )
        code, out, err = cli("ask", "--no-autostart", "hi")
        assert cloud.requests == []  # never asked without its key
    assert code == 0, err
    assert out == "Hello from generic.\n"
    assert "note: fallback 'cloud' — needs a key that is not stored (`trayai key set cloud`)" in err
    assert "trying fallback 'backup'" in err


def test_a_fallback_with_its_stored_key_is_used_with_it(
    paths: AppPaths, backup: FakeBackend, keychain: MemoryKeyring
) -> None:
    keychain.set_password(SERVICE, "cloud", "sk-cloud")
    with FakeBackend(Kind.VLLM, [FakeModel("cloud-model")], api_key="sk-cloud") as cloud:
        configure(
            paths,
            Profile(name="main", base_url=dead_url(), fallback="cloud, backup"),
            Profile(name="cloud", base_url=cloud.base_url, model="cloud-model", key_in_keychain=True),
            backup_profile(backup),
        )
        code, out, err = cli("ask", "--no-autostart", "hi")
        assert {r.headers.get("authorization") for r in cloud.requests} == {"Bearer sk-cloud"}
    assert code == 0, err
    assert out == "Hello from vllm.\n"
    assert "(answered by fallback 'cloud'" in err
    assert backup.requests == []


def test_the_skip_note_comes_even_when_no_fallback_is_left(paths: AppPaths) -> None:
    configure(
        paths,
        Profile(name="main", base_url=dead_url(), fallback="cloud"),
        Profile(name="cloud", base_url=dead_url(), key_in_keychain=True),
    )
    code, _, err = cli("ask", "--no-autostart", "hi")
    assert code == 1
    assert "fallback 'cloud' — needs a key that is not stored" in err


# ---------------------------------------------------------------------------------------------- batch


def write_prompts(path: Path, count: int) -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n" for i in range(count))
    )
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_falls_back_from_a_dead_server(paths: AppPaths, backup: FakeBackend, tmp_path: Path) -> None:
    configure(paths, Profile(name="main", base_url=dead_url(), fallback="backup"), backup_profile(backup))
    source, output = write_prompts(tmp_path / "in.jsonl", 3), tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(source), "-o", str(output), "--no-autostart", "--concurrency", "1")
    assert code == 0, err
    got = records(output)
    assert [r["id"] for r in got] == ["q0", "q1", "q2"]
    assert all(r["error"] is None and r["profile"] == "backup" for r in got)
    assert all(r["endpoint"] == backup.base_url for r in got)
    assert all(r["answer"] == "Hello from generic." for r in got)
    assert err.count("note: 'main' cannot answer") == 1  # once per pair of profiles, not per line
    assert "trying fallback 'backup'" in err  # the words of ask and the chat (FellBack.note)
    assert chats(backup) == 3


def test_batch_keeps_a_partial_answer_where_it_was_cut(
    paths: AppPaths, backup: FakeBackend, tmp_path: Path
) -> None:
    with ScriptedServer() as primary:
        primary.script(Reply(text="one two three four", disconnect_after=2))
        configure(
            paths, Profile(name="main", base_url=primary.base_url, fallback="backup"), backup_profile(backup)
        )
        source, output = write_prompts(tmp_path / "in.jsonl", 2), tmp_path / "out.jsonl"
        code, _, _ = cli("batch", str(source), "-o", str(output), "--no-autostart", "--concurrency", "1")
        primary_url = primary.base_url
    assert code == 1
    cut, whole = records(output)
    assert (cut["profile"], cut["answer"], cut["error"]["code"]) == ("main", "one two ", "disconnected")
    assert (whole["profile"], whole["error"]) == ("main", None)
    assert cut["endpoint"] == whole["endpoint"] == primary_url
    assert chats(backup) == 0


def test_batch_with_an_explicit_endpoint_never_falls_back(
    paths: AppPaths, backup: FakeBackend, tmp_path: Path
) -> None:
    main = dead_url()
    configure(paths, Profile(name="main", base_url=main, fallback="backup"), backup_profile(backup))
    source, output = write_prompts(tmp_path / "in.jsonl", 2), tmp_path / "out.jsonl"
    code, _, _ = cli("batch", str(source), "-o", str(output), "--no-autostart", "--endpoint", main)
    assert code == 1
    assert [r["error"]["code"] for r in records(output)] == ["connection_refused"] * 2
    assert backup.requests == []


# ---------------------------------------------------------------------------------------------- the chain


def test_the_chain_skips_what_cannot_be_used(paths: AppPaths, backup: FakeBackend) -> None:
    settings = Settings()
    settings.profiles = [
        Profile(name="main", base_url=dead_url(), fallback="gone, same, locked, backup"),
        Profile(name="locked", base_url=dead_url(), key_in_keychain=True),
        backup_profile(backup),
    ]
    settings.profiles.append(Profile(name="same", base_url=settings.profiles[0].base_url))
    settings.active_profile = "main"
    loaded = LoadedConfig(settings)  # as hand-edited: "gone" was never validated away
    secrets = SecretStore(MemoryKeyring())
    primary = resolve_endpoint(loaded, secrets)
    chain = fallback_chain(loaded, secrets, primary)
    assert [e.profile.name for e in chain.endpoints] == ["main", "backup"]  # "same" is main again
    assert chain.skipped == [
        "'gone' — no such profile",
        "'locked' — needs a key that is not stored (`trayai key set locked`)",
    ]
    assert chain.next_after(0) is chain.endpoints[1] and chain.next_after(1) is None
    assert fallback_chain(loaded, secrets, primary, explicit=True).endpoints == [primary]


def test_only_failures_before_any_text_fall_back() -> None:
    down = make_error(ErrorCode.CONNECTION_REFUSED, "down")
    assert worth_falling_back(down)
    assert not worth_falling_back(down, text_so_far="Hel")
    cut = make_error(ErrorCode.DISCONNECTED, "cut")
    cut.partial = "Hello"
    assert not worth_falling_back(cut)
    assert worth_falling_back(make_error(ErrorCode.SERVER_ERROR, "500"))
    assert not worth_falling_back(make_error(ErrorCode.AUTH, "401"))  # the user's key: fix it, do not hide it
    assert not worth_falling_back(make_error(ErrorCode.BAD_REQUEST, "400"))
