"""The HTTP transport every request goes through: one retry, bounded bodies, no cross-origin hops.

See docs/architecture.md, "Answers are never lost or faked" and "Hostile servers".
"""

from __future__ import annotations

import functools
import logging
import zlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from trayai.core.net.urls import host_port

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # any one response, decoded (a long streamed answer is ~30 MB)
MAX_REDIRECTS = 5
_STEP = 1 << 20  # decoded bytes per piece handed on
_NO_RESPONSE = "without sending a response"
_REDIRECTS = (301, 302, 303, 307, 308)


class ResponseTooLarge(Exception):
    """A response body passed its cap (raised while it is read; the caller maps it to TOO_LARGE)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response passed {limit / 1e6:g} MB (decoded)")
        self.limit = limit


def dropped_unanswered(exc: BaseException) -> bool:
    """True for failures that happen before any response byte: a closed or reset pooled connection."""
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    if isinstance(exc, httpx2.RemoteProtocolError):
        return _NO_RESPONSE in str(exc)
    # A reset while sending, or while waiting for the status line (the response object does not
    # exist yet, so no byte of it was handed to us).
    return isinstance(exc, (httpx2.ReadError, httpx2.WriteError))


def same_origin(a: httpx2.URL, b: httpx2.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


@functools.cache
def shared_ssl_context(*, trust_env: bool) -> Any:
    """One verifying TLS context per process (typed Any: ssl stays unimported until needed).

    Each transport used to load the CA bundle into a context of its own: ~1.1 MB each, two per
    client, one client per watched server — 22 MB for ten profiles. A context is safe to share;
    this one verifies exactly as httpx2's default does (CA bundle, hostname, ``SSL_CERT_*`` when
    ``trust_env``).
    """
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    return httpx2.create_ssl_context(trust_env=trust_env)


def guarded_transport(*, trust_env: bool, max_connections: int, max_keepalive: int) -> Any:
    """Build the transport (typed Any: httpx2 is imported lazily, off the tray's start-up path)."""
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    class GuardedTransport(httpx2.AsyncBaseTransport):
        """Retry, caps and redirects: docs/architecture.md; ``retries`` counts the requests sent again."""

        def __init__(self) -> None:
            self.retries = 0
            verify = shared_ssl_context(trust_env=trust_env)
            self._pooled = httpx2.AsyncHTTPTransport(
                verify=verify,
                trust_env=trust_env,
                limits=httpx2.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_keepalive
                ),
            )
            self._fresh = httpx2.AsyncHTTPTransport(
                verify=verify, trust_env=trust_env, limits=httpx2.Limits(max_keepalive_connections=0)
            )

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            request.headers["Accept-Encoding"] = "identity"
            for _ in range(MAX_REDIRECTS + 1):
                response = await self._send(request)
                follow = same_origin_redirect(request, response)
                if follow is None:
                    return bounded(response)
                await response.aclose()
                request = follow
            return bounded(response)

        async def _send(self, request: httpx2.Request) -> httpx2.Response:
            try:
                return await self._pooled.handle_async_request(request)
            except (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError) as exc:
                if not dropped_unanswered(exc):
                    raise
                self.retries += 1
                log.warning(
                    "%s dropped the request before answering (%s); sent it again on a fresh connection",
                    host_port(str(request.url)),
                    exc,
                )
            return await self._fresh.handle_async_request(request)

        async def aclose(self) -> None:
            await self._pooled.aclose()
            await self._fresh.aclose()

    return GuardedTransport()


def same_origin_redirect(request: httpx2.Request, response: httpx2.Response) -> httpx2.Request | None:
    """The request to send next for a same-origin redirect; None to return ``response``."""
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    location = response.headers.get("location")
    if response.status_code not in _REDIRECTS or not location:
        return None
    target = request.url.join(location)
    if not same_origin(request.url, target):
        return None  # reported by the caller, with where it pointed
    if request.method != "GET" and response.status_code not in (307, 308):
        return None  # 301/302/303 would turn a POST into a GET: not an answer to it
    return httpx2.Request(
        request.method,
        target,
        headers=request.headers,
        content=request.content if request.method != "GET" else None,
        extensions=request.extensions,
    )


def bounded(response: httpx2.Response) -> httpx2.Response:
    """``response`` with its body decoded here (gzip/deflate) and stopped at :data:`MAX_RESPONSE_BYTES`."""
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        encoding = "identity"  # br/zstd: left for httpx to refuse; still counted raw
        headers = response.headers
    else:
        headers = httpx2.Headers(
            [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length")
            ]
        )
    assert isinstance(response.stream, httpx2.AsyncByteStream)
    return httpx2.Response(
        response.status_code,
        headers=headers,
        stream=_bounded_stream_class()(response.stream, encoding, MAX_RESPONSE_BYTES),
        extensions=response.extensions,
    )


@functools.cache
def _bounded_stream_class() -> Any:
    """``BoundedStream``, made once httpx2 is imported (its base class is httpx2's)."""
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    class BoundedStream(httpx2.AsyncByteStream):
        """The response's bytes, decoded when compressed, stopped at ``limit``."""

        def __init__(self, raw: httpx2.AsyncByteStream, encoding: str, limit: int) -> None:
            self._raw = raw
            self._limit = limit
            self._seen = 0
            self._decoder: Any = None
            if encoding in ("gzip", "x-gzip"):
                self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif encoding == "deflate":
                self._decoder = zlib.decompressobj()

        def _count(self, data: bytes) -> bytes:
            self._seen += len(data)
            if self._seen > self._limit:
                raise ResponseTooLarge(self._limit)
            return data

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._raw:
                if self._decoder is None:
                    yield self._count(chunk)
                    continue
                # At most _STEP bytes out per piece: a reader with a smaller cap of its own stops
                # after little work, and a bomb never sits in memory whole.
                yield self._count(self._decoder.decompress(chunk, _STEP))
                while self._decoder.unconsumed_tail:  # more output waiting in this chunk
                    yield self._count(self._decoder.decompress(self._decoder.unconsumed_tail, _STEP))
            if self._decoder is not None:
                yield self._count(self._decoder.flush())

        async def aclose(self) -> None:
            await self._raw.aclose()

    return BoundedStream
