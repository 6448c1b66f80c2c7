"""Older settings files brought up to :data:`~trayai.core.settings.config.SCHEMA_VERSION`, one step
at a time, before they are read into settings (core/settings/store.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trayai.core.settings.config import DEFAULT_ACTIONS, DEFAULT_MODEL, DEFAULT_PROFILE_NAME, SCHEMA_VERSION

RawSettings = dict[str, object]  # the file's top-level JSON object, as parsed


def _migrate_0_to_1(data: RawSettings, warnings: list[str]) -> RawSettings:
    """Pre-profile files kept one flat endpoint (``base_url``, ``model``): make it a profile.

    A plaintext ``api_key`` from such a file is dropped from the file and reported, never copied.
    """
    profile: RawSettings = {"name": DEFAULT_PROFILE_NAME}
    for key in ("base_url", "model"):
        if key in data:
            profile[key] = data.pop(key)
    if data.pop("api_key", None):
        warnings.append(
            "An API key stored in plain text in the old configuration was removed; "
            "store it in the keychain with `trayai key set PROFILE`."
        )
    if len(profile) > 1:
        data["profiles"] = [profile]
        data["active_profile"] = DEFAULT_PROFILE_NAME
    data["schema_version"] = 1
    return data


def _migrate_1_to_2(data: RawSettings, warnings: list[str]) -> RawSettings:
    """Version 2 gives each library model its own settings, "auto" until set; in version 1 every
    model the built-in server ran took ``builtin_server``'s context size and threads.

    The model that file chose (``model_file``, or the bundled one by its alias) keeps the context and
    threads the person set there as its own, so it is served as before; the global values stay for
    the one-model server. Other models had no choice of their own to keep.

    Version 2 also marks rewrite actions (``replaces``: the quick prompt offers Replace selection):
    a saved list's copies of the two default rewrites, same name and template, become rewrites as the
    defaults are; an action the person wrote or changed stays as it was.
    """
    _mark_default_rewrites(data)
    server = data.get("builtin_server")
    if isinstance(server, dict):
        own: RawSettings = {}
        context, threads = server.get("context_size"), server.get("threads")
        if isinstance(context, int) and not isinstance(context, bool):
            own["context_size"] = context
        if isinstance(threads, int) and not isinstance(threads, bool) and threads > 0:
            own["threads"] = threads
        model_file, alias = server.get("model_file"), server.get("alias", DEFAULT_MODEL)
        if isinstance(model_file, str) and model_file.strip():
            name: object = Path(model_file.strip()).expanduser().stem
        else:
            name = alias
        if own and isinstance(name, str) and name and "model_settings" not in data:
            data["model_settings"] = [{"name": name, **own}]
    data["schema_version"] = 2
    return data


def _mark_default_rewrites(data: RawSettings) -> None:
    actions = data.get("actions")
    if not isinstance(actions, list):
        return
    rewrites = {(a.name, a.template) for a in DEFAULT_ACTIONS if a.replaces}
    for action in actions:
        known = isinstance(action, dict) and (action.get("name"), action.get("template")) in rewrites
        if known and "replaces" not in action:
            action["replaces"] = True


# Version N's step makes a version N+1 file.
MIGRATIONS: dict[int, Callable[[RawSettings, list[str]], RawSettings]] = {
    0: _migrate_0_to_1,
    1: _migrate_1_to_2,
}


def migrate(data: RawSettings, warnings: list[str]) -> RawSettings:
    """Bring ``data`` up to :data:`SCHEMA_VERSION`, one step at a time."""
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ValueError(f"has an invalid schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise ValueError(f"was written by a newer trayai (schema {version}, this one knows {SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data, warnings)
        version += 1
    return data
