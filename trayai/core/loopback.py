"""What listens on loopback, asked without the HTTP stack: who holds a port, whether it is free, and
the built-in server's ``/models`` and ``/health`` read with the standard library (start-up checks and
the tests, before or without the client).
"""

from __future__ import annotations

import errno
import json
import socket

HOST = "127.0.0.1"


def port_owner(port: int) -> str | None:
    """Best-effort "name (pid N)" of the process listening on ``port`` (may need privileges)."""
    # lazy: psutil is loaded only when used: start-up time and memory
    import psutil

    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):  # AccessDenied on some systems; the caller copes without a name
        return None
    for conn in connections:
        if conn.status == "LISTEN" and conn.laddr and conn.laddr.port == port and conn.pid:
            try:
                name = psutil.Process(conn.pid).name()
            except psutil.Error:
                name = "a process"
            return f"{name} (pid {conn.pid})"
    return None


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if we could listen on ``host:port`` now (SO_REUSEADDR, as uvicorn binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def list_models_sync(base_url: str, timeout: float = 1.0) -> list[str] | None:
    """``GET /models`` with the standard library, bypassing proxies; None if nothing sane answers."""
    # lazy: urllib is loaded only when used: start-up time and memory
    import urllib.request  # loaded when used: the tray may never need it

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base_url}/models", timeout=timeout) as response:
            data = json.loads(response.read())
    except (OSError, ValueError):  # URLError is an OSError
        return None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    return [str(m.get("id")) for m in data["data"] if isinstance(m, dict)]


def health_sync(port: int, timeout: float = 1.0) -> bool:
    """True when llama.cpp's ``/health`` on loopback says ok (it answers 503 while the model loads)."""
    # lazy: urllib is loaded only when used: start-up time and memory
    import urllib.request  # loaded when used: the tray may never need it

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{HOST}:{port}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):  # URLError is an OSError
        return False


__all__ = ["HOST", "health_sync", "list_models_sync", "port_is_free", "port_owner"]
