"""trayai as a person installs it: the sdist and the wheel built from it (``python -m build``), the
wheel in a fresh virtualenv and through pipx. The code and the icons come only from that installation
(not this checkout, not an editable install); on a real X server with a tray host its icon is drawn,
and ``trayai quit`` ends it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Desktop
from tests.e2e.conftest import desktop as desktop  # noqa: PLC0414 - the e2e X11 desktop fixture, reused
from tests.support.appconfig import configure_for
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import PROGRAM_DEADLINE, tail, wait_for_program
from tests.unit.test_version import pyproject_version
from trayai.core.library.catalog import CATALOG_RESOURCE
from trayai.core.paths import AppPaths
from trayai.ui.icons import icon_names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# What a checkout holds besides the project: never part of what is built.
NOT_SOURCE = [".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "node_modules", "artifacts"]
NOT_SOURCE += [".mypy_cache", ".ruff_cache", ".pytest_cache"]
# The installed programs must not see this checkout or the test run's interpreter settings.
LEAKY_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")
PACKAGED_ICONS = {f"trayai/resources/icons/{name}.svg" for name in icon_names()}
PACKAGED_CATALOG = f"trayai/{CATALOG_RESOURCE}"


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


def run(argv: list[str | Path], env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """A build or install step; a failure, or a step still running at the deadline, shows its output."""
    try:
        done = subprocess.run(
            [str(a) for a in argv], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"{argv} still running after {timeout:g} s:\n{exc.stdout!r}\n{exc.stderr!r}"
        ) from None
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """``python -m build`` on a copy of the checkout (its own build leftovers cannot leak in): the sdist,
    then the wheel built from that sdist — so the wheel proves the sdist is complete."""
    src = tmp_path_factory.mktemp("src") / "trayai"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, src])
    (sdist,) = out.glob("trayai-*.tar.gz")
    (wheel,) = out.glob("trayai-*-py3-none-any.whl")
    return Dists(sdist, wheel)


def installed_env(desktop: Desktop) -> dict[str, str]:
    env = {k: v for k, v in desktop.env.items() if k not in LEAKY_ENV}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def where_trayai_comes_from(python: Path, env: dict[str, str]) -> dict[str, str]:
    code = (
        "import json, trayai, importlib.metadata as md, importlib.resources as res\n"
        "from trayai.ui.icons import icon_path\n"
        "d = md.distribution('trayai')\n"
        "print(json.dumps({'module': trayai.__file__, 'version': trayai.__version__,"
        " 'icon': str(icon_path('trayai')), 'resource': str(res.files('trayai') / 'resources/icons/trayai.svg'),"
        " 'direct_url': d.read_text('direct_url.json') or ''}))\n"
    )
    return dict(json.loads(run([python, "-c", code], env)))


def assert_installed_from_the_wheel(found: dict[str, str], prefix: Path) -> Path:
    """Checks where trayai was imported from; returns the installed icons' folder."""
    assert Path(found["module"]).resolve().is_relative_to(prefix.resolve()), found
    assert not Path(found["module"]).resolve().is_relative_to(ROOT), found
    assert found["icon"] == found["resource"]
    assert Path(found["icon"]).is_file() and Path(found["icon"]).resolve().is_relative_to(prefix.resolve())
    assert found["version"] == pyproject_version()
    assert json.loads(found["direct_url"]).get("dir_info", {}).get("editable") is not True
    return Path(found["icon"]).parent


def icon_colours(desktop: Desktop, window: str, shot: Path) -> int:
    """Distinct colours in the tray icon's window: 1 is the panel's tint alone, an invisible icon."""
    desktop.run("import", "-window", window, str(shot))
    return int(desktop.run("identify", "-format", "%k", str(shot)))


