"""What trayai asks of the Hugging Face Hub: GGUF repositories found, a repository's GGUF files with size and
LFS sha256 grouped by quantisation, and where a file's bytes are (URL and headers for download.py).

huggingface_hub does the talking (listing, search, metadata, auth) and is imported only when one of these
runs: the tray must not pay for it at start-up. Its exceptions become typed trayai errors here.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import AppError, TrayaiError, make_error

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from trayai.core.settings.secrets import SecretStore

SEARCH_DEADLINE = 3.0  # seconds an interactive search may take, all told, before "unreachable"
LISTING_DEADLINE = 10.0  # seconds "Show files" may take: two requests, a large repository's tree
_CONNECT = 2.0  # seconds to connect, within that
_SEARCH_HINT = (
    "Check the network (and HTTPS_PROXY if you use a proxy), then search again; meanwhile `trayai library` "
    "shows the catalog with its offline figures."
)
HF_TOKEN_ENTRY = "huggingface"  # noqa: S105 - the keychain entry (a SecretStore name) that holds the Hugging Face token
HUB_SITE = "https://huggingface.co"
T = TypeVar("T")
_QUANT = re.compile(
    r"(?:^|[.\-_])((?:UD-)?(?:IQ\d_[A-Z]+|Q\d_K(?:_[A-Z]+)?|Q\d_\d(?:_\d_\d)?|TQ\d_\d|BF16|F16|F32|MXFP4(?:_MOE)?))"
    r"(?=$|[.\-_])",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})$")


@dataclass(frozen=True)
class GgufFile:
    """One ``.gguf`` in a repository, as the Hub lists it (size and LFS sha256 from the tree)."""

    path: str
    size: int
    sha256: str | None

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def stem(self) -> str:
        """The name without ``.gguf`` and without a split suffix (``-00001-of-00003``)."""
        return _SPLIT.sub("", self.name[: -len(".gguf")])

    @property
    def quant(self) -> str | None:
        """The quantisation the name says (``Q4_K_M``, ``IQ4_XS``, ``F16``…), upper-case; None if none."""
        for candidate in (self.stem, PurePosixPath(self.path).parent.name):
            found = _QUANT.findall(candidate)
            if found:
                return str(found[-1]).upper()
        return None

    @property
    def projector(self) -> bool:
        """A vision model's projector (``mmproj-…``): downloaded with the model, never served alone."""
        return self.name.lower().startswith("mmproj")

    @property
    def split(self) -> tuple[int, int] | None:
        match = _SPLIT.search(self.name[: -len(".gguf")])
        return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class RepoListing:
    """A repository's GGUF files at one commit, and whether it is gated."""

    repo: str
    commit: str
    gated: bool
    files: tuple[GgufFile, ...]

    def quants(self) -> dict[str, tuple[GgufFile, ...]]:
        """Model files by quantisation (split parts together, projectors apart), smallest first."""
        groups: dict[str, list[GgufFile]] = {}
        for f in self.files:
            if not f.projector:
                groups.setdefault(f.quant or f.stem, []).append(f)
        ordered = sorted(groups.items(), key=lambda item: sum(f.size for f in item[1]))
        return {quant: tuple(sorted(files, key=lambda f: f.path)) for quant, files in ordered}

    @property
    def projectors(self) -> tuple[GgufFile, ...]:
        return tuple(f for f in self.files if f.projector)

    def pick(self, quant: str | None) -> tuple[GgufFile, ...]:
        """The files of ``quant`` (case ignored); without one, the only quantisation or ``Q4_K_M``."""
        groups = self.quants()
        if not groups:
            raise make_error(ErrorCode.HUB_NOT_FOUND, f"{self.repo} has no .gguf files")
        if quant is None:
            if len(groups) == 1:
                return next(iter(groups.values()))
            quant = "Q4_K_M" if "Q4_K_M" in groups else None
        wanted = {q.upper(): files for q, files in groups.items()}
        if quant is None or quant.upper() not in wanted:
            asked = f"no {quant} file" if quant else "several quantisations"
            raise make_error(
                ErrorCode.HUB_NOT_FOUND,
                f"{self.repo} has {asked}; it has: {', '.join(groups)}",
                f"Name one after a colon, e.g. `trayai get {self.repo}:{next(iter(groups))}`.",
            )
        return wanted[quant.upper()]

    def find(self, path: str) -> GgufFile:
        for f in self.files:
            if path in (f.path, f.name):
                return f
        raise make_error(ErrorCode.HUB_NOT_FOUND, f"{self.repo} has no file {path}")


