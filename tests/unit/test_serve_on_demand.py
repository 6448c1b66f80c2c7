"""``trayai serve --on-demand`` with ``builtin_server.on_demand`` on (the default): the front's children
are engines. Each child used to read the same setting and start a front of its own, which started
another — a process per request, without end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli
from trayai.cli import serve as serve_cli
from trayai.core.embedded import EmbeddedServer
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.settings.config import BuiltinServerSettings, Settings


def test_on_demand_is_the_default_and_the_fronts_children_are_engines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings().builtin_server.on_demand  # the tray's built-in server serves the whole library
    given: list[BuiltinServerSettings] = []

    def build_front(settings: BuiltinServerSettings, *_args: Any, **_kwargs: Any) -> None:
        given.append(settings)
        raise make_error(ErrorCode.BUILTIN_UNAVAILABLE, "stopped here by the test")

    monkeypatch.setattr(serve_cli, "build_front", build_front)
    code, _, err = cli("serve", "--on-demand")
    assert code == 1 and "stopped here by the test" in err
    assert len(given) == 1 and not given[0].on_demand
    model = tmp_path / "m.gguf"
    argv = EmbeddedServer(given[0], tmp_path / "log").command(model)
    assert argv[1:3] == ["-m", "trayai.core.engine_child"]  # what each child the front starts runs
