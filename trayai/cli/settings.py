"""``trayai config`` (settings by dotted key), ``profile`` (endpoint profiles) and ``key`` (API keys
in the OS keychain)."""

from __future__ import annotations

import json
import sys

from trayai.cli.context import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.config import Settings


def register(sub: Subparsers, parents: Parents) -> None:
    _add_config(sub, parents)
    _add_profile(sub, parents)
    _add_key(sub, parents)


def _add_config(sub: Subparsers, parents: Parents) -> None:
    config = sub.add_parser("config", help="show, read or change settings (config path|show|get|set)")
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    config_sub.add_parser("path", help="where the config, data and logs live")
    for name, text in (
        ("show", "every setting with its value and where it comes from"),
        ("get", "print one setting"),
        ("set", "change one setting (validated, then saved)"),
    ):
        action = config_sub.add_parser(name, help=text)
        if name in ("get", "set"):
            action.add_argument("key", help="e.g. poll_interval, builtin_server.port, profile.model")
        if name == "set":
            action.add_argument("value")
        if name == "show":
            action.add_argument("--json", action="store_true")
        action.add_argument("--profile", help="for profile.* keys: this profile instead of the active one")
    config.set_defaults(handler=cmd_config)


def cmd_config(ctx: Context) -> int:
    from trayai.core import config_edit

    args, settings = ctx.args, ctx.loaded.settings
    if args.action == "path":
        ctx.out.write(
            f"config file: {ctx.paths.config_file}\nconfig dir:  {ctx.paths.config_dir}\n"
            f"data dir:    {ctx.paths.data_dir}\nlog dir:     {ctx.paths.log_dir}\n"
        )
        return EXIT_OK
    if args.action == "show":
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
    if args.action == "get":
        value = config_edit.get_setting(settings, args.key, args.profile)
        ctx.out.write((value if isinstance(value, str) else json.dumps(value)) + "\n")
        return EXIT_OK
    notes = config_edit.set_setting(settings, args.key, args.value, args.profile)
    ctx.store.save(settings)
    if args.key == "start_at_login":
        from trayai.core.autostart import apply_autostart

        notes.append(apply_autostart(settings.start_at_login))
    for note in notes:
        ctx.say(note)
    short = args.key.removeprefix("profile.")
    if short in ctx.loaded.overrides and args.profile is None:
        override = ctx.loaded.overrides[short]
        ctx.say(f"note: {override.variable} ({override.source}) overrides this while it is set")
    ctx.say(f"saved {args.key} to {ctx.paths.config_file}")
    return EXIT_OK


def _add_profile(sub: Subparsers, parents: Parents) -> None:
    profile = sub.add_parser("profile", help="endpoint profiles (profile list|add|remove|use)")
    profile_sub = profile.add_subparsers(dest="action", metavar="ACTION", required=True)
    profile_sub.add_parser("list", help="all profiles; * marks the active one")
    add = profile_sub.add_parser("add", help="add a profile")
    add.add_argument("name")
    add.add_argument("--base-url", required=True, help="normalised as in the settings dialog")
    add.add_argument("--model", help="model name (default ai/smollm2)")
    for name, text in (("remove", "remove a profile (and its stored key)"), ("use", "make a profile active")):
        profile_sub.add_parser(name, help=text).add_argument("name")
    profile.set_defaults(handler=cmd_profile)


def cmd_profile(ctx: Context) -> int:
    from trayai.core import config_edit

    args, settings = ctx.args, ctx.loaded.settings
    if args.action == "list":
        for profile in settings.profiles:
            mark = "*" if profile.name == settings.active().name else " "
            key = "  [key in keychain]" if profile.key_in_keychain else ""
            ctx.out.write(f"{mark} {profile.name}: {profile.base_url}  model {profile.model}{key}\n")
        return EXIT_OK
    if args.action == "add":
        notes = config_edit.add_profile(settings, args.name, args.base_url, args.model)
        for note in notes:
            ctx.say(note)
    elif args.action == "remove":
        had_key = settings.profile(args.name).key_in_keychain if settings.has_profile(args.name) else False
        config_edit.remove_profile(settings, args.name)
        if had_key:
            ctx.secrets.delete(args.name)
    else:
        config_edit.use_profile(settings, args.name)
    ctx.store.save(settings)
    verb = {"add": "added", "remove": "removed", "use": "now using"}[args.action]
    ctx.say(f"{verb} profile {args.name!r}")
    return EXIT_OK


def _add_key(sub: Subparsers, parents: Parents) -> None:
    key = sub.add_parser("key", help="API keys in the OS keychain (key set|delete PROFILE)")
    key_sub = key.add_subparsers(dest="action", metavar="ACTION", required=True)
    key_sub.add_parser(
        "set", help="store a key: typed at a prompt or read from stdin, never from argv"
    ).add_argument("profile_name", metavar="PROFILE")
    key_sub.add_parser("delete", help="forget a stored key").add_argument("profile_name", metavar="PROFILE")
    key.set_defaults(handler=cmd_key)


def cmd_key(ctx: Context) -> int:
    import getpass

    args, settings = ctx.args, ctx.loaded.settings
    if not settings.has_profile(args.profile_name):
        ctx.say(f"error: no profile named {args.profile_name!r} (see `trayai profile list`)")
        return EXIT_USAGE
    profile = settings.profile(args.profile_name)
    if args.action == "delete":
        found = ctx.secrets.delete(profile.name)
        profile.key_in_keychain = False
        ctx.store.save(settings)
        ctx.say(f"deleted the key of {profile.name!r}" if found else f"{profile.name!r} had no stored key")
        return EXIT_OK
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
    profile.key_in_keychain = True
    ctx.store.save(settings)
    ctx.say(f"stored the key of {profile.name!r} in {outcome.backend}")
    return EXIT_OK
