"""A loopback port that takes connections and never answers: what a Hub behind a broken proxy or a
dropping firewall looks like to a client (the connect succeeds, the request goes out, nothing comes back).

Why not a dead port: a refused connection fails at once, and only a silent one shows whether a client
bounds its read. The kernel completes the handshakes from the listen backlog; nothing ever accepts.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def black_hole() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a listener that never accepts nor answers, for as long as it is open."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
