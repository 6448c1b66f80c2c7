"""The streaming client against a scripted OpenAI-compatible server over real loopback HTTP."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import pytest

from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient
from trayai.core.net.stream import ChatStream

T = TypeVar("T")
MESSAGES = [{"role": "user", "content": "Hello there"}]


def client_for(server: ScriptedServer, **kwargs: Any) -> ModelClient:
    key = kwargs.pop("api_key", "dummy-key")
    return ModelClient(Endpoint.create(server.base_url, key, **kwargs))


async def collect(
    client: ModelClient, *, model: str = "ai/smollm2", options: GenerationOptions | None = None
) -> tuple[list[str], ChatStream]:
    stream = client.stream_chat(MESSAGES, model=model, options=options)
    deltas: list[str] = []
    async with stream:
        async for delta in stream:
            deltas.append(delta)
    return deltas, stream


async def failing(client: ModelClient, **kwargs: Any) -> tuple[TrayaiError, ChatStream]:
    stream = client.stream_chat(MESSAGES, model="ai/smollm2", **kwargs)
    with pytest.raises(TrayaiError) as info:
        async with stream:
            async for _ in stream:
                pass
    return info.value, stream


async def scripted_failure(server: ScriptedServer, reply: Reply) -> tuple[TrayaiError, ChatStream]:
    """One streamed request that the server answers with ``reply`` and that must fail."""
    server.script(reply)
    async with client_for(server) as client:
        return await failing(client)


# --------------------------------------------------------------------------- models


@pytest.mark.anyio
async def test_list_models(server: ScriptedServer) -> None:
    server.models = ["ai/smollm2", "ai/qwen3"]
    server.owned_by = "llamacpp"

    async with client_for(server) as client:
        listing = await client.list_models()
    assert listing.ids == ["ai/smollm2", "ai/qwen3"]
    assert listing.latency > 0
    assert listing.server == "llama.cpp server"
    assert server.requests[0].path == "/v1/models"
    assert server.requests[0].headers["authorization"] == "Bearer dummy-key"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(malformed="json"), ErrorCode.MALFORMED_RESPONSE),
        (Reply(malformed="html"), ErrorCode.HTML_RESPONSE),
        (Reply(status=500, error_message="boom"), ErrorCode.SERVER_ERROR),
        (Reply(status=404, error_message="Not Found"), ErrorCode.ENDPOINT_NOT_FOUND),
    ],
)
@pytest.mark.anyio
async def test_list_models_failures(server: ScriptedServer, reply: Reply, code: ErrorCode) -> None:
    server.models_reply = reply

    async with client_for(server) as client:
        with pytest.raises(TrayaiError) as info:
            await client.list_models()
        error = info.value
    assert error.code is code


@pytest.mark.anyio
async def test_list_models_timeout(server: ScriptedServer) -> None:
    server.models_reply = Reply(headers_delay=3.0)

    async with client_for(server, models_timeout=0.3) as client:
        with pytest.raises(TrayaiError) as info:
            await client.list_models()
        error = info.value
    assert error.code is ErrorCode.FIRST_TOKEN_TIMEOUT and "0.3 s" in error.message


# --------------------------------------------------------------------------- streaming


@pytest.mark.anyio
async def test_stream_happy_path_with_server_usage(server: ScriptedServer) -> None:
    server.script(Reply(text="The sky is blue because of Rayleigh scattering."))

    async with client_for(server) as client:
        deltas, stream = await collect(client, options=GenerationOptions(temperature=0.2, max_tokens=100))
    assert "".join(deltas) == "The sky is blue because of Rayleigh scattering."
    assert len(deltas) == 8
    result = stream.result
    assert result is not None
    assert result.finish_reason == "stop" and result.error is None
    assert result.usage.completion_tokens == 8 and not result.usage.estimated
    assert result.usage.prompt_tokens == 2
    assert result.ttft is not None and 0 < result.ttft <= result.duration
    body = server.chat_requests()[0].body
    assert body is not None
    assert body["stream"] is True and body["model"] == "ai/smollm2"
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.2 and body["max_tokens"] == 100
    assert "top_p" not in body  # None means "server decides": not sent
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.anyio
async def test_tokens_are_counted_when_the_server_sends_no_usage(server: ScriptedServer) -> None:
    server.script(Reply(n_tokens=30, rate=600, include_usage=False))

    async with client_for(server) as client:
        deltas, stream = await collect(client)
    assert stream.result is not None
    assert stream.result.usage.completion_tokens == 30 == len(deltas)
    assert stream.result.usage.estimated
    rate = stream.result.tokens_per_second
    assert rate is not None and 200 < rate < 1500  # paced at 600 tok/s by the server


@pytest.mark.anyio
async def test_cut_at_max_tokens(server: ScriptedServer) -> None:
    server.script(Reply(n_tokens=50))

    async with client_for(server) as client:
        deltas, stream = await collect(client, options=GenerationOptions(max_tokens=5))
    assert len(deltas) == 5
    assert stream.result is not None and stream.result.cut_at_max_tokens


@pytest.mark.anyio
async def test_wrong_key_is_an_auth_error_and_the_right_one_works(server: ScriptedServer) -> None:
    server.api_key = "sk-right"

    async with client_for(server, api_key="sk-wrong") as bad:
        error, _ = await failing(bad)
    async with client_for(server, api_key="sk-right") as good:
        deltas, _ = await collect(good)
    assert error.code is ErrorCode.AUTH and error.status == 401
    assert "trayai key set" in error.hint
    assert deltas


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(status=500, error_message="model crashed"), ErrorCode.SERVER_ERROR),
        (Reply(status=429, error_message="slow down"), ErrorCode.RATE_LIMITED),
        (
            Reply(status=502, error_body="<html><title>Bad gateway</title></html>", content_type="text/html"),
            ErrorCode.HTML_RESPONSE,
        ),
        (
            Reply(status=400, error_message="Requested tokens (5000) exceed context window of 2048"),
            ErrorCode.CONTEXT_EXCEEDED,
        ),
        (Reply(malformed="html"), ErrorCode.HTML_RESPONSE),
    ],
)
@pytest.mark.anyio
async def test_request_failures(server: ScriptedServer, reply: Reply, code: ErrorCode) -> None:
    error, stream = await scripted_failure(server, reply)
    assert error.code is code, error.message
    assert stream.result is not None and stream.result.finish_reason == "error"
    assert stream.result.error is error


@pytest.mark.anyio
async def test_unknown_model_404(server: ScriptedServer) -> None:
    server.unknown_model_status = 404

    async with client_for(server) as client:
        stream = client.stream_chat(MESSAGES, model="llama9")
        with pytest.raises(TrayaiError) as info:
            async for _ in stream:
                pass
        error = info.value
    assert error.code is ErrorCode.MODEL_NOT_FOUND and "llama9" in error.message
    assert "trayai models" in error.hint


@pytest.mark.parametrize(
    ("reply", "code", "kept"),
    [
        (
            Reply(text="one two three four five six", disconnect_after=3),
            ErrorCode.DISCONNECTED,
            "one two three ",
        ),
        (Reply(text="one two three four", malformed="json"), ErrorCode.MALFORMED_STREAM, "one "),
        (
            Reply(text="alpha beta gamma", error_event_after=2, error_message="GPU fell over"),
            ErrorCode.STREAM_ERROR,
            "alpha beta ",
        ),
    ],
)
@pytest.mark.anyio
async def test_mid_stream_failures_keep_the_partial_answer(
    server: ScriptedServer, reply: Reply, code: ErrorCode, kept: str
) -> None:
    error, stream = await scripted_failure(server, reply)
    assert error.code is code, error.message
    assert error.keeps_partial
    assert stream.text == kept
    assert stream.result is not None and stream.result.text == kept
    if code is ErrorCode.STREAM_ERROR:
        assert "GPU fell over" in error.message


@pytest.mark.anyio
async def test_non_sse_garbage_is_a_malformed_stream(server: ScriptedServer) -> None:
    server.script(Reply(malformed="sse"))

    async with client_for(server) as client:
        error, _ = await failing(client)
    assert error.code is ErrorCode.MALFORMED_STREAM


@pytest.mark.anyio
async def test_no_first_token_vs_stalled_mid_stream(server: ScriptedServer) -> None:
    server.script(Reply(first_token_delay=5.0), Reply(headers_delay=5.0), Reply(n_tokens=10, stall_after=2))

    async with client_for(server, first_token_timeout=0.4, stall_timeout=0.4) as client:
        (first, _), (headers, _), (stalled, stream) = [
            await failing(client),
            await failing(client),
            await failing(client),
        ]
    assert first.code is ErrorCode.FIRST_TOKEN_TIMEOUT and "0.4 s" in first.message
    assert headers.code is ErrorCode.FIRST_TOKEN_TIMEOUT
    assert stalled.code is ErrorCode.STALLED and "stalled" in stalled.message
    assert stream.text == "tok0 tok1 "
    assert server.wait_for_disconnect(5.0)  # we hung up on the stalled stream


@pytest.mark.anyio
async def test_cancelling_closes_the_http_stream(server: ScriptedServer) -> None:
    """Stop must reach the server: it sees the client go away and stops sending."""
    server.script(Reply(n_tokens=2000, rate=100))

    async with client_for(server) as client:
        stream = client.stream_chat(MESSAGES, model="ai/smollm2")
        got: list[str] = []

        async def consume() -> None:
            async for delta in stream:
                got.append(delta)

        task = asyncio.create_task(consume())
        await until(lambda: len(got) >= 3, what="3 deltas")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert server.wait_for_disconnect(3.0)
    assert stream.result is not None and stream.result.finish_reason == "cancelled"
    assert stream.text.startswith("tok0 tok1 tok2 ")
    assert server.tokens_sent < 100


@pytest.mark.anyio
async def test_stream_options_rejected_is_retried_once_and_remembered(server: ScriptedServer) -> None:
    server.reject_stream_options = True

    async with client_for(server) as client:
        first, _ = await collect(client)
        second, _ = await collect(client)
    assert first and second
    bodies = [r.body or {} for r in server.chat_requests()]
    assert ["stream_options" in b for b in bodies] == [True, False, False]


@pytest.mark.anyio
async def test_connection_is_reused_between_requests(server: ScriptedServer) -> None:
    """Polls keep one connection (plain HTTP, no httpx2 in the tray), chats keep another."""
    async with client_for(server) as client:
        for _ in range(3):
            await client.list_models()
        assert server.connections_accepted == 1
        await collect(client)
        await collect(client)
    assert server.connections_accepted == 2


@pytest.mark.anyio
async def test_loopback_ignores_proxy_settings(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async with client_for(server) as client:
        ids = (await client.list_models()).ids
    assert ids == ["ai/smollm2"]


@pytest.mark.anyio
async def test_non_streaming_completion(server: ScriptedServer) -> None:
    server.script(Reply(text="Forty two."))

    async with client_for(server) as client:
        result = await client.complete(MESSAGES, model="ai/smollm2")
    assert result.text == "Forty two." and result.finish_reason == "stop"
    assert result.usage.completion_tokens == 2 and not result.usage.estimated
    assert server.chat_requests()[0].json["stream"] is False


# --------------------------------------------------------------------------- answers never lost


@pytest.mark.anyio
@pytest.mark.expect_log("trayai.core.net.transport", "dropped the request before answering")
async def test_a_request_dropped_on_a_reused_connection_is_sent_again(server: ScriptedServer) -> None:
    """llama.cpp closes a kept-alive connection after a stream: the next request must not be lost."""
    server.drop_reused_connections = True

    async with client_for(server) as client:
        await client.list_models()
        listing = await client.list_models()  # the polls' own pool (core/net/plainhttp.py)
        answers = [(await collect(client))[0] for _ in range(3)]
        retries = client.unanswered_retries
    assert listing.ids == ["ai/smollm2"]
    assert all("".join(a) == "Hello from the scripted server." for a in answers)
    # models 1 (served), models 2 (reused: dropped, resent); then the chats' pool: chat 1 (new
    # connection, served), chat 2 (reused: dropped, resent), chat 3 (new connection, served)
    assert server.dropped_unanswered == 2
    assert retries == 2


@pytest.mark.anyio
@pytest.mark.expect_log("trayai.core.net.transport", "dropped the request before answering")
async def test_a_request_dropped_on_a_fresh_connection_too_is_reported_not_retried_forever(
    server: ScriptedServer,
) -> None:
    server.set_default(Reply(drop_unanswered=True))
    error, stream = await scripted_failure(server, Reply(drop_unanswered=True))
    assert error.code in (ErrorCode.DISCONNECTED, ErrorCode.NETWORK), error.message
    assert stream.result is not None and stream.result.finish_reason == "error"
    assert len(server.chat_requests()) == 2  # the request and exactly one retry


@pytest.mark.anyio
async def test_a_stream_ended_without_a_finish_reason_is_interrupted_not_stop(server: ScriptedServer) -> None:
    """llama-cpp-python cuts a stream with [DONE] and no finish_reason when another request waits."""
    error, stream = await scripted_failure(server, Reply(text="half an answer", finish_reason=None))
    assert error.code is ErrorCode.INTERRUPTED
    assert "interrupted by the server" in error.message
    assert error.keeps_partial
    assert stream.result is not None
    assert stream.result.finish_reason == "error" and stream.result.text == "half an answer"
