"""Regenerate the generated parts of the docs: ``python -m tests.support.gendocs``."""

from __future__ import annotations

from pathlib import Path

from trayai.core.error_catalog import catalog_markdown

ROOT = Path(__file__).resolve().parents[2]
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
BEGIN = "<!-- BEGIN GENERATED: error catalogue (python -m tests.support.gendocs) -->"
END = "<!-- END GENERATED -->"


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{catalog_markdown()}\n{END}{tail}"


if __name__ == "__main__":
    TROUBLESHOOTING.write_text(render(TROUBLESHOOTING.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {TROUBLESHOOTING}")
