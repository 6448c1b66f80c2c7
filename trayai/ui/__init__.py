"""PySide6 front end: bootstrap, single instance, tray, windows. Everything here stays thin: the
decisions live in :mod:`trayai.core`, and widgets only connect to the controllers' signals."""
