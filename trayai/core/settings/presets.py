"""Base URLs of the servers people run: the settings dialog's presets, checked against the README."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """A named starting point for an endpoint profile."""

    label: str
    base_url: str
    note: str


PRESETS: tuple[Preset, ...] = (
    Preset("Docker Model Runner", "http://localhost:12434/engines/v1", "docker model run ai/smollm2"),
    Preset("Built-in server / llama.cpp", "http://localhost:8080/v1", "trayai serve, or llama-server"),
    Preset("Ollama", "http://localhost:11434/v1", "ollama serve"),
    Preset("LM Studio", "http://localhost:1234/v1", "LM Studio ▸ Developer ▸ Start server"),
    Preset("vLLM", "http://localhost:8000/v1", "vllm serve MODEL"),
    Preset("Jan", "http://localhost:1337/v1", "Jan ▸ Settings ▸ Local API server"),
    Preset("Remote / cloud", "https://", "an https URL and usually an API key"),
)

__all__ = ["PRESETS", "Preset"]
