"""Fetching one large file once, however many sessions and server processes ask for it at the same time.

Every session of a server may open a page that needs the ImageNet file in the same second, and
several server processes may share one cache. So: a file lock in the cache folder lets one process
download while the others wait and then read its result; each download writes its own uniquely
named temporary file, renamed into place only when complete; the hash is taken of the file that
landed, after the rename, and a file that does not match is removed. Within a process one
`Downloader` per destination runs the download in a background thread and publishes its progress,
so every session shows the same bar and none starts a second download.

Two limits hold whatever the server does: a size cap (the file's known size; more is not the file)
and an overall deadline. A per-read timeout alone lets a server that sends one byte every few
seconds hold a download forever, and so does one that drips its headers; at the deadline every
socket of the download is shut, which ends whatever read is waiting.
"""
from __future__ import annotations

import http.client
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from alexnet_viz.core.safeload import sha256_file
from alexnet_viz.errors import DownloadError

DEFAULT_TIMEOUT_S = 20.0  # seconds without a byte (or without an answer) before a download is given up
DEFAULT_DEADLINE_S = 1800.0  # a whole download: 233 MB in 30 min is 130 kB/s, slower than any real link
DEFAULT_MAX_BYTES = 1 << 30  # when the file's size is not known: far more than any AlexNet
_CHUNK = 1 << 16
_RATE_WINDOW_S = 5.0
PARTIAL_SUFFIX = ".partial"

State = Literal["idle", "waiting", "running", "done", "failed"]


@dataclass(frozen=True)
class Progress:
    """A download's state at one moment, safe to read from any thread."""

    state: State
    done: int = 0  # bytes received so far
    total: int | None = None  # bytes announced by the server (Content-Length), if it said
    rate: float = 0.0  # bytes per second over the last few seconds
    error: str = ""  # the whole message, for whoever runs the server
    reason: str = ""  # a few words, for whoever reads the page
    sha256: str = ""

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate, when both the size and a rate are known."""
        if not self.total or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)

    def describe(self) -> str:
        """"41.2 of 233.1 MB · 8.3 MB/s · about 23 s left" (what is known of it)."""
        mb = 1e6
        parts = [f"{self.done / mb:.1f} of {self.total / mb:.1f} MB" if self.total else f"{self.done / mb:.1f} MB"]
        if self.rate > 0:
            parts.append(f"{self.rate / mb:.1f} MB/s")
        eta = self.eta_s
        if eta is not None:
            parts.append(f"about {eta:.0f} s left" if eta < 120 else f"about {eta / 60:.0f} min left")
        return " · ".join(parts)


Report = Callable[[Progress], None]


class _Rate:
    """Bytes per second over a sliding window, so a stall shows as a falling rate, not an average."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> float:
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > _RATE_WINDOW_S:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        return (done - d0) / (now - t0) if now > t0 else 0.0


def partials(dest: Path) -> list[Path]:
    """Temporary files of downloads into `dest` (finished or abandoned ones are removed)."""
    return sorted(dest.parent.glob(f"{dest.name}.*{PARTIAL_SUFFIX}"))


@dataclass(frozen=True)
class Limits:
    """What one download may take: seconds without a byte, seconds in all, bytes in all."""

    timeout: float = DEFAULT_TIMEOUT_S
    deadline: float = DEFAULT_DEADLINE_S
    max_bytes: int = DEFAULT_MAX_BYTES


