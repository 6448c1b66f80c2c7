"""Can this model call tools? Asked of the server where it is cheap to ask: llama.cpp's ``/props``
(``chat_template_caps.supports_tools``: the chat template renders tools) and Ollama's ``/api/show``
(``capabilities`` lists ``tools``). Other servers (LM Studio, vLLM…) do not say in one request: None,
and the person's ``--tools`` (or the chat's switch) is taken at its word.
"""

from __future__ import annotations

import json
from typing import Any

from trayai.core.net.client import ModelClient
from trayai.core.net.wire import within

MAX_BODY = 1_000_000  # /props with a long chat template is tens of KB; /api/show includes the template too


async def tools_supported(client: ModelClient, model: str) -> bool | None:
    """True or False when the server says whether ``model`` can call tools, None when it does not."""
    props = await _json(client, "GET", "/props")
    caps = props.get("chat_template_caps") if isinstance(props, dict) else None
    if isinstance(caps, dict) and isinstance(caps.get("supports_tools"), bool):
        return bool(caps["supports_tools"])
    shown = await _json(client, "POST", "/api/show", {"model": model})
    capabilities = shown.get("capabilities") if isinstance(shown, dict) else None
    if isinstance(capabilities, list):
        return "tools" in capabilities
    return None


async def _json(client: ModelClient, method: str, path: str, body: Any = None) -> Any:
    """The JSON one optional request answers, or None (any failure: the server does not say)."""
    url = f"{client.server_root}{path}"
    headers = {"Authorization": f"Bearer {client.endpoint.api_key}"}

    async def read() -> bytes | None:
        async with client.fetch(method, url, headers=headers, json=body) as response:
            if response.status_code != 200:
                return None
            parts: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                parts.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    return None
            return b"".join(parts)

    try:
        raw = await within(read(), client.endpoint.models_timeout)
        return json.loads(raw) if raw else None
    except Exception:  # noqa: BLE001 - optional: unreachable, slow, not JSON = "the server does not say"
        return None
