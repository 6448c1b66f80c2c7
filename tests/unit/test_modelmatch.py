"""Tolerant model matching: the server's own spelling wins, misses come with suggestions."""

from __future__ import annotations

import pytest

from trayai.core.modelmatch import ModelMatch, canonical_model_name, close_matches, match_model

DMR = ["docker.io/ai/smollm2:latest", "docker.io/ai/qwen3:latest", "docker.io/ai/gemma3:4B-Q4_K_M"]
OLLAMA = ["smollm2:latest", "llama3.2:1b", "qwen2.5:0.5b"]


@pytest.mark.parametrize(
    ("requested", "available", "resolved", "how"),
    [
        ("ai/smollm2", ["ai/smollm2", "ai/qwen3"], "ai/smollm2", "exact"),
        ("AI/SmolLM2", ["ai/smollm2", "ai/qwen3"], "ai/smollm2", "case"),
        ("ai/smollm2", ["AI/SmolLM2"], "AI/SmolLM2", "case"),
        ("ai/smollm2", DMR, "docker.io/ai/smollm2:latest", "registry/tag"),
        ("ai/smollm2:latest", ["ai/smollm2"], "ai/smollm2", "registry/tag"),
        ("docker.io/ai/smollm2:latest", ["ai/smollm2"], "ai/smollm2", "registry/tag"),
        ("smollm2", OLLAMA, "smollm2:latest", "registry/tag"),
        ("SmolLM2", OLLAMA, "smollm2:latest", "registry/tag"),
        ("ai/smollm2", OLLAMA, "smollm2:latest", "name without namespace"),
        ("ai/smollm2", ["ai/smollm2:360M-Q4_K_M"], "ai/smollm2:360M-Q4_K_M", "base name"),
        ("ai/gemma3", DMR, "docker.io/ai/gemma3:4B-Q4_K_M", "base name"),
        ("llama3.2", OLLAMA, "llama3.2:1b", "base name"),
        ("library/qwen2.5", OLLAMA, "qwen2.5:0.5b", "name without namespace"),
        ("registry.ollama.ai/library/smollm2:latest", OLLAMA, "smollm2:latest", "registry/tag"),
        (
            "hf.co/bartowski/SmolLM2-GGUF",
            ["bartowski/smollm2-gguf"],
            "bartowski/smollm2-gguf",
            "registry/tag",
        ),
    ],
)
def test_tolerant_matches_resolve_to_the_servers_spelling(
    requested: str, available: list[str], resolved: str, how: str
) -> None:
    result = match_model(requested, available)
    assert result == ModelMatch(requested, resolved, how)
    assert result.found is True
    assert result.resolved in available  # always the server's own spelling


def test_exact_beats_a_case_variant() -> None:
    result = match_model("Model", ["model", "Model"])
    assert (result.resolved, result.how) == ("Model", "exact")


def test_two_tags_of_one_model_are_a_choice_not_a_guess() -> None:
    available = ["ai/smollm2:360M-Q4_K_M", "ai/smollm2:135M-Q4_K_M", "ai/qwen3"]
    result = match_model("ai/smollm2", available)
    assert result.found is False
    assert result.resolved is None
    assert result.how is None
    assert result.suggestions == ["ai/smollm2:135M-Q4_K_M", "ai/smollm2:360M-Q4_K_M"]


def test_latest_is_preferred_over_other_tags_when_untagged_is_asked_for() -> None:
    result = match_model("ai/smollm2", ["docker.io/ai/smollm2:latest", "docker.io/ai/smollm2:135M-Q4_K_M"])
    assert result.resolved == "docker.io/ai/smollm2:latest"


def test_latest_is_preferred_even_when_the_namespace_is_dropped() -> None:
    # Ollama with both `smollm2` and `smollm2:360m` pulled; the default model name is `ai/smollm2`.
    result = match_model("ai/smollm2", ["smollm2:360m", "smollm2:latest"])
    assert (result.resolved, result.how) == ("smollm2:latest", "name without namespace")


def test_same_name_in_two_namespaces_is_ambiguous() -> None:
    result = match_model("smollm2", ["ai/smollm2:latest", "other/smollm2:latest"])
    assert result.found is False
    assert result.suggestions == ["ai/smollm2:latest", "other/smollm2:latest"]


def test_a_specific_tag_is_matched_across_registry_prefixes() -> None:
    result = match_model("ai/gemma3:4b-q4_k_m", DMR)
    assert (result.resolved, result.how) == ("docker.io/ai/gemma3:4B-Q4_K_M", "registry/tag")


def test_a_typo_is_not_found_but_suggests_the_close_name() -> None:
    result = match_model("ai/smolm2", ["ai/smollm2", "ai/qwen3", "ai/gemma3"])
    assert result.found is False
    assert result.resolved is None
    assert result.suggestions[0] == "ai/smollm2"
    assert "ai/qwen3" not in result.suggestions


def test_suggestions_use_the_servers_spelling() -> None:
    result = match_model("ai/smolm2", DMR)
    assert result.suggestions[0] == "docker.io/ai/smollm2:latest"
    assert set(result.suggestions) <= set(DMR)


def test_nothing_close_gives_no_suggestions() -> None:
    result = match_model("totally-different-xyz", ["ai/smollm2"])
    assert result == ModelMatch("totally-different-xyz", None, None, [])


def test_empty_server_list() -> None:
    result = match_model("ai/smollm2", [])
    assert result.found is False
    assert result.suggestions == []


def test_close_matches_limit_and_order() -> None:
    available = ["model-a4444", "model-a22", "model-a1", "model-a333", "unrelated-zzzz"]
    assert close_matches("model-a", available) == ["model-a1", "model-a22", "model-a333"]
    assert close_matches("model-a", available, limit=1) == ["model-a1"]
    assert "unrelated-zzzz" not in close_matches("model-a", available, limit=10)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("ai/smollm2", "ai/smollm2"),
        ("docker.io/ai/smollm2:latest", "ai/smollm2"),
        ("docker.io/ai/SmolLM2:latest", "ai/smollm2"),
        ("registry.ollama.ai/library/llama3:latest", "llama3"),
        ("docker.io/library/ubuntu", "ubuntu"),
        ("index.docker.io/ai/smollm2", "ai/smollm2"),
        ("registry.ollama.ai/library/llama3.2:1b", "llama3.2:1b"),
        ("hf.co/Org/Model-GGUF:Q4_K_M", "org/model-gguf:q4_k_m"),
        ("  AI/SmolLM2:LATEST  ", "ai/smollm2"),
        ("ai/smollm2:360M-Q4_K_M", "ai/smollm2:360m-q4_k_m"),
    ],
)
def test_canonical_model_name(name: str, canonical: str) -> None:
    assert canonical_model_name(name) == canonical
