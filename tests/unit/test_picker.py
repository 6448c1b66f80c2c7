"""The chat's server · model picker as data: grouped by server, states said, a missing model flagged."""

from __future__ import annotations

from trayai.core.net.backends.records import ModelRecord, ModelState
from trayai.core.picker import PickerChoice, PickerModel, lacks, picker_models, picker_servers
from trayai.core.status import ServerState


def test_models_loaded_first_cloud_ones_left_out() -> None:
    records = [
        ModelRecord("zeta", ModelState.AVAILABLE),
        ModelRecord("alpha", ModelState.AVAILABLE),
        ModelRecord("qwen3", ModelState.LOADED),
        ModelRecord("gpt-oss:cloud", ModelState.AVAILABLE, remote=True),
    ]
    models = picker_models(records)
    assert [m.label for m in models] == ["qwen3 — loaded", "alpha", "zeta"]
    assert picker_models(None, ["a", "b"]) == (PickerModel("a"), PickerModel("b"))


def test_every_profile_is_listed_in_order_with_its_state() -> None:
    servers = picker_servers(
        [("local", "127.0.0.1:8080"), ("ollama", "box:11434"), ("new", "h:1")],
        {"local": ServerState.READY, "ollama": ServerState.UNREACHABLE},
        {"local": (PickerModel("ai/smollm2", ModelState.LOADED),)},
        "local",
    )
    assert [s.heading for s in servers] == [
        "local — ready · 127.0.0.1:8080",
        "ollama — unreachable · box:11434",
        "new — not checked yet · h:1",
    ]
    assert servers[0].active and servers[1].down and not servers[2].down


def test_a_choice_the_server_cannot_take_is_flagged_before_send() -> None:
    servers = picker_servers(
        [("local", "127.0.0.1:8080"), ("ollama", "box:11434"), ("vllm", "gpu:8000")],
        {"local": ServerState.READY, "ollama": ServerState.UNREACHABLE, "vllm": ServerState.READY},
        {"local": (PickerModel("ai/smollm2"),), "vllm": ()},
        "local",
    )
    assert lacks(servers, PickerChoice("local", "ai/smollm2")) is None
    assert (
        lacks(servers, PickerChoice("local", "qwen3"))
        == "local has no model 'qwen3': pick one of its models."
    )
    assert lacks(servers, PickerChoice("ollama", "qwen3")) == "ollama is unreachable: pick a ready server."
    assert lacks(servers, PickerChoice("vllm", "anything")) is None  # its list is not known: not flagged
    assert lacks(servers, PickerChoice("gone", "x")) == "There is no profile 'gone' any more: pick a server."
