"""``trayai library``: the curated catalog with, for each model, the file that suits this machine and
whether it fits here (what does not fit is hidden unless ``--all``); ``search``; ``show``/``set`` of a
model's own settings (cli/library_settings.py)."""

from __future__ import annotations

import argparse
import json
from typing import TypedDict

from trayai.cli import library_settings
from trayai.cli.context import EXIT_OK, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.embedded import EmbeddedServer
from trayai.core.errors import TrayaiError
from trayai.core.library.catalog import CatalogError, load_catalog
from trayai.core.library.fit import MIN_CONTEXT, Verdict, gigabytes
from trayai.core.library.hub import Hub, hub_token
from trayai.core.library.machine import MachineMemory, probe_memory
from trayai.core.library.pick import Pick, pick_all
from trayai.core.textsafe import escape_line

HEADERS = ("MODEL", "PARAMS", "QUANT", "SIZE", "FIT", "DOWNLOADED")


def register(sub: Subparsers, parents: Parents) -> None:
    library = sub.add_parser(
        "library",
        parents=[parents.json],
        help="the model catalog: what fits this machine, what is downloaded",
    )
    library.add_argument("--all", action="store_true", help="also the models that do not fit this machine")
    library.add_argument(
        "--ctx",
        type=context_tokens,
        metavar="TOKENS",
        help="judge the fit at this context (default, and at most: each model's own full context)",
    )
    library.set_defaults(handler=cmd_library)
    # Subcommands are optional: plain ``trayai library`` is the catalog.
    actions = library.add_subparsers(dest="library_command", metavar="{search,show,set}")
    search = actions.add_parser(
        "search",
        parents=[parents.json],
        help="search Hugging Face for GGUF repositories (then: trayai get REPO[:QUANT])",
    )
    search.add_argument("text", help="words of the repository's name, e.g. 'qwen3 4b'")
    search.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    search.set_defaults(handler=cmd_library_search)
    library_settings.register(actions, parents)


def context_tokens(text: str) -> int:
    """``--ctx``: a whole number of tokens, at least :data:`MIN_CONTEXT`."""
    try:
        tokens = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of tokens: {text!r}") from None
    if tokens < MIN_CONTEXT:
        raise argparse.ArgumentTypeError(f"at least {MIN_CONTEXT} tokens")
    return tokens


def cmd_library(ctx: Context) -> int:
    args = ctx.args
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        return ctx.fail(exc)
    memory = probe_memory()
    server = EmbeddedServer(
        ctx.loaded.settings.builtin_server, ctx.paths.server_log_file, models_dir=ctx.paths.models_dir
    )
    picks = pick_all(catalog, memory, server.models_dir, context=args.ctx)
    shown = picks if args.all else [p for p in picks if p.fit.verdict is not Verdict.TOO_LARGE]
    hidden = len(picks) - len(shown)
    if args.json:
        report: LibraryReport = {
            "machine": machine_data(memory),
            "models_dir": str(server.models_dir) if server.models_dir else None,
            "models": [pick_data(p) for p in shown],
            "hidden": hidden,
        }
        json.dump(report, ctx.out, indent=2)
        ctx.out.write("\n")
        return EXIT_OK
    ctx.out.write(f"This machine: {memory.words}.\n\n")
    ctx.out.write(table(shown))
    footer: list[str] = []
    if hidden:
        more = f"{hidden} more do not fit" if hidden > 1 else "1 more does not fit"
        footer.append(f"{more} this machine: --all shows them")
    if any(p.size_is_guess for p in shown):
        footer.append("~ sizes are the catalog's first guesses; a download takes the real ones from the Hub.")
    if footer:
        ctx.out.write("\n" + "\n".join(footer) + "\n")
    return EXIT_OK


class SearchHitData(TypedDict):
    repo: str
    downloads: int
    likes: int
    gated: bool


