"""Base-URL normalisation (what people paste → the API root) and loopback/local detection."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

import pytest

from trayai.core.net.urls import (
    InvalidURLError,
    has_version_segment,
    host_port,
    is_local_url,
    is_loopback_url,
    normalize_base_url,
    port_of,
)

# (what was typed, expected base URL, a word that must appear in the reported changes or None)
CASES = [
    ("http://localhost:8080/v1", "http://localhost:8080/v1", None),
    ("localhost:8080", "http://localhost:8080/v1", "scheme http://"),
    ("localhost", "http://localhost/v1", "scheme http://"),
    ("127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1", "scheme http://"),
    ("192.168.1.10:8080/v1", "http://192.168.1.10:8080/v1", "scheme http://"),
    ("192.168.1.20:8080", "http://192.168.1.20:8080/v1", "added /v1"),
    ("my-box.local:8080/v1", "http://my-box.local:8080/v1", "scheme http://"),
    ("api.example.com", "https://api.example.com/v1", "scheme https://"),
    ("api.example.com/v1", "https://api.example.com/v1", "scheme https://"),
    ("http://localhost:8080/v1/", "http://localhost:8080/v1", "trailing slash"),
    ("http://localhost:8080/v1///", "http://localhost:8080/v1", "trailing slash"),
    ("http://localhost:8080/", "http://localhost:8080/v1", "/v1"),
    ("http://localhost:8080", "http://localhost:8080/v1", "added /v1"),
    ("http://localhost:11434/v1/chat/completions", "http://localhost:11434/v1", "/chat/completions"),
    ("http://localhost:11434/v1/chat/completions/", "http://localhost:11434/v1", "/chat/completions"),
    ("http://localhost:8080/v1/models", "http://localhost:8080/v1", "/models"),
    ("http://localhost:1234/v1/models", "http://localhost:1234/v1", "/models"),
    ("http://localhost:8080/v1/completions", "http://localhost:8080/v1", "/completions"),
    ("http://localhost:8080/v1/embeddings", "http://localhost:8080/v1", "/embeddings"),
    ("http://localhost:8080/completions", "http://localhost:8080/v1", "/completions"),
    ("http://localhost:8080/V1/Chat/Completions", "http://localhost:8080/V1", "/chat/completions"),
    ("http://localhost:11434/api", "http://localhost:11434/v1", "Ollama"),
    ("http://localhost:11434/api/", "http://localhost:11434/v1", "Ollama"),
    ("http://localhost:12434/engines", "http://localhost:12434/engines/v1", "Docker Model Runner"),
    ("http://localhost:12434/engines/", "http://localhost:12434/engines/v1", "Docker Model Runner"),
    (
        "http://localhost:12434/engines/llama.cpp",
        "http://localhost:12434/engines/llama.cpp/v1",
        "Docker Model Runner",
    ),
    ("http://localhost:12434/engines/v1", "http://localhost:12434/engines/v1", None),
    ("http://localhost:12434/engines/llama.cpp/v1", "http://localhost:12434/engines/llama.cpp/v1", None),
    (
        "http://localhost:12434/engines/v1/chat/completions",
        "http://localhost:12434/engines/v1",
        "/chat/completions",
    ),
    ("http://[::1]:8080/v1", "http://[::1]:8080/v1", None),
    ("[::1]:8080", "http://[::1]:8080/v1", "scheme http://"),
    ("http://[::1]:8080", "http://[::1]:8080/v1", "added /v1"),
    # Scheme and host are case-insensitive: lower-casing them is not a change worth reporting.
    ("HTTP://LOCALHOST:8080/v1", "http://localhost:8080/v1", None),
    ("Https://API.Example.com/v1", "https://api.example.com/v1", None),
    ("HTTP://LOCALHOST:8080", "http://localhost:8080/v1", "added /v1"),
    ("http://localhost:8080/v1?api-version=1", "http://localhost:8080/v1", "query"),
    ("http://localhost:8080/v1#section", "http://localhost:8080/v1", "query"),
    ("http://localhost:8080/v1?x=1#frag", "http://localhost:8080/v1", "query"),
    ("https://user:secret@api.example.com/v1", "https://api.example.com/v1", "credentials"),
    ("http://localhost:08080/v1", "http://localhost:8080/v1", None),
    ("  http://localhost:8080/v1  ", "http://localhost:8080/v1", None),
    ("https://api.openai.com/v1", "https://api.openai.com/v1", None),
    ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1", None),
    (
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        None,
    ),
]


def same_url(a: str, b: str) -> bool:
    """Equal as URLs: scheme and host compare case-insensitively, the port as a number."""
    pa, pb = urlsplit(a), urlsplit(b)

    def key(p: SplitResult) -> tuple[object, ...]:
        return (p.scheme.lower(), p.hostname, p.port, p.path, p.query, p.fragment, p.username)

    return key(pa) == key(pb)


@pytest.mark.parametrize(("typed", "expected", "reason"), CASES)
def test_normalize_base_url(typed: str, expected: str, reason: str | None) -> None:
    result = normalize_base_url(typed)
    assert result.url == expected
    if reason is None:
        assert result.changes == []
        assert result.changed is False
    else:
        assert result.changed is True
        assert any(reason in change for change in result.changes), result.changes


@pytest.mark.parametrize("typed", [case[0] for case in CASES])
def test_changes_are_reported_exactly_when_the_url_changed(typed: str) -> None:
    result = normalize_base_url(typed)
    assert result.changed == (not same_url(result.url, typed.strip()))
    assert all(isinstance(c, str) and c for c in result.changes)


def test_every_change_is_reported_separately() -> None:
    result = normalize_base_url("LOCALHOST:8080/chat/completions/?x=1")
    assert result.url == "http://localhost:8080/v1"
    text = " | ".join(result.changes)
    for word in ("scheme http://", "trailing slash", "/chat/completions", "added /v1", "query"):
        assert word in text
    assert len(result.changes) == 5
    assert "added the missing scheme http://" in result.changes  # said in words, not codes


def test_a_change_is_not_reported_twice_for_several_trailing_slashes() -> None:
    result = normalize_base_url("http://localhost:8080/v1////")
    assert result.changes == ["removed the trailing slash"]


def test_normalizing_is_idempotent() -> None:
    for typed, _, _ in CASES:
        once = normalize_base_url(typed).url
        again = normalize_base_url(once)
        assert again.url == once
        assert again.changes == []


def test_doctest_examples_hold() -> None:
    assert normalize_base_url("localhost:8080").url == "http://localhost:8080/v1"
    assert normalize_base_url("http://localhost:11434/v1/chat/completions").url == "http://localhost:11434/v1"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("http://local host:8080/v1", "spaces"),
        ("http://localhost:8080/v1 extra", "spaces"),
        ("ftp://localhost:8080/v1", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("ws://localhost:8080/v1", "scheme"),
        ("http://", "No host"),
        ("http:///v1", "No host"),
        ("http://:8080/v1", "No host"),
        ("http://localhost:99999/v1", "port"),
        ("localhost:99999", "port"),
        ("http://localhost:abc/v1", "port"),
        ("localhost:abc", "port"),
        ("http://localhost:0/v1", "port"),
    ],
)
def test_invalid_inputs_raise_with_a_message(typed: str, words: str) -> None:
    with pytest.raises(InvalidURLError) as info:
        normalize_base_url(typed)
    message = str(info.value)
    assert words in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)  # callers may catch ValueError


@pytest.mark.parametrize(
    ("url", "loopback", "local"),
    [
        ("http://localhost:8080/v1", True, True),
        ("http://LOCALHOST:8080/v1", True, True),
        ("http://127.0.0.1:8080/v1", True, True),
        ("http://127.0.0.5:8080/v1", True, True),
        ("http://[::1]:8080/v1", True, True),
        ("http://app.localhost/v1", True, True),
        ("http://192.168.1.10:8080/v1", False, True),
        ("http://10.0.0.2:8080/v1", False, True),
        ("http://172.16.5.4/v1", False, True),
        ("http://169.254.1.1/v1", False, True),
        ("http://[fd00::1]:8080/v1", False, True),
        ("http://[fe80::1]:8080/v1", False, True),
        ("http://my-box.local:8080/v1", False, True),
        ("http://nas.lan/v1", False, True),
        ("http://gpu-box:8080/v1", False, True),
        ("https://api.openai.com/v1", False, False),
        ("https://8.8.8.8/v1", False, False),
        ("https://[2606:4700::1111]/v1", False, False),
        ("https://[2001:4860:4860::8888]:443/v1", False, False),
        ("", False, False),
    ],
)
def test_loopback_and_local_detection(url: str, loopback: bool, local: bool) -> None:
    assert is_loopback_url(url) is loopback
    assert is_local_url(url) is local


def test_a_bare_public_ipv6_address_gets_https() -> None:
    assert normalize_base_url("[2606:4700::1111]:8443").url == "https://[2606:4700::1111]:8443/v1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:8080/v1", True),
        ("https://x.example/v1beta", True),
        ("https://x.example/api/v2", True),
        ("http://localhost:8080", False),
        ("http://localhost:8080/api", False),
        ("http://localhost:8080/v1/models", False),
    ],
)
def test_has_version_segment(url: str, expected: bool) -> None:
    assert has_version_segment(url) is expected


@pytest.mark.parametrize(
    ("url", "hp", "port"),
    [
        ("http://localhost:8080/v1", "localhost:8080", 8080),
        ("http://localhost/v1", "localhost:80", 80),
        ("https://api.example.com/v1", "api.example.com:443", 443),
        ("https://api.example.com:8443/v1", "api.example.com:8443", 8443),
    ],
)
def test_host_port_and_port_of(url: str, hp: str, port: int) -> None:
    assert host_port(url) == hp
    assert port_of(url) == port