def tray_from_the_installation(
    desktop: Desktop,
    trayai: Path,
    icons_dir: Path,
    env: dict[str, str],
    server: ScriptedServer,
    paths: AppPaths,
    name: str,
) -> None:
    """The installed ``trayai`` in a real tray: started, its icons checked and drawn, then quit.

    Every wait is on something trayai shows (its log, its exit) with a generous deadline, and a
    failure quotes what it printed and logged: under load a fixed 10 s guess once failed with
    nothing to go on.
    """
    configure_for(paths, server)
    desktop.start_tray_host()
    log = paths.log_dir / "trayai.log"
    printed = desktop.log_dir / f"{name}.out"

    def log_text() -> str:
        return log.read_text() if log.exists() else ""

    def said() -> str:
        return f"its output:\n{tail(printed)}\nits log:\n{log_text()[-4000:] or '(empty)'}"

    with printed.open("wb") as out:
        app = subprocess.Popen(
            [str(trayai)], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        wait_for_program(app, lambda: "tray=True" in log_text(), "the tray icon", said)
        states = len(icon_names()) - 1
        assert f"icons: trayai.svg and {states} state icons loaded from {icons_dir} (" in log_text(), said()
        wait_for_program(app, lambda: "first poll: ready" in log_text(), "the first poll", said)
        icons = [w for w in desktop.windows() if 4 < w[2] <= 32 and 4 < w[3] <= 32]
        assert icons, (desktop.windows(), said())  # embedded in trayer's panel, icon-sized
        shot = desktop.screenshot(name)
        assert icon_colours(desktop, icons[0][0], shot.with_name(f"{name}-icon.png")) > 4, "a blank tray icon"
        done = subprocess.run(
            [str(trayai), "quit"], env=env, capture_output=True, text=True, timeout=PROGRAM_DEADLINE
        )
        assert done.returncode == 0, done.stderr
        try:
            assert app.wait(PROGRAM_DEADLINE) == 0, said()
        except subprocess.TimeoutExpired:
            raise AssertionError(f"trayai did not exit after `trayai quit`; {said()}") from None
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    assert "Traceback" not in printed.read_text(errors="replace"), said()


def test_sdist_and_wheel_carry_the_icons(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(top + "/") for name in sdist.getnames()}
    with zipfile.ZipFile(dists.wheel) as wheel:
        in_wheel = set(wheel.namelist())
    for files in (in_sdist, in_wheel):
        assert {*PACKAGED_ICONS, "trayai/py.typed", "trayai/ui/chat/window.py", PACKAGED_CATALOG} <= files
    assert top == f"trayai-{pyproject_version()}"


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Iterator[Path]:
    venv = tmp_path / "fresh"
    try:
        yield venv
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # hundreds of MB of Qt: not kept in the temp dirs


def test_wheel_in_a_fresh_venv(
    dists: Dists, fresh_venv: Path, desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    env = installed_env(desktop)
    run([sys.executable, "-m", "venv", fresh_venv], env)
    # Dependencies from the package index (pip's cache makes it quick); trayai only from the wheel.
    run([fresh_venv / "bin" / "pip", "install", "--quiet", "--progress-bar=off", dists.wheel], env)
    icons_dir = assert_installed_from_the_wheel(
        where_trayai_comes_from(fresh_venv / "bin" / "python", env), fresh_venv
    )
    version = run([fresh_venv / "bin" / "trayai", "--version"], env).splitlines()
    assert version[0] == f"trayai {pyproject_version()}"
    assert version[1].startswith("engine: not installed")  # no `local` extra asked for
    tray_from_the_installation(
        desktop, fresh_venv / "bin" / "trayai", icons_dir, env, server, paths, "installed-wheel-tray"
    )


@pytest.fixture
def pipx_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "pipx"
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_pipx_install_of_the_wheel(
    dists: Dists, pipx_home: Path, desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    if shutil.which("pipx", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("pipx is missing: run `bash resources/bootstrap.sh --test`")
    env = installed_env(desktop)
    env.update(PIPX_HOME=str(pipx_home), PIPX_BIN_DIR=str(pipx_home / "bin"))
    env["PIPX_MAN_DIR"] = str(pipx_home / "man")
    run([Path(sys.executable).parent / "pipx", "install", dists.wheel], env)
    trayai = pipx_home / "bin" / "trayai"
    assert trayai.is_file()
    venv = pipx_home / "venvs" / "trayai"
    icons_dir = assert_installed_from_the_wheel(where_trayai_comes_from(venv / "bin" / "python", env), venv)
    assert run([trayai, "--version"], env).splitlines()[0] == f"trayai {pyproject_version()}"
    tray_from_the_installation(desktop, trayai, icons_dir, env, server, paths, "installed-pipx-tray")
