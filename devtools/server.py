"""Start a Streamlit app on a free loopback port and a headless Debian chromium to look at it.

Shared by the browser tests, the browser timing script and the load test so that each starts
the app the same way (headless, no usage stats, waits for /_stcore/health).
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from alexnet_viz.serving.serve import stop_processes

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def free_port() -> int:
    """A port the OS just handed out, so parallel test runs never fight over a fixed one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    """Poll /_stcore/health until it answers ok; fail early if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not become healthy within {timeout:.0f} s")


@contextlib.contextmanager
def running_app(script: str | Path = "streamlit_app.py", env: dict[str, str] | None = None,
                extra_args: list[str] | None = None, log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base_url, process) for a headless Streamlit server on 127.0.0.1; always stopped after."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", *(extra_args or [])]
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc=proc)
        yield url, proc
    finally:
        stop_processes(proc)
        if log:
            out.close()  # type: ignore[union-attr]


def launch_chromium(playwright):  # -> playwright Browser
    """Debian's chromium with the flags this offline machine needs (no browser download)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
