"""Answer several prompts concurrently with the async client, keeping going when one fails.

Run:  python batch_processing.py            (prints one JSON line per prompt)
For files of prompts, resumable runs and progress, use:  trayai batch in.jsonl -o out.jsonl
"""

from __future__ import annotations

import asyncio
import json
import os

from openai import AsyncOpenAI

client = AsyncOpenAI(
    base_url=os.getenv("LOCAL_MODEL_BASE_URL", "http://localhost:8080/v1"),
    api_key=os.getenv("LOCAL_API_KEY", "dummy-key"),
)
MODEL = os.getenv("LOCAL_MODEL_NAME", "ai/smollm2")
PROMPTS = ["What is 2 + 2?", "Name a colour.", "Say hello in French."]


async def answer(prompt: str, limit: asyncio.Semaphore) -> dict[str, object]:
    async with limit:
        try:
            response = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": prompt}], max_tokens=50
            )
        except Exception as exc:  # noqa: BLE001 - one failure, whatever it is, must not sink the batch
            return {"prompt": prompt, "error": str(exc)}
        return {"prompt": prompt, "answer": response.choices[0].message.content}


async def main() -> None:
    limit = asyncio.Semaphore(2)
    for result in await asyncio.gather(*(answer(p, limit) for p in PROMPTS)):
        print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
