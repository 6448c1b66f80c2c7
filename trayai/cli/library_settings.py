"""``trayai library show MODEL`` and ``trayai library set MODEL …``: one library model's own settings —
its effective values (which are auto, and the context's fit here), and changes checked whole before
anything is saved (a bad value: its words, exit 2, the file untouched).
"""

from __future__ import annotations

import argparse
import json
from typing import TypedDict

from trayai.cli.context import EXIT_OK, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.embedded import EmbeddedServer, LocalModel
from trayai.core.errors import ConfigError, TrayaiError
from trayai.core.library.model_settings import (
    LOAD_FIELDS,
    SAMPLING_FIELDS,
    Effective,
    ModelFacts,
    TemplateKind,
    changed_on_reload,
    probe_machine,
    resolve,
    set_values,
)
from trayai.core.library.reload import OnDemandServer, Served
from trayai.core.settings.config import ModelSettings
from trayai.core.suggest import did_you_mean
from trayai.core.textsafe import escape_line

AUTO = "auto"
# option → (setting, kind): the numbers are parsed here, their bounds checked by the settings schema.
OPTIONS: dict[str, tuple[str, type[int] | type[float] | type[str]]] = {
    "--context": ("context_size", int),
    "--threads": ("threads", int),
    "--gpu-layers": ("gpu_layers", int),
    "--template": ("chat_template", str),
    "--temperature": ("temperature", float),
    "--top-p": ("top_p", float),
    "--top-k": ("top_k", int),
    "--min-p": ("min_p", float),
    "--repeat-penalty": ("repeat_penalty", float),
    "--max-tokens": ("max_tokens", int),
}
HELP = {
    "context_size": "context window in tokens (auto: the largest that fits this machine)",
    "threads": "CPU threads (auto: physical cores but one)",
    "gpu_layers": "layers on the GPU, with a GPU build of the engine (auto: the engine's choice)",
    "chat_template": "a llama.cpp built-in template (chatml, llama3, …) or a Jinja file (auto: the model's)",
}
LABELS = {
    "context_size": "context",
    "threads": "threads",
    "gpu_layers": "GPU layers",
    "chat_template": "template",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "repeat_penalty": "repeat penalty",
    "max_tokens": "max tokens",
}


def register(actions: Subparsers, parents: Parents) -> None:
    """``show`` and ``set`` under ``trayai library``."""
    show = actions.add_parser(
        "show",
        parents=[parents.json],
        help="one downloaded model's settings: each value, which are auto, the context's fit here",
    )
    show.add_argument(
        "model", help="the model's library name (trayai models, or its file name without .gguf)"
    )
    show.set_defaults(handler=cmd_library_show)
    change = actions.add_parser(
        "set",
        help="change a downloaded model's own settings (auto: chosen for this machine again)",
        description="Each option takes a value or 'auto'. Context, threads, GPU layers and template apply "
        "when the model loads next (--reload: now); sampling defaults apply to the next request that does "
        "not set them itself.",
    )
    change.add_argument("model", help="the model's library name")
    for option, (setting, _kind) in OPTIONS.items():
        words = HELP.get(setting, f"default {setting} for requests that do not set it (auto: the client's)")
        change.add_argument(option, dest=setting, metavar="VALUE|auto", help=words)
    change.add_argument(
        "--reload", action="store_true", help="reload the model now if the on-demand server has it loaded"
    )
    change.set_defaults(handler=cmd_library_set)


def find_model(ctx: Context, name: str) -> LocalModel:
    """The library model ``name`` (ConfigError naming the close ones: exit 2)."""
    server = EmbeddedServer(
        ctx.loaded.settings.builtin_server, ctx.paths.server_log_file, models_dir=ctx.paths.models_dir
    )
    models = server.available_models()
    for model in models:
        if model.name == name:
            return model
    names = [m.name for m in models]
    raise ConfigError(
        f"The library has no model {escape_line(name)!r}{did_you_mean(name, names)}",
        hint=f"Models here: {', '.join(names) or 'none'} (trayai get MODEL downloads one).",
    )


def parse_changes(args: argparse.Namespace) -> dict[str, object]:
    """The options given, as setting → value (None for auto); ConfigError for a value that is no number."""
    changes: dict[str, object] = {}
    for option, (setting, kind) in OPTIONS.items():
        text = getattr(args, setting)
        if text is None:
            continue
        if text.strip().lower() == AUTO:
            changes[setting] = None
            continue
        if kind is str:
            changes[setting] = text
            continue
        try:
            changes[setting] = kind(text)
        except ValueError:
            noun = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{option}: expected {noun} or 'auto', got {escape_line(text)!r}") from None
    if not changes:
        raise ConfigError(
            "Nothing to set: give one or more of " + ", ".join(OPTIONS) + " (each a value or 'auto')"
        )
    return changes


class ValueData(TypedDict):
    value: float | int | str | None
    auto: bool
    words: str


class ModelSettingsReport(TypedDict):
    model: str
    file: str
    size: int
    free: int
    fits: bool
    gpu: bool
    values: dict[str, ValueData]


