"""Chat with a local model through the standard `openai` client — the three-line change.

Run:  LOCAL_MODEL_BASE_URL=http://localhost:8080/v1 python chat_client.py "Why is the sky blue?"
Only the base URL, a dummy key and the model name differ from code written for the cloud.
"""

from __future__ import annotations

import os
import sys

from openai import OpenAI

client = OpenAI(
    base_url=os.getenv("LOCAL_MODEL_BASE_URL", "http://localhost:8080/v1"),  # 1. the local server
    api_key=os.getenv("LOCAL_API_KEY", "dummy-key"),  # 2. required by the client, ignored locally
)
MODEL = os.getenv("LOCAL_MODEL_NAME", "ai/smollm2")  # 3. the local model


def chat_completion(messages: list[dict[str, str]], **kwargs: object) -> str:
    """Standard chat completion with the local model."""
    response = client.chat.completions.create(model=MODEL, messages=messages, **kwargs)  # type: ignore[arg-type, call-overload]
    return response.choices[0].message.content or ""


if __name__ == "__main__":
    prompt = " ".join(sys.argv[1:]) or "Say hello in one sentence."
    try:
        print(chat_completion([{"role": "user", "content": prompt}], max_tokens=100))
    except Exception as exc:  # noqa: BLE001 - a script's last word: say what went wrong, exit non-zero
        print(f"Local model error: {exc} — is the server running? Try: trayai status", file=sys.stderr)
        sys.exit(1)
