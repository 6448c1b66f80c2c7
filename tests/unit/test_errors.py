"""Every failure maps to a typed error with a one-line message and a concrete hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.scripted_server import ScriptedServer
from trayai.core.error_catalog import ERROR_CATALOG, ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.net.classify import classify_status, connection_refused_error, extract_server_message
from trayai.core.net.client import Endpoint, ModelClient

BASE = "http://localhost:8080/v1"


def test_every_code_is_documented_in_the_catalogue() -> None:
    assert set(ERROR_CATALOG) == set(ErrorCode)
    for entry in ERROR_CATALOG.values():
        assert entry.title and entry.cause and entry.fix
        assert "\n" not in entry.title


@pytest.mark.parametrize(
    ("status", "body", "content_type", "model", "code"),
    [
        (401, '{"error": {"message": "Invalid API key"}}', "application/json", None, ErrorCode.AUTH),
        (403, '{"error": {"message": "forbidden"}}', "application/json", None, ErrorCode.FORBIDDEN),
        (
            404,
            '{"error": {"message": "The model `llama9` does not exist"}}',
            "application/json",
            "llama9",
            ErrorCode.MODEL_NOT_FOUND,
        ),
        (404, '{"detail": "Not Found"}', "application/json", "ai/smollm2", ErrorCode.ENDPOINT_NOT_FOUND),
        (429, '{"error": {"message": "slow down"}}', "application/json", None, ErrorCode.RATE_LIMITED),
        (
            400,
            '{"error": {"message": "Requested tokens (9000) exceed context window of 2048"}}',
            "application/json",
            None,
            ErrorCode.CONTEXT_EXCEEDED,
        ),
        (
            400,
            '{"error": {"message": "temperature must be <= 2"}}',
            "application/json",
            None,
            ErrorCode.BAD_REQUEST,
        ),
        (
            500,
            '{"error": {"message": "CUDA out of memory"}}',
            "application/json",
            None,
            ErrorCode.SERVER_ERROR,
        ),
        (
            502,
            "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
            None,
            ErrorCode.HTML_RESPONSE,
        ),
    ],
)
def test_http_statuses(status: int, body: str, content_type: str, model: str | None, code: ErrorCode) -> None:
    error = classify_status(status, body, content_type, base_url=BASE, model=model, retry_after="7")
    assert error.code is code
    assert error.message and "\n" not in error.message
    assert error.hint == ERROR_CATALOG[code].fix
    assert error.status == status
    if code is ErrorCode.RATE_LIMITED:
        assert error.retry_after == 7.0 and "retry in 7 s" in error.message
    if code is ErrorCode.HTML_RESPONSE:
        assert error.detail == "502 Bad Gateway"
    if code is ErrorCode.SERVER_ERROR:
        assert "CUDA out of memory" in error.message


def test_server_messages_in_the_shapes_servers_use() -> None:
    assert extract_server_message('{"error": {"message": "a"}}') == "a"
    assert extract_server_message('{"error": "b"}') == "b"  # Ollama
    assert extract_server_message('{"detail": [{"msg": "c"}]}') == "c"  # FastAPI validation
    assert extract_server_message("<html>") is None


def test_connection_refused_hint_depends_on_locality() -> None:
    local = connection_refused_error("http://localhost:8080/v1")
    assert local.message == "Nothing is listening on localhost:8080"
    assert "docker model run ai/smollm2" in local.hint and "trayai serve" in local.hint
    remote = connection_refused_error("https://models.example.com/v1")
    assert "trayai serve" not in remote.hint


def test_mid_stream_codes_keep_the_partial_answer() -> None:
    assert TrayaiError(ErrorCode.DISCONNECTED, "m", "h").keeps_partial
    assert not TrayaiError(ErrorCode.AUTH, "m", "h").keeps_partial
    assert not TrayaiError(ErrorCode.AUTH, "m", "h").retryable
    assert TrayaiError(ErrorCode.SERVER_ERROR, "m", "h").retryable


async def _list_models_error(base_url: str) -> TrayaiError:
    async with ModelClient(Endpoint.create(base_url, "k", connect_timeout=2.0)) as client:
        with pytest.raises(TrayaiError) as info:
            await client.list_models()
        return info.value


@pytest.mark.anyio
async def test_real_connection_refused() -> None:
    port = free_port()
    error = await _list_models_error(f"http://127.0.0.1:{port}")
    assert error.code is ErrorCode.CONNECTION_REFUSED
    assert error.message == f"Nothing is listening on 127.0.0.1:{port}"


@pytest.mark.timeout(30)
@pytest.mark.anyio
async def test_real_dns_failure() -> None:
    error = await _list_models_error("http://trayai-test-host.invalid:8080/v1")
    assert error.code is ErrorCode.DNS
    assert "trayai-test-host.invalid" in error.message


@pytest.mark.anyio
async def test_real_tls_against_a_plain_http_server(server: ScriptedServer) -> None:
    error = await _list_models_error(server.base_url.replace("http://", "https://"))
    assert error.code is ErrorCode.TLS
    assert "http://" in error.hint


def test_every_trayai_error_is_an_app_error_with_message_and_hint(tmp_path: Path) -> None:
    """One tree: a front end catches AppError; the old built-in bases still catch as before."""
    from trayai.core.chat.history import HistoryStore
    from trayai.core.chat.history_db import ConversationNotFound, HistoryError, MessageNotFound
    from trayai.core.desktop_entry import DesktopError, DesktopUnsupported
    from trayai.core.error_catalog import ErrorCode
    from trayai.core.errors import AppError, ConfigError, TrayaiError
    from trayai.core.filelock import FileLockedError
    from trayai.core.hotkeys import HotkeyError, parse_hotkey
    from trayai.core.net.urls import InvalidURLError, normalize_base_url

    for cls in (
        TrayaiError,
        HistoryError,
        ConfigError,
        HotkeyError,
        InvalidURLError,
        FileLockedError,
        DesktopError,
        DesktopUnsupported,
    ):
        assert issubclass(cls, AppError), cls
    for cls in (ConfigError, HotkeyError, InvalidURLError):
        assert issubclass(cls, ValueError), cls
    with pytest.raises(AppError) as url:
        normalize_base_url("ftp://x")
    assert url.value.message == str(url.value) and url.value.hint == ""
    with pytest.raises(AppError):
        parse_hotkey("")
    assert str(TrayaiError(ErrorCode.AUTH, "msg", "hint")) == "msg"  # str() is the message alone
    assert str(HistoryError("msg", "hint")) == "msg\nhint"

    with HistoryStore(tmp_path / "h.sqlite3") as history:
        with pytest.raises(ConversationNotFound) as missing:
            history.conversation(42)
        assert isinstance(missing.value, HistoryError) and isinstance(missing.value, KeyError)
        assert missing.value.conversation_id == 42
        with pytest.raises(ConversationNotFound):
            history.add_message(42, "user", "hi")
        with pytest.raises(ConversationNotFound):
            history.rename(42, "title")
        with pytest.raises(MessageNotFound):
            history.message(7)
        with pytest.raises(MessageNotFound):
            history.update_message(7, content="x")


def test_classifying_while_the_sdk_is_half_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat imports openai in a thread; meanwhile another answer's "refused" was classified against
    the half-initialised module and raised AttributeError (a batch crashed with a traceback)."""
    import sys
    import types

    from trayai.core.error_catalog import ErrorCode
    from trayai.core.net.classify import classify_exception

    monkeypatch.setitem(sys.modules, "openai", types.ModuleType("openai"))  # nothing defined yet
    monkeypatch.setitem(sys.modules, "httpx2", types.ModuleType("httpx2"))
    error = classify_exception(
        ConnectionRefusedError(111, "Connection refused"), base_url="http://127.0.0.1:9/v1"
    )
    assert error.code is ErrorCode.CONNECTION_REFUSED
    error = classify_exception(TimeoutError(), base_url="http://127.0.0.1:9/v1")
    assert error.code is ErrorCode.FIRST_TOKEN_TIMEOUT
