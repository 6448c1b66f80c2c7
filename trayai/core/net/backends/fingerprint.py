"""Which server is this? Cheap GETs without side effects, in the order of docs/model-apis.md §7.

The traps that order avoids: Docker Model Runner answers Ollama's ``/api/version``; llama.cpp's
``/models`` carries an Ollama-shaped ``models[]``; ``/slots`` wakes a sleeping llama.cpp model (so
it is never a probe). Probes run in parallel with a short deadline; a failed probe is just "no".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from trayai.core.errors import TrayaiError
from trayai.core.net.backends.http import HttpReply, ServerHttp
from trayai.core.net.backends.records import ServerKind

PROBE_TIMEOUT = 1.5  # seconds per probe: a local server answers these in milliseconds


@dataclass(frozen=True)
class Fingerprint:
    kind: ServerKind
    version: str | None = None
    props: Any = None  # llama.cpp's /props, kept for the adapter (context, sleeping)


async def _try(http: ServerHttp, path: str) -> HttpReply | None:
    try:
        return await http.get(path, timeout=PROBE_TIMEOUT)
    except TrayaiError:
        return None


def _owners(reply: HttpReply | None) -> set[str]:
    data = reply.json() if reply is not None and reply.ok else None
    rows = data.get("data") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        return set()
    return {str(row.get("owned_by")).lower() for row in rows if isinstance(row, dict) and row.get("owned_by")}


def _root_text(reply: HttpReply | None) -> str:
    return reply.text[:2000] if reply is not None and reply.ok else ""


async def fingerprint(http: ServerHttp, owners: set[str] | None = None) -> Fingerprint:
    """Decide the kind: first the root text, /props and the OpenAI listing; then the native APIs.

    ``owners`` are the listing's ``owned_by`` values when the caller has just read it (a poll).
    """
    listing: HttpReply | None = None
    if owners is None:
        root, props, listing = await asyncio.gather(
            _try(http, "/"), _try(http, "/props"), _try(http, f"{http.base}/models")
        )
    else:
        root, props = await asyncio.gather(_try(http, "/"), _try(http, "/props"))
    text = _root_text(root)
    owners = _owners(listing) if owners is None else {o.lower() for o in owners}
    if "Ollama is running" in text:
        return Fingerprint(ServerKind.OLLAMA)
    if (
        "Docker Model Runner is running" in text
        or "docker" in owners
        or http.base.rstrip("/").endswith("/engines/v1")
    ):
        return Fingerprint(ServerKind.DMR)
    props_data = props.json() if props is not None and props.ok else None
    if isinstance(props_data, dict) and "build_info" in props_data:
        kind = ServerKind.LLAMACPP_ROUTER if props_data.get("role") == "router" else ServerKind.LLAMACPP
        return Fingerprint(kind, str(props_data.get("build_info")), props_data)
    if "llamacpp" in owners:
        return Fingerprint(ServerKind.LLAMACPP)
    return await _native_apis(http, owners)


async def _native_apis(http: ServerHttp, owners: set[str]) -> Fingerprint:
    v1, v0, localai, version = await asyncio.gather(
        _try(http, "/api/v1/models"),
        _try(http, "/api/v0/models"),
        _try(http, "/.well-known/localai.json"),
        _try(http, "/version"),
    )
    v1_data = v1.json() if v1 is not None and v1.ok else None
    listed = v1_data.get("models") if isinstance(v1_data, dict) else None
    if isinstance(listed, list) and all(isinstance(m, dict) and "key" in m for m in listed):
        return Fingerprint(ServerKind.LMSTUDIO)
    v0_data = v0.json() if v0 is not None and v0.ok else None
    rows = v0_data.get("data") if isinstance(v0_data, dict) else None
    if isinstance(rows, list) and rows and all(isinstance(r, dict) and "state" in r for r in rows):
        return Fingerprint(ServerKind.LMSTUDIO_V0)
    if v1 is not None and v1.status == 401 and "organization_owner" in owners:
        return Fingerprint(ServerKind.LMSTUDIO)  # the native API needs the token the profile lacks
    if localai is not None and localai.ok:
        return Fingerprint(ServerKind.LOCALAI, _version(version))
    if "vllm" in owners:
        return Fingerprint(ServerKind.VLLM, _version(version))
    if "organization_owner" in owners:
        return Fingerprint(ServerKind.LMSTUDIO_V0)  # LM Studio whose native API is unreachable
    if await _looks_like_jan(http):
        return Fingerprint(ServerKind.JAN)
    return Fingerprint(ServerKind.GENERIC, _version(version))


def _version(reply: HttpReply | None) -> str | None:
    data = reply.json() if reply is not None and reply.ok else None
    value = data.get("version") if isinstance(data, dict) else None
    return str(value) if value is not None else None


async def _looks_like_jan(http: ServerHttp) -> bool:
    """Jan: port 1337 by default and a whitelisted ``/openapi.json`` (treated as generic anyway)."""
    if not http.where.endswith(":1337"):
        return False
    reply = await _try(http, "/openapi.json")
    return reply is not None and reply.ok
