"""`trayai preset …`, `ask --preset` (against the scripted server) and `prompt --action`, in-process."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Settings
from trayai.core.settings.store import ConfigStore


def saved(paths: AppPaths) -> Settings:
    return ConfigStore(paths).load().settings


def test_preset_list_shows_the_defaults() -> None:
    code, out, err = cli("preset", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Concise", "Code reviewer", "Translator"]
    assert lines[0].startswith("Concise: temperature 0.3 — Answer as briefly as possible")
    assert all(len(line) < 140 for line in lines)  # one short line each
    code, out, _ = cli("preset", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed[1]["name"] == "Code reviewer" and listed[1]["temperature"] == 0.2
    assert set(listed[0]) == {"name", "system_prompt", "temperature", "max_tokens"}


def test_preset_add_then_remove(paths: AppPaths) -> None:
    code, _, err = cli(
        "preset",
        "add",
        "Pirate",
        "--system",
        "Talk like a pirate.",
        "--temperature",
        "1.1",
        "--max-tokens",
        "80",
    )
    assert code == 0, err
    assert "added preset 'Pirate'" in err and "trayai ask --preset Pirate" in err
    pirate = saved(paths).presets[-1]
    assert (pirate.name, pirate.system_prompt, pirate.temperature, pirate.max_tokens) == (
        "Pirate",
        "Talk like a pirate.",
        1.1,
        80,
    )
    saved_file = json.loads(paths.config_file.read_text(encoding="utf-8"))
    assert saved_file["presets"][-1] == {
        "name": "Pirate",
        "system_prompt": "Talk like a pirate.",
        "temperature": 1.1,
        "max_tokens": 80,
    }
    _, out, _ = cli("preset", "list")
    assert "Pirate: temperature 1.1 · max 80 tokens — Talk like a pirate." in out
    code, _, err = cli("preset", "remove", "Concise")
    assert code == 0, err
    assert [p.name for p in saved(paths).presets] == ["Code reviewer", "Translator", "Pirate"]


def test_removing_every_preset_leaves_none(paths: AppPaths) -> None:
    for name in ("Concise", "Code reviewer", "Translator"):
        assert cli("preset", "remove", name)[0] == 0
    assert saved(paths).presets == []
    code, out, err = cli("preset", "list")
    assert (code, out) == (0, "") and "no presets" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("preset", "add", "Concise", "--system", "again"), "A preset named 'Concise' exists already"),
        (
            ("preset", "add", "Hot", "--system", "x", "--temperature", "5"),
            "temperature: 5.0 is outside 0.0…2.0",
        ),
        (("preset", "add", "Long", "--system", "x", "--max-tokens", "0"), "max_tokens: 0 is outside"),
        (("preset", "add", "  ", "--system", "x"), "A preset needs a name"),
        (("preset", "add", "Two\nlines", "--system", "x"), "holds a line break"),
        (
            ("preset", "remove", "Nope"),
            "No preset named 'Nope' (presets: 'Concise', 'Code reviewer', 'Translator')",
        ),
    ],
)
def test_preset_mistakes_are_usage_errors_and_nothing_is_saved(
    paths: AppPaths, argv: tuple[str, ...], words: str
) -> None:
    code, _, err = cli(*argv)
    assert code == 2
    assert words in err
    assert not paths.config_file.exists()


def test_ask_with_a_preset_sends_its_system_prompt_and_parameters(server: ScriptedServer) -> None:
    assert cli("preset", "add", "Pirate", "--system", "Talk like a pirate.", "--temperature", "1.1")[0] == 0
    server.script(Reply(text="Arr."))
    code, out, err = cli("ask", "--endpoint", server.base_url, "--preset", "Pirate", "Hello")
    assert code == 0, err
    assert out == "Arr.\n"
    body = server.chat_requests()[-1].json
    assert body["messages"] == [
        {"role": "system", "content": "Talk like a pirate."},
        {"role": "user", "content": "Hello"},
    ]
    assert body["temperature"] == 1.1
    assert body["max_tokens"] == 1024  # the preset leaves it to the profile


def test_flags_win_over_the_preset(server: ScriptedServer) -> None:
    code, _, err = cli(
        "ask",
        "--endpoint",
        server.base_url,
        "--preset",
        "Code reviewer",
        "--temperature",
        "0",
        "--max-tokens",
        "7",
        "review this",
    )
    assert code == 0, err
    body = server.chat_requests()[-1].json
    assert body["messages"][0]["content"].startswith("You are a careful senior code reviewer.")
    assert (body["temperature"], body["max_tokens"]) == (0, 7)
    code, _, err = cli("ask", "--endpoint", server.base_url, "--preset", "Concise", "--system", "Mine.", "hi")
    assert code == 0, err
    body = server.chat_requests()[-1].json
    assert body["messages"][0] == {"role": "system", "content": "Mine."}
    assert body["temperature"] == 0.3


def test_ask_with_an_unknown_preset_names_the_ones_there_are(server: ScriptedServer) -> None:
    code, out, err = cli("ask", "--endpoint", server.base_url, "--preset", "Pirate", "hi")
    assert code == 2 and out == ""
    assert "No preset named 'Pirate' — presets: 'Concise', 'Code reviewer', 'Translator'" in err
    assert server.chat_requests() == []  # refused before anything was sent


def test_prompt_with_an_unknown_action_fails_and_lists_the_actions() -> None:
    """Checked before the GUI starts: a key binding with a typo fails at once, exit 1, naming the
    action it probably meant first."""
    code, out, err = cli("prompt", "--action", "Explian")
    assert code == 1 and out == ""
    assert err == (
        "error: No action named 'Explian' — did you mean 'Explain'? (actions: 'Explain', 'Summarise', "
        "'Translate to English', 'Fix grammar')\n"
    )


def test_prompt_action_names_come_from_the_configuration(paths: AppPaths) -> None:
    settings = Settings()
    settings.actions = []
    ConfigStore(paths).save(settings)
    code, _, err = cli("prompt", "--action", "Explain")
    assert code == 1
    assert "there are no actions" in err
