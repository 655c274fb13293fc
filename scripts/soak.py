"""Soak test: hundreds of short sessions, each uploading its own photo, against the served app; does memory level off?

Loopback only, bounded in count and time. It starts `python -m alexnet_viz serve`'s layout (N replicas
behind HAProxy, random weights, CPU), warms each replica, then runs `--photos` short sessions, a few at a
time. Each session, like a visitor who brings a photo: loads the page (the proxy's sticky cookie, the
XSRF cookie), opens Feature maps, uploads its own generated photo (every one distinct, so every cache
key is new), looks at one more layer (and in every fifth session at Prediction), and closes. The
resident memory (RSS) of every replica is sampled after every `--sample-every` sessions. After the
last session it waits (at most `--release-wait` s) until the replicas hold no closed session's upload
any more, read from each replica's /_stcore/metrics on loopback, and samples RSS once more.

Reported: RSS per replica after the warm-up, at each third of the photos and after the wait; the
growth over the last third, from a line fitted to its samples (the target: under 5 %); the bytes of
uploads still held after the sessions closed (the target: 0) and how long their release took; the
CPU model.

    .venv/bin/python -m scripts.soak --photos 300 --replicas 2 --concurrency 3
"""
from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import io
import json
import statistics
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

from devtools.server import free_port
from devtools.stproto import RerunResult, StreamlitSession

MAX_PHOTOS = 2000
UPLOAD_METRIC = 'cache_memory_bytes{cache_type="UploadedFileManager",cache=""}'
SESSION_METRICS = ("active_sessions",)


