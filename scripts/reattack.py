"""Issue 24's fixed surfaces attacked again, with variants its tests do not hold: one line per variant.

Loopback and temporary folders only; a few minutes on two cores. Each section prints `HELD` or
`BROKEN`, the variant, and what happened:

- proxy: the real HAProxy that `serve --replicas 2` starts (random weights, no preparation), spoken to
  over raw sockets, so no client library tidies a path or a header first: encoded, dotted, doubled and
  cased spellings of /_stcore/metrics; spellings of the upload path the replica accepts (each must count
  in one session's rate limit); message framing (Transfer-Encoding and Content-Length tricks, folding,
  HTTP/1.0, HTTP/2 without TLS).
- weights: files crafted with any tensor metadata (offsets, strides, shapes, dtypes), odd containers,
  many or long keys, both file formats, safetensors; each must be one short error and stay far below
  the network's 233 MB.
- runs: one hostile file in a run folder (huge or deep lines, NaN, FIFOs, links to /dev/zero and
  /etc/passwd, PNG bombs), read by what the Training page calls, in a child capped at 1.5 GB and 8 s.
- downloads: hostile local servers (redirect loops, file:// and ftp:// redirects, lying lengths, a gzip
  bomb, header floods, endless chunks, dripped status lines) against a 2 s per-read limit, a 4 s
  deadline and a 1 MiB cap.
- topk: training on 1-3 classes and a head narrower than the classes, predict --topk past 1000.

    .venv/bin/python -m scripts.reattack [--only proxy weights runs downloads topk]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import gzip
import io
import json
import os
import pickle
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Result = tuple[str, bool, str]  # the variant, whether it held, what happened


# --- proxy ----------------------------------------------------------------------------------------

def _raw(url: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Send `data` byte for byte; what came back until the server closed (or 200 kB, or the timeout)."""
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(data)
        with contextlib.suppress(OSError):
            while len(answer) < 200_000 and (chunk := conn.recv(65536)):
                answer += chunk
    return answer


def _status(answer: bytes) -> str:
    return answer.split(b"\r\n", 1)[0].decode("latin-1")[9:] or "(nothing)"


METRICS_TARGETS = [
    b"/_stcore/%25256detrics", b"//_stcore/metrics", b"/./_stcore/metrics", b"/_stcore/./metrics",
    b"/_stcore//metrics", b"/_stcore/../_stcore/metrics", b"/_stcore/%2e%2e/_stcore/metrics", b"/%2e/_stcore/metrics",
    b"/_stcore/metrics;x", b"/_stcore;x/metrics", b"/_stcore/metrics%3fx", b"/_STCORE/METRICS",
    b"/_stcore/%6D%45%54%52%49%43%53", b"/_stcore\\metrics", b"\\_stcore\\metrics", b"/_stcore/metrics%09",
    b"/_stcore/metrics%0a", b"/_stcore/metrics%0d%0a", b"/_stcore/metrics%20", b"/_stcore/metrics%23x",
    b"/_stcore/metrics#x", b"/_stcore%c0%afmetrics", b"/%E2%80%8B_stcore/metrics", b"/_stcore/metr\xc4\xb1cs",
    b"/_stcore/metrics/.", b"/_stcore/met%72ics/", b"http://127.0.0.1/_stcore/metrics",
    b"HTTP://127.0.0.1/_stcore/metrics", b"http://x/_stcore/metrics", b"_stcore/metrics", b"*",
]


def proxy_metrics(proxy: str, replica: str) -> list[Result]:
    """Each spelling, on the replica (does it reach the metrics there?) and through the proxy (it must not)."""
    results = []
    for target in METRICS_TARGETS:
        request = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        direct, through = _raw(replica, request), _raw(proxy, request)
        there = "metrics" if b"# TYPE" in direct else _status(direct)
        results.append((f"GET {target.decode('latin-1')}", b"# TYPE" not in through,
                        f"proxy {_status(through)}; the replica itself: {there}"))
    for name, request in (("HTTP/1.0 without Host", b"GET /_stcore/metrics HTTP/1.0\r\n\r\n"),
                          ("HTTP/1.0 %6detrics", b"GET /_stcore/%6detrics HTTP/1.0\r\n\r\n"),
                          ("HTTP/0.9", b"GET /_stcore/metrics\r\n")):
        through = _raw(proxy, request)
        results.append((name, b"# TYPE" not in through, f"proxy {_status(through)}"))
    return results


