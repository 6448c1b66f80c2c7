"""Tray ▸ Get models…: the model library window (catalog, Hugging Face search, downloads, Use it now)."""
