"""The chat, the quick prompt and settings never substitute a model nor misattribute a server
(issue 23, items 1–2).

Why: a single-model server answers any name. The chat's picker could send "gpt-4o" and show the
SmolLM2 answer under that name; an ``--endpoint`` run saved its conversations under the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_chat_controller import Harness
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_export import export_json
from trayai.core.chat.render import reply_footer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.resolve import resolve_endpoint
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.ui.chat.controller import ChatTarget
from trayai.ui.settings.dialog import SettingsDialog


def test_a_model_the_server_lacks_is_refused_before_sending(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    harness = Harness(history, server.base_url)
    harness.controller.set_options(model="gpt-4o")
    outcome = run(harness.ask("hi"))
    assert outcome.status == "error" and outcome.error is not None
    assert outcome.error.code.value == "model_missing"
    assert "'gpt-4o' is not on" in outcome.error.message and "ai/smollm2" in outcome.error.message
    assert server.chat_requests() == []
    saved = history.messages(outcome.message.conversation_id)
    assert saved[-1].meta["error"]["code"] == "model_missing"


def test_the_footer_says_another_model_answered(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="Blue.", answer_model="qwen3-4b"))
    harness = Harness(history, server.base_url)
    outcome = run(harness.ask("why is the sky blue"))
    assert outcome.status == "done", outcome.error
    meta = history.messages(outcome.message.conversation_id)[-1].meta
    assert (meta["model"], meta["asked_model"]) == ("qwen3-4b", "ai/smollm2")
    footer = reply_footer(meta, outcome.status)
    assert footer.startswith("qwen3-4b (answered instead of ai/smollm2)")


def test_the_same_model_spelt_otherwise_is_not_flagged(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="ok", answer_model="docker.io/ai/smollm2:latest"))
    harness = Harness(history, server.base_url)
    outcome = run(harness.ask("hi"))
    assert "asked_model" not in outcome.message.meta


def test_an_endpoint_run_is_saved_against_its_url_not_a_profile(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    harness = Harness(history, server.base_url)
    harness.target = ChatTarget(client=harness.client, model="ai/smollm2", profile=None)
    outcome = run(harness.ask("hi"))
    cid = outcome.message.conversation_id
    assert history.conversation(cid).profile is None
    meta = history.messages(cid)[-1].meta
    assert (meta["endpoint"], meta["profile"]) == (server.base_url, None)
    exported = export_json(history, cid)
    assert exported["profile"] is None
    assert exported["messages"][-1]["meta"]["endpoint"] == server.base_url


def test_a_profile_run_names_both(
    history: HistoryStore, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    harness = Harness(history, server.base_url)
    outcome = run(harness.ask("hi"))
    cid = outcome.message.conversation_id
    assert history.conversation(cid).profile == "default"
    assert (outcome.message.meta["endpoint"], outcome.message.meta["profile"]) == (server.base_url, "default")


def test_settings_marks_no_profile_in_use_for_an_endpoint_run(
    paths: AppPaths, qtbot: QtBot, server: ScriptedServer
) -> None:
    """An ``--endpoint`` run: "(in use)" on the saved profile would name a server it never talked to."""
    settings = Settings()
    settings.profiles = [Profile(name="Local (port 8080)", base_url="http://127.0.0.1:8080/v1")]
    store = ConfigStore(paths)
    store.save(settings)
    loaded = store.load()
    running = resolve_endpoint(loaded, None, base_url=server.base_url)

    def labels(dialog: SettingsDialog) -> list[str]:
        return [
            dialog.profiles_page.profiles.item(i).text() for i in range(dialog.profiles_page.profiles.count())
        ]

    dialog = SettingsDialog(loaded, SecretStore(MemoryKeyring()), store, running=running)
    qtbot.addWidget(dialog)
    assert labels(dialog) == ["Local (port 8080)"]
    assert dialog.profiles_page.running_note.text().startswith(
        f"In use now: {server.base_url} (from --endpoint)"
    )
    own = SettingsDialog(loaded, SecretStore(MemoryKeyring()), store, running=resolve_endpoint(loaded, None))
    qtbot.addWidget(own)
    assert labels(own) == ["Local (port 8080)  (in use)"]
    assert own.profiles_page.running_note.text() == ""