CHUNK = b"5\r\nhello\r\n0\r\n\r\n"
FRAMING = {  # each must be answered by HAProxy itself (its HTML error page), never by a replica
    "Transfer-Encoding: Chunked": [b"Transfer-Encoding: Chunked"],
    "transfer-encoding lower case": [b"transfer-encoding: chunked"],
    "Transfer-Encoding with a space before the colon": [b"Transfer-Encoding : chunked"],
    "Transfer-Encoding with a TAB value": [b"Transfer-Encoding:\tchunked"],
    "Transfer-Encoding with a VT value": [b"Transfer-Encoding:\x0bchunked"],
    "Transfer-Encoding: identity, chunked": [b"Transfer-Encoding: identity, chunked"],
    "Transfer-Encoding twice (gzip, chunked)": [b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked"],
    "Transfer-Encoding: xchunked": [b"Transfer-Encoding: xchunked"],
    "Transfer-Encoding and Content-Length": [b"Transfer-Encoding: chunked", b"Content-Length: 5"],
    "Content-Length twice, 5 and 17 MB": [b"Content-Length: 5", b"Content-Length: 17000000"],
    "Content-Length twice, 17 MB then 5": [b"Content-Length: 17000000", b"Content-Length: 5"],
    "Content-Length: 5, 17000000": [b"Content-Length: 5, 17000000"],
    "Content-Length: +17000000": [b"Content-Length: +17000000"],
    "Content-Length: 0x1000001": [b"Content-Length: 0x1000001"],
    "Content-Length: 0017000000": [b"Content-Length: 0017000000"],
    "Content-Length: 2^64 + 5": [b"Content-Length: 18446744073709551621"],
    "Content-Length: -1": [b"Content-Length: -1"],
    "Content-Length folded onto a second line (17 MB)": [b"Content-Length:", b" 17000000"],
    "no length at all": [],
}


def proxy_framing(proxy: str) -> list[Result]:
    """Upload PUTs with odd framing (an unknown session: only the proxy's own answers count as stopped)."""
    results = []
    for name, headers in FRAMING.items():
        body = CHUNK if any(b"ransfer" in h for h in headers) else b"hello"
        request = b"\r\n".join([b"PUT /_stcore/upload_file/abc/f1 HTTP/1.1", b"Host: 127.0.0.1", *headers,
                                b"Connection: close"]) + b"\r\n\r\n" + body
        answer = _raw(proxy, request)
        results.append((f"upload PUT, {name}", b"<h1>" in answer, f"proxy {_status(answer)}"))
    answer = _raw(proxy, b"POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNK)
    results.append(("HTTP/1.0 POST with chunked", b"<h1>" in answer, f"proxy {_status(answer)}"))
    answer = _raw(proxy, _h2c_request(b"POST", b"/x", b"a" * 16000))
    results.append(("HTTP/2 without TLS (h2c), 16 kB body without a length", answer.startswith(b"HTTP/1.1 4"),
                    f"proxy {_status(answer) if answer.startswith(b'HTTP/') else 'spoke HTTP/2'}"))
    return results


def _h2c_request(method: bytes, path: bytes, body: bytes) -> bytes:
    """HTTP/2 prior knowledge: preface, SETTINGS, HEADERS (HPACK literals), one DATA frame, no content-length."""
    def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

    fields = ((b":method", method), (b":scheme", b"http"), (b":path", path), (b":authority", b"127.0.0.1"))
    block = b"".join(b"\0" + bytes([len(n)]) + n + bytes([len(v)]) + v for n, v in fields)
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") + frame(1, 4, 1, block)
            + frame(0, 1, 1, body))


UPLOAD_FORMS = [b"{s}/f{n}", b"{s}/f{n}%0a", b"{s}/f{n};x", b"{s}/f{n}?x=1", b"{s}/f{n}%3fx", b"{s}/f{n}%00",
                b"{s}/f{n}%09", b"{s}%2ff{n}", b"{s}%2Ff{n}", b"{s}/f{n}", b"{s}/f{n}", b"{s}/f{n}"]


def proxy_uploads(proxy: str) -> list[Result]:
    """Twelve uploads of one session, each in a spelling the replica accepts as an upload: all count in one
    bucket of 10 a minute, so the 11th and 12th are refused whatever their spelling."""
    import requests
    from urllib3 import encode_multipart_formdata

    from devtools.stproto import StreamlitSession

    http = requests.Session()
    http.cookies.set("alexnet_replica", "r1")
    http.get(f"{proxy}/_stcore/health", timeout=30)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    session = StreamlitSession(proxy, timeout=120, cookie=cookie)
    try:
        session.rerun()
        sid = str(session.session_id).encode()
        body, kind = encode_multipart_formdata({"file": ("photo.png", b"\x89PNG" + b"\0" * 1024, "image/png")})
        head = (b"Host: 127.0.0.1\r\nCookie: " + cookie.encode() + b"\r\nX-Xsrftoken: "
                + str(http.cookies.get("_streamlit_xsrf", "")).encode() + b"\r\nContent-Type: " + kind.encode()
                + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
        codes = []
        for n, form in enumerate(UPLOAD_FORMS):
            path = b"/_stcore/upload_file/" + form.replace(b"{s}", sid).replace(b"{n}", str(n).encode())
            answer = _raw(proxy, b"PUT " + path + b" HTTP/1.1\r\n" + head + body)
            codes.append((path.decode().replace(sid.decode(), "SID"), _status(answer)))
    finally:
        session.close()
    return [(f"upload #{i + 1} as PUT {path}", (i < 10) == code.startswith("204") and (i < 10 or "429" in code),
             f"proxy {code}") for i, (path, code) in enumerate(codes)]


def attack_proxy() -> list[Result]:
    from alexnet_viz.serving.serve import free_port, running

    env = {"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu", "ALEXNET_PREPARE": "0"}
    with tempfile.TemporaryDirectory() as run_dir, \
            running(2, port=free_port(), run_dir=Path(run_dir), env=env) as layout:
        return (proxy_metrics(layout.url, layout.replicas[0].url) + proxy_framing(layout.url)
                + proxy_uploads(layout.url))


# --- weights --------------------------------------------------------------------------------------

class _Storage:
    def __init__(self, key: str, numel: int) -> None:
        self.key, self.numel = key, numel


class _Tensor:
    """Pickles as torch's own _rebuild_tensor_v2 call, with whatever offset, size and stride it is given."""

    def __init__(self, storage: _Storage, offset: int, size: list[int], stride: list[int]) -> None:
        self.args: tuple[object, ...] = (storage, offset, tuple(size), tuple(stride), False,
                                          collections.OrderedDict())

    def __reduce__(self) -> tuple[object, tuple]:
        import torch

        return torch._utils._rebuild_tensor_v2, self.args


def _craft(path: Path, tensor: _Tensor, stored: bytes) -> Path:
    """A zip-format weights file holding {"features.0.weight": tensor}, its storage `stored` bytes long."""
    import torch

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, _Storage):
                return "storage", torch.FloatStorage, obj.key, "cpu", obj.numel
            return None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"features.0.weight": tensor})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in (("data.pkl", buffer.getvalue()), ("byteorder", b"little"), ("data/0", stored),
                           ("version", b"3\n")):
            archive.writestr(f"archive/{name}", data)
    return path


