"""Unit tests of trayai/core/library/ (the on-demand engine pool and its front)."""
