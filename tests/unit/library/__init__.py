"""The model library: catalog, fit, GGUF metadata, machine memory, `trayai library`, on-demand loading."""
