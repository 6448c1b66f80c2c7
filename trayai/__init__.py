"""trayai: a system-tray assistant for local AI models behind an OpenAI-compatible API."""

__version__ = "0.1.0"
APP_NAME = "trayai"
