"""``trayai config`` (settings by dotted key), ``profile`` (endpoint profiles) and ``key`` (API keys
in the OS keychain): one handler per action."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TypeVar

from trayai.cli.context import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.settings.config import Profile, Settings

T = TypeVar("T")


def register(sub: Subparsers, parents: Parents) -> None:
    config = sub.add_parser("config", help="show, read or change settings (config path|show|get|set)")
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_config_path(actions)
    _add_config_show(actions)
    _add_config_get(actions)
    _add_config_set(actions)

    profile = sub.add_parser("profile", help="endpoint profiles (profile list|add|set|remove|use)")
    actions = profile.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_profile_list(actions)
    _add_profile_add(actions)
    _add_profile_set(actions)
    _add_profile_remove(actions)
    _add_profile_use(actions)

    key = sub.add_parser("key", help="API keys in the OS keychain (key set|delete PROFILE)")
    actions = key.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_key_set(actions)
    _add_key_delete(actions)


# ---------------------------------------------------------------------------- config


def _profile_option(action: argparse.ArgumentParser) -> None:
    action.add_argument("--profile", help="for profile.* keys: this profile instead of the active one")


def _add_config_path(actions: Subparsers) -> None:
    path = actions.add_parser("path", help="where the config, data and logs live")
    path.set_defaults(handler=cmd_config_path)


def cmd_config_path(ctx: Context) -> int:
    ctx.out.write(
        f"config file: {ctx.paths.config_file}\nconfig dir:  {ctx.paths.config_dir}\n"
        f"data dir:    {ctx.paths.data_dir}\nlog dir:     {ctx.paths.log_dir}\n"
    )
    return EXIT_OK


def _add_config_show(actions: Subparsers) -> None:
    show = actions.add_parser("show", help="every setting with its value and where it comes from")
    show.add_argument("--json", action="store_true")
    _profile_option(show)
    show.set_defaults(handler=cmd_config_show)


def cmd_config_show(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    args, settings = ctx.args, ctx.loaded.settings
    defaults = Settings()
    rows = []
    for key in config_edit.setting_keys():
        value = config_edit.get_setting(settings, key, args.profile)
        base = config_edit.get_setting(defaults, key) if not key.startswith("profile.") else None
        source = "default" if value == base else "config file"
        short = key.removeprefix("profile.")
        if key.startswith("profile.") and short in ctx.loaded.overrides and args.profile is None:
            override = ctx.loaded.overrides[short]
            value, source = override.value, f"{override.variable} ({override.source}), not saved"
        rows.append((key, value, source))
    key_override = ctx.loaded.env_api_key
    profile = settings.profile(args.profile) if args.profile else settings.active()
    key_state = (
        f"from {key_override.variable} ({key_override.source})"
        if key_override
        else "in the keychain"
        if profile.key_in_keychain
        else "none (local servers need none)"
    )
    if args.json:
        json.dump(
            {
                "profile": profile.name,
                "settings": {k: v for k, v, _ in rows},
                "sources": {k: s for k, _, s in rows},
                "api_key": key_state,
            },
            ctx.out,
            indent=2,
        )
        ctx.out.write("\n")
        return EXIT_OK
    ctx.out.write(f"# {ctx.paths.config_file} — profile {profile.name!r}\n")
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        ctx.out.write(f"{key.ljust(width)} = {json.dumps(value, ensure_ascii=False)}   ({source})\n")
    ctx.out.write(f"{'api key'.ljust(width)} : {key_state}\n")
    return EXIT_OK


def _add_config_get(actions: Subparsers) -> None:
    get = actions.add_parser("get", help="print one setting")
    get.add_argument("key", help="e.g. poll_interval, builtin_server.port, profile.model")
    _profile_option(get)
    get.set_defaults(handler=cmd_config_get)


def cmd_config_get(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    _known_key(ctx.args.key)
    value = config_edit.get_setting(ctx.loaded.settings, ctx.args.key, ctx.args.profile)
    ctx.out.write((value if isinstance(value, str) else json.dumps(value)) + "\n")
    return EXIT_OK


def _add_config_set(actions: Subparsers) -> None:
    set_ = actions.add_parser("set", help="change one setting (validated, then saved)")
    set_.add_argument("key", help="e.g. poll_interval, builtin_server.port, profile.model")
    set_.add_argument("value")
    _profile_option(set_)
    set_.set_defaults(handler=cmd_config_set)


def cmd_config_set(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    args = ctx.args
    _known_key(args.key)
    notes = _update(ctx, lambda s: config_edit.set_setting(s, args.key, args.value, args.profile))
    settings = ctx.loaded.settings
    if args.key == "start_at_login":
        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.core.autostart import apply_autostart

        notes.append(apply_autostart(enabled=settings.start_at_login))
    for note in notes:
        ctx.say(note)
    short = args.key.removeprefix("profile.")
    if short in ctx.loaded.overrides and args.profile is None:
        override = ctx.loaded.overrides[short]
        ctx.say(f"note: {override.variable} ({override.source}) overrides this while it is set")
    ctx.say(f"saved {args.key} to {ctx.paths.config_file}")
    return EXIT_OK


def _known_key(key: str) -> None:
    """Refuse a key no setting has, naming the likely one: ``model`` is ``profile.model``, ``port`` is
    ``builtin_server.port`` (a key without its section), ``pol_interval`` is ``poll_interval``."""
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.errors import ConfigError

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.suggest import did_you_mean, suggesting

    keys = config_edit.setting_keys()
    if key in keys:
        return
    near = suggesting([k for k in keys if k.endswith("." + key)]) or did_you_mean(key, keys)
    raise ConfigError(f"Unknown setting {key!r}{near} (`trayai config show` lists them)")


# ---------------------------------------------------------------------------- profile


def _add_profile_list(actions: Subparsers) -> None:
    actions.add_parser("list", help="all profiles; * marks the active one").set_defaults(
        handler=cmd_profile_list
    )


def cmd_profile_list(ctx: Context) -> int:
    settings = ctx.loaded.settings
    for profile in settings.profiles:
        mark = "*" if profile.name == settings.active().name else " "
        key = "  [key in keychain]" if profile.key_in_keychain else ""
        fallback = f"  → fallback {', '.join(profile.fallback_names())}" if profile.fallback_names() else ""
        ctx.out.write(f"{mark} {profile.name}: {profile.base_url}  model {profile.model}{key}{fallback}\n")
    return EXIT_OK


def _add_profile_add(actions: Subparsers) -> None:
    add = actions.add_parser("add", help="add a profile")
    add.add_argument("name")
    _url_option(add, required=True)
    add.add_argument("--model", help="model name (default ai/smollm2)")
    _fallback_option(add)
    add.set_defaults(handler=cmd_profile_add)


def _url_option(action: argparse.ArgumentParser, *, required: bool) -> None:
    """``--endpoint URL``, as every other command spells a server's URL; ``--base-url`` (the
    setting's name, and this option's first spelling) still works."""
    action.add_argument(
        "--endpoint",
        "--base-url",
        dest="base_url",
        metavar="URL",
        required=required,
        help="the server's base URL (normalised as in the settings dialog)",
    )


def _fallback_option(action: argparse.ArgumentParser) -> None:
    action.add_argument(
        "--fallback",
        action="append",
        metavar="NAME",
        help="a profile to use when this one's server is down or fails before answering; repeat for "
        "more, in order",
    )


def cmd_profile_add(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    args = ctx.args
    notes = _update(
        ctx,
        lambda settings: config_edit.add_profile(
            settings, args.name, args.base_url, args.model, args.fallback
        ),
    )
    for note in notes:
        ctx.say(note)
    return _saved(ctx, "added")


def _add_profile_set(actions: Subparsers) -> None:
    set_ = actions.add_parser("set", help="change a profile's URL, model or fallbacks")
    set_.add_argument("name")
    _url_option(set_, required=False)
    set_.add_argument("--model", help="model name")
    _fallback_option(set_)
    set_.add_argument("--no-fallback", action="store_true", help="remove every fallback")
    set_.set_defaults(handler=cmd_profile_set)


def cmd_profile_set(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    args = ctx.args
    if args.no_fallback and args.fallback:
        ctx.say("error: --fallback and --no-fallback contradict each other")
        return EXIT_USAGE
    fallback = [] if args.no_fallback else args.fallback
    if args.base_url is None and args.model is None and fallback is None:
        ctx.say("error: nothing to change — give --endpoint, --model, --fallback or --no-fallback")
        return EXIT_USAGE
    notes = _update(
        ctx,
        lambda settings: config_edit.set_profile(
            settings, args.name, base_url=args.base_url, model=args.model, fallback=fallback
        ),
    )
    for note in notes:
        ctx.say(note)
    return _saved(ctx, "changed")


def _add_profile_remove(actions: Subparsers) -> None:
    remove = actions.add_parser("remove", help="remove a profile (and its stored key)")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_profile_remove)


def cmd_profile_remove(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    args = ctx.args

    def remove(settings: Settings) -> bool:
        had_key = settings.profile(args.name).key_in_keychain if settings.has_profile(args.name) else False
        config_edit.remove_profile(settings, args.name)
        return had_key

    if _update(ctx, remove):
        ctx.secrets.delete(args.name)
    return _saved(ctx, "removed")


def _add_profile_use(actions: Subparsers) -> None:
    use = actions.add_parser("use", help="make a profile active")
    use.add_argument("name")
    use.set_defaults(handler=cmd_profile_use)


def cmd_profile_use(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    _update(ctx, lambda settings: config_edit.use_profile(settings, ctx.args.name))
    return _saved(ctx, "now using")


def _update(ctx: Context, change: Callable[[Settings], T]) -> T:
    """Apply ``change`` to the file as it is now, under the settings lock (docs/architecture.md, "Saving
    without losing a change"): the tray or the dialog may have saved since this run loaded it."""
    saved = ctx.store.update(change)
    ctx.loaded.settings = saved.settings
    return saved.value


def _saved(ctx: Context, verb: str) -> int:
    """Say what was done to a profile (saved by :func:`_update`)."""
    ctx.say(f"{verb} profile {ctx.args.name!r}")
    return EXIT_OK


# ---------------------------------------------------------------------------- key


def _profile_argument(action: argparse.ArgumentParser) -> None:
    action.add_argument("profile_name", metavar="PROFILE")


def _add_key_set(actions: Subparsers) -> None:
    set_ = actions.add_parser(
        "set", help="store a key: typed at a prompt or read from stdin, never from argv"
    )
    _profile_argument(set_)
    set_.set_defaults(handler=cmd_key_set)


def cmd_key_set(ctx: Context) -> int:
    # lazy: getpass is loaded only when used: start-up time and memory
    import getpass

    if (profile := _key_profile(ctx)) is None:
        return EXIT_USAGE
    if sys.stdin is not None and sys.stdin.isatty():
        key = getpass.getpass(f"API key for {profile.name!r} (not echoed): ")
    else:
        key = (sys.stdin.readline() if sys.stdin is not None else "").strip()
    if not key:
        ctx.say("error: no key given (type it at the prompt, or pipe it on stdin — never as an argument)")
        return EXIT_USAGE
    outcome = ctx.secrets.set(profile.name, key)
    if not outcome.persistent:
        ctx.say(f"error: {outcome.warning}")
        ctx.say("  → for now, set LOCAL_API_KEY in the environment or a .env file instead")
        return EXIT_FAIL
    _update(ctx, lambda settings: _mark_key(settings, profile.name, stored=True))
    ctx.say(f"stored the key of {profile.name!r} in {outcome.backend}")
    return EXIT_OK


def _add_key_delete(actions: Subparsers) -> None:
    delete = actions.add_parser("delete", help="forget a stored key")
    _profile_argument(delete)
    delete.set_defaults(handler=cmd_key_delete)


def cmd_key_delete(ctx: Context) -> int:
    if (profile := _key_profile(ctx)) is None:
        return EXIT_USAGE
    found = ctx.secrets.delete(profile.name)
    _update(ctx, lambda settings: _mark_key(settings, profile.name, stored=False))
    ctx.say(f"deleted the key of {profile.name!r}" if found else f"{profile.name!r} had no stored key")
    return EXIT_OK


def _mark_key(settings: Settings, name: str, *, stored: bool) -> None:
    """Record in the file whether the keychain holds the profile's key."""
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings import edit as config_edit

    config_edit.set_setting(settings, "profile.key_in_keychain", "true" if stored else "false", name)


def _key_profile(ctx: Context) -> Profile | None:
    """The profile named on the command line, or None after saying there is none."""
    name = ctx.args.profile_name
    if not ctx.loaded.settings.has_profile(name):
        ctx.say(f"error: no profile named {name!r} (see `trayai profile list`)")
        return None
    return ctx.loaded.settings.profile(name)
