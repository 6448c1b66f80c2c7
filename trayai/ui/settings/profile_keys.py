"""API keys typed in the dialog, held by profile id until OK: only then written through
``SecretStore`` (renamed profiles keep theirs, removed or deleted ones lose it). A key never enters
the settings; ``key_in_keychain`` records that one is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trayai.core.settings.rules import EditedProfile
from trayai.core.settings.secrets import SecretStore

REMOVE = ""  # the pending value of a key to delete


class PendingKeys:
    """Per profile id: a new key, ``REMOVE``, or nothing (unchanged)."""

    def __init__(self, secrets: SecretStore) -> None:
        self.secrets = secrets
        self._pending: dict[int, str] = {}

    def typed(self, uid: int, text: str) -> None:
        """A key typed for the profile (an emptied box: unchanged again)."""
        if text:
            self._pending[uid] = text
        else:
            self._pending.pop(uid, None)

    def remove(self, uid: int) -> None:
        self._pending[uid] = REMOVE

    def pending(self, uid: int) -> str | None:
        return self._pending.get(uid)

    def note(self, entry: EditedProfile, locked: str | None) -> str:
        """What happens to this profile's key, in a sentence under the box."""
        pending = self._pending.get(entry.uid)
        where = self.secrets.backend_name
        if locked:
            text = f"Set by {locked}; not stored by trayai."
        elif pending == REMOVE:
            text = "The stored key will be removed when you press OK."
        elif pending:
            text = f"The new key will be stored in {where} when you press OK."
        elif entry.profile.key_in_keychain:
            text = f"A key is stored in {where}. Type to replace it."
        else:
            text = "No key (local servers need none). A key you type is stored in " + where + "."
        if not self.secrets.persistent:
            text += " No keychain works here: a key is kept for this session only."
        return text

    def shows_stored(self, entry: EditedProfile) -> bool:
        """The box hints at a stored key (dots) while nothing was typed over it."""
        return entry.profile.key_in_keychain and entry.uid not in self._pending

    def current(self, entry: EditedProfile, original_name: str) -> str | None:
        """The key as it would be after OK (to test the connection with): typed, else stored."""
        pending = self._pending.get(entry.uid)
        if pending:
            return pending
        if pending is None and entry.profile.key_in_keychain:
            return self.secrets.get(original_name)
        return None

    def apply(self, edited: Sequence[EditedProfile], original_names: Mapping[int, str]) -> list[str]:
        """Renamed profiles keep their key; typed keys go to the keychain; removed ones are deleted.
        Returns the keychain's warnings (a key kept for this session only)."""
        warnings: list[str] = []
        for entry in edited:
            profile = entry.profile
            old = original_names.get(entry.uid)
            if old is not None and old != profile.name and profile.key_in_keychain:
                self.secrets.rename(old, profile.name)
            pending = self._pending.get(entry.uid)
            if pending is None:
                continue
            if pending == REMOVE:
                self.secrets.delete(profile.name)
                profile.key_in_keychain = False
                continue
            outcome = self.secrets.set(profile.name, pending)
            profile.key_in_keychain = outcome.persistent
            if outcome.warning:
                warnings.append(outcome.warning)
        kept = {e.profile.name for e in edited}
        uids = {e.uid for e in edited}
        for uid, old in original_names.items():
            if old not in kept and uid not in uids:
                self.secrets.delete(old)  # a deleted profile's key goes with it
        return warnings


__all__ = ["REMOVE", "PendingKeys"]
