""" "Reload now" for a model whose load settings changed: the running on-demand server (another process,
``trayai serve --on-demand``) is asked over loopback, in the router dialect its front speaks, to unload
the model and load it again, which plans the load from the settings saved now.

Blocking (urllib): the CLI calls it directly, the library window in a worker thread.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.library.front import BUILD_INFO
from trayai.core.loopback import HOST
from trayai.core.strenum import StrEnum

REQUEST_TIMEOUT = 10.0  # seconds for one call to the front (it answers from memory)
POLL = 0.1  # seconds between looks at the model's state while it loads
START_GRACE = 5.0  # seconds a load may take to start (the GGUF header is read first)


class Served(StrEnum):
    """Where a model stands with the built-in server, as far as a reload is concerned."""

    NO_SERVER = "no_server"  # nothing answers on the built-in server's port
    NOT_ON_DEMAND = "not_on_demand"  # a one-model server (or another program): per-model settings unused
    NOT_LOADED = "not_loaded"  # the next request loads it with the new settings anyway
    LOADED = "loaded"  # loaded (or loading) with the old settings: a reload applies the new ones


@dataclass(frozen=True)
class OnDemandServer:
    """The on-demand front on ``port`` of this machine's loopback."""

    port: int
    clock: Callable[[], float] = time.monotonic

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def standing(self, name: str) -> Served:
        """Is ``name`` loaded by an on-demand server on this port?"""
        try:
            props = self._call("GET", "/props")
        except (OSError, ValueError):
            return Served.NO_SERVER
        if props.get("build_info") != BUILD_INFO:
            return Served.NOT_ON_DEMAND
        state = self.state(name)
        return Served.LOADED if state in ("loaded", "loading") else Served.NOT_LOADED

    def state(self, name: str) -> str | None:
        """``name``'s state in the front's list (None: it does not list it)."""
        rows = self._call("GET", "/v1/models").get("data", [])
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("id") == name:
                return str(row.get("state", ""))
        return None

    def reload(self, name: str, timeout: float) -> float:
        """Unload ``name`` and load it again; the seconds its load took. A ``TrayaiError`` when the
        server is gone, refuses, or the load fails or outlasts ``timeout``."""
        started = self.clock()
        try:
            if self.state(name) in ("loaded", "loading"):
                self._call("POST", "/models/unload", {"model": name})
            self._call("POST", "/models/load", {"model": name})
            seen_loading = False  # before its load starts (its plan is read), the model is listed available
            while True:
                state = self.state(name)
                if state == "loaded":
                    return self.clock() - started
                seen_loading = seen_loading or state == "loading"
                if state != "loading" and (seen_loading or self.clock() - started > START_GRACE):
                    raise make_error(
                        ErrorCode.BUILTIN_FAILED,
                        f"{name} did not load again with its new settings",
                        "The on-demand server's log says why (trayai serve's output, or the tray's log).",
                    )
                if self.clock() - started > timeout:
                    raise make_error(
                        ErrorCode.BUILTIN_FAILED, f"{name} was still loading after {timeout:g} s"
                    )
                time.sleep(POLL)
        except (OSError, ValueError) as exc:
            raise make_error(
                ErrorCode.BUILTIN_FAILED,
                f"Could not reload {name}: the on-demand server did not answer ({exc})",
            ) from exc

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only (self.base)
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        try:
            with opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise make_error(
                ErrorCode.BUILTIN_FAILED, f"The on-demand server refused {method} {path}: HTTP {exc.code}"
            ) from exc
        return answer if isinstance(answer, dict) else {}


__all__ = ["OnDemandServer", "Served"]