def _metadata_files(folder: Path) -> dict[str, Path]:
    cases = {  # name: (floats the storage claims, offset, size, stride, bytes the file holds)
        "a view whose offset is past its storage's end": (4, 1000, [2], [1], 16),
        "a storage claiming 2^28 floats in a 16-byte zip member": (1 << 28, 0, [1 << 28], [1], 16),
        "non-zero overlapping strides (64^3 from 64 values)": (64, 0, [64] * 3, [1] * 3, 256),
        "a shape whose product overflows int64": (4, 0, [2**32] * 3, [0] * 3, 16),
        "a negative shape": (4, 0, [-1, 4], [4, 1], 16),
        "a negative stride": (4, 3, [4], [-1], 16),
    }
    return {name: _craft(folder / f"meta-{i}.pth", _Tensor(_Storage("0", numel), offset, size, stride), bytes(held))
            for i, (name, (numel, offset, size, stride, held)) in enumerate(cases.items())}


def _saved_files(folder: Path) -> dict[str, Path]:
    import torch

    one, made = torch.zeros(1), {}
    contents: dict[str, tuple[object, bool]] = {
        **{f"dtype {d}": ({"features.0.weight": torch.zeros(96, 3, 11, 11).to(d)}, True)
           for d in (torch.int8, torch.complex64, torch.bool, torch.float8_e4m3fn)},
        "a dict in a dict under state_dict": ({"state_dict": {"inner": {"features.0.weight": one}}}, True),
        "an extra non-tensor entry": ({"features.0.weight": one, "step": 5}, True),
        "300,000 keys sharing one tensor (zip)": ({f"k{i}": one for i in range(300_000)}, True),
        "300,000 keys sharing one tensor (older format)": ({f"k{i}": one for i in range(300_000)}, False),
        "one 10 MB key name": ({"x" * 10_000_000: one}, True),
        "a 5,000-digit integer key": ({10**5000: one}, True),
        "a torch.Size of (2^40, 2^40)": (torch.Size([2**40, 2**40]), True),
        "a string": ("x" * 1000, True),
    }
    for i, (name, (obj, zipped)) in enumerate(contents.items()):
        made[name] = folder / f"saved-{i}.pth"
        torch.save(obj, made[name], _use_new_zipfile_serialization=zipped)
    legacy = folder / "legacy.pth"
    torch.save({"features.0.weight": torch.zeros(4)}, legacy, _use_new_zipfile_serialization=False)
    data = legacy.read_bytes()
    at = data.index(b"cpu") + 5  # the storage's numel (BININT1 4) after its location (BINPUT 6) in the id
    if data[at:at + 2] == b"K\x04":
        huge = made["older format claiming a 16 TiB storage"] = folder / "legacy-huge.pth"
        huge.write_bytes(data[:at] + b"\x8a\x08" + (1 << 42).to_bytes(8, "little") + data[at + 2:])
    header = json.dumps({"features.0.weight": {"dtype": "F32", "shape": [2**20, 2**20], "data_offsets": [0, 16]}})
    claims = made["safetensors whose header claims 2^40 floats"] = folder / "huge.safetensors"
    claims.write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(16))
    (folder / "junk.pth").write_bytes(b"\x80\x02" + b"A" * 100)
    (folder / "empty.pth").write_bytes(b"")
    return {**made, "not a zip: pickle junk": folder / "junk.pth", "an empty file": folder / "empty.pth"}


