"""Classifying what went wrong while talking to a server — an exception from the transports (httpx2,
the SDK, plain HTTP) or an HTTP status with its body — into a :class:`TrayaiError` with the catalogue's
words. It lives beside the transports it knows (httpx's ``_exceptions.py`` and
``map_httpcore_exceptions``), so ``errors.py`` below everything imports nothing of the package.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from trayai.core.error_catalog import ErrorCode, ErrorPhase
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.plainhttp import PlainConnectTimeout, PlainProtocolError
from trayai.core.net.transport import ResponseTooLarge
from trayai.core.net.urls import host_port, is_local_url

# llama.cpp router with --no-models-autoload (server-models.cpp router_validate_model), 400
_NOT_LOADED_WORDS = re.compile(r"^model is not loaded$", re.I)
_CONTEXT_WORDS = re.compile(
    r"context (?:window|length|size)|maximum context|exceed|too (?:long|many tokens)|n_ctx", re.I
)


def connection_refused_error(base_url: str) -> TrayaiError:
    where = host_port(base_url)
    if is_local_url(base_url):
        hint = (
            "Start Docker Model Runner (`docker model run ai/smollm2`) or the built-in server "
            "(`trayai serve`), or correct the port."
        )
    else:
        hint = "Check that the server is running on that machine and the port is right."
    return TrayaiError(ErrorCode.CONNECTION_REFUSED, f"Nothing is listening on {where}", hint)


def classify_exception(
    exc: BaseException,
    *,
    base_url: str,
    model: str | None = None,
    phase: ErrorPhase = ErrorPhase.REQUEST,
) -> TrayaiError:
    """Map any exception raised while talking to ``base_url`` to a :class:`TrayaiError`.

    ``phase`` (connect, first token or stream) decides how timeouts and broken
    connections are worded ("no first token" vs "stalled mid-stream").
    """
    if isinstance(exc, TrayaiError):
        return exc
    # Not loaded → no exception of theirs can exist here (the tray's polls may never load them).
    status_error = _loaded("openai", "APIStatusError")
    where = host_port(base_url)
    if status_error and isinstance(exc, status_error):
        failed: Any = exc  # openai.APIStatusError: a status code and the response
        return classify_status(
            failed.status_code,
            _response_text(failed.response),
            failed.response.headers.get("content-type", ""),
            base_url=base_url,
            model=model,
            retry_after=failed.response.headers.get("retry-after"),
            location=failed.response.headers.get("location"),
        )
    chain = list(_exception_chain(exc))
    too_large = next((e for e in chain if isinstance(e, ResponseTooLarge)), None)
    if too_large is not None:
        return make_error(
            ErrorCode.TOO_LARGE, f"{where} sent a response larger than trayai accepts ({too_large})"
        )
    if any(isinstance(e, (ssl.SSLError, ssl.CertificateError)) for e in chain) or _mentions(
        chain, "SSL", "CERTIFICATE_VERIFY", "certificate verify"
    ):
        return make_error(
            ErrorCode.TLS, f"The TLS (https) handshake with {where} failed", detail=_first_text(chain)
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or _mentions(
        chain,
        "Name or service not known",
        "nodename nor servname",
        "getaddrinfo failed",
        "Temporary failure in name resolution",
        "No address associated",
    ):
        host = where.rsplit(":", 1)[0]
        return make_error(ErrorCode.DNS, f"The host name {host!r} cannot be resolved")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or _mentions(
        chain, "Connection refused", "Errno 111", "actively refused", "Errno 61"
    ):
        return connection_refused_error(base_url)
    connect_timeouts: tuple[type[BaseException], ...] = (
        PlainConnectTimeout,
        *_loaded("httpx2", "ConnectTimeout"),
    )
    if any(isinstance(e, connect_timeouts) for e in chain):
        return make_error(ErrorCode.CONNECT_TIMEOUT, f"{where} did not accept the connection in time")
    timeouts: tuple[type[BaseException], ...] = (TimeoutError, *_loaded("httpx2", "TimeoutException"))
    if any(isinstance(e, timeouts) for e in chain) or isinstance(exc, _loaded("openai", "APITimeoutError")):
        if phase == ErrorPhase.STREAM:
            return make_error(ErrorCode.STALLED, f"The reply from {where} stalled mid-stream")
        return make_error(
            ErrorCode.FIRST_TOKEN_TIMEOUT, f"{where} accepted the request but sent no answer in time"
        )
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{where} answered with something that is not valid JSON",
            detail=_first_text(chain),
        )
    broken: tuple[type[BaseException], ...] = (
        PlainProtocolError,
        ConnectionResetError,
        BrokenPipeError,
        *_loaded("httpx2", "RemoteProtocolError", "ReadError", "NetworkError"),
    )
    if any(isinstance(e, broken) for e in chain) or isinstance(exc, _loaded("openai", "APIConnectionError")):
        if phase == ErrorPhase.STREAM:
            return make_error(
                ErrorCode.DISCONNECTED,
                f"The connection to {where} closed before the reply finished",
                detail=_first_text(chain),
            )
        return make_error(ErrorCode.NETWORK, f"The connection to {where} failed", detail=_first_text(chain))
    return make_error(
        ErrorCode.NETWORK,
        f"Talking to {where} failed: {type(exc).__name__}",
        detail=_first_text(chain),
    )


def _loaded(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """The exception types ``module`` defines, if it is loaded — and only those already defined: while
    the chat warms the SDK up in a thread, ``sys.modules["openai"]`` is a half-initialised module, and
    another answer's error must still be classified (it raised AttributeError)."""
    loaded = sys.modules.get(module)
    found = (getattr(loaded, name, None) for name in names) if loaded is not None else ()
    return tuple(t for t in found if isinstance(t, type) and issubclass(t, BaseException))


