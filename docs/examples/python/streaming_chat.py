"""Stream an answer token by token from a local model.

Run:  python streaming_chat.py "Tell me a short story."
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from openai import OpenAI

client = OpenAI(
    base_url=os.getenv("LOCAL_MODEL_BASE_URL", "http://localhost:8080/v1"),
    api_key=os.getenv("LOCAL_API_KEY", "dummy-key"),
)
MODEL = os.getenv("LOCAL_MODEL_NAME", "ai/smollm2")


def stream_chat(messages: list[dict[str, str]]) -> Iterator[str]:
    stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True, max_tokens=200)  # type: ignore[arg-type, call-overload]
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


if __name__ == "__main__":
    prompt = " ".join(sys.argv[1:]) or "Count from one to five."
    try:
        for piece in stream_chat([{"role": "user", "content": prompt}]):
            print(piece, end="", flush=True)
        print()
    except Exception as exc:  # noqa: BLE001 - a script's last word: say what went wrong, exit non-zero
        print(f"\nLocal model error: {exc} — is the server running? Try: trayai status", file=sys.stderr)
        sys.exit(1)
