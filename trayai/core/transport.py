"""An HTTP transport that retries, once and on a fresh connection, a request dropped unanswered.

llama.cpp's server closes the connection after a streamed answer although it advertised keep-alive;
the next request on that pooled connection fails with "Server disconnected without sending a
response" (measured: ``trayai batch`` lost up to 22 of 64 lines). Nothing of the answer arrived, so
sending the request again cannot duplicate output; a second failure is reported as usual.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from trayai.core.urls import host_port

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger(__name__)

_NO_RESPONSE = "without sending a response"


def dropped_unanswered(exc: BaseException) -> bool:
    """True for failures that happen before any response byte: a closed or reset pooled connection."""
    import httpx2

    if isinstance(exc, httpx2.RemoteProtocolError):
        return _NO_RESPONSE in str(exc)
    # A reset while sending, or while waiting for the status line (the response object does not
    # exist yet, so no byte of it was handed to us).
    return isinstance(exc, (httpx2.ReadError, httpx2.WriteError))


def retrying_transport(*, trust_env: bool, max_connections: int, max_keepalive: int) -> Any:
    """Build the transport (typed Any: httpx2 is imported lazily, off the tray's start-up path)."""
    import httpx2

    class RetryUnansweredTransport(httpx2.AsyncBaseTransport):
        """The pooled transport, plus one retry on a never-pooled transport (see the module doc)."""

        def __init__(self) -> None:
            self.retries = 0
            self._pooled = httpx2.AsyncHTTPTransport(
                trust_env=trust_env,
                limits=httpx2.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_keepalive
                ),
            )
            self._fresh = httpx2.AsyncHTTPTransport(
                trust_env=trust_env, limits=httpx2.Limits(max_keepalive_connections=0)
            )

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
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

    return RetryUnansweredTransport()