def describe(effective: Effective) -> dict[str, ValueData]:
    """Each setting with its value, whether it is auto, and its words."""
    context = effective.context
    values: dict[str, ValueData] = {
        "context_size": {"value": context.tokens, "auto": context.auto, "words": context.words},
        "threads": {
            "value": effective.threads,
            "auto": effective.threads_auto,
            "words": f"auto ({effective.threads})" if effective.threads_auto else str(effective.threads),
        },
    }
    if not effective.gpu:
        gpu_words = "not used: this engine build has no GPU"
    elif effective.gpu_layers is None:
        gpu_words = "auto (the engine's choice)"
    else:
        gpu_words = str(effective.gpu_layers)
    values["gpu_layers"] = {
        "value": effective.gpu_layers,
        "auto": effective.gpu_layers is None,
        "words": gpu_words,
    }
    kind = effective.template_kind
    template_words = {
        TemplateKind.NONE: "auto (the model's own)",
        TemplateKind.NAME: f"{effective.template} (llama.cpp built-in)",
        TemplateKind.FILE: f"{effective.template} (file)",
    }[kind]
    values["chat_template"] = {
        "value": effective.template or None,
        "auto": kind is TemplateKind.NONE,
        "words": escape_line(template_words),
    }
    for name in SAMPLING_FIELDS:
        value = effective.sampling.get(name)
        words = "auto (the request's, else the engine's)" if value is None else f"{value:g}"
        values[name] = {"value": value, "auto": value is None, "words": words}
    return values


def cmd_library_show(ctx: Context) -> int:
    model = find_model(ctx, ctx.args.model)
    entry = ctx.loaded.settings.model_entry(model.name)
    effective = resolve(entry, ModelFacts.of_file(model.path), probe_machine())
    values = describe(effective)
    if ctx.args.json:
        report: ModelSettingsReport = {
            "model": model.name,
            "file": str(model.path),
            "size": model.size,
            "free": effective.context.free,
            "fits": effective.context.fits,
            "gpu": effective.gpu,
            "values": values,
        }
        json.dump(report, ctx.out, indent=2)
        ctx.out.write("\n")
        return EXIT_OK
    ctx.out.write(f"{escape_line(model.name)}  ({escape_line(str(model.path))}, {model.size / 1e9:.1f} GB)\n")
    width = max(len(label) for label in LABELS.values())
    for setting, data in values.items():
        ctx.out.write(f"  {LABELS[setting]:<{width}}  {data['words']}\n")
    ctx.out.write(
        "Context, threads, GPU layers and template apply when the model loads; sampling defaults fill in "
        "what a request does not set.\n"
    )
    return EXIT_OK


def cmd_library_set(ctx: Context) -> int:
    args = ctx.args
    model = find_model(ctx, args.model)
    changes = parse_changes(args)
    if changes.get("gpu_layers") is not None and not probe_machine().gpu:
        raise ConfigError(
            "--gpu-layers: this engine build has no GPU (a CPU build of xllamacpp): it would do nothing",
            hint="Install a GPU build of the engine first, or leave it at auto.",
        )
    before = ctx.loaded.settings.model_entry(model.name)
    # A bad value raises inside the update, before its save: exit 2 and the file as it was.
    updated = ctx.store.update(lambda settings: set_values(settings, model.name, changes))
    after: ModelSettings = updated.value
    shown = ", ".join(f"{LABELS[k]} {'auto' if v is None else v}" for k, v in changes.items())
    ctx.out.write(f"Saved for {escape_line(model.name)}: {escape_line(shown)}.\n")
    reload_fields = changed_on_reload(before, after)
    if not reload_fields:
        return EXIT_OK
    return _after_load_change(ctx, model.name, reload_fields, reload=args.reload)


def _after_load_change(ctx: Context, name: str, fields: list[str], *, reload: bool) -> int:
    """Say when the new load settings apply, and reload now when asked."""
    server = OnDemandServer(ctx.loaded.settings.builtin_server.port)
    standing = server.standing(name)
    which = ", ".join(LABELS[f] for f in fields if f in LOAD_FIELDS)
    if standing is Served.NOT_ON_DEMAND:
        ctx.say(
            "note: the built-in server runs one model at a time: per-model settings apply when it serves "
            "the library on demand (trayai config set builtin_server.on_demand true)"
        )
        return EXIT_OK
    if standing is not Served.LOADED:
        ctx.out.write(f"This applies when {name} loads next ({which}).\n")
        return EXIT_OK
    if not reload:
        ctx.out.write(
            f"{name} is loaded with the old settings: the new {which} applies on its next load "
            f"(trayai library set {name} --reload reloads it now).\n"
        )
        return EXIT_OK
    ctx.out.write(f"Reloading {name}…\n")
    ctx.out.flush()
    try:
        took = server.reload(name, ctx.loaded.settings.builtin_server.startup_timeout)
    except TrayaiError as exc:
        return ctx.fail(exc)
    ctx.out.write(f"Reloaded {name} with its new settings in {took:.1f} s.\n")
    return EXIT_OK
