"""The tray's menu model and tooltip lines, decided without Qt."""

from __future__ import annotations

from trayai.core.embedded import RunState, ServerUsage
from trayai.core.modelmatch import match_model
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import Override
from trayai.core.status import ServerState, StatusReport
from trayai.core.traymodel import (
    BuiltinFacts,
    last_reply_line,
    locked_by,
    menu_model,
    status_lines,
    tooltip_text,
)

BUILTIN = BuiltinFacts(RunState.STOPPED, False, "ai/smollm2", None, ["ai/smollm2", "tiny"])


def settings() -> Settings:
    settings = Settings()
    settings.profiles = [Profile(name="A", base_url="http://127.0.0.1:1/v1"), Profile(name="B")]
    settings.active_profile = "B"
    settings.builtin_server.port = 8123
    settings.hotkey = ""
    return settings


def test_menu_model_before_the_first_report() -> None:
    model = menu_model(
        settings=settings(),
        overrides={},
        base_url="http://127.0.0.1:1/v1",
        state=None,
        report=None,
        builtin=BUILTIN,
        log_dir="/logs",
    )
    assert model.state is ServerState.STARTING and model.summary == "checking…"
    assert model.models == [] and model.current_model is None
    assert model.active_profile == "B"
    assert model.server_label == "127.0.0.1:8123 · ai/smollm2" and model.server_model == "ai/smollm2"
    assert model.server_models == ["ai/smollm2", "tiny"] and model.hotkey == "no hotkey"
    assert model.model_locked_by is None and model.endpoint_locked_by is None and model.log_dir == "/logs"


def test_menu_model_from_a_report_and_overrides() -> None:
    report = StatusReport(
        ServerState.READY,
        "http://x/v1",
        "smollm2",
        models=["ai/smollm2"],
        match=match_model("smollm2", ["ai/smollm2"]),
    )
    overrides = {"model": Override("model", "LOCAL_MODEL_NAME", "smollm2", "environment")}
    model = menu_model(
        settings=settings(),
        overrides=overrides,
        base_url="http://x/v1",
        state=ServerState.READY,
        report=report,
        builtin=BUILTIN,
        log_dir="/logs",
    )
    assert model.state is ServerState.READY and model.models == ["ai/smollm2"]
    assert model.current_model == "ai/smollm2"
    assert model.model_locked_by == "LOCAL_MODEL_NAME (environment)" and model.endpoint_locked_by is None
    assert locked_by(overrides, "base_url") is None


def test_status_lines_and_last_reply() -> None:
    assert status_lines(server_progress=None, usage=None, last_reply=None, hotkey_problem=None) == []
    lines = status_lines(
        server_progress="loading 40%",
        usage=ServerUsage(cpu_percent=12.4, rss_bytes=250_000_000, cpu_seconds=3.0),
        last_reply="Last answer: 1.0 tok/s",
        hotkey_problem="taken",
    )
    assert lines == [
        "Built-in server: loading 40%",
        "Built-in server: CPU 12%, memory 250 MB",
        "Last answer: 1.0 tok/s",
        "Hotkey: taken",
    ]
    assert last_reply_line({"tokens_per_second": 45.06, "ttft_s": 0.214}) == (
        "Last answer: 45.1 tok/s, first token 0.21 s"
    )
    assert last_reply_line({"tokens_per_second": 3}) == "Last answer: 3.0 tok/s"
    assert last_reply_line({"ttft_s": 0.2}) is None


def test_tooltip_text() -> None:
    assert tooltip_text(ServerState.STARTING, None, []) == "trayai — checking the server…"
    report = StatusReport(ServerState.READY, "http://x/v1", "m", latency=0.012, server="llama.cpp")
    text = tooltip_text(ServerState.READY, report, ["Hotkey: taken"])
    assert text.splitlines() == [
        "trayai — ready",
        "Endpoint: http://x/v1 (llama.cpp)",
        "Model: m",
        "Latency: 12 ms",
        "Hotkey: taken",
    ]
