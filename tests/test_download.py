"""Downloading the weights: offline against a server on 127.0.0.1, every failure, many at once, nothing half-written.

The files are made here, so the test knows their SHA-256; the server (tests/fileserver.py) can
refuse, truncate, stall or send the wrong file.
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from filelock import FileLock

from alexnet_viz.core import download, weights
from alexnet_viz.core.download import Progress, fetch, partials
from alexnet_viz.core.pretrained import IMAGENET1K_V1, URL_ENV_VAR
from alexnet_viz.errors import DownloadError, WeightsError
from tests.fileserver import dead_port, serving
from tests.helpers import assert_same_state, run_together

BODY = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
SHA = hashlib.sha256(BODY).hexdigest()
NAME = f"alexnet-owt-{SHA[:8]}.pth"


pytestmark = pytest.mark.usefixtures("empty_torch_home")


def _accepts(sha: str) -> bool:
    return sha == SHA


def _leftovers(dest: Path) -> list[str]:
    """Everything in the folder but the finished file and the lock file (which stays, harmlessly)."""
    return sorted(p.name for p in dest.parent.iterdir() if p.name not in (dest.name, dest.name + ".lock"))


def test_download_lands_verified_with_progress(tmp_path) -> None:
    dest = tmp_path / "c" / NAME
    seen: list[Progress] = []
    with serving({NAME: BODY}) as srv:
        sha = fetch(srv.url(NAME), dest, _accepts, report=seen.append)
        again = fetch(srv.url(NAME), dest, _accepts)  # already there: verified, not fetched again
        assert srv.gets == 1
    assert sha == again == SHA and dest.read_bytes() == BODY and _leftovers(dest) == []
    running = [p for p in seen if p.state == "running" and p.done]
    assert running[-1].done == running[-1].total == len(BODY)
    assert all(a.done <= b.done for a, b in zip(running, running[1:]))


@pytest.mark.parametrize("mode,reason", [("truncate", "stopped before the end"),
                                         ("stall", "stopped sending")])
def test_truncated_and_stalled_downloads_fail_and_leave_nothing(tmp_path, mode: str, reason: str) -> None:
    dest = tmp_path / "c" / NAME
    with serving({NAME: BODY}, mode=mode) as srv:
        with pytest.raises(DownloadError) as err:
            fetch(srv.url(NAME), dest, _accepts, timeout=0.5)
    assert reason in err.value.reason
    assert not dest.exists() and _leftovers(dest) == []


def test_refused_and_missing_fail_with_reasons(tmp_path) -> None:
    dest = tmp_path / "c" / NAME
    with pytest.raises(DownloadError) as err:
        fetch(f"http://127.0.0.1:{dead_port()}/{NAME}", dest, _accepts, timeout=2)
    assert "refused" in err.value.reason
    with serving({}) as srv, pytest.raises(DownloadError) as err:
        fetch(srv.url(NAME), dest, _accepts)
    assert "404" in err.value.reason
    assert not dest.exists() and _leftovers(dest) == []


def test_wrong_file_is_deleted_after_landing(tmp_path) -> None:
    dest = tmp_path / "c" / NAME
    with serving({NAME: BODY[::-1]}) as srv, pytest.raises(DownloadError) as err:
        fetch(srv.url(NAME), dest, _accepts)
    assert "not the expected one" in err.value.reason and "deleted" in str(err.value)
    assert not dest.exists() and _leftovers(dest) == []


def test_stale_partials_are_swept_and_never_loaded(tmp_path) -> None:
    dest = tmp_path / "c" / NAME
    dest.parent.mkdir(parents=True)
    stale = dest.with_name(f"{NAME}.deadbeef{download.PARTIAL_SUFFIX}")
    stale.write_bytes(BODY[:1000])  # a download that died
    with serving({NAME: BODY}) as srv:
        assert fetch(srv.url(NAME), dest, _accepts) == SHA
    assert not stale.exists() and partials(dest) == []


def test_threads_downloading_at_once_make_one_download(tmp_path) -> None:
    """Six threads of one process, each with its own fetch (no shared Downloader): one GET, one good file.

    Before the lock, they shared `<dest>.<pid>.partial`: interleaved writes, a "verified" file with
    another hash, and FileNotFoundError for the ones whose partial file was renamed away.
    """
    dest = tmp_path / "c" / NAME
    results: list[str | BaseException] = []
    with serving({NAME: BODY}, rate=2_000_000) as srv:  # slow enough that all six start before it ends
        def one() -> None:
            try:
                results.append(fetch(srv.url(NAME), dest, _accepts))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                results.append(exc)

        run_together([one] * 6)
        assert srv.gets == 1
    assert results == [SHA] * 6
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == SHA and _leftovers(dest) == []


def test_imagenet_download_is_shared_by_every_caller(tmp_path, monkeypatch) -> None:
    """Through weights.fetch_imagenet (what pages and the CLI use): one Downloader, one GET, same answer."""
    with serving({NAME: BODY}, rate=2_000_000) as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(NAME))
        fetcher = weights.imagenet_downloader()
        assert weights.imagenet_downloader() is fetcher and fetcher.progress.state == "idle"
        got: list[tuple[Path, str]] = []
        run_together([lambda: got.append(weights.fetch_imagenet(progress=False))] * 4)
        assert srv.gets == 1
    path = weights.imagenet_path()
    assert got == [(path, SHA)] * 4 and fetcher.progress.state == "done"
    assert fetcher.progress.done == fetcher.progress.total == len(BODY)


def test_a_failure_is_remembered_until_a_retry(tmp_path, monkeypatch) -> None:
    with serving({NAME: BODY}, mode="truncate") as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(NAME))
        for _ in range(2):
            with pytest.raises(DownloadError, match="weights download"):
                weights.fetch_imagenet(progress=False)
        assert srv.gets == 1  # a page rerun does not start a 233 MB download again
        srv.mode = "ok"
        assert weights.fetch_imagenet(progress=False, retry=True)[1] == SHA
        assert srv.gets == 2


def test_another_process_holding_the_lock_is_waited_for(tmp_path) -> None:
    """A second server process's download (its lock, its partial file) is waited for, then its file used."""
    dest = tmp_path / "c" / NAME
    dest.parent.mkdir(parents=True)
    other = FileLock(str(dest) + ".lock")  # its own descriptor: the same as another process holding it
    other.acquire()
    seen: list[Progress] = []
    got: list[str] = []
    with serving({NAME: BODY}) as srv:
        worker = threading.Thread(target=lambda: got.append(fetch(srv.url(NAME), dest, _accepts,
                                                                  report=seen.append)))
        worker.start()
        growing = dest.with_name(f"{NAME}.other{download.PARTIAL_SUFFIX}")
        growing.write_bytes(BODY[:5000])
        while not any(p.state == "waiting" and p.done == 5000 for p in seen):
            worker.join(0.05)
        growing.write_bytes(BODY)  # the other process finishes
        growing.rename(dest)
        other.release()
        worker.join()
        assert srv.gets == 0
    assert got == [SHA]


