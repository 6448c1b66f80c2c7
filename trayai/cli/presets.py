"""``trayai preset list|add|remove``: prompt presets ("assistants") for ``ask --preset`` and the chat."""

from __future__ import annotations

import dataclasses
import json

from trayai.cli.context import EXIT_OK, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.settings.config import Preset
from trayai.core.textsafe import escape_line

SHOWN_PROMPT = 70  # characters of a system prompt in `preset list`


def register(sub: Subparsers, parents: Parents) -> None:
    preset = sub.add_parser(
        "preset", help="prompt presets: a system prompt and parameters by name (preset list|add|remove)"
    )
    actions = preset.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_preset_list(actions, parents)
    _add_preset_add(actions)
    _add_preset_remove(actions)


def _add_preset_list(actions: Subparsers, parents: Parents) -> None:
    list_ = actions.add_parser("list", parents=[parents.json], help="every preset with what it sets")
    list_.set_defaults(handler=cmd_preset_list)


def cmd_preset_list(ctx: Context) -> int:
    presets = ctx.loaded.settings.presets
    if ctx.args.json:
        json.dump([dataclasses.asdict(p) for p in presets], ctx.out, indent=2, ensure_ascii=False)
        ctx.out.write("\n")
        return EXIT_OK
    if not presets:
        ctx.say("no presets — add one with `trayai preset add NAME --system TEXT`")
        return EXIT_OK
    for preset in presets:
        ctx.out.write(f"{escape_line(preset.name)}: {_describe(preset)}\n")
    return EXIT_OK


def _describe(preset: Preset) -> str:
    """ "temperature 0.2 · max 500 tokens — You are a careful…" on one line."""
    parts = []
    if preset.temperature is not None:
        parts.append(f"temperature {preset.temperature:g}")
    if preset.max_tokens is not None:
        parts.append(f"max {preset.max_tokens} tokens")
    prompt = " ".join(preset.system_prompt.split())
    if len(prompt) > SHOWN_PROMPT:
        prompt = prompt[: SHOWN_PROMPT - 1] + "…"
    text = " · ".join(parts)
    if prompt:
        text += (" — " if text else "") + prompt
    return escape_line(text or "(the profile's system prompt and parameters)")


def _add_preset_add(actions: Subparsers) -> None:
    add = actions.add_parser("add", help="add a preset (validated, then saved)")
    add.add_argument("name")
    add.add_argument("--system", required=True, metavar="TEXT", help="its system prompt ('' = the profile's)")
    add.add_argument("--temperature", type=float, help="its sampling temperature (default: the profile's)")
    add.add_argument("--max-tokens", type=int, help="its longest answer in tokens (default: the profile's)")
    add.set_defaults(handler=cmd_preset_add)


def cmd_preset_add(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    args = ctx.args
    preset = ctx.store.update(  # the file as it is now, under the lock: the dialog may have saved
        lambda settings: config_edit.add_preset(
            settings,
            args.name,
            args.system,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
        )
    ).value
    ctx.say(f"added preset {preset.name!r} (use it with `trayai ask --preset {_quoted(preset.name)} …`)")
    return EXIT_OK


def _add_preset_remove(actions: Subparsers) -> None:
    remove = actions.add_parser("remove", help="remove a preset")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_preset_remove)


def cmd_preset_remove(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.errors import ConfigError

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.suggest import did_you_mean

    name, presets = ctx.args.name, ctx.loaded.settings.presets
    if all(p.name != name for p in presets) and (near := did_you_mean(name, (p.name for p in presets))):
        names = ", ".join(repr(p.name) for p in presets)  # a typo: the likely name first, then all
        raise ConfigError(f"No preset named {escape_line(name)!r}{near} (presets: {names})")
    ctx.store.update(lambda settings: config_edit.remove_preset(settings, name))
    ctx.say(f"removed preset {ctx.args.name!r}")
    return EXIT_OK


def _quoted(name: str) -> str:
    # lazy: shlex is loaded only when used: start-up time and memory
    import shlex

    return shlex.quote(name)
