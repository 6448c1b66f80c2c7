"""``trayai ask`` and ``trayai batch`` meet the shared faults (tests/support/answer_faults.py) and show
the answer pipeline's own words for each — the fallback note, the trimmed note, the refusal — as
the chat does (tests/ui/test_answer_front_ends.py).

Why: fallback, trimming and the vision check are written once (core/chat/answer.py); a front end
that words them its own way (batch said "using fallback" where ask said "trying") drifts apart.
``ask`` sends one turn and no image, so it meets the fallback only; ``batch`` lines carry whole
conversations and image parts, so it meets all three.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.support.answer_faults import FAULTS, FELL_BACK, MODEL, Fault, reference_note
from tests.support.cli import cli
from tests.support.scripted_server import ScriptedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.secrets import MemoryKeyring
from trayai.core.settings.store import ConfigStore


@pytest.fixture(autouse=True)
def keychain(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture
def servers() -> Iterator[tuple[ScriptedServer, ScriptedServer]]:
    with ScriptedServer() as main, ScriptedServer() as backup:
        yield main, backup


def configure(paths: AppPaths, main: ScriptedServer, backup: ScriptedServer) -> None:
    settings = Settings()
    settings.profiles = [
        Profile(name="main", base_url=main.base_url, model=MODEL, fallback="backup"),
        Profile(name="backup", base_url=backup.base_url, model=MODEL),
    ]
    settings.active_profile = "main"
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)


def test_ask_shows_the_pipelines_fallback_note(
    paths: AppPaths, servers: tuple[ScriptedServer, ScriptedServer]
) -> None:
    main, backup = servers
    note = asyncio.run(reference_note(FELL_BACK, main, backup))
    configure(paths, main, backup)
    FELL_BACK.play(main, backup)
    code, out, err = cli("ask", "--no-autostart", "hi")
    assert code == 0, err
    assert out == f"{FELL_BACK.answer}\n"
    assert f"note: {note}" in err.splitlines()


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_batch_shows_the_pipelines_words(
    fault: Fault, paths: AppPaths, servers: tuple[ScriptedServer, ScriptedServer], tmp_path: Path
) -> None:
    main, backup = servers
    note = asyncio.run(reference_note(fault, main, backup))
    configure(paths, main, backup)
    fault.play(main, backup)
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(json.dumps({"id": "q", "messages": list(fault.turns)}) + "\n")
    code, _, err = cli("batch", str(source), "-o", str(output), "--no-autostart")
    (record,) = [json.loads(line) for line in output.read_text().splitlines()]
    if fault.answer is None:  # refused: the record carries the same words
        assert code != 0
        assert record["error"]["message"] == note
    else:
        assert code == 0, err
        assert record["answer"] == fault.answer and record["error"] is None
        assert f"note: {note}" in err.splitlines()