def cmd_library_search(ctx: Context) -> int:
    """Hugging Face's GGUF repositories matching the words, most downloaded first."""
    args = ctx.args
    try:
        hits = Hub(hub_token(ctx.secrets)).search(args.text, limit=max(1, min(args.limit, 100)))
    except TrayaiError as exc:
        return ctx.fail(exc)
    if args.json:
        found: list[SearchHitData] = [
            {"repo": h.repo, "downloads": h.downloads, "likes": h.likes, "gated": h.gated} for h in hits
        ]
        json.dump(found, ctx.out, indent=2)
        ctx.out.write("\n")
        return EXIT_OK
    if not hits:
        ctx.out.write(f"No GGUF repository on Hugging Face matches {escape_line(args.text)!r}.\n")
        return EXIT_OK
    rows = [("REPOSITORY", "DOWNLOADS", "LIKES", "")]
    rows += [
        (escape_line(h.repo), f"{h.downloads:,}", f"{h.likes:,}", "gated" if h.gated else "") for h in hits
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        ctx.out.write(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + f"  {row[3]}".rstrip() + "\n"
        )
    ctx.out.write(
        "\nGet one: trayai get REPO[:QUANT] (e.g. :Q4_K_M); "
        "gated ones need a token (trayai get --set-token).\n"
    )
    return EXIT_OK


def table(picks: list[Pick]) -> str:
    """The catalog as aligned columns (the last one ragged)."""
    rows = [HEADERS, *(_row(p) for p in picks)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]]) for row in rows
    ]
    return "\n".join(lines) + "\n"


def _row(pick: Pick) -> tuple[str, str, str, str, str, str]:
    size = gigabytes(pick.size)
    return (
        pick.model.name,
        params_text(pick.model.params_b),
        pick.file.quant.value,
        f"~{size}" if pick.size_is_guess else size,
        pick.fit.words,
        "yes" if pick.downloaded else "no",
    )


def params_text(billions: float) -> str:
    """``0.6B``, ``8.2B``, ``12B``."""
    return f"{billions:.1f}B" if billions < 10 else f"{billions:.0f}B"


class GpuData(TypedDict):
    name: str
    total: int
    free: int


class MachineData(TypedDict):
    ram_total: int
    ram_available: int
    gpus: list[GpuData]


class CapabilitiesData(TypedDict):
    tools: bool
    vision: bool
    thinking: bool


class FitData(TypedDict):
    verdict: str  # a Verdict's value
    words: str
    context: int
    needs: int
    free: int
    gpu_offload: bool | None


class LibraryModelData(TypedDict):
    """One catalog model in ``trayai library --json``."""

    name: str
    title: str
    family: str
    params_b: float
    repo: str
    source: str
    licence: str
    context_length: int
    capabilities: CapabilitiesData
    quant: str
    file: str
    projector: str | None
    size: int
    size_is_guess: bool
    fit: FitData
    downloaded: bool
    path: str | None
    description: str
    note: str


class LibraryReport(TypedDict):
    """``trayai library --json``."""

    machine: MachineData
    models_dir: str | None
    models: list[LibraryModelData]
    hidden: int


def machine_data(memory: MachineMemory) -> MachineData:
    return {
        "ram_total": memory.ram_total,
        "ram_available": memory.ram_available,
        "gpus": [{"name": g.name, "total": g.total, "free": g.free} for g in memory.gpus],
    }


def pick_data(pick: Pick) -> LibraryModelData:
    model, fit = pick.model, pick.fit
    return {
        "name": model.name,
        "title": model.title,
        "family": model.family,
        "params_b": model.params_b,
        "repo": model.repo,
        "source": model.source,
        "licence": model.licence.value,
        "context_length": model.context_length,
        "capabilities": {
            "tools": model.capabilities.tools,
            "vision": model.capabilities.vision,
            "thinking": model.capabilities.thinking,
        },
        "quant": pick.file.quant.value,
        "file": pick.file.file,
        "projector": model.projector.file if model.projector else None,
        "size": pick.size,
        "size_is_guess": pick.size_is_guess,
        "fit": {
            "verdict": fit.verdict.value,
            "words": fit.words,
            "context": fit.context,
            "needs": fit.need.total,
            "free": fit.free,
            "gpu_offload": fit.gpu_offload,
        },
        "downloaded": pick.downloaded,
        "path": str(pick.path) if pick.path else None,
        "description": model.description,
        "note": model.note,
    }
