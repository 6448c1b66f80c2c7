"""Policy decisions, the names the model sees, and results made inert and capped."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolPolicy, ToolsConfig, ToolsStore
from trayai.core.tools.names import MAX_NAME, qualified_name
from trayai.core.tools.policy import Approval, Decision, answer, decide, refusal_content, remember
from trayai.core.tools.results import MAX_RESULT_BYTES, cap_text, result_text

OPENAI_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _config() -> ToolsConfig:
    return ToolsConfig(
        {
            "time": ServerConfig(
                "time", stdio=StdioLaunch("x"), policies={"now": ToolPolicy.ALLOW, "rm": ToolPolicy.NEVER}
            ),
            "off": ServerConfig(
                "off", stdio=StdioLaunch("x"), enabled=False, policies={"now": ToolPolicy.ALLOW}
            ),
        }
    )


def test_nothing_runs_unless_the_person_said_so() -> None:
    config = _config()
    assert decide(config, "time", "now") is Decision.RUN
    assert decide(config, "time", "other") is Decision.ASK  # the default
    assert decide(config, "time", "rm") is Decision.REFUSE
    assert decide(config, "off", "now") is Decision.REFUSE  # a disabled server's allow does not count
    assert decide(config, "gone", "now") is Decision.REFUSE
    assert answer(Approval.ONCE) is Decision.RUN and answer(Approval.ALWAYS) is Decision.RUN
    assert answer(Approval.DENY) is Decision.REFUSE
    assert "denied" in refusal_content("time__rm", by_person=True)
    assert "settings do not allow" in refusal_content("time__rm", by_person=False)


def test_always_is_remembered_in_the_file(paths: AppPaths) -> None:
    store = ToolsStore.at(paths, SecretStore(MemoryKeyring(), service=TOOLS_SERVICE))
    store.save(_config())
    config = remember(store, "time", "other")
    assert decide(config, "time", "other") is Decision.RUN
    assert decide(store.load(), "time", "other") is Decision.RUN
    remember(store, "time", "other", ToolPolicy.ASK)
    assert "other" not in store.load().server("time").policies  # back to the default: not written


def test_names_are_namespaced_valid_and_never_clash() -> None:
    assert qualified_name("time", "get_current_time") == "time__get_current_time"
    odd = qualified_name("my server.v2", "read file")
    assert OPENAI_NAME.fullmatch(odd) and odd.startswith("my_server_v2__read_file_")
    taken = {qualified_name("a", "b")}
    again = qualified_name("a", "b", frozenset(taken))
    assert again != "a__b" and OPENAI_NAME.fullmatch(again)
    long = qualified_name("s" * 40, "t" * 40)
    assert len(long) == MAX_NAME and OPENAI_NAME.fullmatch(long)
    # two names that clean to the same text stay apart
    assert qualified_name("a.b", "c") != qualified_name("a_b", "c")


def test_results_are_inert_text() -> None:
    result = SimpleNamespace(
        content=[
            SimpleNamespace(type="text", text="hello"),
            SimpleNamespace(type="image", data="A" * 4000, mime_type="image/png"),
            SimpleNamespace(type="resource_link", uri="file:///etc/passwd"),
            SimpleNamespace(
                type="resource",
                resource=SimpleNamespace(uri="mem://x", mime_type="text/plain", text="inside"),
            ),
            SimpleNamespace(
                type="resource", resource=SimpleNamespace(uri="mem://y", mime_type="application/zip")
            ),
        ],
        structured_content=None,
    )
    text, truncated = result_text(result)
    assert not truncated
    assert text.split("\n\n") == [
        "hello",
        "[image: image/png, 3 KB, not shown]",
        "[resource link: file:///etc/passwd]",
        "inside",
        "[resource mem://y: application/zip]",
    ]
    structured = SimpleNamespace(content=[], structured_content={"a": 1})
    assert result_text(structured) == ('{\n  "a": 1\n}', False)


@pytest.mark.parametrize("char", ["y", "é", "😀"])
def test_results_are_capped_on_a_character_boundary_with_a_note(char: str) -> None:
    text, truncated = cap_text(char * (MAX_RESULT_BYTES + 1))
    assert truncated
    kept, note = text.split("\n\n[… truncated: ")
    assert len(kept.encode()) <= MAX_RESULT_BYTES and set(kept) == {char}
    assert note.endswith("the first 256 KB are shown]")
    assert cap_text("short") == ("short", False)
