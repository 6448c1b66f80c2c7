"""Qt-free core: what the CLI, the tray and the tests share (docs/architecture.md, top)."""