def fetch(url: str, dest: str | Path, accepts: Callable[[str], bool], *, timeout: float = DEFAULT_TIMEOUT_S,
          report: Report | None = None, limits: Limits | None = None) -> str:
    """Download `url` to `dest` unless it is there already; return the SHA-256 of the file at `dest`.

    `accepts(sha256)` says whether a file is the one wanted. Holds `<dest>.lock` while it works, so
    of several processes or threads one downloads and the rest find its file. Raises DownloadError
    (a WeightsError) with the reason; nothing but a verified `dest` is ever left behind. `limits`
    (default: `timeout` per read, DEFAULT_DEADLINE_S in all, DEFAULT_MAX_BYTES) bound the transfer.
    """
    limits = limits or Limits(timeout=timeout)
    dest = Path(dest)
    tell = report or (lambda _p: None)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"Cannot create the weights cache folder {dest.parent} ({exc.strerror or exc}); set "
                            "TORCH_HOME to a writable folder.", "the server cannot write its cache folder") from exc
    lock = FileLock(str(dest) + ".lock")
    while True:  # wait for another process's download, showing how far its temporary file has grown
        try:
            lock.acquire(timeout=0.5)
            break
        except Timeout:
            tell(Progress("waiting", done=max((_size(p) for p in partials(dest)), default=0)))
        except OSError as exc:
            raise DownloadError(f"Cannot lock {dest}.lock ({exc.strerror or exc}); set TORCH_HOME to a writable "
                                "folder.", "the server cannot write its cache folder") from exc
    try:
        if dest.is_file():  # another thread or process finished while this one waited
            return _verified(dest, accepts, url, discard=False)
        for stale in partials(dest):  # the lock is ours, so these belong to downloads that died
            stale.unlink(missing_ok=True)
        tmp = dest.with_name(f"{dest.name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}")
        try:
            _stream(url, tmp, limits, tell)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return _verified(dest, accepts, url, discard=True)
    finally:
        lock.release()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _Deadline:
    """Shuts every socket opened for one download when its time is up, so no read outlives it
    (a read of headers included, which no per-read timeout bounds when they arrive a byte at a time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.passed = seconds, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.passed:
                self._shut(sock)
        return sock

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            for sock in self._sockets:
                self._shut(sock)

    def opener(self) -> urllib.request.OpenerDirector:
        """urllib with every connection (redirects too) made through `watch`."""
        watch = self.watch

        def watched(*args: Any, **kwargs: Any) -> socket.socket:
            return watch(socket.create_connection(*args, **kwargs))

        class Plain(http.client.HTTPConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._create_connection = watched

        class Secure(http.client.HTTPSConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._create_connection = watched

        class PlainHandler(urllib.request.HTTPHandler):
            def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
                return self.do_open(Plain, req)

        class SecureHandler(urllib.request.HTTPSHandler):
            def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
                return self.do_open(Secure, req, context=self._context)  # type: ignore[attr-defined]

        class NoFTP(urllib.request.FTPHandler):  # replaces urllib's own, whose sockets `watch` never sees
            def ftp_open(self, req: urllib.request.Request) -> Any:
                raise urllib.error.URLError(f"{req.full_url} is an FTP address: a download follows http and "
                                            "https only (an FTP server's dripped greeting outlived the deadline)")

        return urllib.request.build_opener(PlainHandler, SecureHandler, NoFTP)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _stream(url: str, tmp: Path, limits: Limits, tell: Report) -> None:
    rate, done, total = _Rate(), 0, None
    tell(Progress("running"))
    deadline = _Deadline(limits.deadline)
    try:
        with deadline, deadline.opener().open(url, timeout=limits.timeout) as resp, open(tmp, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            total = total if total > 0 else None
            if total is not None and total > limits.max_bytes:
                raise _TooLarge(total)
            while chunk := resp.read1(_CHUNK):  # what has arrived: a slow server cannot hold one read
                done += len(chunk)
                if done > limits.max_bytes:
                    raise _TooLarge(done)
                out.write(chunk)
                tell(Progress("running", done, total, rate.add(done)))
                if deadline.passed:
                    break
    except _TooLarge as exc:
        said = f"announced {exc.size:,} bytes" if total is not None else f"sent at least {exc.size:,} bytes"
        raise DownloadError(f"The server at {url} {said}; the file has {limits.max_bytes:,} at most, so the "
                            "download was stopped and deleted.", "the server sent more than the file") from exc
    except Exception as exc:
        if deadline.passed:
            raise _late(url, limits, done) from exc
        raise _failed(url, limits, done, exc) from exc
    if deadline.passed and done != total:  # shut at the deadline (a whole file that just made it is kept)
        raise _late(url, limits, done)
    if total is not None and done != total:
        raise DownloadError(f"The download from {url} stopped at {done} of {total} bytes.",
                            "the download stopped before the end")


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _late(url: str, limits: Limits, done: int) -> DownloadError:
    minutes = f"{limits.deadline / 60:.0f} min" if limits.deadline >= 120 else f"{limits.deadline:.0f} s"
    return DownloadError(f"The download from {url} did not finish within {minutes} ({done / 1e6:.1f} MB had "
                         "arrived), so it was stopped; the server or the connection is too slow.",
                         f"the download took longer than {minutes}")


def _failed(url: str, limits: Limits, done: int, exc: Exception) -> DownloadError:
    """The DownloadError for an exception raised while fetching (the deadline not passed)."""
    if isinstance(exc, TimeoutError):
        return DownloadError(f"The download from {url} stalled: no data for {limits.timeout:.0f} s after "
                             f"{done / 1e6:.1f} MB.", "the server stopped sending")
    if isinstance(exc, urllib.error.HTTPError):
        return DownloadError(f"The server at {url} answered {exc.code} {exc.reason}.",
                             f"the server answered {exc.code} {exc.reason}")
    if isinstance(exc, urllib.error.URLError):
        why = exc.reason
        short = ("the server stopped answering" if isinstance(why, TimeoutError) else
                 "the server refused the connection" if isinstance(why, ConnectionRefusedError) else
                 "this server has no connection to the internet")
        return DownloadError(f"Could not download {url} ({why}).", short)
    if isinstance(exc, (OSError, ValueError, http.client.HTTPException)):  # resets, bad URLs, broken HTTP
        return DownloadError(f"The download from {url} broke off after {done / 1e6:.1f} MB ({exc!r}).",
                             "the connection broke off")
    raise exc


def _verified(dest: Path, accepts: Callable[[str], bool], url: str, *, discard: bool) -> str:
    """The SHA-256 of what is on disk at `dest`; a fresh download that is not the wanted file is removed."""
    sha = sha256_file(dest)
    if accepts(sha):
        return sha
    if discard:
        dest.unlink(missing_ok=True)
        raise DownloadError(f"The file downloaded from {url} has SHA-256 {sha[:16]}…, which is not the file "
                            "expected, so it was deleted.", "the file that arrived was not the expected one")
    raise DownloadError(f"The cached file {dest} has SHA-256 {sha[:16]}…, which is not the file expected: it is "
                        "damaged, truncated or was replaced, so it was not loaded. Delete it to download it again, "
                        "or put a good copy there.", "the cached file is damaged")


class Downloader:
    """One destination's download for this whole process: started once, progress readable by anyone."""

    def __init__(self, url: str, dest: Path, accepts: Callable[[str], bool], limits: Limits) -> None:
        self.url, self.dest, self._accepts, self.limits = url, dest, accepts, limits
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._progress = Progress("idle")

    @property
    def progress(self) -> Progress:
        return self._progress  # replaced whole, never mutated: a plain read is consistent

    def start(self, *, retry: bool = False) -> Progress:
        """Begin downloading in the background unless it is under way, done, or failed (and not `retry`)."""
        with self._lock:
            state = self._progress.state
            finished = state == "done" and self.dest.is_file()  # a deleted file is fetched again
            if state in ("waiting", "running") or finished or (state == "failed" and not retry):
                return self._progress
            self._progress = Progress("running")
            self._thread = threading.Thread(target=self._run, name=f"download {self.dest.name}", daemon=True)
            self._thread.start()
            return self._progress

    def wait(self, timeout: float | None = None) -> Progress:
        """The progress once the download ends, or after `timeout` seconds, whichever is first."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._progress

    def result(self, *, retry: bool = False) -> str:
        """Start (or join) the download and wait for it; the file's SHA-256, or its DownloadError."""
        self.start(retry=retry)
        done = self.wait()
        if done.state != "done":
            raise DownloadError(done.error, done.reason)
        return done.sha256

    def _publish(self, progress: Progress) -> None:
        self._progress = progress

    def _run(self) -> None:
        last = Progress("running")

        def tell(p: Progress) -> None:
            nonlocal last
            last = p
            self._publish(p)

        try:
            sha = fetch(self.url, self.dest, self._accepts, report=tell, limits=self.limits)
            self._publish(replace(last, state="done", sha256=sha, rate=0.0))
        except DownloadError as exc:
            self._publish(replace(last, state="failed", error=str(exc), reason=exc.reason, rate=0.0))
        except Exception as exc:  # noqa: BLE001 - a background thread must report its failure, not vanish
            self._publish(replace(last, state="failed", error=f"{type(exc).__name__}: {exc}",
                                  reason="an unexpected error on the server", rate=0.0))


_REGISTRY: dict[tuple[str, Path], Downloader] = {}
_REGISTRY_LOCK = threading.Lock()


def downloader(url: str, dest: str | Path, accepts: Callable[[str], bool], *,
               limits: Limits | None = None) -> Downloader:
    """The process's one Downloader for (url, dest): every session that asks gets the same object."""
    key = (url, Path(dest).absolute())
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is None:
            found = _REGISTRY[key] = Downloader(url, key[1], accepts, limits or Limits())
        return found


__all__ = ["Progress", "Limits", "Downloader", "downloader", "fetch", "partials", "DEFAULT_TIMEOUT_S",
           "DEFAULT_DEADLINE_S", "DEFAULT_MAX_BYTES", "PARTIAL_SUFFIX"]
