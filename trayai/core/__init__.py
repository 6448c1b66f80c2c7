"""Qt-free core of trayai.

Everything here is usable from the CLI and testable without a display. No module in this package
may depend on PySide6 or qasync (``tests/unit/test_layers.py`` enforces it), so the tray, the windows
and the command line all share one implementation of configuration, secrets, HTTP, diagnosis and the
built-in server.
"""
