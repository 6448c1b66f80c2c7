"""``trayai get`` (a catalog model or any GGUF from Hugging Face into the built-in server's models folder:
bar, resume, verify) and ``trayai rm`` (a downloaded model's files out of it)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from trayai.cli.context import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.library.download import (
    Downloader,
    DownloadQueue,
    DownloadRequest,
    DownloadResult,
    Progress,
    describe_size,
    model_files,
    part_path,
)
from trayai.core.library.hub import HF_TOKEN_ENTRY, Hub, hub_token

if TYPE_CHECKING:
    from trayai.core.library.hub import GgufFile, RepoListing


def register(sub: Subparsers, parents: Parents) -> None:
    get = sub.add_parser(
        "get",
        parents=[parents.json],
        help="download a GGUF model from Hugging Face (resumes, verifies sha256; Ctrl+C keeps what came)",
    )
    get.add_argument(
        "spec",
        metavar="MODEL[:QUANT]",
        nargs="?",
        help="a catalog name (`trayai library`; the file that suits this machine unless :QUANT), a "
        "repository (e.g. bartowski/Qwen3-4B-GGUF:Q4_K_M) or one file (REPO/FILE.gguf)",
    )
    get.add_argument(
        "--set-token",
        action="store_true",
        help="store a Hugging Face token for gated models in the keychain (typed, or piped on stdin)",
    )
    get.set_defaults(handler=cmd_get)

    rm = sub.add_parser("rm", parents=[parents.json], help="remove a downloaded model from the models folder")
    rm.add_argument("name", metavar="MODEL", help="its name or file name, as `trayai serve --list` shows it")
    rm.set_defaults(handler=cmd_rm)


@dataclass(frozen=True)
class Wanted:
    """What `trayai get` was asked for: a repository with a quantisation, or named files in it (a catalog
    model's file for this machine and its vision projector, or one ``REPO/FILE.gguf``)."""

    repo: str
    quant: str | None = None
    paths: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()  # fetched with whatever the quantisation picks (a projector)

    @classmethod
    def parse(cls, spec: str, folder: Path) -> Wanted:
        spec = spec.strip().removeprefix("https://huggingface.co/").strip("/")
        if spec.lower().endswith(".gguf"):
            owner, _, rest = spec.partition("/")
            name, _, path = rest.partition("/")
            return cls(f"{owner}/{name}", paths=(path,) if path else ())
        head, _, quant = spec.partition(":")
        if "/" in head:
            return cls(head, quant or None)
        return cls.from_catalog(head, quant or None, folder)

    @classmethod
    def from_catalog(cls, name: str, quant: str | None, folder: Path) -> Wanted:
        """A catalog name: its file for this machine (what `trayai library` shows), or ``quant``'s."""
        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.core.library.catalog import load_catalog

        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.core.library.machine import probe_memory

        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.core.library.pick import downloaded_files, pick

        model = load_catalog().get(name)
        if model is None:
            raise make_error(
                ErrorCode.HUB_NOT_FOUND,
                f"No model {name} in the catalog",
                "`trayai library --all` lists the catalog's names; or give a Hugging Face repository "
                "(OWNER/NAME[:QUANT]).",
            )
        extras = (model.projector.file,) if model.projector else ()
        if quant is None:
            chosen = pick(model, probe_memory(), downloaded_files(folder)).file
            return cls(model.repo, paths=(chosen.file, *extras))
        listed = next((f for f in model.files if f.quant.value == quant.upper()), None)
        if listed is None:  # not in the catalog: the repository may still have it
            return cls(model.repo, quant, extras=extras)
        return cls(model.repo, paths=(listed.file, *extras))

    def files(self, listing: RepoListing) -> tuple[GgufFile, ...]:
        chosen = tuple(listing.find(p) for p in self.paths) if self.paths else listing.pick(self.quant)
        return chosen + tuple(listing.find(p) for p in self.extras)


def models_dir(ctx: Context) -> Path:
    configured = ctx.loaded.settings.builtin_server.models_dir.strip()
    return Path(configured).expanduser() if configured else ctx.paths.models_dir


def cmd_get(ctx: Context) -> int:
    if ctx.args.set_token:
        return _set_token(ctx)
    if not ctx.args.spec:
        ctx.say("error: name a repository, e.g. `trayai get bartowski/Qwen3-4B-GGUF:Q4_K_M`")
        return EXIT_USAGE
    folder = models_dir(ctx)
    wanted = Wanted.parse(ctx.args.spec, folder)
    if wanted.repo.count("/") != 1:
        ctx.say(f"error: {ctx.line(wanted.repo)} is not a repository name (OWNER/NAME)")
        return EXIT_USAGE
    token = hub_token(ctx.secrets)
    if token:
        ctx.redactor.add_secret(token)
    hub = Hub(token)
    listing = hub.listing(wanted.repo)
    requests: list[DownloadRequest] = []
    kept: list[Path] = []
    for gguf in wanted.files(listing):
        dest = folder / gguf.name
        if dest.is_file() and dest.stat().st_size == gguf.size:
            kept.append(dest)
            continue
        source = hub.source(listing, gguf)
        requests.append(
            DownloadRequest(
                source.url, dest, source.size, source.sha256, source.etag, source.identity, source.headers
            )
        )
    for dest in kept:
        ctx.say(
            f"{dest.name} is already downloaded ({describe_size(dest.stat().st_size)}); "
            "`trayai rm` removes it"
        )
    bars = _Bars(ctx.err)
    try:
        results = asyncio.run(_download(requests, bars))
    except KeyboardInterrupt:
        bars.end()
        for request in requests:
            part = part_path(request.dest)
            if part.is_file():
                ctx.say(
                    f"interrupted: {describe_size(part.stat().st_size)} of {describe_size(request.size)} "
                    f"kept in {part} — run the same command to resume"
                )
        return EXIT_INTERRUPTED
    finally:
        bars.end()
    if ctx.args.json:
        json.dump(
            {"files": [_result_data(r) for r in results] + [_kept_data(p) for p in kept]}, ctx.out, indent=2
        )
        ctx.out.write("\n")
    else:
        for result in results:
            ctx.out.write(f"{_result_line(result)}\n")
    return EXIT_OK


async def _download(requests: list[DownloadRequest], bars: _Bars) -> list[DownloadResult]:
    """One at a time (the queue's default): the first file is usable as soon as its own bytes are in."""
    queue = DownloadQueue(Downloader())
    jobs = [queue.submit(r, bars.reporter(r.dest.name)) for r in requests]
    results = []
    for job in jobs:
        assert job.task is not None
        results.append(await job.task)
    return results


def _result_line(result: DownloadResult) -> str:
    check = "sha256 verified" if result.verified else "not verified: the repository gives no sha256"
    resumed = f", resumed from {describe_size(result.resumed_from)}" if result.resumed_from else ""
    return f"downloaded {result.path} ({describe_size(result.size)}, {check}{resumed})"


def _result_data(result: DownloadResult) -> dict[str, object]:
    return {
        "path": str(result.path),
        "size": result.size,
        "verified": result.verified,
        "resumed_from": result.resumed_from,
        "fetched": result.fetched,
        "retries": result.retries,
        "already_there": False,
    }


def _kept_data(path: Path) -> dict[str, object]:
    return {"path": str(path), "size": path.stat().st_size, "already_there": True}


class _Bars:
    """Progress on stderr: one redrawn bar on a terminal (bytes, rate, ETA), plain lines every 10 % else."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._drawn = False
        self._tenth: dict[str, int] = {}

    def reporter(self, name: str) -> Callable[[Progress], None]:
        return lambda step: self.show(name, step)

    def show(self, name: str, step: Progress) -> None:
        figures = f"{describe_size(step.done)} / {describe_size(step.total)}"
        rate = f"{describe_size(int(step.rate))}/s" if step.rate else "…"
        eta = _clock(step.eta) if step.eta is not None else "--:--"
        if self.tty:
            width = 24
            filled = int(width * step.fraction)
            bar = "█" * filled + "·" * (width - filled)
            self.stream.write(
                f"\r{name[:40]}  {bar} {step.fraction:4.0%}  {figures}  {rate}  ETA {eta}\x1b[K"
            )
            self._drawn = True
        else:
            tenth = int(step.fraction * 10)
            if self._tenth.get(name) == tenth:
                return
            self._tenth[name] = tenth
            self.stream.write(f"{name}: {step.fraction:.0%} {figures} {rate} ETA {eta}\n")
        self.stream.flush()

    def end(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _set_token(ctx: Context) -> int:
    # lazy: getpass is loaded only when used: start-up time and memory
    import getpass

    if sys.stdin is not None and sys.stdin.isatty():
        token = getpass.getpass("Hugging Face token (not echoed): ").strip()
    else:
        token = (sys.stdin.readline() if sys.stdin is not None else "").strip()
    if not token:
        ctx.say("error: no token given (type it at the prompt, or pipe it on stdin — never as an argument)")
        return EXIT_USAGE
    outcome = ctx.secrets.set(HF_TOKEN_ENTRY, token)
    if not outcome.persistent:
        ctx.say(f"error: {outcome.warning}")
        ctx.say("  → for now, set HF_TOKEN in the environment instead")
        return EXIT_FAIL
    ctx.say(f"stored the Hugging Face token in {outcome.backend}")
    return EXIT_OK


def cmd_rm(ctx: Context) -> int:
    folder = models_dir(ctx)
    removed = [(path, path.stat().st_size) for path in model_files(_model_path(folder, ctx.args.name))]
    for path, _ in removed:
        path.unlink()
    if ctx.args.json:
        json.dump({"removed": [{"path": str(p), "size": s} for p, s in removed]}, ctx.out, indent=2)
        ctx.out.write("\n")
    else:
        for path, size in removed:
            ctx.out.write(f"removed {path} ({describe_size(size)})\n")
    return EXIT_OK


def _model_path(folder: Path, name: str) -> Path:
    """The model file ``name`` means inside ``folder`` (a path, a file name, or a name without ``.gguf``);
    anything outside the folder, or nothing there, is refused."""
    given = Path(name).expanduser()
    if given.is_absolute() or len(given.parts) > 1:
        inside = folder.resolve()
        target = given.resolve() if given.is_absolute() else (folder / given).resolve()
        if not target.is_relative_to(inside):
            raise make_error(
                ErrorCode.NOT_IN_LIBRARY,
                f"{given} is outside the models folder ({folder}); trayai removes only what is in it",
            )
        candidates = [target]
    else:
        plain = name if name.lower().endswith(".gguf") else f"{name}.gguf"
        candidates = [folder / plain, *sorted(folder.rglob(plain))] if folder.is_dir() else []
    for candidate in candidates:
        if model_files(candidate):
            return candidate
    raise make_error(ErrorCode.NOT_IN_LIBRARY, f"No downloaded model {name} in {folder}")
