"""The core must stay Qt-free: usable from the CLI and testable without a display."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "trayai" / "core"
FORBIDDEN = ("PySide6", "qasync", "shiboken6")


def test_no_core_module_imports_qt_statically() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert CORE.is_dir() and len(list(CORE.glob("*.py"))) > 5
    assert offenders == []


def loaded_after_import(imports: list[str], watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` top-level packages a fresh interpreter has loaded after ``imports``."""
    code = (
        "import importlib, sys\n"
        f"for m in {imports!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {watched!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(out.stdout.strip()))


def test_importing_the_whole_core_and_cli_loads_no_qt() -> None:
    modules = sorted(
        ".".join(p.relative_to(CORE.parent.parent).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.stem != "__init__"
    )
    assert loaded_after_import([*modules, "trayai.cli"], FORBIDDEN) == []


def test_startup_path_does_not_import_the_http_stack() -> None:
    """Config, status types and errors load without openai/httpx2 (the tray shows its icon first)."""
    startup = [
        "trayai.core.settings.config",
        "trayai.core.settings.store",
        "trayai.core.errors",
        "trayai.core.settings.secrets",
        "trayai.core.embedded",
        "trayai.core.status",
        "trayai.core.net.client",
    ]
    assert loaded_after_import(startup, ("openai", "httpx2")) == []


def test_status_polling_does_not_load_the_openai_sdk_nor_httpx2() -> None:
    """The tray polls /models all day: that must not cost the SDK's (or httpx2's) import time and
    memory — a direct http:// poll goes through core/net/plainhttp.py."""
    code = (
        "import asyncio, sys\n"
        "from tests.support.scripted_server import ScriptedServer\n"
        "from trayai.core.net.client import Endpoint, ModelClient\n"
        "from trayai.core.status import probe\n"
        "async def main(url):\n"
        "    async with ModelClient(Endpoint.create(url, 'k')) as c:\n"
        "        return (await probe(c, 'ai/smollm2')).state.value\n"
        "with ScriptedServer() as s:\n"
        "    print(asyncio.run(main(s.base_url)), 'openai' in sys.modules, 'httpx2' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.split() == ["ready", "False", "False"]
