"""A Hugging Face Hub-shaped server on loopback that the real ``huggingface_hub`` talks to via ``HF_ENDPOINT``.

Why: the library's tests must drive the real client (listing, search, metadata, auth, redirects) and our
own byte transfer through every failure a download meets — a gated repo, a 404, a reset connection, a
flipped byte, a slow link — deterministically and without the internet. The shapes follow what
huggingface_hub 2.5 requests and parses (hf_api.py ``model_info``/``list_repo_tree``/``list_models``,
file_download.py ``get_hf_file_metadata``, utils/_http.py ``hf_raise_for_status``). Standard library only.

The CDN is this same server under another origin (``localhost`` instead of ``127.0.0.1``): the client
follows same-origin redirects on HEAD and must not send the token to the CDN, as on the real Hub.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import mmap
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.support.loopback_server import LoopbackHTTPServer, LoopbackServer

GOOD_TOKEN = "hf_test_access"
_CHUNK = 1 << 20
_COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


@dataclass
class Faults:
    """Misbehaviour for one file's content, on demand (set through :meth:`FakeHub.fault`)."""

    drop_after: int | None = None  # reset the connection after this many body bytes of a response
    drops: int = 1  # how many responses are cut that way (then it serves whole again)
    flip_at: int | None = None  # the byte at this file offset is served inverted (every response)
    rate: float | None = None  # bytes per second (a slow link); None: as fast as the socket takes


