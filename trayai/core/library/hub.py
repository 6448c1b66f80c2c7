"""What trayai asks of the Hugging Face Hub: GGUF repositories found, a repository's GGUF files with size and
LFS sha256 grouped by quantisation, and where a file's bytes are (URL and headers for download.py).

huggingface_hub does the talking (listing, search, metadata, auth) and is imported only when one of these
runs: the tray must not pay for it at start-up. Its exceptions become typed trayai errors here.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from trayai.core.settings.secrets import SecretStore

HF_TOKEN_ENTRY = "huggingface"  # noqa: S105 - the keychain entry (a SecretStore name) that holds the Hugging Face token
HUB_SITE = "https://huggingface.co"
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

    def search(self, text: str, limit: int = 20) -> list[RepoHit]:
        """GGUF repositories whose name contains ``text``, most downloaded first."""
        with self._errors(f"search for {text!r}"):
            models = self._api().list_models(search=text, filter="gguf", sort="downloads", limit=limit)
            return [RepoHit(m.id, int(m.downloads or 0), int(m.likes or 0), bool(m.gated)) for m in models]

    def listing(self, repo: str, revision: str = "main") -> RepoListing:
        """The repository's ``.gguf`` files with sizes and LFS sha256, at ``revision``'s commit."""
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


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None