def test_progress_words() -> None:
    p = Progress("running", done=41_200_000, total=233_100_000, rate=8_300_000)
    assert p.describe() == "41.2 of 233.1 MB · 8.3 MB/s · about 23 s left"
    assert p.fraction == pytest.approx(41.2 / 233.1)
    assert Progress("running", done=5_000_000).describe() == "5.0 MB"
    assert Progress("running", done=0, total=600_000_000, rate=1_000_000).describe().endswith("about 10 min left")


def test_downloaded_weights_load_through_load_model(tmp_path, monkeypatch) -> None:
    from alexnet_viz.core.model import build_model
    from tests.test_weights import TINY

    state = build_model(TINY, seed=2).state_dict()
    torch.save(state, tmp_path / "w.pth")
    body = (tmp_path / "w.pth").read_bytes()
    name = f"alexnet-owt-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    with serving({name: body}) as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(name))
        model = weights.load_model(TINY, "imagenet", progress=False)
    assert_same_state(model, state)
    assert model.provenance.source == "imagenet" and model.provenance.accuracy == IMAGENET1K_V1.metrics


def test_an_unwritable_cache_is_a_weights_error(tmp_path) -> None:
    blocker = tmp_path / "hub"
    blocker.write_bytes(b"a file where the cache folder should be")
    with pytest.raises(WeightsError, match="Cannot create the weights cache folder"):
        fetch("http://127.0.0.1:9/x-12345678.pth", blocker / "checkpoints" / "x-12345678.pth", _accepts)


