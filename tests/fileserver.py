"""A small HTTP server on 127.0.0.1 for download tests: files the test controls, and ways to misbehave.

Modes: "ok" serves the file; "truncate" announces the whole length but sends half and hangs up;
"stall" sends a little and then nothing until the test ends (a client needs its timeout); "drip" sends
one byte every `drip_s` seconds (for at most DRIP_LIMIT_S, so a client without a deadline still ends);
"endless" sends no Content-Length and the file over and over (at most ENDLESS_COPIES times);
"drip-headers" sends its status line and then a header byte every `drip_s` seconds.
`rate` (bytes per second) slows the body down so concurrent clients overlap and progress shows.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DRIP_LIMIT_S = 30.0
ENDLESS_COPIES = 40


@dataclass
class Served:
    """What the server holds and how it behaves; the test may change it while it runs."""

    files: dict[str, bytes] = field(default_factory=dict)
    mode: str = "ok"
    rate: float | None = None
    drip_s: float = 0.2
    gets: int = 0
    port: int = 0
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            served.gets += 1
            body = served.files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            if served.mode in ("drip", "drip-headers", "endless"):
                self._misbehave(body)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if served.mode == "stall":
                self.wfile.write(body[:100])
                self.wfile.flush()
                served.released.wait(30)
                return
            out = body[: len(body) // 2] if served.mode == "truncate" else body
            step = 1 << 14
            for start in range(0, len(out), step):
                try:
                    self.wfile.write(out[start:start + step])
                except OSError:  # the client gave up
                    return
                if served.rate:
                    time.sleep(step / served.rate)
            self.wfile.flush()
            if served.mode == "truncate":
                self.close_connection = True

        def _misbehave(self, body: bytes) -> None:
            """The slow and the oversized servers; each ends within DRIP_LIMIT_S or ENDLESS_COPIES."""
            self.close_connection = True
            if served.mode == "drip-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                pieces = [bytes([b]) for b in b"X-Slow: " + b"a" * 10_000]
            elif served.mode == "drip":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                pieces = [bytes([b]) for b in body]
            else:
                self.send_response(200)
                self.end_headers()
                pieces = [body] * ENDLESS_COPIES
            end = time.monotonic() + DRIP_LIMIT_S
            for piece in pieces:
                try:
                    self.wfile.write(piece)
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return
                if served.mode != "endless":
                    if time.monotonic() > end or served.released.wait(served.drip_s):
                        return

    return Handler


@contextmanager
def serving(files: dict[str, bytes] | None = None, **options: object) -> Iterator[Served]:
    """Run the server for the duration of a `with` block."""
    served = Served(files=dict(files or {}), **options)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.released.set()
        server.shutdown()
        server.server_close()


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