def attack_weights() -> list[Result]:
    """Each file through load_model (what predict --weights and the Training page's checkpoint use)."""
    from alexnet_viz.core.weights import load_model
    from alexnet_viz.core.weightschoice import RANDOM, WeightsChoice
    from alexnet_viz.errors import AlexVizError

    load_model("article", RANDOM)  # the first network built is not the file's doing
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {**_metadata_files(Path(tmp)), **_saved_files(Path(tmp))}
        for name, path in files.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
            try:
                load_model("article", WeightsChoice.file(path))
                said, clear = "loaded", False
            except AlexVizError as exc:
                said, clear = str(exc), "\n" not in str(exc) and len(str(exc)) < 400
            except Exception as exc:  # noqa: BLE001 - an uncaught one is what this looks for
                said, clear = f"uncaught {type(exc).__name__}: {exc}", False
            grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10) - before
            results.append((f"weights: {name} ({path.stat().st_size:,} B)", clear and grew < 233,
                            f"peak RSS +{grew} MB, {len(said):,} chars: {said[:110]}"))
    return results


# --- run folders ----------------------------------------------------------------------------------

READ_AS_THE_PAGE_DOES = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1500 << 20, 1500 << 20))
from pathlib import Path
from alexnet_viz.train import runs
from ui import training
d = Path(sys.argv[1]); out = []
note = lambda checked: f", {checked.skipped[0][:60]!r}" if checked.skipped else ""
c = runs.check_runs(d.parent); out.append(f"{len(c.value)} run(s) listed" + note(c))
m = runs.check_metrics(d); out.append(f"{len(m.value)} metrics line(s)" + note(m))
f = runs.check_filters(d); out.append(f"epochs {f.value}")
for e in f.value:
    p = training.filter_picture(runs.RunInfo(d, d.name, "article", False, ()), e)
    out.append("picture shown" if p.value else f"picture skipped: {p.skipped[0][:80]!r}")
