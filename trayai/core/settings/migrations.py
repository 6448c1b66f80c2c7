"""Older settings files brought up to :data:`~trayai.core.settings.config.SCHEMA_VERSION`, one step
at a time, before they are read into settings (core/settings/store.py).
"""

from __future__ import annotations

from collections.abc import Callable

from trayai.core.settings.config import DEFAULT_PROFILE_NAME, SCHEMA_VERSION

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


# Version N's step makes a version N+1 file.
MIGRATIONS: dict[int, Callable[[RawSettings, list[str]], RawSettings]] = {0: _migrate_0_to_1}


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