def photo(index: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A distinct JPEG for every index: a seeded colour gradient with noise and a few discs."""
    rng = np.random.default_rng(index)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    slope_x, slope_y = rng.uniform(-0.5, 0.5, 3), rng.uniform(-0.5, 0.5, 3)
    base = rng.uniform(0, 255, 3) + slope_x * xx[..., None] + slope_y * yy[..., None]
    for _ in range(4):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, 60)
        base[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


def browser_cookie(url: str, timeout: float = 30.0) -> str:
    """The cookies a browser holds after loading the page: the proxy's replica cookie and the XSRF cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for path in ("/", "/_stcore/health"):
        with opener.open(f"{url}{path}", timeout=timeout) as resp:
            resp.read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def metrics(replica_url: str) -> dict[str, float]:
    """Upload bytes held, active sessions and each cache's bytes of one replica (its metrics are readable on
    loopback only)."""
    with urllib.request.urlopen(f"{replica_url}/_stcore/metrics", timeout=10) as resp:
        text = resp.read().decode()
    found = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == UPLOAD_METRIC or name in SESSION_METRICS:
            found["uploads_bytes" if name == UPLOAD_METRIC else name] = float(value)
        elif name.startswith("cache_memory_bytes{") and 'cache="' in name:
            found[name.split('cache="')[1].rstrip('"}') or name.split('cache_type="')[1].split('"')[0]] = float(value)
    return found


STEPS = ("open", "upload + C1", "C3", "prediction")
PREDICT_EVERY = 5  # Prediction (a whole forward pass and Grad-CAM) in every fifth session: most look at maps


def visit(url: str, index: int) -> list[RerunResult]:
    """One short session (STEPS): Feature maps, upload photo `index` (its C1 maps), C3, and in every
    PREDICT_EVERY-th session Prediction; then close."""
    session = StreamlitSession(url, timeout=180, cookie=browser_cookie(url))
    try:
        first = session.rerun("layer=C1", "feature-maps")
        if first.failed or not first.uploaders:
            return [first]
        steps = [first, session.upload(first.uploaders[0], f"photo-{index:04d}.jpg", photo(index), "layer=C1",
                                       "feature-maps")]
        steps.append(session.rerun("layer=C3", "feature-maps"))
        if index % PREDICT_EVERY == 0:
            steps.append(session.rerun("", "prediction"))
        return steps
    finally:
        session.close()


@dataclass
class Sample:
    sessions: int  # finished so far
    seconds: float
    rss_mib: list[float]  # per replica


@dataclass
class SoakResult:
    cpu: str
    replicas: int
    photos: int
    concurrency: int
    sessions_done: int = 0
    failures: int = 0
    failure_samples: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # per step of STEPS, every session
    after_close: dict = field(default_factory=dict)
    warmup_s: float = 0.0
    sessions_s: float = 0.0  # from the first session's start to the last one's end

    def rss_at(self, sessions: int) -> list[float]:
        """RSS of the first sample taken at or after `sessions` finished sessions."""
        return next(s.rss_mib for s in self.samples if s.sessions >= sessions)

    def last_third_growth(self) -> list[float]:
        """Per replica, RSS growth in percent over the last third of the sessions, read off a straight line
        fitted to that third's samples (one sample swings by ±2 % with the sessions in flight)."""
        tail = [s for s in self.samples if s.sessions >= 2 * self.sessions_done // 3]
        x = np.array([s.sessions for s in tail], dtype=float)
        growth = []
        for i in range(self.replicas):
            slope, start = np.polyfit(x - x[0], [s.rss_mib[i] for s in tail], 1)
            growth.append(float(100.0 * slope * (x[-1] - x[0]) / start))
        return growth


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def rss_mib(pids: list[int]) -> list[float]:
    return [round(psutil.Process(pid).memory_info().rss / 2**20, 1) for pid in pids]


@contextlib.contextmanager
def served(replicas: int, run_dir: Path) -> Iterator[tuple[str, list[str], list[int]]]:
    """(proxy url, replica urls, replica pids) of a fresh layout with random weights on the CPU."""
    from alexnet_viz.serving.serve import COOKIE, running

    env = {"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}
    with running(replicas, port=free_port(), run_dir=run_dir, env=env) as lay:
        for replica in lay.replicas:  # the model and every page's first run, before anything is measured
            warm = StreamlitSession(lay.url, timeout=180, cookie=f"{COOKIE}={replica.name}")
            for query, page in (("", ""), ("layer=C1", "feature-maps"), ("", "prediction")):
                warm.rerun(query, page)
            warm.close()
        yield lay.url, [r.url for r in lay.replicas], [r.proc.pid for r in lay.replicas if r.proc is not None]


def soak(photos: int, replicas: int, concurrency: int, sample_every: int, max_seconds: float,
         release_wait: float, run_dir: Path) -> SoakResult:
    result = SoakResult(cpu_name(), replicas, photos, concurrency)
    began = time.monotonic()
    with served(replicas, run_dir) as (url, replica_urls, pids):
        start = time.monotonic()
        result.warmup_s = round(start - began, 1)
        result.samples.append(Sample(0, 0.0, rss_mib(pids)))
        lock, next_index = threading.Lock(), iter(range(photos))

        def worker() -> None:
            while time.monotonic() - start < max_seconds:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                steps = visit(url, index)
                bad = [f"photo {index} {STEPS[i]}: {s.describe_failure()}" for i, s in enumerate(steps) if s.failed]
                with lock:
                    result.sessions_done += 1
                    result.failures += bool(bad) or len(steps) < len(STEPS) - (index % PREDICT_EVERY != 0)
                    for name, step in zip(STEPS, steps):
                        result.latencies.setdefault(name, []).append(round(step.latency_s, 3))
                    result.failure_samples += bad[: max(0, 10 - len(result.failure_samples))]
                    if result.sessions_done % sample_every == 0:
                        result.samples.append(Sample(result.sessions_done, round(time.monotonic() - start, 1),
                                                     rss_mib(pids)))

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result.sessions_s = round(time.monotonic() - start, 1)
        if result.samples[-1].sessions != result.sessions_done:
            result.samples.append(Sample(result.sessions_done, result.sessions_s, rss_mib(pids)))
        result.after_close = released(replica_urls, pids, release_wait)
    return result


def released(replica_urls: list[str], pids: list[int], wait: float) -> dict:
    """Poll the replicas until no upload is held (or `wait` s pass); what they held and when it went."""
    closed = time.monotonic()
    first = [metrics(u) for u in replica_urls]
    now = first
    while time.monotonic() - closed < wait and any(m.get("uploads_bytes", 0) for m in now):
        time.sleep(5.0)
        now = [metrics(u) for u in replica_urls]
    caches: dict[str, float] = {}
    for m in first:
        for name, value in m.items():
            if name not in ("uploads_bytes", *SESSION_METRICS):
                caches[name] = caches.get(name, 0.0) + value
    largest = sorted(caches.items(), key=lambda kv: -kv[1])[:8]
    return {"uploads_bytes_at_close": [m.get("uploads_bytes", 0) for m in first],
            "uploads_bytes_after": [m.get("uploads_bytes", 0) for m in now],
            "largest_caches_mib": {k: round(v / 2**20, 1) for k, v in largest},
            "active_sessions_after": [m.get("active_sessions", 0) for m in now],
            "waited_s": round(time.monotonic() - closed, 1), "rss_mib_after": rss_mib(pids)}


def report(r: SoakResult) -> str:
    thirds = [r.rss_at(0), r.rss_at(r.sessions_done // 3), r.rss_at(2 * r.sessions_done // 3),
              r.rss_at(r.sessions_done)]
    lines = [f"soak: {r.sessions_done} sessions (of {r.photos}), {r.replicas} replica(s) behind HAProxy, "
             f"{r.concurrency} at a time, {r.sessions_s:.0f} s (warm-up {r.warmup_s:.0f} s), {r.failures} failed; "
             f"{r.cpu}",
             "RSS MiB per replica, after warm-up / 1/3 / 2/3 / all photos / after the wait: "
             + "; ".join(" / ".join(f"{t[i]:.0f}" for t in [*thirds, r.after_close["rss_mib_after"]])
                         for i in range(r.replicas)),
             "growth over the last third (a line fitted to its samples): "
             + ", ".join(f"{g:+.1f} %" for g in r.last_third_growth())
             + (" (target under 5 %: met)" if all(g < 5 for g in r.last_third_growth()) else " (target MISSED)"),
             f"uploads held when the last session closed: {r.after_close['uploads_bytes_at_close']} bytes; "
             f"after {r.after_close['waited_s']} s: {r.after_close['uploads_bytes_after']} bytes"
             + (" (released)" if not any(r.after_close["uploads_bytes_after"]) else " (NOT released)")]
    lines.append("median s per step: " + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in r.latencies.items()))
    lines.append("largest caches when the last session closed, MiB (all replicas): "
                 + ", ".join(f"{k} {v}" for k, v in r.after_close["largest_caches_mib"].items()))
    lines += [f"  {s}" for s in r.failure_samples]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=300, help=f"sessions, one distinct photo each (max {MAX_PHOTOS})")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=3, help="sessions at a time (max 20)")
    ap.add_argument("--sample-every", type=int, default=10, help="sessions between RSS samples")
    ap.add_argument("--max-minutes", type=float, default=15.0, help="stop starting sessions after this (max 60)")
    ap.add_argument("--release-wait", type=float, default=240.0,
                    help="seconds to wait for closed sessions' uploads to be released (max 600)")
    ap.add_argument("--run-dir", default="/tmp/alexnet-soak", help="haproxy.cfg and the replicas' logs")
    ap.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    args = ap.parse_args(argv)
    if not 3 <= args.photos <= MAX_PHOTOS or not 1 <= args.concurrency <= 20 or args.replicas < 1:
        ap.error(f"--photos 3..{MAX_PHOTOS}, --concurrency 1..20, --replicas at least 1")
    result = soak(args.photos, args.replicas, args.concurrency, max(1, args.sample_every),
                  60.0 * min(args.max_minutes, 60.0), min(args.release_wait, 600.0), Path(args.run_dir))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=2))
    print(report(result))
    growth_ok = all(g < 5 for g in result.last_third_growth())
    return 0 if growth_ok and not result.failures and not any(result.after_close["uploads_bytes_after"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
