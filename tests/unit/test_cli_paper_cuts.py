"""The command line as a newcomer first meets it: usage lines, names people type, "did you mean".

Why: a mistake in `trayai ask` answered with the whole top-level usage, `trayai doctor` refused,
`--endpoint` refused by one command and `--base-url` demanded by another, a typo answered with a
list to compare by eye — each costs a new user a minute and some trust. Each test here failed before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.ports import free_port
from tests.support.scripted_server import ScriptedServer
from trayai.cli.serve import serving_line
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore
from trayai.core.suggest import close_names, did_you_mean

TOP_USAGE = "(no command: start the tray app)"


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What argparse prints for ``trayai ARGV…``, which must be a usage error (exit 2)."""
    with pytest.raises(SystemExit) as exited:
        cli(*argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli(*argv, "--help")
    assert exited.value.code == 0
    return capsys.readouterr().out


# ------------------------------------------------------------------------------------ usage lines


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (("ask",), "usage: trayai ask [-h] [--endpoint URL]"),
        (("status",), "usage: trayai status [-h]"),
        (("servers",), "usage: trayai servers [-h] [--endpoint URL]"),
        (("config", "set"), "usage: trayai config set [-h]"),
        (("profile", "add"), "usage: trayai profile add [-h] --endpoint URL"),
    ],
)
def test_a_commands_help_shows_its_own_usage_only(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], usage: str
) -> None:
    text = help_text(capsys, *argv)
    assert text.startswith(usage), text.splitlines()[0]
    assert TOP_USAGE not in text


def test_an_unknown_option_is_the_commands_error_with_the_commands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = usage_error(capsys, "ask", "--bogus", "hi")
    assert err.startswith("usage: trayai ask [-h]")
    assert "trayai ask: error: unrecognized arguments: --bogus" in err
    assert TOP_USAGE not in err
    err = usage_error(capsys, "config", "set", "poll_interval", "3", "--nope")
    assert "trayai config set: error: unrecognized arguments: --nope" in err
    err = usage_error(capsys, "config", "set")  # a missing argument too
    assert err.startswith("usage: trayai config set") and "trayai config set: error:" in err