# --- issue 24: an overall deadline and a size cap -------------------------------------------------

@pytest.mark.parametrize("mode", ["drip", "drip-headers"])
def test_a_server_dripping_bytes_meets_the_overall_deadline(tmp_path, mode: str) -> None:
    """One byte every 0.2 s never trips the per-read timeout; the deadline ends it with a clear message."""
    dest = tmp_path / "c" / NAME
    with serving({NAME: BODY}, mode=mode) as srv, pytest.raises(DownloadError) as err:
        fetch(srv.url(NAME), dest, _accepts, limits=download.Limits(timeout=5.0, deadline=1.0))
    assert "did not finish within 1 s" in str(err.value) and "took longer than 1 s" in err.value.reason
    assert not dest.exists() and _leftovers(dest) == []


def test_a_response_without_length_stops_at_the_known_size(tmp_path) -> None:
    """No Content-Length and no end: writing stops one chunk past the file's size, not at the hash check."""
    dest = tmp_path / "c" / NAME
    seen: list[Progress] = []
    with serving({NAME: BODY}, mode="endless") as srv, pytest.raises(DownloadError) as err:
        fetch(srv.url(NAME), dest, _accepts, report=seen.append, limits=download.Limits(max_bytes=len(BODY)))
    assert "more than" in err.value.reason and f"{len(BODY):,} at most" in str(err.value)
    assert max(p.done for p in seen) <= len(BODY) and not dest.exists() and _leftovers(dest) == []


def test_an_announced_length_past_the_size_is_refused_before_the_body(tmp_path) -> None:
    dest = tmp_path / "c" / NAME
    seen: list[Progress] = []
    with serving({NAME: BODY * 2}) as srv, pytest.raises(DownloadError) as err:
        fetch(srv.url(NAME), dest, _accepts, report=seen.append, limits=download.Limits(max_bytes=len(BODY)))
    assert "more than" in err.value.reason and max(p.done for p in seen) == 0 and _leftovers(dest) == []


def test_a_redirect_to_ftp_is_not_followed(tmp_path) -> None:
    """Re-attack of issue 24, point 5: urllib follows a redirect to ftp://, whose sockets the deadline never saw;
    an FTP server dripping its greeting held a 4 s download for 53 s. Now no connection reaches it."""
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    ftp = socket.create_server(("127.0.0.1", 0))
    ftp.settimeout(0.1)

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(302)
            self.send_header("Location", f"ftp://127.0.0.1:{ftp.getsockname()[1]}/{NAME}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    dest = tmp_path / "c" / NAME
    try:
        with pytest.raises(DownloadError, match="is an FTP address"):
            fetch(f"http://127.0.0.1:{web.server_address[1]}/{NAME}", dest, _accepts,
                  limits=download.Limits(timeout=1.0, deadline=5.0))
        with pytest.raises(TimeoutError):
            ftp.accept()[0].close()  # nobody connected
    finally:
        web.shutdown()
        ftp.close()
    assert not dest.exists() and _leftovers(dest) == []


def test_the_servers_first_use_download_has_the_same_limits(tmp_path, monkeypatch) -> None:
    """What the app's pages start (weights.imagenet_downloader): capped at the known size, with a deadline."""
    from dataclasses import replace

    monkeypatch.setattr(weights, "DOWNLOAD_DEADLINE_S", 1.0)
    with serving({NAME: BODY}, mode="endless") as srv:
        small = replace(IMAGENET1K_V1.served_from(srv.url(NAME)), size_bytes=len(BODY))
        monkeypatch.setattr(weights, "imagenet_weights", lambda: small)
        with pytest.raises(DownloadError, match=f"the file has {len(BODY):,} at most"):
            weights.fetch_imagenet(progress=False)
        srv.mode = "drip"
        with pytest.raises(DownloadError, match="did not finish within 1 s"):
            weights.fetch_imagenet(progress=False, retry=True)
    assert weights.imagenet_downloader().limits == download.Limits(weights.DOWNLOAD_TIMEOUT_S, 1.0, len(BODY))


def test_the_real_files_limits_are_its_size_and_half_an_hour() -> None:
    limits = weights.imagenet_downloader().limits
    assert limits.max_bytes == IMAGENET1K_V1.size_bytes == 244_408_911 and limits.deadline == 1800.0
