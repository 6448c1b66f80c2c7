"""Settings ▸ Tools' Test: connect to one server as the page shows it (not yet saved), list its tools
with the time it took, and close it — the rows of ``ConnectionTestPanel`` — as ``trayai tools test``
does. The MCP SDK is imported in a worker thread, so the dialog keeps drawing meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from dataclasses import dataclass

from trayai.core.errors import AppError, TrayaiError
from trayai.core.redact import Redactor
from trayai.core.tools.config import ServerConfig, ToolsStore, is_secret_name
from trayai.core.tools.listing import ToolInfo
from trayai.ui.settings.connection_panel import CheckRow

TEST_TIMEOUT = 30.0  # seconds to start, initialise and list


@dataclass(frozen=True)
class ProbeOutcome:
    """What a Test found: the rows to show and, when it connected, the tools it offers."""

    rows: tuple[CheckRow, ...]
    tools: tuple[ToolInfo, ...] = ()


async def probe_server(
    store: ToolsStore, server: ServerConfig, redactor: Redactor, timeout: float = TEST_TIMEOUT
) -> ProbeOutcome:
    """Start ``server`` (its keychain values filled in), list its tools, stop it; never raises a
    trayai error (it is a row)."""
    try:
        resolved = store.resolved(server)
    except AppError as exc:
        return ProbeOutcome((CheckRow(False, "Secrets", exc.message, exc.hint or ""),))
    stored = _values(server)
    for name, value in _values(resolved).items():
        if value and (is_secret_name(name) or stored.get(name) != value):
            redactor.add_secret(value)  # what the keychain filled in, and secrets typed on the page
    module = await asyncio.to_thread(importlib.import_module, "trayai.core.tools.session")
    connection = module.ServerConnection(resolved, connect_timeout=timeout)
    started = time.perf_counter()
    try:
        await connection.start()
    except TrayaiError as error:
        detail = redactor.redact(error.message)
        hint = redactor.redact(
            (error.detail or "").strip().splitlines()[-1] if error.detail else error.hint or ""
        )
        return ProbeOutcome((CheckRow(False, "Start", detail, hint),))
    finally:
        seconds = time.perf_counter() - started
        await connection.close()
    tools = tuple(connection.tools)
    count = len(tools)
    version = redactor.redact(connection.server_version) or "the server"
    names = ", ".join(tool.name for tool in tools[:12]) + (" …" if count > 12 else "")
    rows = (
        CheckRow(True, "Start", f"connected to {version} in {seconds * 1000:.0f} ms"),
        CheckRow(
            True if count else None, "Tools", f"{count} tool{'s' if count != 1 else ''}: {names or 'none'}"
        ),
    )
    return ProbeOutcome(rows, tools)


def _values(server: ServerConfig) -> dict[str, str]:
    if server.stdio is not None:
        return dict(server.stdio.env)
    return dict(server.http.headers) if server.http is not None else {}


__all__ = ["TEST_TIMEOUT", "ProbeOutcome", "probe_server"]
