"""A download's connection whose blocking reads run on a thread of its own, straight into big buffers.

Why: asyncio's streams deliver a body in 256 KiB callbacks with three copies each (and, in the tray, a
Qt event per callback on the UI thread); a thread blocked in ``recv_into`` fills the caller's 4 MiB
buffer with no copy (tests/perf/bench_library.py). The caller owns and reuses the buffers: a fresh one
per read cost ~10,000 page faults per 100 MB. Connecting stays on the event loop, so it is cancellable;
a read in progress is woken by shutting the socket down, which is closed only once its thread let go.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from trayai.core.net.wire import within

T = TypeVar("T")

FILL_TIME = 0.1  # seconds: a read returns what arrived by then, so progress moves on a slow link
_SMALL = 64 * 1024  # bytes asked of the socket while looking for a line or the end of a head


async def _addresses(host: str, port: int, timeout: float) -> list[tuple[int, Any]]:
    """Where ``host`` is: (family, address) pairs; an address is its own answer, without a lookup."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        loop = asyncio.get_running_loop()
        found = await within(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
        return [(family, address) for family, _, _, _, address in found]
    return [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, (host, port))]


class BrokenTransfer(ConnectionError):
    """The connection broke or the server broke HTTP: retryable, from the bytes already on disk."""


class ThreadedSocket:
    """One TCP (or TLS) connection: opened on the loop, then read and written by :meth:`run` on its thread.

    The thread-side methods (``send``, ``read_until``, ``read_exactly``, ``readinto``) block; call them
    only through :meth:`run`. Bytes read past what was asked for wait in ``_pending`` for the next call.
    """

    def __init__(self, sock: socket.socket, read: float) -> None:
        self._sock = sock
        self._read = read  # seconds a read waits for a byte
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="trayai-download-read")
        self._job: concurrent.futures.Future[object] | None = None
        self._pending = bytearray()
        self._failure: OSError | None = None  # raised by the next fill, after the bytes before it

    @classmethod
    async def open(cls, host: str, port: int, *, tls: bool, connect: float, read: float) -> ThreadedSocket:
        """Connect (each address in turn), then the TLS handshake on the thread; reads time out after
        ``read`` seconds without a byte (``TimeoutError``)."""
        loop = asyncio.get_running_loop()
        failure: OSError = OSError(f"no address for {host}")
        for family, address in await _addresses(host, port, connect):
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                await within(loop.sock_connect(sock, address), connect)
            except OSError as exc:  # refused, unreachable, timed out: the next address
                sock.close()
                failure = exc
                continue
            except BaseException:
                sock.close()
                raise
            break
        else:
            raise failure
        if not tls:
            sock.settimeout(read)
            return cls(sock, read)
        sock.settimeout(connect)
        secured = ssl.create_default_context().wrap_socket(
            sock, server_hostname=host, do_handshake_on_connect=False
        )
        connection = cls(secured, read)
        try:
            await connection.run(secured.do_handshake)
            secured.settimeout(read)
        except BaseException:
            await connection.close()
            raise
        return connection

    async def run(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)`` on the connection's thread; a cancellation wakes it by shutting the socket."""
        job = self._thread.submit(call, *args)
        self._job = job  # type: ignore[assignment]  # any result: close() only waits for it to end
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            self._shut()
            raise

    async def close(self) -> None:
        """Wake a read in progress, wait until the thread has let go of the socket, then close it."""
        self._shut()
        job = self._job
        try:
            if job is not None and not job.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(asyncio.wrap_future(job))
        finally:
            if job is not None:
                concurrent.futures.wait([job])  # at once after the shutdown; never close under a read
            self._sock.close()
            self._thread.shutdown(wait=False)

    def _shut(self) -> None:
        with contextlib.suppress(OSError):  # not connected any more: nothing to wake
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)  # the plain one, also for TLS

    # ------------------------------------------------------------------ on the thread

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def read_until(self, end: bytes, limit: int) -> bytes:
        """Bytes up to and including ``end``; ``BrokenTransfer`` past ``limit`` bytes or at EOF first."""
        searched = 0
        while (found := self._pending.find(end, searched)) < 0:
            if len(self._pending) > limit:
                raise BrokenTransfer(f"no {end!r} within {limit} bytes of the answer")
            searched = max(0, len(self._pending) - len(end) + 1)
            if not self._receive():
                raise BrokenTransfer("the server closed the connection mid-answer")
        return self._take(found + len(end))

    def read_exactly(self, size: int) -> bytes:
        while len(self._pending) < size:
            if not self._receive():
                raise BrokenTransfer("the server closed the connection mid-answer")
        return self._take(size)

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer``: fewer bytes when :data:`FILL_TIME` passed or the server closed; 0 only at
        the end of the stream."""
        if self._failure is not None:
            raise self._failure
        size = len(buffer)
        got = min(size, len(self._pending))
        buffer[:got] = self._take(got)
        deadline = time.monotonic() + FILL_TIME
        while got < size:
            if got:  # bytes to hand on: wait for more only until the fill's time is up
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._sock.settimeout(left)
            try:
                received = self._sock.recv_into(buffer[got:])
            except TimeoutError:
                if not got:
                    raise  # the read deadline passed without a byte
                break
            except OSError as exc:  # reset: what arrived before it still counts
                if not got:
                    raise
                self._failure = exc
                break
            finally:
                if got:
                    self._sock.settimeout(self._read)
            if not received:
                break
            got += received
        return got

    def _receive(self) -> int:
        data = self._sock.recv(_SMALL)
        self._pending += data
        return len(data)

    def _take(self, size: int) -> bytes:
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data
