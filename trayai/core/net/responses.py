"""What servers answer, parsed: model lists, completion bodies, which server family answered.

Strict about the shape, tolerant of missing fields (see docs/architecture.md, "The client").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.net.classify import classify_status, extract_server_message, looks_like_html
from trayai.core.net.urls import host_port
from trayai.core.net.wire import JSONObject, Usage


@dataclass(frozen=True)
class ModelInfo:
    id: str
    owned_by: str | None = None
    created: int | None = None


def parse_model_list(body: str, content_type: str, base_url: str) -> list[ModelInfo]:
    """Parse a ``/models`` body; tolerant of servers that omit fields, strict about the shape."""
    data = parse_json_object(body, content_type, base_url)
    items = data.get("data", data.get("models"))
    if not isinstance(items, list):
        raise make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{host_port(base_url)} answered /models without a model list",
            detail=body[:200],
        )
    models: list[ModelInfo] = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("id") or item.get("name") or item.get("model")
            if isinstance(name, str) and name:
                owner = item.get("owned_by")
                created = item.get("created")
                models.append(
                    ModelInfo(
                        name,
                        owner if isinstance(owner, str) else None,
                        created if isinstance(created, int) else None,
                    )
                )
        elif isinstance(item, str):
            models.append(ModelInfo(item))
    return models


def parse_json_object(body: str, content_type: str, base_url: str) -> JSONObject:
    if looks_like_html(body, content_type):
        raise classify_status(200, body, content_type, base_url=base_url)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{host_port(base_url)} answered with something that is not valid JSON",
            detail=body[:200],
        ) from exc
    if not isinstance(data, dict):
        raise make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{host_port(base_url)} answered with JSON of an unexpected shape",
            detail=body[:200],
        )
    return data


def completion_fields(data: JSONObject, base_url: str) -> tuple[str, str | None, Usage]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        if data.get("error"):
            reason = extract_server_message(json.dumps(data)) or "unknown error"
            raise make_error(ErrorCode.SERVER_ERROR, f"The server failed: {reason}", detail=reason)
        raise make_error(ErrorCode.MALFORMED_RESPONSE, f"{host_port(base_url)} answered without any choices")
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content") if isinstance(message, dict) else None
    text = content if isinstance(content, str) else str(choice.get("text") or "")
    usage_raw = data.get("usage")
    if isinstance(usage_raw, dict) and usage_raw.get("completion_tokens") is not None:
        usage = Usage(usage_raw.get("prompt_tokens"), int(usage_raw["completion_tokens"]), False)
    else:
        usage = Usage(None, max(1, len(text.split())) if text else 0, True)
    return text, choice.get("finish_reason"), usage


_PORT_KINDS = {
    11434: "Ollama",
    1234: "LM Studio",
    12434: "Docker Model Runner",
    1337: "Jan",
    8000: "vLLM",
    4891: "GPT4All",
    8080: "llama.cpp server",
}
_OWNER_KINDS = {
    "llamacpp": "llama.cpp server",
    "library": "Ollama",
    "ollama": "Ollama",
    "vllm": "vLLM",
    "docker": "Docker Model Runner",
    "organization_owner": "LM Studio",
    "lmstudio": "LM Studio",
    "jan": "Jan",
    "localai": "LocalAI",
    "me": "llama-cpp-python",
}


def message_reasoning(data: JSONObject) -> str:
    """A whole completion's thinking (``message.reasoning_content`` / ``reasoning``), else ""."""
    choices = data.get("choices")
    first: Any = choices[0] if isinstance(choices, list) and choices else None
    message: Any = first.get("message") if isinstance(first, dict) else None
    value = (
        message.get("reasoning_content") or message.get("reasoning") if isinstance(message, dict) else None
    )
    return value if isinstance(value, str) else ""


def guess_server_kind(base_url: str, server_header: str | None, owners: Sequence[str | None]) -> str | None:
    """A best guess at which server family answers, from what one ``/models`` call reveals."""
    if "/engines" in base_url:
        return "Docker Model Runner"
    for owner in owners:
        if owner and owner.lower() in _OWNER_KINDS:
            return _OWNER_KINDS[owner.lower()]
    header = (server_header or "").lower()
    if "llama" in header:
        return "llama.cpp server"
    if "uvicorn" in header and any(o == "me" for o in owners):
        return "llama-cpp-python"
    try:
        port = int(host_port(base_url).rsplit(":", 1)[1])
    except ValueError:  # pragma: no cover - host_port always has a port
        return None
    guess = _PORT_KINDS.get(port)
    return f"{guess}?" if guess else None
