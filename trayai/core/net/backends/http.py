"""Plain HTTP for the model-management calls: bounded bodies, deadlines, typed failures.

It shares the endpoint's connection pool (and so its retry and size guards, core/net/transport.py) and
sends the endpoint's key to every route, as LM Studio, vLLM, Jan and LocalAI require.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trayai.core.error_catalog import ErrorCode, ErrorPhase
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.classify import classify_exception, classify_status
from trayai.core.net.client import within
from trayai.core.net.urls import host_port

if TYPE_CHECKING:
    from trayai.core.net.client import ModelClient

MAX_BODY_BYTES = 8_000_000  # a management answer (a listing of thousands of models is a few hundred KB)
MAX_LINE_BYTES = 1_000_000  # one NDJSON or SSE line of pull progress
ABSENT = (404, 405, 501)  # "this server has no such call": the capability is switched off


def server_root(base_url: str) -> str:
    """The server's root: the OpenAI base without ``/v1`` or Docker's ``/engines[/backend]/v1``."""
    root = base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    marker = root.find("/engines")
    return root[:marker] if marker >= 0 else root


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes
    content_type: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def absent(self) -> bool:
        return self.status in ABSENT

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON (an HTML page, plain text)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class ServerHttp:
    """GET/POST against one server's root with the endpoint's key and pool."""

    def __init__(self, client: ModelClient, *, timeout: float | None = None) -> None:
        self.client = client
        self.base = client.base_url
        self.root = server_root(client.base_url)
        self.timeout = timeout if timeout is not None else client.endpoint.models_timeout
        self.where = host_port(client.base_url)

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.client.endpoint.api_key}", "Accept": "application/json"}
        headers.update(extra or {})
        return headers

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.root}{path}"

    async def get(self, path: str, *, timeout: float | None = None) -> HttpReply:
        return await self.request("GET", path, timeout=timeout)

    async def post(
        self,
        path: str,
        body: Any,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpReply:
        return await self.request("POST", path, body=body, timeout=timeout, headers=headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpReply:
        """One bounded request; network failures and deadlines raise :class:`TrayaiError`."""
        seconds = self.timeout if timeout is None else timeout
        try:
            return await within(self._read(method, path, body, headers), seconds)
        except TrayaiError:
            raise
        except asyncio.TimeoutError as exc:
            raise make_error(
                ErrorCode.CONNECT_TIMEOUT,
                f"{self.where} did not answer {method} {path} within {seconds:g} s",
                "The server is busy or stuck; try again, or check its log.",
            ) from exc
        except Exception as exc:
            raise classify_exception(exc, base_url=self.base, phase=ErrorPhase.CONNECT) from exc

    async def _read(self, method: str, path: str, body: Any, headers: Mapping[str, str] | None) -> HttpReply:
        fetching = self.client.fetch(method, self.url(path), headers=self._headers(headers), json=body)
        async with fetching as response:
            parts: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise make_error(
                        ErrorCode.TOO_LARGE,
                        f"{self.where} answered {path} with more than {MAX_BODY_BYTES // 1_000_000} MB",
                    )
                parts.append(chunk)
            return HttpReply(response.status_code, b"".join(parts), response.headers.get("content-type", ""))

    async def lines(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        idle_timeout: float = 120.0,
    ) -> AsyncIterator[str]:
        """The body's lines as they arrive (NDJSON, SSE); an HTTP error raises before the first.

        ``idle_timeout`` bounds the wait for each line, so a stalled pull ends with an error, while
        a pull that keeps reporting may take as long as the download does.
        """
        fetching = self.client.fetch(method, self.url(path), headers=self._headers(headers), json=body)
        try:
            async with fetching as response:
                if response.status_code >= 300:
                    raw = await within(response.aread(), self.timeout)
                    raise classify_status(
                        response.status_code,
                        raw[:MAX_LINE_BYTES].decode("utf-8", "replace"),
                        response.headers.get("content-type", ""),
                        base_url=self.base,
                    )
                chunks = response.aiter_raw().__aiter__()
                pending = b""
                while True:
                    try:
                        chunk = await within(chunks.__anext__(), idle_timeout)
                    except StopAsyncIteration:
                        break
                    pending += chunk
                    *complete, pending = pending.split(b"\n")
                    for line in complete:
                        yield line.decode("utf-8", "replace").rstrip("\r")
                    if len(pending) > MAX_LINE_BYTES:
                        raise make_error(
                            ErrorCode.TOO_LARGE, f"{self.where} sent a progress line over 1 MB on {path}"
                        )
                if pending.strip():
                    yield pending.decode("utf-8", "replace")
        except TrayaiError:
            raise
        except asyncio.TimeoutError as exc:
            raise make_error(
                ErrorCode.STALLED,
                f"{self.where} sent nothing on {path} for {idle_timeout:g} s",
                "The server stopped reporting progress; try again.",
            ) from exc
        except Exception as exc:
            raise classify_exception(exc, base_url=self.base, phase=ErrorPhase.STREAM) from exc
