"""trayai: a system-tray assistant for local AI models behind an OpenAI-compatible API."""

APP_NAME = "trayai"


def __getattr__(name: str) -> str:
    """``__version__`` on first use: pyproject.toml's version, as the installation recorded it
    (wheel, sdist, editable, pipx). Read lazily because importlib.metadata costs the tray ~1 MB;
    a checkout used without installing it has no metadata, and says so rather than guess."""
    if name != "__version__":
        raise AttributeError(f"module 'trayai' has no attribute {name!r}")
    # lazy: importlib is loaded only when used: start-up time and memory
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("trayai")
    except PackageNotFoundError:
        found = "0+unknown"
    globals()["__version__"] = found
    return found
