"""``trayai models``, ``load``, ``unload``, ``pull``, ``servers`` and ``profile … --fallback`` end to end,
in-process, against the faithful fake servers.

Why: these commands are how a person (or a script) manages models without the tray; what they print
and their exit codes are the interface. A refusal must say which server cannot do what, and what to
do instead; a script must be able to tell success from failure by the exit code alone.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.support.cli import cli
from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.managed import answer_route, posts
from tests.support.ports import free_port
from trayai.cli.models import PullReporter
from trayai.core.net.backends import manager as manager_module
from trayai.core.net.backends.records import PullProgress
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore

GEMMA, QWEN = "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", "unsloth/Qwen3-4B-GGUF:Q4_K_M"


def ollama_models() -> list[FakeModel]:
    return [
        FakeModel("qwen3:4b", size_bytes=2_500_000_000),
        FakeModel("gpt-oss:120b-cloud", remote=True),
        FakeModel("llama3.2:latest", size_bytes=2_000_000_000, loaded=True),
    ]


def save_profiles(paths: AppPaths, *profiles: Profile, active: str | None = None) -> None:
    settings = Settings()
    settings.profiles = list(profiles)
    settings.active_profile = active or profiles[0].name
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)


def saved(paths: AppPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.config_file.read_text())
    return data


# ---------------------------------------------------------------------------------------------- models


def test_models_lists_states_loaded_first_with_their_facts() -> None:
    with FakeBackend(Kind.OLLAMA, ollama_models()) as fake:
        code, out, err = cli("models", "--endpoint", fake.base_url, "--model", "qwen3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(
        "  loaded      llama3.2:latest  2.5 GB in memory (100% GPU) · ctx 4096 · unloads in "
    )
    assert lines[1] == "* available   qwen3:4b  2.5 GB file size"  # * marks the configured model
    assert lines[2].startswith("  available   gpt-oss:120b-cloud  cloud")  # a cloud model says so
    assert len(lines) == 3 and err == ""


def test_models_loaded_only() -> None:
    with FakeBackend(Kind.OLLAMA, ollama_models()) as fake:
        code, out, _ = cli("models", "--loaded", "--endpoint", fake.base_url, "--model", "llama3.2")
        assert code == 0
        assert [line.split()[:3] for line in out.splitlines()] == [["*", "loaded", "llama3.2:latest"]]
        fake.set_loaded("llama3.2:latest", False)
        code, out, err = cli("models", "--loaded", "--endpoint", fake.base_url, "--model", "llama3.2")
        assert code == 0 and out == ""
        assert f"nothing is loaded on {fake.base_url} (Ollama)" in err


def test_models_loaded_is_refused_where_the_server_cannot_tell() -> None:
    with FakeBackend(Kind.GENERIC, [FakeModel("m")]) as fake:
        code, out, err = cli("models", "--loaded", "--endpoint", fake.base_url)
    assert code == 1 and out == ""
    assert "this server (OpenAI-compatible) does not say which models are loaded" in err


def test_models_json() -> None:
    with FakeBackend(Kind.OLLAMA, ollama_models()) as fake:
        code, out, _ = cli("models", "--json", "--endpoint", fake.base_url, "--model", "qwen3")
    assert code == 0
    data = json.loads(out)
    assert (data["kind"], data["configured"], data["resolved"]) == ("ollama", "qwen3", "qwen3:4b")
    rows = {m["id"]: m for m in data["models"]}
    assert [m["id"] for m in data["models"]] == ["llama3.2:latest", "qwen3:4b", "gpt-oss:120b-cloud"]
    assert rows["llama3.2:latest"]["state"] == "loaded"
    assert rows["llama3.2:latest"]["memory_bytes"] == 2_500_000_000
    assert rows["llama3.2:latest"]["context_loaded"] == 4096
    assert isinstance(rows["llama3.2:latest"]["expires_at"], float)
    assert rows["qwen3:4b"] == {
        "id": "qwen3:4b",
        "state": "available",
        "size_bytes": 2_500_000_000,
        "memory_bytes": None,
        "vram_bytes": None,
        "context_loaded": None,
        "context_trained": None,
        "expires_at": None,
        "remote": False,
        "owned_by": "library",
    }
    assert rows["gpt-oss:120b-cloud"]["remote"] is True


def test_models_on_a_generic_server_falls_back_to_its_listing() -> None:
    with FakeBackend(Kind.GENERIC, [FakeModel("ai/smollm2"), FakeModel("other")]) as fake:
        code, out, _ = cli("models", "--endpoint", fake.base_url)
    assert code == 0
    assert out.splitlines() == ["* unknown     ai/smollm2  (system)", "  unknown     other  (system)"]


# ---------------------------------------------------------------------------------------------- load / unload


def test_load_with_keep_alive_reaches_ollama() -> None:
    with FakeBackend(Kind.OLLAMA, ollama_models()) as fake:
        code, out, err = cli("load", "qwen3", "--keep-alive", "30m", "--endpoint", fake.base_url)
        assert code == 0, err
        assert fake.models["qwen3:4b"].loaded
    assert [r.json for r in posts(fake)] == [{"model": "qwen3:4b", "keep_alive": "1800s"}]
    assert out.startswith("loaded qwen3:4b in ")
    assert "3.1 GB in memory" in out and ("unloads in 29 min" in out or "unloads in 30 min" in out)
    assert "qwen3:4b: loaded…" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--keep-alive", "soon"], "'soon' is not a duration: use e.g. 30m"),
        (["--keep-alive", "30 minutes"], "is not a duration"),
        (["--timeout", "0"], "--timeout must be more than 0 seconds"),
    ],
)
def test_load_refuses_bad_durations_before_asking_the_server(args: list[str], said: str) -> None:
    with FakeBackend(Kind.OLLAMA, ollama_models()) as fake:
        code, out, err = cli("load", "qwen3:4b", *args, "--endpoint", fake.base_url)
    assert code == 2 and out == ""
    assert said in err
    assert fake.requests == []


def test_load_on_the_router_shows_the_background_load() -> None:
    models = [FakeModel(QWEN), FakeModel(GEMMA, loaded=True)]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models, load_seconds=0.3) as fake:
        code, out, err = cli("load", QWEN, "--endpoint", fake.base_url)
    assert code == 0, err
    assert err.splitlines() == [f"{QWEN}: loading…", f"{QWEN}: loaded…"]
    assert out.startswith(f"loaded {QWEN} in ") and "100.0 MB file size · ctx 8192" in out


def test_load_says_when_keep_alive_is_ignored() -> None:
    with FakeBackend(Kind.LMSTUDIO, [FakeModel("qwen/qwen3-4b")]) as fake:
        code, _, err = cli("load", "qwen/qwen3-4b", "--keep-alive", "1h", "--endpoint", fake.base_url)
    assert code == 0
    assert "note: LM Studio ignores --keep-alive" in err


def test_load_failures_exit_1_with_the_reason() -> None:
    with FakeBackend(Kind.OLLAMA, ollama_models()) as fake:
        code, out, err = cli("load", "qwen2:4b", "--endpoint", fake.base_url)
        assert (code, out) == (1, "")
        assert "error: " in err and "has no model 'qwen2:4b' — did you mean qwen3:4b" in err
        code, _, err = cli("load", "gpt-oss:120b-cloud", "--endpoint", fake.base_url)
        assert code == 1
        assert "error: this server (Ollama) cannot load 'gpt-oss:120b-cloud'" in err
        assert "→ It is a cloud model" in err
    with FakeBackend(Kind.LMSTUDIO, [FakeModel("qwen/qwen3-4b")], load_never_finishes=True) as fake:
        code, _, err = cli("load", "qwen/qwen3-4b", "--timeout", "0.3", "--endpoint", fake.base_url)
    assert code == 1
    assert "did not finish loading" in err and "within 0.3 s" in err


def test_unload_one_and_all() -> None:
    models = [*ollama_models(), FakeModel("phi3:mini", loaded=True)]
    with FakeBackend(Kind.OLLAMA, models) as fake:
        code, out, err = cli("unload", "phi3", "--endpoint", fake.base_url)
        assert (code, out) == (0, "unloaded phi3:mini\n"), err
        code, out, _ = cli("unload", "phi3:mini", "--endpoint", fake.base_url)
        assert (code, out) == (0, "phi3:mini was not loaded — nothing to do\n")
        code, out, _ = cli("unload", "--all", "--endpoint", fake.base_url)
        assert (code, out) == (0, "unloaded llama3.2:latest\n")
        code, out, _ = cli("unload", "--all", "--endpoint", fake.base_url)
        assert (code, out) == (0, "nothing was loaded\n")
        assert not any(m.loaded for m in fake.models.values())


def router_states(fake: FakeBackend) -> dict[str, tuple[bool, bool]]:
    with fake.lock:
        return {m.name: (m.loaded, m.sleeping) for m in fake.models.values()}


def test_unload_all_on_a_router_returns_once_the_router_lists_them_unloaded() -> None:
    """``/models/unload`` only asks the child to exit (server_models::unload); the router lists it
    as before until it has gone. ``unload --all`` waits for that, as ``unload MODEL`` does."""
    models = [FakeModel(GEMMA, loaded=True), FakeModel(QWEN, loaded=True, sleeping=True), FakeModel("x")]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models, unload_seconds=0.5) as fake:
        code, out, err = cli("unload", "--all", "--endpoint", fake.base_url)
        when_it_returned = router_states(fake)
    assert code == 0, err
    assert sorted(out.splitlines()) == sorted([f"unloaded {GEMMA}", f"unloaded {QWEN}"])
    assert when_it_returned == {GEMMA: (False, False), QWEN: (False, False), "x": (False, False)}


def test_unload_all_says_which_models_a_router_still_lists_after_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manager_module, "UNLOAD_DEADLINE", 0.3)
    models = [FakeModel(GEMMA, loaded=True), FakeModel(QWEN)]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models, unload_seconds=60) as fake:  # a child that hangs
        code, out, err = cli("unload", "--all", "--endpoint", fake.base_url)
    assert (code, out) == (1, "")
    assert f"accepted the unload of '{GEMMA}' but still lists it as loaded after 0.3 s" in err


def test_load_of_a_sleeping_router_model_wakes_it_on_purpose() -> None:
    """The router answers "model is already running" for a model asleep: it is loaded, so the load
    wakes it (a ``/slots`` task, routed with ``autoload=false``) instead of waiting for "loaded"."""
    with FakeBackend(Kind.LLAMACPP_ROUTER, [FakeModel(GEMMA, loaded=True, sleeping=True)]) as fake:
        code, out, err = cli("load", GEMMA, "--timeout", "3", "--endpoint", fake.base_url)
        after = router_states(fake)
    assert code == 0, err
    assert err.splitlines() == [f"{GEMMA}: sleeping…", f"{GEMMA}: loaded…"]
    assert out.startswith(f"loaded {GEMMA} in ")
    assert after == {GEMMA: (True, False)}
    quoted = "ggml-org%2Fgemma-3-1b-it-GGUF%3AQ4_K_M"
    assert [t.request for t in fake.touches] == [f"GET /slots?model={quoted}&autoload=false"]


def test_load_of_a_sleeping_model_that_cannot_be_woken_says_it_is_loaded_but_asleep() -> None:
    with FakeBackend(Kind.LLAMACPP_ROUTER, [FakeModel(GEMMA, loaded=True, sleeping=True)]) as fake:
        disabled = "This server does not support slots endpoint. Start it with `--slots`"
        answer_route(
            fake,
            "GET",
            "/slots",
            501,
            {"error": {"code": 501, "message": disabled, "type": "not_supported_error"}},
        )  # a router whose children run with --no-slots
        code, out, err = cli("load", GEMMA, "--timeout", "3", "--endpoint", fake.base_url)
        where = f"127.0.0.1:{fake.port}"
    assert code == 0, err
    assert out == f"{GEMMA} is loaded but asleep on {where}: its next request wakes it\n"
    assert router_states(fake) == {GEMMA: (True, True)}


def test_unload_needs_a_name_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("unload")
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        cli("unload", "m", "--all")
    assert "not allowed with argument" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- pull


def test_pull_reports_quietly_when_not_on_a_terminal() -> None:
    with FakeBackend(
        Kind.OLLAMA, ollama_models(), pullable={"smollm2": 1_000_000}, pull_steps=50, pull_step_seconds=0.002
    ) as fake:
        code, out, err = cli("pull", "smollm2", "--endpoint", fake.base_url)
        assert "smollm2:latest" in fake.models
    assert code == 0, err
    assert out == "pulled smollm2 — `trayai load smollm2` to load it\n"
    lines = err.splitlines()
    assert lines[0] == "pulling manifest" and lines[-1] == "done"
    assert "pulling 50% (450.0 KB of 900.0 KB)" in lines
    assert len(lines) < 25  # a line per phase and per 10%, not one per step (50+ here)
    assert len(lines) == len(set(lines))
    assert "\r" not in err and "\x1b" not in err


def test_pull_failures_exit_1() -> None:
    with FakeBackend(
        Kind.DMR, [FakeModel("ai/smollm2:latest")], pullable={"ai/gemma3": 5000}, pull_fail_at_step=3
    ) as fake:
        code, out, err = cli("pull", "ai/nothing", "--endpoint", fake.base_url)
        assert (code, out) == (1, "")
        assert "error: Pulling 'ai/nothing' from" in err and "Model not found" in err
        code, out, err = cli("pull", "ai/gemma3", "--endpoint", fake.base_url)
    assert (code, out) == (1, "")
    assert err.splitlines()[0].startswith("downloading 20%")
    assert "error: Pulling 'ai/gemma3' from" in err and "unexpected EOF" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pull_on_a_terminal_redraws_one_bar() -> None:
    stream = _Terminal()
    reporter = PullReporter(stream, "smollm2")
    reporter.update(PullProgress("pulling manifest"))
    reporter.update(PullProgress("pulling", 500, 1000))
    reporter.finish()
    assert stream.getvalue() == (
        "\r\x1b[Kpulling manifest"
        "\r\x1b[K[###############...............] pulling 50% (500 B of 1.0 KB)"
        "\r\x1b[K"
    )


# ---------------------------------------------------------------------------------------------- refusals

KIND_LABELS = {
    Kind.VLLM: "vLLM",
    Kind.GENERIC: "OpenAI-compatible",
    Kind.LLAMACPP_SINGLE: "llama.cpp",
    Kind.LMSTUDIO_V0: "LM Studio (v0 API)",
}
COMMANDS = {
    "load": (["load", "m1"], "load models"),
    "unload": (["unload", "m1"], "unload models"),
    "unload-all": (["unload", "--all"], "unload models"),
    "pull": (["pull", "m2"], "pull models"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", list(KIND_LABELS))
def test_each_refusal_names_the_server_and_a_way_out(kind: Kind, command: str) -> None:
    argv, verb = COMMANDS[command]
    with FakeBackend(kind, [FakeModel("m1", loaded=True)]) as fake:
        code, out, err = cli(*argv, "--endpoint", fake.base_url)
    assert (code, out) == (1, "")
    first, hint = err.splitlines()
    assert first == f"error: this server ({KIND_LABELS[kind]}) cannot {verb}"
    assert hint.startswith("  → ") and len(hint) > 20
    assert posts(fake) == []


def test_the_builtin_servers_refusal_points_at_its_own_way(paths: AppPaths) -> None:
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("ai/smollm2")]) as fake:
        settings = Settings()
        settings.builtin_server.port = fake.port
        settings.builtin_server.autostart = False
        ConfigStore(paths).save(settings)
        code, _, err = cli("load", "ai/smollm2", "--endpoint", fake.base_url)
    assert code == 1
    assert "error: this server (built-in llama.cpp) cannot load models" in err
    assert "trayai serve --model NAME" in err


# ---------------------------------------------------------------------------------------------- servers


def test_servers_shows_every_profile_at_a_glance(paths: AppPaths) -> None:
    dead = free_port()
    with (
        FakeBackend(
            Kind.OLLAMA, [FakeModel("a:latest", loaded=True), FakeModel("b:latest", loaded=True)]
        ) as ollama,
        FakeBackend(Kind.LMSTUDIO, [FakeModel("qwen/qwen3-4b")]) as lms,
    ):
        save_profiles(
            paths,
            Profile(name="ollama", base_url=ollama.base_url, model="a"),
            Profile(name="lms", base_url=lms.base_url, model="qwen/qwen3-4b"),
            Profile(name="dead", base_url=f"http://127.0.0.1:{dead}/v1"),
            active="lms",
        )
        code, out, err = cli("servers")
        assert code == 0, err
        json_code, json_out, _ = cli("servers", "--json")
        ports = ollama.port, lms.port
    lines = out.splitlines()
    assert lines[0].startswith(f"  ollama  ready — 127.0.0.1:{ports[0]} (Ollama) · 2 loaded: ")
    assert sorted(lines[0].split(": ")[-1].split(", ")) == ["a:latest", "b:latest"]
    assert lines[1] == f"* lms  ready — 127.0.0.1:{ports[1]} (LM Studio) · 0 loaded"
    assert lines[2] == f"  dead  unreachable — 127.0.0.1:{dead} (?)"
    assert lines[3] == f"      Nothing is listening on 127.0.0.1:{dead}"
    assert len(lines) == 4

    assert json_code == 0
    data = json.loads(json_out)
    assert data["active"] == "lms"
    rows = {row["profile"]: row for row in data["servers"]}
    assert [row["profile"] for row in data["servers"]] == ["ollama", "lms", "dead"]
    assert (rows["ollama"]["kind"], rows["ollama"]["state"]) == ("ollama", "ready")
    assert sorted(rows["ollama"]["loaded"]) == ["a:latest", "b:latest"]
    assert (rows["lms"]["kind_label"], rows["lms"]["loaded"]) == ("LM Studio", [])
    assert rows["dead"] == {
        "profile": "dead",
        "base_url": f"http://127.0.0.1:{dead}/v1",
        "state": "unreachable",
        "kind": None,
        "kind_label": None,
        "loaded": None,
        "problem": f"Nothing is listening on 127.0.0.1:{dead}",
    }


def test_servers_exit_1_when_none_is_up(paths: AppPaths) -> None:
    save_profiles(
        paths,
        Profile(name="one", base_url=f"http://127.0.0.1:{free_port()}/v1"),
        Profile(name="two", base_url=f"http://127.0.0.1:{free_port()}/v1"),
    )
    code, out, _ = cli("servers")
    assert code == 1
    assert out.count("unreachable") == 2


def test_servers_say_when_a_server_cannot_tell_what_is_loaded(paths: AppPaths) -> None:
    with FakeBackend(Kind.GENERIC, [FakeModel("ai/smollm2")]) as fake:
        save_profiles(paths, Profile(name="plain", base_url=fake.base_url))
        code, out, _ = cli("servers")
        assert code == 0
        assert out == f"* plain  ready — 127.0.0.1:{fake.port} (OpenAI-compatible)\n"  # no "N loaded"


# ---------------------------------------------------------------------------------------------- fallbacks


def test_profile_fallbacks_are_added_changed_checked_and_cleaned_up(paths: AppPaths) -> None:
    assert cli("profile", "add", "backup", "--base-url", "http://127.0.0.1:9/v1")[0] == 0
    assert cli("profile", "add", "spare", "--base-url", "http://127.0.0.1:10/v1")[0] == 0
    code, _, err = cli(
        "profile", "add", "main", "--base-url", "http://127.0.0.1:8/v1", "--fallback", "backup"
    )
    assert code == 0, err
    profiles = {p["name"]: p for p in saved(paths)["profiles"]}
    assert profiles["main"]["fallback"] == "backup"
    assert "  main: http://127.0.0.1:8/v1  model ai/smollm2  → fallback backup" in cli("profile", "list")[1]

    code, _, err = cli("profile", "add", "other", "--base-url", "http://x/v1", "--fallback", "nobody")
    assert code == 2 and "no profile named 'nobody' to fall back to" in err
    code, _, err = cli("profile", "set", "main", "--fallback", "nobody")
    assert code == 2 and "no profile named 'nobody' to fall back to" in err
    code, _, err = cli("profile", "set", "main", "--fallback", "main")
    assert code == 2 and "cannot fall back to itself" in err
    code, _, err = cli("profile", "set", "main", "--fallback", "spare", "--no-fallback")
    assert code == 2 and "contradict" in err
    assert {p["name"] for p in saved(paths)["profiles"]} == {"Local (port 8080)", "backup", "spare", "main"}
    assert {p["name"]: p for p in saved(paths)["profiles"]}["main"]["fallback"] == "backup"  # unchanged

    assert cli("profile", "set", "main", "--fallback", "spare", "--fallback", "backup")[0] == 0
    assert cli("profile", "set", "backup", "--fallback", "spare")[0] == 0
    profiles = {p["name"]: p for p in saved(paths)["profiles"]}
    assert (profiles["main"]["fallback"], profiles["backup"]["fallback"]) == ("spare, backup", "spare")

    assert cli("profile", "remove", "spare")[0] == 0  # nobody falls back to a profile that is gone
    profiles = {p["name"]: p for p in saved(paths)["profiles"]}
    assert profiles["main"]["fallback"] == "backup"
    assert profiles["backup"].get("fallback", "") == ""

    assert cli("profile", "set", "main", "--no-fallback")[0] == 0
    assert {p["name"]: p for p in saved(paths)["profiles"]}["main"].get("fallback", "") == ""