out.append(f"chance loss {training.chance_loss(d)}")
latest = runs.latest_filters(d)
if latest:
    out.append(f"live caption 'structure {latest[1].get('structure', 0.0):.3f}'")
    out.append("live picture " + ("shown" if training.checked_picture(latest[0]).value else "skipped"))
print("; ".join(out))
"""


def _png(width: int, height: int) -> bytes:
    """A valid grey PNG of any size: rows of zeros compress about 1000:1, so a bomb is small."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compressobj(9)
    row = bytes(width + 1)
    data = b"".join(rows.compress(row) for _ in range(height)) + rows.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def _run_variants() -> dict[str, dict[str, Callable[[Path], object]]]:
    def write(data: bytes) -> Callable[[Path], object]:
        return lambda p: p.write_bytes(data)

    def link(target: str) -> Callable[[Path], object]:
        return lambda p: p.symlink_to(target)

    fifo, epoch_npy = os.mkfifo, {"filters/epoch-001.npy": write(b"x")}
    nan = (b'{"kind": "train", "epoch": 1, "step": 1, "loss": NaN, "acc": 0.5, "lr": 0.01, "images_per_s": 1}\n'
           b'{"kind": "train", "epoch": 1, "step": 2, "loss": Infinity, "acc": 0.5, "lr": 0.01, "images_per_s": 1}\n')
    return {
        "metrics.jsonl: one 50 MB line": {"metrics.jsonl": write(b'{"kind": "train", "x": "' + bytes(50_000_000)
                                                                 .replace(b"\0", b"a") + b'"}\n')},
        "metrics.jsonl: JSON nested 100,000 deep": {"metrics.jsonl": write(b"[" * 100_000 + b"]" * 100_000 + b"\n")},
        "metrics.jsonl: NaN and Infinity losses": {"metrics.jsonl": write(nan)},
        "metrics.jsonl: a directory": {"metrics.jsonl": lambda p: p.mkdir()},
        "metrics.jsonl: a FIFO": {"metrics.jsonl": fifo},
        "metrics.jsonl: a link to /dev/zero": {"metrics.jsonl": link("/dev/zero")},
        "config.json: a link to /etc/passwd": {"config.json": link("/etc/passwd")},
        "config.json: a FIFO": {"config.json": fifo},
        "config.json: a link to /dev/zero": {"config.json": link("/dev/zero")},
        "fits.json: a FIFO": {"fits.json": fifo},
        "classes.json: a link to /dev/zero": {"classes.json": link("/dev/zero")},
        "classes.json: a FIFO": {"classes.json": fifo},
        "classes.json: 200 MB": {"classes.json": write(b'["a", "' + b"b" * 200_000_000 + b'"]')},
        "filters/epoch-001.png: a valid 4096x4096 PNG": {"filters/epoch-001.png": write(_png(4096, 4096)),
                                                         **epoch_npy},
        "filters/epoch-001.png: a 30000x30000 bomb": {"filters/epoch-001.png": write(_png(30000, 30000)),
                                                      **epoch_npy},
        "filters/epoch-001.png: a FIFO": {"filters/epoch-001.png": fifo, **epoch_npy},
        "filters/latest.json: a FIFO": {"filters/latest.json": fifo, "filters/latest.png": write(_png(8, 8))},
        "filters/latest.json: structure a string": {"filters/latest.json": write(b'{"step": 1, "structure": "x"}'),
                                                    "filters/latest.png": write(_png(8, 8))},
        "filters/latest.png: not a PNG": {"filters/latest.json": write(b'{"step": 1, "structure": 0.5}'),
                                          "filters/latest.png": write(b"junk")},
        "filters/latest.png: a link to /dev/zero": {"filters/latest.json": write(b'{"step": 1, "structure": 0.5}'),
                                                    "filters/latest.png": link("/dev/zero")},
    }


