"""The TLS context every client shares still verifies: a self-signed server is refused (typed TLS
error), for each of several clients, and one context serves them all (memory, not trust, saved)."""

from __future__ import annotations

import http.server
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.loopback_server import LoopbackHTTPServer, LoopbackServer
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.net.transport import shared_ssl_context

pytestmark = pytest.mark.anyio


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[str]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with _SelfSigned(context) as server:
        yield f"https://127.0.0.1:{server.port}/v1"


class _SelfSigned(LoopbackServer):
    """An HTTPS server whose certificate nobody trusts: each handshake fails on the client's side."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__("self-signed HTTPS server")
        self._context = context

    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        server = LoopbackHTTPServer(address, http.server.BaseHTTPRequestHandler, self)
        server.socket = self._context.wrap_socket(server.socket, server_side=True)
        return server


async def test_every_client_still_refuses_an_unverified_certificate(self_signed_server: str) -> None:
    for _ in range(3):  # several clients, one shared context
        async with ModelClient(Endpoint.create(self_signed_server, "k")) as client:
            with pytest.raises(TrayaiError) as failed:
                await client.list_models()
            assert failed.value.code is ErrorCode.TLS
    assert shared_ssl_context(trust_env=False) is shared_ssl_context(trust_env=False)
    assert shared_ssl_context(trust_env=False).verify_mode == ssl.CERT_REQUIRED
