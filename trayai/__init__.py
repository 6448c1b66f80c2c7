"""trayai: a system-tray assistant for local AI models behind an OpenAI-compatible API."""

from importlib.metadata import PackageNotFoundError, version

# One source: pyproject.toml's version, as the installation recorded it (wheel, sdist, editable, pipx).
# A checkout used without installing it has no metadata, and says so rather than guess.
try:
    __version__ = version("trayai")
except PackageNotFoundError:
    __version__ = "0+unknown"
APP_NAME = "trayai"
