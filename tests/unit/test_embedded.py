"""The built-in server's choices without running it: models folder, aliases, argv, threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from trayai.core import embedded
from trayai.core.embedded import EmbeddedServer, default_threads, is_builtin_url, is_gguf
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.settings.config import BuiltinServerSettings


def gguf(path: Path, size: int = 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + b"\0" * (size - 4))
    return path


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    model = gguf(tmp_path / "site" / "SmolLM2.gguf")
    monkeypatch.setattr(embedded, "bundled_model_path", lambda: model)
    return model


def test_models_folder_lists_ggufs_by_name_and_skips_projectors(tmp_path: Path, bundled: Path) -> None:
    folder = tmp_path / "models"
    gguf(folder / "b-model.gguf")
    gguf(folder / "lmstudio" / "org" / "A-Model-Q4.gguf")
    gguf(folder / "mmproj-A-Model.gguf")
    (folder / "notes.txt").write_text("not a model")
    server = EmbeddedServer(BuiltinServerSettings(), tmp_path / "log", models_dir=folder)
    models = server.available_models()
    assert [m.name for m in models] == ["ai/smollm2", "A-Model-Q4", "b-model"]
    assert models[0].bundled and models[0].path == bundled and not models[1].bundled
    assert models[1].size == 64


def test_select_model_sets_the_file_and_the_alias_follows(tmp_path: Path, bundled: Path) -> None:
    folder = tmp_path / "models"
    other = gguf(folder / "mistral-7b.gguf")
    settings = BuiltinServerSettings(on_demand=False)  # one model at a time: the child serves the chosen file
    server = EmbeddedServer(settings, tmp_path / "log", models_dir=folder)
    assert server.alias == "ai/smollm2"
    server.select_model("mistral-7b")
    assert settings.model_file == str(other) and server.alias == "mistral-7b"
    assert server.command(other)[server.command(other).index("--alias") + 1] == "mistral-7b"
    server.select_model("ai/smollm2")
    assert settings.model_file == "" and server.alias == "ai/smollm2"
    with pytest.raises(TrayaiError) as info:
        server.select_model("llama9")
    assert info.value.code is ErrorCode.BUILTIN_MODEL_FILE
    assert "ai/smollm2, mistral-7b" in info.value.message and str(folder) in info.value.hint


def test_the_settings_models_dir_wins_and_serve_alias_overrides(tmp_path: Path, bundled: Path) -> None:
    mine = tmp_path / "mine"
    gguf(mine / "tiny.gguf")
    settings = BuiltinServerSettings(models_dir=str(mine))
    server = EmbeddedServer(settings, tmp_path / "log", models_dir=tmp_path / "default", alias="my-name")
    assert server.models_dir == mine
    assert {m.name for m in server.available_models()} == {"my-name"}  # --alias names whatever is served


def test_the_child_argv_carries_every_setting(tmp_path: Path, bundled: Path) -> None:
    settings = BuiltinServerSettings(port=9099, context_size=2048, parallel=3, threads=0, on_demand=False)
    argv = EmbeddedServer(settings, tmp_path / "log").command(bundled)
    assert argv[1:3] == ["-m", "trayai.core.engine_child"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert flags == {
        "--model": str(bundled),
        "--alias": "ai/smollm2",
        "--port": "9099",
        "--ctx-size": "2048",
        "--parallel": "3",
        "--threads": str(default_threads()),
    }


def test_a_file_without_the_gguf_signature_is_refused_before_loading(tmp_path: Path, bundled: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"<html>not found</html>")
    assert not is_gguf(junk) and is_gguf(bundled) and not is_gguf(tmp_path / "missing.gguf")
    server = EmbeddedServer(BuiltinServerSettings(model_file=str(junk)), tmp_path / "log")
    if embedded.local_extra_missing():
        pytest.fail("the local extra is part of the test install")
    with pytest.raises(TrayaiError) as info:
        server.start()
    assert info.value.code is ErrorCode.BUILTIN_MODEL_FILE and "GGUF" in info.value.message
    assert server.state == "failed" and server.pid is None


def test_threads_default_to_the_physical_cores_but_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    for physical, expected in ((1, 1), (2, 1), (8, 7)):
        monkeypatch.setattr(psutil, "cpu_count", lambda logical=True, n=physical: n)
        assert default_threads() == expected


def test_is_builtin_url() -> None:
    settings = BuiltinServerSettings(port=8080)
    assert is_builtin_url("http://127.0.0.1:8080/v1", settings)
    assert is_builtin_url("http://localhost:8080/v1", settings)
    assert not is_builtin_url("http://127.0.0.1:11434/v1", settings)
    assert not is_builtin_url("http://example.com:8080/v1", settings)
