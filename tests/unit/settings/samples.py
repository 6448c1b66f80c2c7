"""Settings the settings tests share: two profiles, one with non-default generation values."""

from __future__ import annotations

from trayai.core.settings.config import GenerationParams, Profile, Settings


def two_profiles() -> Settings:
    return Settings(
        active_profile="Remote",
        profiles=[
            Profile(name="Local", base_url="http://localhost:12434/engines/v1", model="ai/qwen3"),
            Profile(
                name="Remote",
                base_url="https://api.example.com/v1",
                model="gpt-x",
                generation=GenerationParams(
                    temperature=None, top_p=0.9, max_tokens=None, system_prompt="Be brief.", stream=False
                ),
                first_token_timeout=30.0,
                key_in_keychain=True,
            ),
        ],
    )
