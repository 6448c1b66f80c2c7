"""Normalising the base URLs people paste (``localhost:8080``, ``…/v1/``, ``…/v1/chat/completions``)
to the API root the client needs, and saying in words what was changed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit, urlunsplit

from trayai.core.errors import AppError

# Endpoint paths that people paste by mistake after the base URL, longest first.
_ENDPOINT_SUFFIXES = (
    "/chat/completions",
    "/completions",
    "/embeddings",
    "/models",
    "/responses",
)
_VERSION_SEGMENT = re.compile(r"/v\d+(?:beta\d*|alpha\d*)?$")


class InvalidURLError(AppError, ValueError):
    """The text cannot be turned into an http(s) base URL; ``str()`` says why in one line."""


@dataclass(frozen=True)
class NormalizedURL:
    """A usable base URL plus the human-readable list of changes made to what was typed."""

    url: str
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def normalize_base_url(raw: str) -> NormalizedURL:
    """Turn what a user typed into an OpenAI-compatible base URL ending in its API root.

    >>> normalize_base_url("localhost:8080").url
    'http://localhost:8080/v1'
    >>> normalize_base_url("http://localhost:11434/v1/chat/completions").url
    'http://localhost:11434/v1'
    """
    text = raw.strip()
    changes: list[str] = []
    if not text:
        raise InvalidURLError("The base URL is empty — enter something like http://localhost:8080/v1")
    if any(ch.isspace() for ch in text):
        raise InvalidURLError(f"The base URL {text!r} contains spaces")
    if "://" not in text:
        host_part = text.split("/", 1)[0]
        scheme = "http" if _is_local_host(_host_of(host_part)) else "https"
        text = f"{scheme}://{text}"
        changes.append(f"added the missing scheme {scheme}://")
    parts = urlsplit(text)
    port = _checked_port(parts, raw.strip())
    if parts.query or parts.fragment:
        changes.append("removed the query string/fragment")
    path = _api_root(parts.path, changes)
    host = (parts.hostname or "").lower()
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username:
        changes.append("removed credentials from the URL (put keys in the API key field)")
    url = urlunsplit((parts.scheme.lower(), netloc, path, "", ""))
    return NormalizedURL(url=url, changes=changes)


def _checked_port(parts: SplitResult, typed: str) -> int | None:
    """The port of ``parts`` (None: the scheme's default), once scheme, host and port are usable."""
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidURLError(f"Unsupported scheme {parts.scheme!r} — use http:// or https://")
    if not parts.hostname:
        raise InvalidURLError(f"No host in {typed!r} — expected e.g. http://localhost:8080/v1")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"Invalid port in {typed!r}") from exc
    if port == 0:
        raise InvalidURLError(f"Invalid port 0 in {typed!r} — use the port the server listens on")
    return port


def _api_root(path: str, changes: list[str]) -> str:
    """``path`` cut back to the OpenAI-compatible API root, each change said in ``changes``."""
    while path.endswith("/"):
        path = path[:-1]
        if "removed the trailing slash" not in changes:
            changes.append("removed the trailing slash")
    for suffix in _ENDPOINT_SUFFIXES:
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
            changes.append(f"removed the endpoint path {suffix} (trayai adds it itself)")
            break
    if path in ("", "/"):
        path = "/v1"
        changes.append("added /v1 (the OpenAI-compatible API root)")
    elif path.lower() == "/api":
        # Ollama's native API lives at /api; its OpenAI-compatible one at /v1.
        path = "/v1"
        changes.append("replaced /api (Ollama's native API) with /v1 (its OpenAI-compatible API)")
    elif path.lower() in ("/engines", "/engines/llama.cpp"):
        # Docker Model Runner serves the OpenAI API below /engines[/llama.cpp]/v1.
        path = f"{path}/v1"
        changes.append("added /v1 after /engines (Docker Model Runner's API root)")
    return path


def has_version_segment(url: str) -> bool:
    """True when the URL's path ends in an API version such as ``/v1`` (used for hints)."""
    return bool(_VERSION_SEGMENT.search(urlsplit(url).path))


def host_port(url: str) -> str:
    """``host:port`` for messages, with the scheme's default port filled in."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def port_of(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def is_loopback_url(url: str) -> bool:
    """True for localhost/127.0.0.0/8/::1 — traffic that must never go through a proxy."""
    return _is_loopback_host(urlsplit(url).hostname or "")


def is_local_url(url: str) -> bool:
    """True for loopback, private-network and ``.local`` hosts: servers that need no real API key."""
    return _is_local_host(urlsplit(url).hostname or "")


def _host_of(host_port_text: str) -> str:
    if host_port_text.startswith("["):
        return host_port_text[1:].split("]", 1)[0]
    return host_port_text.rsplit(":", 1)[0] if host_port_text.count(":") == 1 else host_port_text


def _is_loopback_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_local_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if _is_loopback_host(host) or host.endswith((".local", ".lan", ".home.arpa")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return bool(host) and "." not in host  # a single-label name ("my-box") is on the LAN
    return address.is_private or address.is_link_local