def attack_runs() -> list[Result]:
    good = json.dumps({"kind": "train", "epoch": 1, "step": 1, "loss": 1.0, "acc": 0.5, "lr": 0.01,
                       "images_per_s": 1}) + "\n"
    results = []
    for name, files in _run_variants().items():
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            (run / "filters").mkdir(parents=True)
            (run / "config.json").write_text(json.dumps({"variant": "article"}))
            (run / "metrics.jsonl").write_text(good)
            for rel, make in files.items():
                (run / rel).unlink(missing_ok=True)
                make(run / rel)
            try:
                done = subprocess.run([sys.executable, "-c", READ_AS_THE_PAGE_DOES, str(run)], capture_output=True,
                                      text=True, timeout=8, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                said = done.stdout.strip() or "crashed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
            except subprocess.TimeoutExpired:
                said = "hung: still reading after 8 s"
        results.append((f"run folder: {name}", not said.startswith(("crashed", "hung")), said[:200]))
    return results


# --- downloads ------------------------------------------------------------------------------------

@contextlib.contextmanager
def _server(answer: Callable[[socket.socket, int], object], greets: bool = False) -> Iterator[int]:
    """A loopback server answering each connection with `answer(conn, port)` (after reading the request,
    unless it `greets` first, as FTP does)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            if not greets:
                conn.recv(65536)
            answer(conn, port)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield port
    finally:
        listener.close()


def _http(status: str, headers: list[tuple[str, object]], body: bytes = b"") -> Callable[[socket.socket, int], object]:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return lambda conn, port: conn.sendall(head.encode().replace(b"{port}", str(port).encode()) + body)


def _drip(data: bytes, every: float) -> Callable[[socket.socket, int], object]:
    def send(conn: socket.socket, port: int) -> None:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(every)

    return send


def _endless_chunks(conn: socket.socket, port: int) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(5000):
        conn.sendall(b"400\r\n" + bytes(1024) + b"\r\n")


def _download_servers(ftp: int) -> dict[str, Callable[[socket.socket, int], object]]:
    bomb, empty = gzip.compress(bytes(200 << 20)), ("Content-Length", 0)
    return {
        "a redirect loop": _http("302 Found", [("Location", "http://127.0.0.1:{port}/again"), empty]),
        "a redirect to file:///etc/passwd": _http("302 Found", [("Location", "file:///etc/passwd"), empty]),
        "a redirect to ftp:// whose greeting drips 1 B/1.5 s": _http("302 Found", [("Location", f"ftp://127.0.0.1:{ftp}/f"),
                                                                                   empty]),
        "Content-Length larger than the body": _http("200 OK", [("Content-Length", 1000)], b"x" * 10),
        "Content-Length smaller than the body": _http("200 OK", [("Content-Length", 10)], b"x" * 100_000),
        "Content-Encoding gzip, 200 MB in 200 kB": _http("200 OK", [("Content-Encoding", "gzip"),
                                                                    ("Content-Length", len(bomb))], bomb),
        "Content-Length: abc": _http("200 OK", [("Content-Length", "abc")], b"x"),
        "a Content-Length of 5,000 digits": _http("200 OK", [("Content-Length", "9" * 5000)], b"x"),
        "two Content-Lengths, 10 and 2 GiB": _http("200 OK", [("Content-Length", 10), ("Content-Length", 2 << 30)],
                                                   b"x" * 10),
        "150 headers": _http("200 OK", [(f"X-{i}", i) for i in range(150)], b"x"),
        "one 100 kB header line": _http("200 OK", [("X-A", "a" * 100_000)], b"x"),
        "chunked, 5 MB of 1 kB chunks": _endless_chunks,
        "a chunk size of 2^64": _http("200 OK", [("Transfer-Encoding", "chunked")], b"10000000000000000\r\nxx"),
        "100 Continue, again and again": _drip(b"HTTP/1.1 100 Continue\r\n\r\n" * 100, 0.01),
        "the status line dripped 1 B/1.5 s": _drip(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 1.5),
    }


def attack_downloads() -> list[Result]:
    from alexnet_viz.core.download import Limits, fetch
    from alexnet_viz.errors import AlexVizError

    limits, results = Limits(timeout=2.0, deadline=4.0, max_bytes=1 << 20), []
    with _server(_drip(b"220 a very slow FTP server\r\n", 1.5), greets=True) as ftp, \
            tempfile.TemporaryDirectory() as tmp:
        for name, answer in _download_servers(ftp).items():
            with _server(answer) as port:
                start = time.monotonic()
                try:
                    fetch(f"http://127.0.0.1:{port}/f.pth", Path(tmp) / "f.pth", lambda sha: False, limits=limits)
                    said, refused = "accepted", False
                except AlexVizError as exc:
                    said, refused = str(exc), True
                took = time.monotonic() - start
            left = [p.name for p in Path(tmp).iterdir() if not p.name.endswith(".lock")]
            results.append((f"download: {name}", refused and took < 7 and not left,
                            f"{took:.1f} s, left {left or 'nothing'}: {said[:120]}"))
    return results


# --- top-k ----------------------------------------------------------------------------------------

def attack_topk() -> list[Result]:
    """Training at tiny scale on 1, 2 and 3 classes and with a head narrower than the classes; predict's
    --topk past the 1000 classes."""
    from alexnet_viz.errors import AlexVizError
    from alexnet_viz.train import demo, runs
    from alexnet_viz.train.config import resolve
    from alexnet_viz.train.loop import train

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        data = demo.make_dataset(Path(tmp) / "demo", per_class=2, val_per_class=1, seed=3)
        for label, classes, changes in (("1 class, batch 2", 1, {"batch_size": 2}), ("2 classes", 2, {}),
                                        ("3 classes, ten-crop", 3, {"ten_crop": True}),
                                        ("2 classes, --num-classes 1", 2, {"num_classes": 1})):
            folder, run = Path(tmp) / label, Path(tmp) / f"{label} run"
            for part in ("train", "val"):
                for name in sorted(p.name for p in (data / part).iterdir())[:classes]:
                    shutil.copytree(data / part / name, folder / part / name)
            given: dict[str, object] = {"data": str(folder), "run_dir": str(run), "batch_size": 4, "epochs": 1,
                                        "workers": 0, "log_every": 1, "ten_crop": False, "progress": False,
                                        "threads": 1, **changes}
            config = resolve(None, demo=True, **given)
            try:
                done = train(config)
                val = [r for r in runs.read_metrics(run) if r["kind"] == "val"]
                top5 = val[-1]["val_top5"] if val else "-"
                said, held = f"{done.stopped}, epoch {done.epoch}, val top-5 {top5}", True
            except AlexVizError as exc:
                said, held = f"refused: {exc}", True
            except Exception as exc:  # noqa: BLE001 - an uncaught one is what this looks for
                said, held = f"uncaught {type(exc).__name__}: {exc}", False
            results.append((f"train: {label}", held, said[:160]))
    return results + _predict_topk()


def _predict_topk() -> list[Result]:
    from PIL import Image

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "p.png"
        Image.new("RGB", (64, 64), (120, 30, 200)).save(photo)
        for k in ("1000", "1001", "99999999999999999999", "0", "-1"):
            done = subprocess.run([sys.executable, "-m", "alexnet_viz", "predict", str(photo), "--weights", "random",
                                   "--topk", k, "--format", "json"], capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False, timeout=300)
            if done.returncode == 0:
                said, held = f"{len(json.loads(done.stdout)[0]['top'])} rows", True
            else:
                said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
                held = said.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
            results.append((f"predict --topk {k}", held, said[:120]))
    return results


SECTIONS: dict[str, Callable[[], list[Result]]] = {"proxy": attack_proxy, "weights": attack_weights,
                                                   "runs": attack_runs, "downloads": attack_downloads,
                                                   "topk": attack_topk}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    args = parser.parse_args(argv)
    broken = 0
    for section in args.only:
        for variant, held, said in SECTIONS[section]():
            broken += not held
            print(f"{'HELD  ' if held else 'BROKEN'} {variant}: {said}", flush=True)
    print(f"{broken} variant(s) broken")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