@dataclass
class HubFile:
    """One file of a repository: its bytes (in memory, or a file on disk mapped when served)."""

    path: str
    source: bytes | Path

    @functools.cached_property
    def size(self) -> int:
        return len(self.source) if isinstance(self.source, bytes) else self.source.stat().st_size

    @functools.cached_property
    def sha256(self) -> str:
        return self.source_digest(self.source)

    @property
    def lfs(self) -> bool:
        """GGUFs are LFS files on the Hub (sha256 in the listing, content behind a CDN); text is not."""
        return self.path.endswith(".gguf")

    @functools.cached_property
    def blob_id(self) -> str:
        """The git blob id (sha1 of ``blob SIZE\\0`` + content; for LFS files, of the pointer)."""
        content = self._pointer() if self.lfs else self.read(0, self.size)
        return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()

    def _pointer(self) -> bytes:
        return (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {self.size}\n"
        ).encode()

    def read(self, start: int, end: int) -> bytes:
        if isinstance(self.source, bytes):
            return self.source[start:end]
        with self.source.open("rb") as handle:
            handle.seek(start)
            return handle.read(end - start)

    @staticmethod
    def source_digest(source: bytes | Path) -> str:
        if isinstance(source, bytes):
            return hashlib.sha256(source).hexdigest()
        return _file_digest(str(source), source.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _file_digest(path: str, _mtime_ns: int) -> str:
    """The sha256 of a big file, once per test session (the SmolLM2 GGUF is ~100 MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(_CHUNK * 4):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class HubRepo:
    repo_id: str
    files: dict[str, HubFile]
    gated: bool = False
    sha: str = _COMMIT
    downloads: int = 0
    likes: int = 0

    def info(self, *, blobs: bool) -> dict[str, Any]:
        siblings: list[dict[str, Any]] = []
        for f in self.files.values():
            sibling: dict[str, Any] = {"rfilename": f.path}
            if blobs:
                sibling |= {"size": f.size, "blobId": f.blob_id}
                if f.lfs:
                    sibling["lfs"] = {"size": f.size, "sha256": f.sha256, "pointerSize": len(f._pointer())}
            siblings.append(sibling)
        return {
            "_id": hashlib.md5(self.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
            "id": self.repo_id,
            "modelId": self.repo_id,
            "author": self.repo_id.split("/")[0],
            "sha": self.sha,
            "lastModified": "2026-11-02T10:00:00.000Z",
            "createdAt": "2026-10-01T10:00:00.000Z",
            "private": False,
            "disabled": False,
            "gated": "manual" if self.gated else False,
            "downloads": self.downloads,
            "likes": self.likes,
            "library_name": "gguf",
            "tags": ["gguf", "text-generation", "conversational"],
            "pipeline_tag": "text-generation",
            "siblings": siblings,
            "usedStorage": sum(f.size for f in self.files.values()),
        }

    def tree(self) -> list[dict[str, Any]]:
        entries = []
        for f in self.files.values():
            entry: dict[str, Any] = {"type": "file", "oid": f.blob_id, "size": f.size, "path": f.path}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": len(f._pointer())}
            entries.append(entry)
        return entries


@dataclass(frozen=True)
class Seen:
    """One request as the hub saw it (the token is recorded only as present or not)."""

    method: str
    host: str
    path: str
    range: str | None
    authorized: bool


@dataclass
class _State:
    repos: dict[str, HubRepo] = field(default_factory=dict)
    faults: dict[str, Faults] = field(default_factory=dict)  # by "repo/path"
    served: dict[str, int] = field(default_factory=dict)  # content bytes sent, by "repo/path"
    seen: list[Seen] = field(default_factory=list)


def synthetic_gguf(size: int, seed: int = 0) -> bytes:
    """A small file that starts like a GGUF (magic, version 3) and is otherwise deterministic noise."""
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 0)
    block = hashlib.sha256(b"seed%d" % seed).digest() * 2048  # 64 KiB
    body = (block * (size // len(block) + 1))[: max(0, size - len(head))]
    return head + body


class FakeHub(LoopbackServer):
    """The hub: ``with FakeHub() as hub: hub.add_repo(...)``; ``hub.url`` is its ``HF_ENDPOINT``."""

    def __init__(self) -> None:
        super().__init__("fake Hugging Face Hub")
        self._state = _State()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ set-up

    def add_repo(
        self, repo_id: str, files: Mapping[str, bytes | Path], *, gated: bool = False, downloads: int = 0
    ) -> HubRepo:
        repo = HubRepo(repo_id, {p: HubFile(p, s) for p, s in files.items()}, gated, downloads=downloads)
        with self._lock:
            self._state.repos[repo_id] = repo
        return repo

    def file(self, repo_id: str, path: str) -> HubFile:
        return self._state.repos[repo_id].files[path]

    def replace_file(self, repo_id: str, path: str, source: bytes | Path) -> None:
        """A new commit changes the file (its sha256, so its etag): a resumed part no longer fits it."""
        with self._lock:
            repo = self._state.repos[repo_id]
            repo.files[path] = HubFile(path, source)
            repo.sha = hashlib.sha1(repo.sha.encode(), usedforsecurity=False).hexdigest()

    def fault(self, repo_id: str, path: str, faults: Faults | None) -> None:
        with self._lock:
            key = f"{repo_id}/{path}"
            if faults is None:
                self._state.faults.pop(key, None)
            else:
                self._state.faults[key] = faults

    # ------------------------------------------------------------------ observation

    def served(self, repo_id: str, path: str) -> int:
        """Content bytes of this file sent so far (over every response, whole or cut)."""
        with self._lock:
            return self._state.served.get(f"{repo_id}/{path}", 0)

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._state.seen)

    # ------------------------------------------------------------------ lifecycle

    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        return _Server(self, address)

    @property
    def url(self) -> str:
        """The endpoint (``HF_ENDPOINT``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def cdn_url(self) -> str:
        """The same server under another origin: what a resolve redirects to."""
        return f"http://localhost:{self.port}"

    # ------------------------------------------------------------------ for the handler

    def record(self, seen: Seen) -> None:
        with self._lock:
            self._state.seen.append(seen)

    def count(self, key: str, sent: int) -> None:
        with self._lock:
            self._state.served[key] = self._state.served.get(key, 0) + sent

    def repo(self, repo_id: str) -> HubRepo | None:
        with self._lock:
            return self._state.repos.get(repo_id)

    def repos(self) -> list[HubRepo]:
        with self._lock:
            return list(self._state.repos.values())

    def faults_for(self, key: str) -> Faults | None:
        with self._lock:
            return self._state.faults.get(key)

    def take_drop(self, key: str) -> int | None:
        """The byte count after which this response is cut, using up one of the fault's drops."""
        with self._lock:
            faults = self._state.faults.get(key)
            if faults is None or faults.drop_after is None or faults.drops <= 0:
                return None
            faults.drops -= 1
            return faults.drop_after

    def by_sha(self, sha256: str) -> tuple[str, HubFile] | None:
        with self._lock:
            for repo in self._state.repos.values():
                for f in repo.files.values():
                    if f.sha256 == sha256:
                        return f"{repo.repo_id}/{f.path}", f
        return None


class _Server(LoopbackHTTPServer):
    owner: FakeHub
    request_queue_size = 64

    def __init__(self, hub: FakeHub, address: tuple[str, int]) -> None:
        self.hub = hub
        super().__init__(address, _Handler, hub)


class _Cut(Exception):
    """The response was cut on purpose (a fault): the connection is already reset."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    # ------------------------------------------------------------------ routing

    def _route(self, *, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        self.hub.record(
            Seen(
                self.command,
                self.headers.get("Host", ""),
                self.path,
                self.headers.get("Range"),
                "Authorization" in self.headers,
            )
        )
        try:
            if path.startswith("/cdn/"):
                self._cdn(path.removeprefix("/cdn/"), head=head)
            elif path == "/api/models":
                self._search(query)
            elif path.startswith("/api/models/"):
                self._api(path.removeprefix("/api/models/"), query)
            elif "/resolve/" in path:
                self._resolve(path, head=head)
            else:
                self._json(404, {"error": "Not Found"})
        except _Cut:
            self.close_connection = True

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ").strip() or None

    def _repo_or_error(self, repo_id: str) -> HubRepo | None:
        repo = self.hub.repo(repo_id)
        if repo is None:
            # The Hub answers 401 to anonymous requests for a repository it will not name, 404 with a token.
            status = 404 if self._token() else 401
            self._json(
                status, {"error": "Repository not found"}, code="RepoNotFound", msg="Repository not found"
            )
        return repo

    def _revision_ok(self, repo: HubRepo, revision: str) -> bool:
        if revision in ("main", repo.sha):
            return True
        message = f"Invalid rev id: {revision}"
        self._json(404, {"error": message}, code="RevisionNotFound", msg=message)
        return False

    def _api(self, rest: str, query: dict[str, list[str]]) -> None:
        segments = rest.split("/")
        repo = self._repo_or_error("/".join(segments[:2]))
        if repo is None:
            return
        tail = segments[2:]
        if not tail:
            self._json(200, repo.info(blobs=query.get("blobs") == ["True"] or query.get("blobs") == ["true"]))
        elif tail[0] == "revision" and len(tail) == 2:
            if self._revision_ok(repo, tail[1]):
                self._json(200, repo.info(blobs=query.get("blobs") in (["True"], ["true"])))
        elif tail[0] == "tree" and len(tail) >= 2:
            if not self._revision_ok(repo, tail[1]):
                return
            folder = "/".join(tail[2:])
            entries = [e for e in repo.tree() if not folder or str(e["path"]).startswith(folder + "/")]
            self._json(200, entries)
        else:
            self._json(404, {"error": "Not Found"})

    def _search(self, query: dict[str, list[str]]) -> None:
        text = (query.get("search") or [""])[0].lower()
        filters = query.get("filter", [])
        limit = int((query.get("limit") or ["1000"])[0])
        hits = []
        for repo in self.hub.repos():
            info = repo.info(blobs=False)
            if text and text not in repo.repo_id.lower():
                continue
            if any(f not in info["tags"] for f in filters):
                continue
            hits.append({k: info[k] for k in ("_id", "id", "modelId", "likes", "downloads", "tags", "gated")})
            hits[-1] |= {"private": False, "createdAt": info["createdAt"], "pipeline_tag": "text-generation"}
        hits.sort(key=lambda h: -int(h["downloads"]))
        self._json(200, hits[:limit])

    def _resolve(self, path: str, *, head: bool) -> None:
        before, _, after = path.lstrip("/").partition("/resolve/")
        revision, _, file_path = after.partition("/")
        repo = self._repo_or_error(before)
        if repo is None or not self._revision_ok(repo, revision):
            return
        if repo.gated and self._token() != GOOD_TOKEN:
            name = repo.repo_id
            if self._token() is None:
                status, msg = (
                    401,
                    (
                        f"Access to model {name} is restricted. You must have access to it and be "
                        "authenticated to access it. Please log in."
                    ),
                )
            else:
                status, msg = (
                    403,
                    (
                        f"Access to model {name} is restricted and you are not in the authorized list. "
                        f"Visit https://huggingface.co/{name} to ask for access."
                    ),
                )
            self._json(status, {"error": msg}, code="GatedRepo", msg=msg)
            return
        hub_file = repo.files.get(file_path)
        if hub_file is None:
            self._json(404, {"error": "Entry not found"}, code="EntryNotFound", msg="Entry not found")
            return
        headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{hub_file.blob_id}"', "Accept-Ranges": "bytes"}
        if hub_file.lfs:
            location = f"{self.hub.cdn_url}/cdn/{hub_file.sha256}?sig={quote(repo.sha)}"
            headers |= {
                "X-Linked-Etag": f'"{hub_file.sha256}"',
                "X-Linked-Size": str(hub_file.size),
                "Location": location,
            }
            body = f"Found. Redirecting to {location}".encode()
            self._send(302, body, headers | {"Content-Type": "text/plain; charset=utf-8"}, head=head)
            return
        self._content(f"{repo.repo_id}/{hub_file.path}", hub_file, headers, head=head)

    def _cdn(self, rest: str, *, head: bool) -> None:
        found = self.hub.by_sha(rest.split("?", maxsplit=1)[0])
        if found is None:
            self._send(
                404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"}, head=head
            )
            return
        key, hub_file = found
        headers = {"ETag": f'"{hub_file.sha256[:32]}"', "Accept-Ranges": "bytes"}
        self._content(key, hub_file, headers, head=head)

    # ------------------------------------------------------------------ content

    def _content(self, key: str, hub_file: HubFile, headers: dict[str, str], *, head: bool) -> None:
        size = hub_file.size
        start, end = 0, size
        status = 200
        wanted = self.headers.get("Range")
        if wanted:
            parsed = _parse_range(wanted, size)
            if parsed is None:
                self._send(416, b"", headers | {"Content-Range": f"bytes */{size}"}, head=head)
                return
            start, end = parsed
            status = 206
            headers = headers | {"Content-Range": f"bytes {start}-{end - 1}/{size}"}
        self.send_response(status)
        for name, value in (headers | {"Content-Length": str(end - start)}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if head:
            return
        self._body(key, hub_file, start, end)

    def _body(self, key: str, hub_file: HubFile, start: int, end: int) -> None:
        faults = self.hub.faults_for(key) or Faults()
        cut = self.hub.take_drop(key)
        if cut is None and faults == Faults() and isinstance(hub_file.source, Path):
            self._sendfile(key, hub_file.source, start, end)
            return
        with _mapped(hub_file) as data:
            position = start
            began = time.monotonic()
            while position < end:
                step = min(_CHUNK if faults.rate is None else max(1, int(faults.rate / 50)), end - position)
                if cut is not None:
                    step = min(step, max(0, start + cut - position))
                    if step == 0:
                        self._reset()
                        raise _Cut
                piece: bytes | memoryview = data[position : position + step]
                if faults.flip_at is not None and position <= faults.flip_at < position + step:
                    flipped = bytearray(piece)
                    flipped[faults.flip_at - position] ^= 0xFF
                    piece = bytes(flipped)
                try:
                    self.wfile.write(piece)
                except OSError:
                    raise _Cut from None
                self.hub.count(key, step)
                position += step
                if faults.rate is not None:
                    ahead = (position - start) / faults.rate - (time.monotonic() - began)
                    if ahead > 0 and self.hub.stopping.wait(ahead):
                        raise _Cut

    def _sendfile(self, key: str, source: Path, start: int, end: int) -> None:
        """A whole, healthy answer from a file: the kernel copies it (as a real CDN's server would)."""
        with source.open("rb") as handle:
            try:
                sent = self.connection.sendfile(handle, start, end - start)
            except OSError:
                raise _Cut from None
        self.hub.count(key, sent)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, as a broken link looks to the client."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    # ------------------------------------------------------------------ plain answers

    def _json(self, status: int, value: Any, *, code: str | None = None, msg: str | None = None) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if code is not None:
            headers["X-Error-Code"] = code
        if msg is not None:
            headers["X-Error-Message"] = msg
        self._send(status, json.dumps(value).encode(), headers, head=self.command == "HEAD")

    def _send(self, status: int, body: bytes, headers: Mapping[str, str], *, head: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


@contextlib.contextmanager
def _mapped(hub_file: HubFile) -> Iterator[bytes | mmap.mmap]:
    if isinstance(hub_file.source, bytes):
        yield hub_file.source
        return
    with hub_file.source.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """``bytes=START-[END]`` or ``bytes=-SUFFIX`` → (start, end exclusive); None when unsatisfiable."""
    unit, _, spec = value.partition("=")
    first, _, last = spec.partition("-")
    if unit.strip() != "bytes" or "," in spec:
        return None
    if not first:
        suffix = int(last)
        return (max(0, size - suffix), size) if suffix > 0 else None
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    return (start, end) if start < size and start < end else None
