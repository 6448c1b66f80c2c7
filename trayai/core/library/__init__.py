"""The built-in engine's model library: models loaded on demand behind one loopback endpoint."""