@dataclass(frozen=True)
class RepoHit:
    """One search result."""

    repo: str
    downloads: int
    likes: int
    gated: bool


@dataclass(frozen=True)
class FileSource:
    """Where one file's bytes are, as the Hub's resolve answered: the URL pinned to the commit, the request
    headers (the token, kept out of ``repr``), and the version's etag, size and sha256."""

    repo: str
    path: str
    commit: str
    url: str
    size: int
    etag: str | None
    sha256: str | None
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def identity(self) -> str:
        return f"hf:{self.repo}/{self.path}"


def hub_token(secrets: SecretStore) -> str | None:
    """The Hugging Face token from the keychain; None lets huggingface_hub use ``HF_TOKEN`` or its login."""
    return secrets.get(HF_TOKEN_ENTRY)


class Hub:
    """The Hub at ``endpoint`` (``HF_ENDPOINT`` when set, else huggingface.co), with an optional token.

    Calls are blocking (huggingface_hub is synchronous): async callers use ``asyncio.to_thread``.
    """

    def __init__(self, token: str | None = None, endpoint: str | None = None) -> None:
        self.token = token
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or HUB_SITE).rstrip("/")

    def _api(self) -> HfApi:
        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token)

    def search(self, text: str, limit: int = 20, *, deadline: float = SEARCH_DEADLINE) -> list[RepoHit]:
        """GGUF repositories whose name contains ``text``, most downloaded first: one request, answered
        within ``deadline`` seconds or ``HUB_UNREACHABLE`` — a person waits for it. (``list_models``
        retries with back-off, ~23 s against a dead port, and waits for ever on a server that never
        answers; downloads keep those retries.)"""
        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            raise make_error(
                ErrorCode.HUB_UNREACHABLE, "Hugging Face is switched off here (HF_HUB_OFFLINE is set)"
            )
        params = {"search": text, "filter": "gguf", "sort": "downloads", "limit": str(limit)}
        try:
            items = _bounded(lambda: self._get_json("/api/models", params, deadline), deadline, self.endpoint)
        except TrayaiError as exc:
            if exc.code is not ErrorCode.HUB_UNREACHABLE:
                raise
            raise make_error(exc.code, exc.message, _SEARCH_HINT) from exc
        return [
            RepoHit(str(item.get("id") or item.get("modelId")), *_counts(item), bool(item.get("gated")))
            for item in items
            if isinstance(item, dict)
        ]

    def _get_json(self, path: str, params: dict[str, str], timeout: float) -> list[Any]:
        """One GET of the Hub's API, its JSON list; the transport's failures as "unreachable"."""
        # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
        import httpx2

        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub.utils._headers import build_hf_headers

        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub.utils._http import hf_raise_for_status

        limits = httpx2.Timeout(timeout, connect=min(_CONNECT, timeout))
        try:
            with httpx2.Client(timeout=limits, follow_redirects=True) as client:
                response = client.get(
                    self.endpoint + path, params=params, headers=build_hf_headers(token=self.token)
                )
        except httpx2.TimeoutException as exc:
            raise _unreachable(f"no answer from {self.endpoint} within {timeout:g} s") from exc
        except (httpx2.TransportError, OSError) as exc:
            reason = re.sub(r"\[Errno -?\d+\]\s*", "", str(exc)) or type(exc).__name__
            raise _unreachable(f"{self.endpoint} could not be reached ({reason})") from exc
        with self._errors("the search"):
            hf_raise_for_status(response)
        try:
            found = response.json()
        except ValueError as exc:
            raise _unreachable(f"{self.endpoint} answered the search with something else than JSON") from exc
        return found if isinstance(found, list) else []

    def listing(self, repo: str, revision: str = "main", *, deadline: float | None = None) -> RepoListing:
        """The repository's ``.gguf`` files with sizes and LFS sha256, at ``revision``'s commit.

        ``deadline``: a person is waiting (the window's Show files), so the answer comes within it or
        as ``HUB_UNREACHABLE`` — the library's own retries take ~23 s against a dead port. ``trayai get``
        and the downloads keep those retries (None)."""
        if deadline is not None:
            return _bounded(lambda: self.listing(repo, revision), deadline, self.endpoint)
        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub.hf_api import RepoFile

        with self._errors(repo):
            api = self._api()
            info = api.model_info(repo, revision=revision)
            commit = str(info.sha or revision)
            files = tuple(
                GgufFile(entry.path, int(entry.size), entry.lfs.sha256 if entry.lfs else None)
                for entry in api.list_repo_tree(repo, revision=commit, recursive=True)
                if isinstance(entry, RepoFile) and entry.path.lower().endswith(".gguf")
            )
            return RepoListing(repo, commit, bool(info.gated), files)

    def source(self, listing: RepoListing, gguf: GgufFile) -> FileSource:
        """Where ``gguf``'s bytes are: the resolve URL at the listing's commit, checked with a HEAD (so a
        gated repository or a missing file fails before a byte is written), with its etag and size."""
        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub.utils._headers import build_hf_headers

        url = hf_hub_url(listing.repo, gguf.path, revision=listing.commit, endpoint=self.endpoint)
        with self._errors(listing.repo, path=gguf.path):
            meta = get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)
            headers = build_hf_headers(token=self.token)
        size = meta.size if meta.size is not None else gguf.size
        auth = {"authorization": headers["authorization"]} if "authorization" in headers else {}
        return FileSource(listing.repo, gguf.path, listing.commit, url, size, meta.etag, gguf.sha256, auth)

    @contextlib.contextmanager
    def _errors(self, repo: str, *, path: str | None = None) -> Iterator[None]:
        """huggingface_hub's and the transport's exceptions as typed trayai errors."""
        # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
        import httpx2

        # lazy: huggingface_hub is loaded only when used: start-up time and memory
        from huggingface_hub import errors

        what = f"{repo}/{path}" if path else repo
        try:
            yield
        except errors.GatedRepoError as exc:
            why = "none is stored" if self.token is None else "the stored token has not been granted access"
            raise make_error(
                ErrorCode.HUB_GATED,
                f"{repo} needs a Hugging Face token with access: {why}",
                f"Accept its terms at {HUB_SITE}/{repo}, then store a read token with `trayai get "
                "--set-token` (kept in the OS keychain).",
                status=_status(exc),
            ) from exc
        except errors.RepositoryNotFoundError as exc:
            raise make_error(
                ErrorCode.HUB_NOT_FOUND, f"Hugging Face has no repository {repo}", status=_status(exc)
            ) from exc
        except errors.RevisionNotFoundError as exc:
            raise make_error(
                ErrorCode.HUB_NOT_FOUND, f"{repo} has no such revision", status=_status(exc)
            ) from exc
        except errors.RemoteEntryNotFoundError as exc:
            raise make_error(
                ErrorCode.HUB_NOT_FOUND, f"{repo} has no file {path}", status=_status(exc)
            ) from exc
        except errors.OfflineModeIsEnabled as exc:
            raise make_error(
                ErrorCode.HUB_UNREACHABLE, "Hugging Face is switched off here (HF_HUB_OFFLINE is set)"
            ) from exc
        except errors.HfHubHTTPError as exc:
            raise make_error(
                ErrorCode.HUB_UNREACHABLE,
                f"Hugging Face failed to answer about {what} ({_status(exc)})",
                status=_status(exc),
            ) from exc
        except (httpx2.TransportError, OSError) as exc:
            raise make_error(
                ErrorCode.HUB_UNREACHABLE,
                f"Hugging Face ({self.endpoint}) could not be reached: {type(exc).__name__}",
            ) from exc


def _unreachable(why: str) -> AppError:
    return make_error(ErrorCode.HUB_UNREACHABLE, f"Hugging Face is unreachable: {why}")


def _counts(item: dict[str, Any]) -> tuple[int, int]:
    """A search hit's downloads and likes (0 when missing or odd)."""
    figures = (item.get("downloads"), item.get("likes"))
    return tuple(int(value) if isinstance(value, int | float) else 0 for value in figures)  # type: ignore[return-value]


def _bounded(call: Callable[[], T], seconds: float, endpoint: str) -> T:
    """``call()`` on a daemon thread, given ``seconds`` in all — name lookups included, which no socket
    timeout bounds. Past that the caller hears "unreachable" and the thread ends on its own timeouts."""
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="trayai-hub-search", daemon=True).start()
    if not done.wait(seconds + 0.25):  # the call's own timeouts usually answer first
        raise _unreachable(f"no answer from {endpoint} within {seconds:g} s")
    succeeded, value = outcome[0]
    if succeeded:
        return value  # type: ignore[no-any-return]
    raise value


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None