def test_the_top_level_still_says_what_a_wrong_command_is(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(capsys, "bogus")
    assert TOP_USAGE in err and "invalid choice: 'bogus'" in err


# ------------------------------------------------------------------------------- names people type


def test_doctor_is_status(server: ScriptedServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli("doctor", "--endpoint", server.base_url, "--quick")
    assert code == 0, err
    assert out.startswith("trayai status — ") and "Server reachable" in out
    assert "status (doctor)" in help_text(capsys)  # `trayai --help` names both


def test_profile_add_takes_endpoint_like_every_other_command(paths: AppPaths) -> None:
    code, _, err = cli("profile", "add", "Ollama", "--endpoint", "localhost:11434", "--model", "qwen3")
    assert code == 0, err
    code, _, err = cli("profile", "add", "Old", "--base-url", "http://127.0.0.1:1/v1")  # still works
    assert code == 0, err
    code, _, err = cli("profile", "set", "Old", "--endpoint", "127.0.0.1:2")
    assert code == 0, err
    profiles = {p.name: p.base_url for p in ConfigStore(paths).load().settings.profiles}
    assert profiles["Ollama"] == "http://localhost:11434/v1"
    assert profiles["Old"] == "http://127.0.0.1:2/v1"


def save_profiles(paths: AppPaths, *profiles: Profile) -> None:
    settings = Settings()
    settings.profiles = list(profiles)
    settings.active_profile = profiles[0].name
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)


def test_servers_looks_at_the_endpoint_it_is_given(paths: AppPaths) -> None:
    """`--endpoint URL` adds that server's row (labelled by the flag) and decides the exit code."""
    dead = free_port()
    save_profiles(paths, Profile(name="dead", base_url=f"http://127.0.0.1:{dead}/v1"))
    with FakeBackend(Kind.OLLAMA, [FakeModel("a:latest", loaded=True)]) as ollama:
        code, out, err = cli("servers", "--endpoint", ollama.base_url, "--model", "a")
        json_code, json_out, _ = cli("servers", "--endpoint", ollama.base_url, "--model", "a", "--json")
        port = ollama.port
    assert code == 0, err  # the profile's server is down, the one asked about is up
    lines = out.splitlines()
    assert lines[0] == f"* dead  unreachable — 127.0.0.1:{dead} (?)"
    assert lines[-1] == f"> --endpoint  ready — 127.0.0.1:{port} (Ollama) · 1 loaded: a:latest"
    assert json_code == 0
    data = json.loads(json_out)
    assert [row["profile"] for row in data["servers"]] == ["dead"]
    assert data["endpoint"]["base_url"] == f"http://127.0.0.1:{port}/v1"
    assert data["endpoint"]["state"] == "ready"

    code, out, _ = cli("servers", "--endpoint", f"127.0.0.1:{dead}")
    assert code == 1  # the server asked about is down
    assert f"> --endpoint  unreachable — 127.0.0.1:{dead} (?)" in out


def test_servers_with_profile_answers_for_that_profile(paths: AppPaths) -> None:
    dead = free_port()
    with FakeBackend(Kind.OLLAMA, [FakeModel("a:latest")]) as ollama:
        save_profiles(
            paths,
            Profile(name="up", base_url=ollama.base_url, model="a"),
            Profile(name="dead", base_url=f"http://127.0.0.1:{dead}/v1"),
        )
        assert cli("servers")[0] == 0
        code, out, _ = cli("servers", "--profile", "dead")
        assert code == 1 and out.count("\n") == 3  # every profile shown, no extra row
        code, _, err = cli("servers", "--profile", "nobody")
    assert code == 2 and "No profile named 'nobody'" in err


def test_batch_refuses_an_existing_output_with_exit_1_as_documented(
    server: ScriptedServer, tmp_path: Path
) -> None:
    """1 = failure, 2 = bad usage (cli/context.py, README): the command line was right."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"prompt": "hi"}\n')
    out.write_text("earlier answers\n")
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url)
    assert code == 1
    assert f"error: {out} exists" in err and "→ add --resume to continue it, or --force" in err
    assert out.read_text() == "earlier answers\n" and server.chat_requests() == []
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "a second run on the same OUT refuses (exit 1)" in readme


# ------------------------------------------------------------------------------------ did you mean


def test_close_names_ignore_case_and_find_nothing_for_nonsense() -> None:
    assert close_names("translator", ["Concise", "Translator"]) == ["Translator"]
    assert close_names("zzz", ["Concise", "Translator"]) == []
    assert did_you_mean("Concse", ["Concise"]) == " — did you mean 'Concise'?"
    assert did_you_mean("\x1b[2Jx", ["\x1b[2Jy"]).count("\x1b") == 0  # a name is never a control


def test_an_unknown_preset_suggests_the_close_one(server: ScriptedServer) -> None:
    code, out, err = cli("ask", "--endpoint", server.base_url, "--preset", "Transltor", "hi")
    assert code == 2 and out == ""
    assert "No preset named 'Transltor' — did you mean 'Translator'? (presets: 'Concise'," in err
    assert server.chat_requests() == []
    code, _, err = cli("preset", "remove", "concise")
    assert code == 2 and "No preset named 'concise' — did you mean 'Concise'?" in err


def test_an_unknown_action_suggests_the_close_one() -> None:
    code, _, err = cli("prompt", "--action", "sumarise")
    assert code == 1 and "No action named 'sumarise' — did you mean 'Summarise'?" in err


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("pol_interval", "'poll_interval'"),
        ("model", "'profile.model'"),  # a profile key typed without its section
        ("port", "'builtin_server.port'"),
    ],
)
def test_an_unknown_setting_suggests_the_close_one(paths: AppPaths, key: str, meant: str) -> None:
    for argv in (("config", "get", key), ("config", "set", key, "3")):
        code, _, err = cli(*argv)
        assert code == 2
        assert f"Unknown setting {key!r} — did you mean {meant}?" in err
    assert not paths.config_file.exists()


def test_a_setting_with_nothing_close_says_where_they_are_listed() -> None:
    code, _, err = cli("config", "get", "zzzz")
    assert code == 2 and "did you mean" not in err and "`trayai config show` lists them" in err


# ----------------------------------------------------------------------------------------- wording


def test_serve_says_1_thread_and_1_answer() -> None:
    one = serving_line("ai/smollm2", "http://127.0.0.1:8080/v1", 1, 1, 4096)
    assert "(1 answer at once, 1 thread, 4096 tokens of context)" in one
    assert "(4 answers at once, 3 threads," in serving_line("m", "u", 4, 3, 2048)


def test_version_into_a_pipe_that_closes_early_is_not_an_error() -> None:
    """`trayai --version | head -1` printed a BrokenPipeError traceback."""
    import subprocess
    import sys

    done = subprocess.run(
        [
            "bash",
            "-c",
            f"'{sys.executable}' -m trayai.cli --version | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_a_batch_lines_json_error_reads_once() -> None:
    """json's "Unterminated string starting at" plus our " at column N" read "at at column"."""
    from trayai.core.chat.batch import parse_item

    item = parse_item('{"prompt": "never closed', 0)
    assert item.error is not None
    assert "at at" not in item.error
    assert item.error == "not valid JSON (Unterminated string starting at; column 12)"