def not_loaded_error(
    where: str, model: str | None, *, status: int | None = 400, detail: str | None = None
) -> TrayaiError:
    """The model is there but not in memory on a server that will not load it on request."""
    name = model or "MODEL"
    return make_error(
        ErrorCode.MODEL_NOT_LOADED,
        f"{name!r} is not loaded on {where}, and this server loads models only when told to",
        f"Load it: `trayai load {name}` (or Model ▸ Load in the tray).",
        status=status,
        detail=detail,
    )


def classify_status(
    status: int,
    body: str,
    content_type: str = "",
    *,
    base_url: str,
    model: str | None = None,
    retry_after: str | None = None,
    location: str | None = None,
) -> TrayaiError:
    """Map an HTTP error status (with its body) to a :class:`TrayaiError`."""
    where = host_port(base_url)
    if 300 <= status < 400:
        target = (location or "")[:300] or "an address it did not give"
        return make_error(
            ErrorCode.REDIRECTED,
            f"{where} redirected the request ({status}) to {target}: not followed",
            status=status,
        )
    server_message = extract_server_message(body)
    detail = server_message or (body[:300] if body else None)
    if looks_like_html(body, content_type):
        return make_error(
            ErrorCode.HTML_RESPONSE,
            f"{where} answered HTTP {status} with a web page instead of the API",
            status=status,
            detail=_html_title(body),
        )
    if status == 401:
        return make_error(ErrorCode.AUTH, f"{where} rejected the API key (401)", status=status, detail=detail)
    if status == 403:
        return make_error(ErrorCode.FORBIDDEN, f"{where} refused access (403)", status=status, detail=detail)
    if status == 404:
        lowered = (server_message or "").lower()
        if model and ("model" in lowered or model.lower() in lowered):
            return make_error(
                ErrorCode.MODEL_NOT_FOUND,
                f"{where} has no model named {model!r}",
                status=status,
                detail=detail,
            )
        return make_error(
            ErrorCode.ENDPOINT_NOT_FOUND,
            f"{where} has no OpenAI-compatible API at {base_url} (404)",
            status=status,
            detail=detail,
        )
    if status == 429:
        seconds = _parse_retry_after(retry_after)
        wait = f" — retry in {seconds:g} s" if seconds is not None else ""
        return make_error(
            ErrorCode.RATE_LIMITED,
            f"{where} is rate-limiting requests (429){wait}",
            status=status,
            detail=detail,
            retry_after=seconds,
        )
    if status in (400, 413, 422) and server_message and _CONTEXT_WORDS.search(server_message):
        return make_error(
            ErrorCode.CONTEXT_EXCEEDED,
            "The conversation is longer than the model's context window",
            status=status,
            detail=detail,
        )
    if status == 400 and server_message and _NOT_LOADED_WORDS.match(server_message.strip()):
        return not_loaded_error(where, model, detail=detail)
    if 400 <= status < 500:
        return make_error(
            ErrorCode.BAD_REQUEST,
            f"{where} rejected the request ({status}): {server_message or 'no reason given'}",
            status=status,
            detail=detail,
        )
    return make_error(
        ErrorCode.SERVER_ERROR,
        f"{where} failed with HTTP {status}" + (f": {server_message}" if server_message else ""),
        status=status,
        detail=detail,
    )


def extract_server_message(body: str) -> str | None:
    """The human message inside an OpenAI-style (or FastAPI/Ollama-style) JSON error body."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            message = error.get("message")
            return str(message) if message else None
        if isinstance(error, str):
            return error
        if isinstance(error, list) and error and isinstance(error[0], dict):
            return str(error[0].get("msg", error[0]))
    return None


def looks_like_html(body: str, content_type: str = "") -> bool:
    head = body.lstrip()[:200].lower()
    return "text/html" in content_type.lower() or head.startswith(("<!doctype html", "<html"))


def _html_title(body: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", body, re.I | re.S)
    return match.group(1).strip()[:200] if match else None


def _parse_retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _response_text(response: Any) -> str:
    try:
        return str(response.text)
    except Exception:  # noqa: BLE001 - httpx's ResponseNotRead (a stream not read yet); httpx2 is not imported here
        return ""


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _mentions(chain: Sequence[BaseException], *needles: str) -> bool:
    text = " | ".join(str(e) for e in chain)
    return any(needle in text for needle in needles)


def _first_text(chain: Sequence[BaseException]) -> str | None:
    for e in chain:
        text = str(e).strip()
        if text:
            return text[:300]
    return None


__all__ = [
    "classify_exception",
    "classify_status",
    "connection_refused_error",
    "extract_server_message",
    "looks_like_html",
    "not_loaded_error",
]
