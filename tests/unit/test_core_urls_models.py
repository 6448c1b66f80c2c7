"""Base-URL normalisation and tolerant model matching: the two things users get wrong most."""

from __future__ import annotations

import pytest

from trayai.core.modelmatch import canonical_model_name, match_model
from trayai.core.urls import InvalidURLError, is_local_url, is_loopback_url, normalize_base_url


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("http://localhost:8080/v1", "http://localhost:8080/v1"),
        ("localhost:8080", "http://localhost:8080/v1"),
        ("http://localhost:8080/", "http://localhost:8080/v1"),
        ("http://localhost:8080/v1/", "http://localhost:8080/v1"),
        ("http://localhost:11434/v1/chat/completions", "http://localhost:11434/v1"),
        ("http://localhost:1234/v1/models", "http://localhost:1234/v1"),
        ("http://localhost:11434/api", "http://localhost:11434/v1"),
        ("http://localhost:12434/engines", "http://localhost:12434/engines/v1"),
        ("http://localhost:12434/engines/v1", "http://localhost:12434/engines/v1"),
        ("HTTP://LocalHost:8000/v1", "http://localhost:8000/v1"),
        ("http://[::1]:8080", "http://[::1]:8080/v1"),
        ("api.example.com/v1", "https://api.example.com/v1"),
        ("192.168.1.20:8080", "http://192.168.1.20:8080/v1"),
        ("http://localhost:8080/v1?x=1#frag", "http://localhost:8080/v1"),
    ],
)
def test_normalisation(typed: str, expected: str) -> None:
    result = normalize_base_url(typed)
    assert result.url == expected
    assert result.changed == (typed.lower() != expected)  # case alone is not worth reporting
    assert all(isinstance(c, str) and c for c in result.changes)


def test_changes_are_said_in_words() -> None:
    changes = normalize_base_url("localhost:8080/v1/chat/completions").changes
    assert "added the missing scheme http://" in changes
    assert any("/chat/completions" in c for c in changes)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "http://",
        "ftp://host/v1",
        "http://local host:80",
        "http://localhost:99999/v1",
        "http://localhost:abc/v1",
    ],
)
def test_invalid_urls(bad: str) -> None:
    with pytest.raises(InvalidURLError) as info:
        normalize_base_url(bad)
    assert str(info.value)


@pytest.mark.parametrize(
    ("url", "loopback", "local"),
    [
        ("http://localhost:8080/v1", True, True),
        ("http://127.0.0.5:1/v1", True, True),
        ("http://[::1]:8080/v1", True, True),
        ("http://192.168.1.10:8080/v1", False, True),
        ("http://10.0.0.2/v1", False, True),
        ("http://my-box.local:8080/v1", False, True),
        ("https://api.openai.com/v1", False, False),
    ],
)
def test_locality(url: str, loopback: bool, local: bool) -> None:
    assert is_loopback_url(url) is loopback
    assert is_local_url(url) is local


@pytest.mark.parametrize(
    ("wanted", "available", "resolved", "how"),
    [
        ("ai/smollm2", ["ai/smollm2"], "ai/smollm2", "exact"),
        ("AI/SmolLM2", ["ai/smollm2"], "ai/smollm2", "case"),
        (
            "ai/smollm2",
            ["docker.io/ai/smollm2:latest", "docker.io/ai/qwen3:latest"],
            "docker.io/ai/smollm2:latest",
            "registry/tag",
        ),
        ("smollm2", ["smollm2:latest", "llama3:latest"], "smollm2:latest", "registry/tag"),
        ("ai/smollm2", ["smollm2:latest"], "smollm2:latest", "name without namespace"),
        ("ai/smollm2", ["ai/smollm2:360M-Q4_K_M"], "ai/smollm2:360M-Q4_K_M", "base name"),
    ],
)
def test_tolerant_matches(wanted: str, available: list[str], resolved: str, how: str) -> None:
    match = match_model(wanted, available)
    assert match.found and match.resolved == resolved and match.how == how


def test_ambiguous_tags_are_not_guessed() -> None:
    match = match_model("ai/smollm2", ["ai/smollm2:135M", "ai/smollm2:360M"])
    assert not match.found
    assert match.suggestions == ["ai/smollm2:135M", "ai/smollm2:360M"]


def test_missing_model_suggests_close_names() -> None:
    match = match_model("ai/smolm2", ["ai/smollm2", "ai/qwen3", "ai/gemma3"])
    assert not match.found and match.suggestions[0] == "ai/smollm2"
    assert match_model("totally-different", ["ai/qwen3"]).suggestions == []


def test_canonical_names() -> None:
    assert canonical_model_name("docker.io/ai/SmolLM2:latest") == "ai/smollm2"
    assert canonical_model_name("registry.ollama.ai/library/llama3:latest") == "llama3"
