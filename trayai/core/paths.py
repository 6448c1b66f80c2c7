"""Every on-disk location: platformdirs, overridden by ``TRAYAI_CONFIG_DIR``/``TRAYAI_DATA_DIR``/
``TRAYAI_LOG_DIR``. Directories are user-only (0700): they hold history and logs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from trayai import APP_NAME

CONFIG_FILE_NAME = "config.json"
ENV_FILE_NAME = ".env"


@dataclass(frozen=True)
class AppPaths:
    """The directories trayai uses; build one with :meth:`from_env` and pass it around."""

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppPaths:
        """Resolve the directories, honouring the ``TRAYAI_*_DIR`` overrides in ``environ``."""
        env = os.environ if environ is None else environ
        config_dir = _override(env, "TRAYAI_CONFIG_DIR") or Path(
            platformdirs.user_config_dir(APP_NAME, appauthor=False)
        )
        data_dir = _override(env, "TRAYAI_DATA_DIR") or Path(
            platformdirs.user_data_dir(APP_NAME, appauthor=False)
        )
        log_dir = _override(env, "TRAYAI_LOG_DIR")
        if log_dir is None:
            # With a data-dir override, keep logs beside the data so a test or portable install
            # never writes into the real user's log directory.
            log_dir = (
                data_dir / "logs"
                if _override(env, "TRAYAI_DATA_DIR") is not None
                else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
            )
        return cls(config_dir=config_dir, data_dir=data_dir, log_dir=log_dir)

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def env_file(self) -> Path:
        """The ``.env`` in the config directory (read after the one in the working directory)."""
        return self.config_dir / ENV_FILE_NAME

    @property
    def server_log_file(self) -> Path:
        return self.log_dir / "builtin-server.log"

    @property
    def models_dir(self) -> Path:
        """Where dropped-in .gguf files are found by the built-in server (``builtin_server.models_dir``)."""
        return self.data_dir / "models"

    def ensure(self) -> None:
        """Create all directories, user-only."""
        for directory in (self.config_dir, self.data_dir, self.log_dir):
            ensure_private_dir(directory)


def ensure_private_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents) and make it readable by the user only."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # e.g. a directory owned by someone else: not fatal
        directory.chmod(0o700)
    return directory


def _override(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else None
