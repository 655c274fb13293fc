"""Warm timings in a real browser (Playwright + Debian's chromium) and the bytes each view sends.

Starts the app on 127.0.0.1 (devtools.server.running_app), opens it in headless chromium and
measures, after one warm-up pass of everything:
  * upload of a photo on the feature-map page until the new channel grid is painted: three sample
    photos the warm-up pass uploaded already (the server's caches hold their results) and, each
    pass, a photo never seen before (decoded, run through the network, drawn from scratch),
  * switching layers on the feature-map page (through the page's layer control),
  * opening each page from the sidebar navigation,
each from the action until the rerun's script_finished has arrived over the websocket, every
<img> in the page has loaded and two animation frames have passed (so it is painted). For uploads
and layer switches, "grid s" is when the new channel grid itself was decoded and two frames
drawn, while the rest of the page may still be arriving. Bytes are
the websocket frames received plus HTTP response bodies (e.g. /media/ images) during the view.

    .venv/bin/python -m scripts.browser_timing [--json] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from devtools.server import launch_chromium, running_app

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["overview", "layers", "lab", "operations", "article", "feature-maps", "filters", "prediction"]
LAYERS = ["C3", "C5", "C7", "C1"]  # the page is opened on C1, so C1 comes last
SERVER_LOG = Path(tempfile.gettempdir()) / "alexnet_viz-browser-timing-server.log"
PHOTOS = [ROOT / "assets" / "samples" / name for name in ("astronaut.jpg", "rocket.jpg", "coffee.jpg")]

# Resolves once every <img> is decoded and two frames have been drawn after that.
_PAINTED_JS = """async () => {
  // Let the frontend handle the frames already received before looking at the page.
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const imgs = Array.from(document.querySelectorAll('img'));
  await Promise.all(imgs.map(i => i.complete ? (i.decode ? i.decode().catch(() => {}) : null)
      : new Promise(r => {
          i.addEventListener('load', r, {once: true});
          i.addEventListener('error', r, {once: true});
        })));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return imgs.length;
}"""


@dataclass
class Timing:
    view: str
    seconds: float
    ws_bytes: int
    http_bytes: int
    images: int
    largest: list[tuple[str, int]]  # the view's biggest HTTP responses (path, bytes)
    finished_s: float = 0.0  # until the last completed run's script_finished arrived; the rest is the browser's
    runs: int = 0  # completed script runs the action caused (an upload that flashed the sample shows 2)
    grid_s: float | None = None  # until the new channel grid was painted (uploads and layer switches)

    @property
    def total_mb(self) -> float:
        return (self.ws_bytes + self.http_bytes) / 1e6


class Recorder:
    """Counts websocket frames (and script_finished) and HTTP response bytes as they arrive."""

    def __init__(self, page) -> None:
        self.ws_bytes = 0
        self.finished = 0  # completed runs only: a run stopped early for a newer rerun does not count
        self.finished_at = 0.0  # perf_counter() when the last completed run's script_finished arrived
        self.exceptions: list[str] = []
        self.responses: list = []
        self.view = ""  # the view being measured, to say where an exception appeared
        page.on("websocket", self._on_ws)
        page.on("response", lambda resp: self.responses.append(resp))

    def _on_ws(self, ws) -> None:
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        self.ws_bytes += len(data)
        msg = ForwardMsg()
        try:
            msg.ParseFromString(data)
        except Exception:  # noqa: BLE001 - not every frame need be a ForwardMsg we know
            return
        kind = msg.WhichOneof("type")
        if kind == "script_finished" and msg.script_finished in _COMPLETED:
            self.finished += 1
            self.finished_at = time.perf_counter()
        elif kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
            exc = msg.delta.new_element.exception
            self.exceptions.append(f"{self.view}: {exc.type or 'exception'}: {exc.message[:120]}")
        elif kind == "page_not_found":
            self.exceptions.append(f"{self.view}: page not found: {msg.page_not_found.page_name}")

    def http_since(self, index: int) -> list[tuple[str, int]]:
        """(path, body bytes) of every HTTP response since `index`; cached ones count 0."""
        out = []
        for resp in self.responses[index:]:
            try:
                size = max(0, resp.request.sizes()["responseBodySize"])
            except Exception:  # noqa: BLE001 - a response whose body was never read
                size = 0
            out.append((urlparse(resp.url).path, size))
        return out


_COMPLETED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
_FIRST_IMG = '[data-testid="stMain"] figure.avz-grid img'  # the channel grid (ui.grids)

# Watches every frame from now on for a channel grid other than `before`, decoded, then two more
# frames: window.__gridAt is that moment in ms after the watch began.
_WATCH_GRID_JS = """([sel, before]) => {
  window.__gridAt = null;
  const t0 = performance.now();
  const look = () => {
    const i = document.querySelector(sel);
    if (i && i.src && !i.src.endsWith(before) && i.complete && i.naturalWidth) {
      requestAnimationFrame(() => requestAnimationFrame(() => { window.__gridAt = performance.now() - t0; }));
    } else {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
}"""


def measure(page, rec: Recorder, name: str, action, timeout: float = 60.0, new_image: bool = False,
            caption: str | None = None) -> Timing:
    """Run `action`, then wait for the rerun to finish and the page to be painted.

    With `new_image`, also wait until a new channel grid (the page's first image) has been drawn; with
    `caption`, until a caption contains that text (an upload's own name: not the sample's grid).
    """
    before = page.locator(_FIRST_IMG).first.get_attribute("src") if new_image else None
    finished0, ws0, http0 = rec.finished, rec.ws_bytes, len(rec.responses)
    rec.view = name
    if new_image:
        page.evaluate(_WATCH_GRID_JS, [_FIRST_IMG, before or ""])
    t0 = time.perf_counter()
    action()
    deadline = t0 + timeout
    while rec.finished == finished0:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{name}: no script_finished within {timeout:.0f} s")
        page.wait_for_timeout(5)
    # A widget's rerun may be followed by another (callbacks, query-param writes): settle briefly.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout * 1000)
    if new_image:  # the watcher installed above has seen the new grid drawn
        page.wait_for_function("() => window.__gridAt !== null", timeout=timeout * 1000)
    if caption:
        page.wait_for_function("(text) => Array.from(document.querySelectorAll('[data-testid=\"stCaptionContainer\"]'))"
                               ".some(c => c.innerText.includes(text))", arg=caption, timeout=timeout * 1000)
    images = page.evaluate(_PAINTED_JS)
    seconds = time.perf_counter() - t0
    finished = rec.finished_at - t0
    grid_s = page.evaluate("() => window.__gridAt") / 1e3 if new_image else None
    page.wait_for_timeout(200)  # let late responses land in the byte count (not in the time)
    http = rec.http_since(http0)
    largest = sorted(http, key=lambda x: -x[1])[:4]
    return Timing(name, seconds, rec.ws_bytes - ws0, sum(b for _, b in http), images, largest, finished,
                  rec.finished - finished0, grid_s)


def _goto_page(page, base: str, path: str):
    def act() -> None:
        href = f"{base}/" if path == PAGES[0] else f"{base}/{path}"  # the default page lives at /
        link = page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]')
        if link.count():
            link.first.click()
        else:
            page.goto(href)
    return act


def _upload(page, photo: Path):
    return lambda: page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))


def _never_seen_photo(folder: Path) -> Path:
    """A photo no cache has seen (the first sample with one pixel changed): an upload that computes everything."""
    from PIL import Image

    n = len(list(folder.glob("new_photo_*.jpg")))
    image = Image.open(PHOTOS[0]).convert("RGB")
    image.putpixel((n % image.width, 0), (n * 37 % 256, 0, 255))
    path = folder / f"new_photo_{n}.jpg"
    image.save(path, quality=92)
    return path


def _choose_layer(page, layer: str):
    """Pick a layer with whatever control the page uses (selectbox, radio, segmented control or slider)."""
    def act() -> None:
        main = page.locator('[data-testid="stMain"]')
        for testid in ("stRadio", "stButtonGroup", "stSegmentedControl"):
            opt = main.locator(f'[data-testid="{testid}"]').filter(has_text="C1").get_by_text(layer, exact=True)
            if opt.count():
                opt.first.click()
                return
        box = main.locator('[data-testid="stSelectbox"]').filter(has_text="ayer")
        if box.count():
            box.first.click()
            page.get_by_role("option").filter(has_text=layer).first.click()
            return
        raise RuntimeError("no layer control found on the feature-map page")
    return act


def run(repeat: int, weights: str, device: str = "cpu") -> tuple[list[Timing], dict]:
    from playwright.sync_api import sync_playwright

    timings: list[Timing] = []
    info: dict = {}
    info["server_log"] = str(SERVER_LOG)
    with running_app(env={"ALEXNET_WEIGHTS": weights, "ALEXNET_DEVICE": device}, log=SERVER_LOG) as (base, _proc), \
            sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = launch_chromium(pw)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        rec = Recorder(page)
        # The landing page takes the process's first run (model load, caches): timed apart.
        first = measure(page, rec, "first load / (cold)", lambda: page.goto(f"{base}/"))
        info["first_load_s"] = round(first.seconds, 3)
        info["first_load_static_mb"] = round(first.total_mb, 2)

        def one_pass(record: bool) -> None:
            for path in PAGES:
                t = measure(page, rec, f"open /{path}", _goto_page(page, base, path))
                if record:
                    timings.append(t)
            measure(page, rec, "reload", lambda: page.goto(f"{base}/feature-maps?layer=C1"))
            for layer in LAYERS:
                t = measure(page, rec, f"feature maps: layer {layer}", _choose_layer(page, layer), new_image=True)
                if record:
                    timings.append(t)
            for photo in PHOTOS:
                t = measure(page, rec, f"feature maps: upload {photo.name} -> grid painted", _upload(page, photo),
                            new_image=True, caption=f"Showing your upload {photo.name}")
                if record:
                    timings.append(t)
            fresh = _never_seen_photo(Path(tmp))
            t = measure(page, rec, "feature maps: upload a new photo -> grid painted", _upload(page, fresh),
                        new_image=True, caption=f"Showing your upload {fresh.name}")
            if record:
                timings.append(t)

        one_pass(record=False)  # warm-up: every cache filled once, as on a server already in use
        for _ in range(repeat):
            one_pass(record=True)
        info["exceptions_seen"] = rec.exceptions[:10]
        browser.close()
    return timings, info


def summarise(timings: list[Timing]) -> list[dict]:
    by_view: dict[str, list[Timing]] = {}
    for t in timings:
        by_view.setdefault(t.view, []).append(t)
    rows = []
    for view, ts in by_view.items():
        rows.append({"view": view, "median_s": round(statistics.median(t.seconds for t in ts), 3),
                     "max_s": round(max(t.seconds for t in ts), 3),
                     "finished_s": round(statistics.median(t.finished_s for t in ts), 3),
                     "runs": max(t.runs for t in ts),
                     "grid_s": (round(statistics.median(grids), 3)
                                if (grids := [t.grid_s for t in ts if t.grid_s is not None]) else None),
                     "max_mb": round(max(t.total_mb for t in ts), 3),
                     "ws_kb": round(statistics.median(t.ws_bytes for t in ts) / 1e3, 1),
                     "http_kb": round(statistics.median(t.http_bytes for t in ts) / 1e3, 1),
                     "images": ts[-1].images, "n": len(ts),
                     "largest_responses": max(ts, key=lambda t: t.total_mb).largest})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="measured passes after the warm-up pass (1-20)")
    ap.add_argument("--weights", default="random", help="ALEXNET_WEIGHTS for the app server")
    ap.add_argument("--device", default="cpu", help="ALEXNET_DEVICE for the app server (cpu, cuda, mps)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    timings, info = run(min(max(args.repeat, 1), 20), args.weights, args.device)
    rows = summarise(timings)
    upload = [t.seconds for t in timings if "upload" in t.view]
    grid = [t.grid_s for t in timings if "upload" in t.view and t.grid_s is not None]
    upload_max = round(max(upload), 3) if upload else None
    largest_mb = round(max(t.total_mb for t in timings), 3)
    verdict = {"upload_to_grid_max_s": upload_max,
               "upload_grid_painted_max_s": round(max(grid), 3) if grid else None,
               "largest_view_mb": largest_mb,
               "targets": "upload->grid < 0.5 s (issue 10); every view < 2 MB"}
    if args.json:
        print(json.dumps({"rows": rows, "info": info, "verdict": verdict}, indent=2))
    else:
        print(f"{'view':48} {'median s':>8} {'max s':>7} {'server s':>8} {'max MB':>7} {'ws kB':>8} {'http kB':>8} "
              f"{'imgs':>5} {'runs':>4} {'grid s':>7}")
        for r in rows:
            print(f"{r['view']:48} {r['median_s']:8.3f} {r['max_s']:7.3f} {r['finished_s']:8.3f} {r['max_mb']:7.3f} "
                  f"{r['ws_kb']:8.1f} {r['http_kb']:8.1f} {r['images']:5d} {r['runs']:4d} "
                  f"{r['grid_s'] if r['grid_s'] is not None else '-':>7}")
        print("server s: median time until the last completed script run's script_finished arrived (upload "
              "included); the rest is the browser drawing. runs: most completed script runs one action caused. "
              "grid s: median time until the new channel grid itself was painted")
        print(f"\ncold first load: {info['first_load_s']} s, {info['first_load_static_mb']} MB (static assets, once)")
        print(f"upload->page settled max {verdict['upload_to_grid_max_s']} s, upload->grid painted max "
              f"{verdict['upload_grid_painted_max_s']} s; largest view {verdict['largest_view_mb']} MB")
        for r in rows:
            if r["max_mb"] >= 1.0:
                print(f"  {r['view']}: largest responses {r['largest_responses']}")
        if info["exceptions_seen"]:
            print(f"exceptions seen in the page (server log: {info['server_log']}):")
            for e in info["exceptions_seen"]:
                print(f"  {e}")
    fast = (upload_max or 99.0) < 0.5
    ok = fast and largest_mb < 2.0 and not info["exceptions_seen"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
