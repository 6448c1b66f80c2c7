"""Where trayai keeps its files: overrides, platform defaults, user-only directories."""

from __future__ import annotations

import stat
from pathlib import Path

import platformdirs
import pytest

from trayai.core.paths import AppPaths, ensure_private_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_conftest_overrides_are_honoured(paths: AppPaths, tmp_path: Path) -> None:
    assert paths.config_dir == tmp_path / "config"
    assert paths.data_dir == tmp_path / "data"
    assert paths.log_dir == tmp_path / "data" / "logs"  # beside the data, never the real log dir


def test_file_locations(tmp_path: Path) -> None:
    paths = AppPaths(config_dir=tmp_path / "c", data_dir=tmp_path / "d", log_dir=tmp_path / "l")
    assert paths.config_file == tmp_path / "c" / "config.json"
    assert paths.env_file == tmp_path / "c" / ".env"
    assert paths.server_log_file == tmp_path / "l" / "builtin-server.log"


def test_platform_defaults_without_overrides() -> None:
    paths = AppPaths.from_env({})
    assert paths.config_dir == Path(platformdirs.user_config_dir("trayai", appauthor=False))
    assert paths.data_dir == Path(platformdirs.user_data_dir("trayai", appauthor=False))
    assert paths.log_dir == Path(platformdirs.user_log_dir("trayai", appauthor=False))


def test_explicit_environ_is_used_instead_of_the_process_environment(tmp_path: Path) -> None:
    paths = AppPaths.from_env({"TRAYAI_CONFIG_DIR": str(tmp_path / "x")})
    assert paths.config_dir == tmp_path / "x"
    assert paths.data_dir == Path(platformdirs.user_data_dir("trayai", appauthor=False))


def test_log_dir_override_wins(tmp_path: Path) -> None:
    paths = AppPaths.from_env(
        {"TRAYAI_DATA_DIR": str(tmp_path / "d"), "TRAYAI_LOG_DIR": str(tmp_path / "logs")}
    )
    assert paths.log_dir == tmp_path / "logs"
    assert paths.data_dir == tmp_path / "d"


def test_overrides_are_stripped_and_user_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    paths = AppPaths.from_env(
        {"TRAYAI_CONFIG_DIR": "  ~/cfg  ", "TRAYAI_DATA_DIR": "~/data", "TRAYAI_LOG_DIR": "~/log"}
    )
    assert paths.config_dir == tmp_path / "home" / "cfg"
    assert paths.data_dir == tmp_path / "home" / "data"
    assert paths.log_dir == tmp_path / "home" / "log"


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_overrides_count_as_unset(blank: str) -> None:
    paths = AppPaths.from_env({"TRAYAI_CONFIG_DIR": blank, "TRAYAI_DATA_DIR": blank, "TRAYAI_LOG_DIR": blank})
    assert paths == AppPaths.from_env({})


def test_from_env_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRAYAI_LOG_DIR", str(tmp_path / "my-logs"))
    assert AppPaths.from_env().log_dir == tmp_path / "my-logs"


def test_from_env_creates_nothing(paths: AppPaths) -> None:
    assert not paths.config_dir.exists()
    assert not paths.data_dir.exists()


def test_ensure_creates_every_directory_user_only(paths: AppPaths) -> None:
    paths.ensure()
    for directory in (paths.config_dir, paths.data_dir, paths.log_dir):
        assert directory.is_dir()
        assert mode(directory) == 0o700
    paths.ensure()  # idempotent
    assert mode(paths.log_dir) == 0o700


def test_ensure_private_dir_tightens_an_existing_directory(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    assert ensure_private_dir(directory) == directory
    assert mode(directory) == 0o700


def test_ensure_private_dir_creates_parents(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b" / "c"
    assert ensure_private_dir(directory) == directory
    assert directory.is_dir()
    assert mode(directory) == 0o700


def test_app_paths_is_immutable(paths: AppPaths, tmp_path: Path) -> None:
    with pytest.raises(AttributeError):
        paths.config_dir = tmp_path  # type: ignore[misc]
